"""The OpenAI chat-completions API, as Ollama, vLLM, llama.cpp's server and OpenAI itself speak it (LLM_PROVIDER=openai)."""

from __future__ import annotations

import ssl
import time
from email.utils import parsedate_to_datetime
from functools import cache

import httpx
import openai
from openai import DefaultHttpxClient, OpenAI

from peerdigest.config import Settings
from peerdigest.summarize.provider import Completion, ProviderError

OVERLOADED = (429, 503)


@cache
def tls_context() -> ssl.SSLContext:
    """The certificates an HTTPS endpoint is checked against, as httpx reads them (certifi, or SSL_CERT_FILE).

    Reading them is most of the cost of a new client (30–60 ms, every job); the
    context is read once per process and shared by every job's client. The
    clients themselves are not shared: a work horse forked from a process that
    holds open connections must not use its sockets.
    """
    return httpx.create_ssl_context()


def load_client_code() -> None:
    """Import now what the SDK imports on a client's first request (about 50 ms), and read the certificates.

    A worker calls this before it forks its work horses, so that each starts with both.
    """
    OpenAI(base_url="http://127.0.0.1/v1", api_key="unused", http_client=DefaultHttpxClient(verify=tls_context())).chat.completions


class OpenAICompatible:
    def __init__(self, settings: Settings):
        self.model = settings.llm_model
        self.seed = settings.llm_seed
        self.client = OpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout,
            max_retries=0,  # retries are the queue's business, with back-off and a record of each attempt
            http_client=DefaultHttpxClient(verify=tls_context()),
        )

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> Completion:
        try:
            response = self.client.chat.completions.create(
                model=self.model, temperature=temperature, max_tokens=max_tokens, seed=self.seed, messages=messages,
            )
        except openai.OpenAIError as exc:
            raise _ours(exc) from exc
        choice = response.choices[0]
        return Completion(choice.message.content or "", choice.finish_reason)

    def models(self) -> list[str]:
        try:
            return [model.id for model in self.client.models.list()]
        except openai.OpenAIError as exc:
            raise _ours(exc) from exc


def _ours(exc: openai.OpenAIError) -> ProviderError:
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError("no answer within LLM_TIMEOUT", transient=True)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("could not connect to LLM_BASE_URL", transient=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        return ProviderError(
            f"HTTP {status} from the LLM endpoint",
            transient=status == 429 or status >= 500,
            overloaded=status in OVERLOADED,
            retry_after=retry_after(exc.response.headers.get("retry-after")),
        )
    return ProviderError(f"{type(exc).__name__}: {exc}", transient=False)


def retry_after(header: str | None) -> float | None:
    """Seconds an HTTP `Retry-After` asks for (a number of seconds or a date); None when absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
