"""The operations page (the installation's administrators, INSTALLATION_ADMINS): queues, workers, jobs of
the last day, failed jobs to retry or discard, the reconciler and the LLM, from `ops.operations.overview`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request

from peerdigest.api.deps import InstallationUser, RedisDep, SessionDep, SettingsDep
from peerdigest.ops.operations import CHART_STATUSES, HourBar, overview
from peerdigest.queue import failed_jobs
from peerdigest import i18n
from peerdigest.i18n import N_, _, translate
from peerdigest.web.pages import page_router, redirect, render

router = page_router()

JobId = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]

# RQ's worker states and the reconciler's repairs (`queue/reconcile.Report`) as the page names them.
WORDS = {
    "busy": N_("busy"), "idle": N_("idle"), "started": N_("started"), "suspended": N_("suspended"),
    "requeued": N_("requeued"), "rerun": N_("rerun"), "abandoned": N_("abandoned"), "aligned": N_("aligned"),
    "set_aside": N_("set aside"), "quarantined": N_("quarantined"), "promoted": N_("promoted"),
    "announced": N_("announced"),
}

CHART_HEIGHT = 120
BAR_WIDTH = 16
BAR_GAP = 4


@dataclass(frozen=True)
class Rect:
    x: int
    y: float
    height: float
    status: str
    title: str


def chart(hours: list[HourBar], time_zone: str | None = None) -> list[Rect]:
    """Stacked bars for the inline SVG: one per hour, a part per status, scaled to the busiest hour;
    each part's tooltip in the current language and the school's time zone."""
    top = max((bar.total for bar in hours), default=0) or 1
    rects = []
    for index, bar in enumerate(hours):
        x = index * (BAR_WIDTH + BAR_GAP)
        y = float(CHART_HEIGHT)
        for job_status in CHART_STATUSES:
            count = bar.counts[job_status]
            if not count:
                continue
            height = CHART_HEIGHT * count / top
            y -= height
            rects.append(
                Rect(x, round(y, 1), round(height, 1), job_status,
                     f"{i18n.format_time(bar.start, time_zone)}: {count} {i18n.translate(job_status)}")
            )
    return rects


@router.get("/operations")
def operations_page(request: Request, user: InstallationUser, session: SessionDep, redis: RedisDep, settings: SettingsDep):
    found = overview(session, redis, settings)
    return render(
        request,
        "operations.html",
        user=user,
        ops=found,
        bars=chart(found.hours, user.school.time_zone),
        statuses=CHART_STATUSES,
        chart_width=24 * (BAR_WIDTH + BAR_GAP),
        chart_height=CHART_HEIGHT,
        jobs_in_window=sum(bar.total for bar in found.hours),
        words=WORDS,
    )


@router.post("/operations/jobs/{job_id}/retry")
def retry(job_id: JobId, user: InstallationUser, session: SessionDep, redis: RedisDep, settings: SettingsDep):
    try:
        accepted = failed_jobs.retry(session, redis, settings, job_id, None, user.id)
    except failed_jobs.NotFailed as exc:
        return redirect("/operations#failed", translate(exc.args[0]), error=True)
    return redirect("/operations#failed", _("Retrying %(job)s as %(new)s (%(status)s).", job=job_id,
                                              new=accepted.job.job_id, status=translate(accepted.job.status)))


@router.post("/operations/jobs/{job_id}/discard")
def discard(job_id: JobId, user: InstallationUser, session: SessionDep, redis: RedisDep):
    try:
        failed_jobs.discard(session, redis, job_id, None, user.id)
    except failed_jobs.NotFailed as exc:
        return redirect("/operations#failed", translate(exc.args[0]), error=True)
    return redirect("/operations#failed", _("Discarded %(job)s; it stays in the job history.", job=job_id))
