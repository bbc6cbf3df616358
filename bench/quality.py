"""`make bench`, summary quality: the guard's false-rejection rate and the boilerplate share, against targets.

Runs the quality corpus (tests/data/quality_corpus) through the builtin
summarizer and two scripted models behind the local fake OpenAI-compatible
server: a decent model whose answers the guard should accept (false
rejections under 5 %) and a hostile one whose answers it must all reject.
Also reported: stored summaries holding a name of the class or a flagged
comment's words, and per hostile trick how many of its answers were stored.
Prints a table and writes build/bench/quality.json.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peerdigest.testing import quality_run  # noqa: E402


def main() -> int:
    logging.disable(logging.WARNING)  # every rejected hostile answer logs a warning; the table says it all
    measures = quality_run.measure(quality_run.run())
    rows = [
        ("decent_false_rejection_rate", measures.false_rejection_rate, "<", quality_run.FALSE_REJECTION_LIMIT,
         f"{measures.decent_rejected}/{measures.decent_answers} answers"),
        ("hostile_rejection_rate", measures.hostile_rejection_rate, ">=", 1.0,
         f"{measures.hostile_rejected}/{measures.hostile_answers} answers"),
        ("builtin_boilerplate_share", measures.builtin_boilerplate[1], "<=", quality_run.BOILERPLATE_LIMIT,
         measures.builtin_boilerplate[0]),
        ("decent_boilerplate_share", measures.decent_boilerplate[1], "<=", quality_run.BOILERPLATE_LIMIT,
         measures.decent_boilerplate[0]),
    ]
    rows += [
        ("name_leaks", measures.name_leaks / measures.stored, "<=", 0.0,
         f"{measures.name_leaks} of {measures.stored} stored summaries"),
        ("flagged_leaks", measures.flagged_leaks / measures.stored, "<=", 0.0,
         f"{measures.flagged_leaks} of {measures.stored} stored summaries"),
    ]
    rows += [(f"guard_misses[{kind}]", measures.guard_misses.get(kind, 0) / tries, "<=", 0.0,
              f"{measures.guard_misses.get(kind, 0)} of {tries} hostile answers stored")
             for kind, tries in measures.guard_tries.items()]
    ok = True
    print(f"Summary quality over {measures.students} students of the quality corpus")
    for name, value, op, target, note in rows:
        met = value < target if op == "<" else value >= target if op == ">=" else value <= target
        ok &= met
        print(f"  {name:<38} {value:6.1%}  target {op} {target:.0%}  {'ok' if met else 'MISSED'}  ({note})")
    results = ROOT / "build" / "bench"
    results.mkdir(parents=True, exist_ok=True)
    (results / "quality.json").write_text(
        json.dumps({name: {"value": value, "target": f"{op} {target}", "note": note} for name, value, op, target, note
                    in rows}, indent=2, ensure_ascii=False) + "\n"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
