"""`peerdigest queues`: inspect and empty the summary queues on Redis."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from peerdigest.cli.common import console, err, redis_or_exit, settings_or_exit

queues_app = typer.Typer(help="Inspect and empty the summary queues on Redis.", no_args_is_help=True)


@queues_app.command("stats")
def queues_stats() -> None:
    """Queue depths, registries, workers and the LLM slots held."""
    from peerdigest.queue import llm_slots
    from peerdigest.queue.maintenance import queue_stats

    settings = settings_or_exit()
    redis, _ = redis_or_exit(settings)
    stats = queue_stats(redis)
    table = Table("queue", "queued", "started", "scheduled", "failed", "finished")
    for q in stats["queues"]:
        table.add_row(q["name"], *(str(q[k]) for k in ("queued", "started", "scheduled", "failed", "finished")))
    console.print(table)
    workers_table = Table("worker", "state", "current job", "last heartbeat", "memory (own)")
    for w in stats["workers"]:
        memory = f"{w['memory_mib']} MiB ({w['own_memory_mib']} MiB)" if w["memory_mib"] is not None else "-"
        workers_table.add_row(w["name"], w["state"], w["current_job"] or "-", w["last_heartbeat"] or "-", memory)
    console.print(workers_table if stats["workers"] else "No workers running.")
    held = llm_slots.held(redis, settings)
    if held:
        slots = Table("held by job", "for", "lease ends in", title=f"LLM slots: {len(held)} of {settings.llm_max_concurrency} held")
        for slot in held:
            slots.add_row(slot.job_id, f"{slot.held_for:.0f} s", f"{slot.lease_left:.0f} s")
        console.print(slots)
        console.print("A slot whose job is no longer processing is freed by the reconciler (`peerdigest doctor` names them).")
    if stats["quarantined"]:
        from peerdigest.queue import quarantine

        table = Table("quarantined at", "taken from", "bytes", title=f"{stats['quarantined']} queue entries that were not job ids")
        for entry in quarantine.entries(redis, limit=10):
            table.add_row(f"{entry.at:%Y-%m-%d %H:%M:%S}", entry.source, str(entry.length))
        console.print(table)
        console.print(f"They are kept in the Redis list {quarantine.QUARANTINE_KEY}; nothing reads them again.")


@queues_app.command("clear")
def queues_clear(
    flush_db: Annotated[bool, typer.Option("--flush-db", help="Also FLUSHDB the whole Redis database")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Empty the summary queues and their registries. Never touches the database of record."""
    from peerdigest.queue.connection import describe
    from peerdigest.queue.maintenance import clear_queues

    settings = settings_or_exit()
    redis, url = redis_or_exit(settings)
    if flush_db and not yes:
        if not sys.stdin.isatty():
            err.print("[red]--flush-db needs a confirmation:[/red] type YES at the prompt, or pass --yes.")
            raise typer.Exit(2)
        answer = typer.prompt(f"This deletes EVERY key in {describe(url)}. Type YES to go on")
        if answer != "YES":
            console.print("Nothing done.")
            raise typer.Exit(1)
    removed = clear_queues(redis, flush_db=flush_db)
    console.print(f"Removed {removed} job(s) from the summary queues and registries.")
    if flush_db:
        console.print(f"Flushed Redis database {describe(url)}.")
    console.print(
        "Jobs still open in the database are put back on the queues by `peerdigest jobs recover` "
        "or by the scheduler's reconciler."
    )
