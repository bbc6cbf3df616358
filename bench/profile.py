"""`make profile`: where a summary job's time goes, measured in one process with pyinstrument.

Seeds an evaluation (BENCH_STUDENTS, default 100) in a temporary SQLite
database with an embedded Redis, queues every student as a class, and runs the
jobs with RQ's `SimpleWorker` (no fork, so the profiler sees every job) until
the queues are empty. The profile is printed and written as HTML to
build/bench/profile.html. A forking worker adds, per job, what this cannot
show: the fork and the cold caches of the new process.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyinstrument import Profiler  # noqa: E402
from rq import SimpleWorker  # noqa: E402

from bench.stage import Stage  # noqa: E402
from peerdigest.config import Settings  # noqa: E402
from peerdigest.db.migrate import upgrade  # noqa: E402
from peerdigest.dev.embedded_redis import EmbeddedRedis  # noqa: E402
from peerdigest.queue.connection import connect  # noqa: E402
from peerdigest.queue.queues import summary_queues  # noqa: E402
from peerdigest.queue.tasks import use_settings  # noqa: E402


def main() -> int:
    students = int(os.environ.get("BENCH_STUDENTS", "100"))
    with tempfile.TemporaryDirectory(prefix="peerdigest-profile-") as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        settings = Settings(_env_file=None, environment="test", database_url=f"sqlite:///{tmp}/profile.db",
                            redis_url=redis.url, data_dir=Path(tmp), embedded_redis="never")
        upgrade(settings.database_url)
        use_settings(settings)  # read once for every job, as `peerdigest worker` does
        stage = Stage(settings, Path(tmp), quick=True, smoke=False)
        evaluation_id, ids = stage.evaluation(students, language="nl")
        stage.queue_fresh(evaluation_id, ids)
        connection = connect(settings.redis_url)
        worker = SimpleWorker(summary_queues(connection), connection=connection)
        profiler = Profiler()
        with profiler:
            worker.work(burst=True, logging_level="WARNING")
        print(f"{students} jobs; the profile is in {report(profiler, 'profile.html')}")
    return 0


def report(profiler: Profiler, name: str) -> Path:
    """Print the profile and write it as HTML to build/bench/`name`: the path."""
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(profiler.output_html())
    return out / name


if __name__ == "__main__":
    sys.exit(main())
