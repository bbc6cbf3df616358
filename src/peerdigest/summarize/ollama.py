"""Ollama's own API (`/api/chat`, LLM_PROVIDER=ollama, LLM_BASE_URL like http://localhost:11434).

Ollama also speaks the OpenAI API, but its own one takes options the OpenAI
API cannot pass (`num_predict`, a `seed` in `options`) and answers errors as
`{"error": "..."}` with no type. Plain httpx: no client library needed.
"""

from __future__ import annotations

import httpx

from peerdigest.config import Settings
from peerdigest.summarize.openai_compatible import OVERLOADED, retry_after
from peerdigest.summarize.provider import Completion, ProviderError


class OllamaNative:
    def __init__(self, settings: Settings):
        self.base_url = settings.llm_base_url.rstrip("/")
        self.model = settings.llm_model
        self.seed = settings.llm_seed
        self.timeout = settings.llm_timeout

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> Completion:
        body = {
            "model": self.model,
            "messages": messages,
            "stream": False,
            "options": {"temperature": temperature, "seed": self.seed, "num_predict": max_tokens},
        }
        answer = self._send("POST", "/api/chat", body)
        message = answer.get("message") if isinstance(answer, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise ProviderError("the Ollama server's answer held no message", transient=False)
        # Ollama says "length" when num_predict cut the answer off, like OpenAI's finish_reason.
        return Completion(message["content"], answer.get("done_reason"))

    def models(self) -> list[str]:
        answer = self._send("GET", "/api/tags", None)
        return [m.get("name", "") for m in answer.get("models", [])] if isinstance(answer, dict) else []

    def _send(self, method: str, path: str, body: dict | None):
        try:
            response = httpx.request(method, self.base_url + path, json=body, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise ProviderError("no answer within LLM_TIMEOUT", transient=True) from exc
        except httpx.HTTPError as exc:
            raise ProviderError("could not connect to LLM_BASE_URL", transient=True) from exc
        if response.status_code != 200:
            status = response.status_code
            raise ProviderError(
                f"HTTP {status} from the Ollama server",
                transient=status == 429 or status >= 500,
                overloaded=status in OVERLOADED,
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderError("the Ollama server's answer was not JSON", transient=False) from exc
