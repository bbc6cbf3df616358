"""Fixtures of the fault-injection suite, and the table of outcomes printed at the end of the run."""

from __future__ import annotations

import pytest

from peerdigest.db.session import session_scope
from peerdigest.dev.embedded_redis import EmbeddedRedis
from peerdigest.dev.seed import seed_demo
from tests.conftest import make_settings
from tests.faults.harness import Scenario, Verdict
from peerdigest.testing.fake_llm import FakeLLM

VERDICTS = pytest.StashKey[list]()

# Every interval short, so a scenario recovers in seconds: heartbeats each second, a job
# abandoned after four without one, the reconciler every second, retries after one.
FAST = dict(
    job_heartbeat_interval=1,
    job_abandoned_after=4,
    reconcile_interval=1,
    scheduler_interval=0.5,
    retry_base_delay=1,
)


@pytest.fixture
def scenario(request, one_database_url, tmp_path):
    """A scenario named after its test: the demo school, its own Redis (to kill at will), fast intervals.

    Its Redis keeps an append-only file, as production's does (and `peerdigest run`'s), so a
    restart brings back what Redis held, leases included. A test about a Redis that comes back
    empty says so with `@pytest.mark.redis_without_persistence`.
    """
    persistent = request.node.get_closest_marker("redis_without_persistence") is None
    server = EmbeddedRedis(tmp_path / "redis", persistent=persistent).start()
    settings = make_settings(one_database_url, server.url, tmp_path, **FAST)
    with session_scope(settings.database_url) as session:
        seed_demo(session)
    run = Scenario(request.node.originalname.removeprefix("test_").replace("_", " "), settings, server, tmp_path)
    yield run
    run.stop_all()
    server.stop()


@pytest.fixture
def llm(scenario):
    """A fake OpenAI-compatible server (model `fake-model`) that the scenario's processes summarize with."""
    fake = FakeLLM().start()
    scenario.configure(llm_base_url=fake.base_url, llm_model="fake-model")
    yield fake
    fake.stop()


@pytest.fixture
def record(request):
    """Add a scenario's verdict to the table printed after the run."""
    verdicts = request.config.stash.setdefault(VERDICTS, [])
    return verdicts.append


def pytest_terminal_summary(terminalreporter, config):
    verdicts: list[Verdict] = config.stash.get(VERDICTS, [])
    if not verdicts:
        return
    terminalreporter.section("fault injection")
    header = f"{'scenario':<58} {'accepted':>8} {'completed':>9} {'failed':>6} {'lost':>4} {'dupl.':>5} {'recovery':>9}"
    terminalreporter.write_line(header)
    for v in verdicts:
        terminalreporter.write_line(
            f"{v.scenario[:58]:<58} {v.accepted:>8} {v.completed:>9} {v.failed:>6} {v.lost:>4} "
            f"{v.duplicates:>5} {v.recovery:>8.1f}s"
        )
