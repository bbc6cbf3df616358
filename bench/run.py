"""`make bench`: every scenario of issue 13 in one invocation, reported as ratios against its yardstick.

    python bench/run.py            quick size (about two minutes on an idle 2-core machine)
    python bench/run.py --full     the sizes of the issue
    python bench/run.py --smoke    the smallest size, for CI: it must complete, nothing is judged on time

Each run writes build/bench/<time>-<commit>-<size>.json (top-level `saturation`:
scenario 2's share of the ideal) and its table, with the date, machine and
commit, beside it as .md. Nothing outside build/ is written: a run worth keeping
is copied into docs/BENCHMARKS.md by hand. The exit code is 1 when a target was
missed (never with --smoke).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scenarios import SCENARIOS, Result  # noqa: E402
from bench.stage import Stage  # noqa: E402
from peerdigest.config import Settings  # noqa: E402
from peerdigest.db.migrate import upgrade  # noqa: E402
from peerdigest.dev.embedded_redis import EmbeddedRedis  # noqa: E402
from peerdigest.testing.fake_llm import FakeLLM, careful_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the sizes of the issue")
    size.add_argument("--smoke", action="store_true", help="the smallest size; nothing judged")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench", help="where the JSON goes")
    args = parser.parse_args(argv)
    label = "smoke" if args.smoke else "full" if args.full else "quick"

    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="peerdigest-bench-") as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        workdir = Path(tmp)
        database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/bench.db"
        settings = Settings(
            _env_file=None, environment="test", database_url=database_url, redis_url=redis.url,
            data_dir=workdir, embedded_redis="never",
            rate_limit_enabled=False,  # one client sends every request: the per-user limit would measure itself
        )
        upgrade(database_url)
        stage = Stage(settings, workdir, quick=not args.full, smoke=args.smoke)
        # Served P at once with the rest in line, like a real inference server; scenarios set its latency.
        stage.fake_llm = FakeLLM(default=careful_model, capacity=8).start()
        try:
            with stage.api() as base:
                stage.api_base = base
                for scenario in SCENARIOS:
                    print(f"running {scenario.__name__} ...", flush=True)
                    results.extend(scenario(stage))
        finally:
            stage.stop_all()
            stage.fake_llm.stop()

    run = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "size": label,
        "machine": machine(),
        "commit": commit(),
        "seconds": round(time.monotonic() - started, 1),
        "saturation": next((r.measures["saturation"] for r in results if "saturation" in r.measures), None),
        "scenarios": {r.name: {"measures": r.measures, "targets": r.targets} for r in results},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{run['date'].replace(':', '')}-{run['commit']}-{label}.json"
    path.write_text(json.dumps(run, indent=2))
    table = markdown(run, results)
    path.with_suffix(".md").write_text(table)
    print(table)
    print(f"written to {path} and {path.with_suffix('.md').name}")
    missed = [f"{r.name}: {m}" for r in results for m, (_, met) in r.targets.items() if not met]
    return 1 if missed and not args.smoke else 0


HEADLINES = {
    "1 pipeline overhead": ["builtin_summaries_per_s", "raw_rq_jobs_per_s", "ratio"],
    "2 llm saturation": ["summaries_per_s", "seconds", "ideal_seconds", "saturation"],
    "3 a class": ["seconds_to_last_summary", "ideal_seconds", "over_ideal", "llm_calls_queued_again"],
    "4 big evaluation": ["students", "seconds_to_last_summary"],
    "5 api sqlite": ["api_processes", "worst_p99_ms", "queue_p50_minus_bare_p50_ms", "not_run"],
    "5 api postgresql": ["api_processes", "worst_p99_ms", "queue_p50_minus_bare_p50_ms", "not_run"],
    "6 backpressure": ["seconds", "ideal_seconds", "turned_away", "extra_attempts"],
    "7 llm calls per summary": ["calls_per_summary"],
}


def markdown(run: dict, results: list[Result]) -> str:
    lines = [
        f"### {run['date']} · {run['size']} · commit {run['commit']} · {run['machine']}",
        "",
        "| scenario | measured | target | met |",
        "|---|---|---|---|",
    ]
    for r in results:
        shown = HEADLINES.get(r.name) or [k for k, v in r.measures.items() if isinstance(v, (int, float))]
        measured = ", ".join(f"{k} {_value(r.measures.get(k))}" for k in shown if k in r.measures)
        targets = "; ".join(words for words, _ in r.targets.values()) or "-"
        met = "; ".join("yes" if ok else "NO" for _, ok in r.targets.values()) or "-"
        lines.append(f"| {r.name} | {measured} | {targets} | {met} |")
    return "\n".join(lines) + "\n"


def _value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} cores, load {load} at the end, Python {platform.python_version()}"


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
