"""What a worker runs: the only place where a queued job meets the domain.

The RQ payload holds ids only; everything else is read from the database of
record when the job runs, so a job re-created from the database is identical
to the one first queued.
"""

from __future__ import annotations

import logging

from rq import get_current_job
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.config import Settings, load_settings
from peerdigest.db.models import FeedbackSummary, JobStatus, SummaryJob, utcnow
from peerdigest.db.session import session_scope
from peerdigest.feedback import FeedbackError, anonymize, collect, feedback_hash
from peerdigest.summarize import Summary, for_settings

log = logging.getLogger(__name__)


def generate_summary(job_id: str, evaluation_id: int, student_id: int) -> dict | None:
    """Write the summary for one student and record every step on the job's row."""
    settings = load_settings()
    rq_job = get_current_job()
    worker_name = rq_job.worker_name if rq_job is not None else None
    with session_scope(settings.database_url) as session:
        job = _find(session, job_id)
        if job is None:
            log.error("job %s: no such job in the database; nothing to do", job_id)
            return None
        if not job.is_open:
            log.info("job %s: already %s; not running it again", job_id, job.status)
            return job.result
        job.start(worker_name)
    log.info("job %s: processing (evaluation %s, student %s)", job_id, evaluation_id, student_id)

    try:
        result = _summarize(settings, job_id, evaluation_id, student_id)
    except FeedbackError as exc:
        # Nothing a retry could fix: the evaluation or the student is gone.
        _fail(settings, job_id, str(exc))
        log.warning("job %s: failed permanently: %s", job_id, exc)
        return None
    except Exception as exc:
        _fail(settings, job_id, f"{type(exc).__name__}: {exc}")
        log.exception("job %s: failed", job_id)
        raise
    log.info("job %s: completed (%s)", job_id, result["generation_method"])
    return result


def _summarize(settings: Settings, job_id: str, evaluation_id: int, student_id: int) -> dict:
    with session_scope(settings.database_url) as session:
        received = collect(session, evaluation_id, student_id)
        _progress(session, job_id, 30)
    summary = for_settings(settings).summarize(anonymize(received))
    fingerprint = feedback_hash(received)
    with session_scope(settings.database_url) as session:
        _store(session, received.evaluation_id, received.student_id, summary, fingerprint, len(received.comments))
        job = _find(session, job_id)
        result = {
            "summary_text": summary.text,
            "generation_method": summary.method,
            "feedback_count": len(received.comments),
        }
        if job is not None:
            job.finish(JobStatus.completed, result=result)
            if summary.fallback_reason:
                job.error = f"fell back to the builtin summarizer: {summary.fallback_reason}"
    return result


def _store(
    session: Session, evaluation_id: int, student_id: int, summary: Summary, fingerprint: str, count: int
) -> FeedbackSummary:
    stored = session.scalar(
        select(FeedbackSummary).where(
            FeedbackSummary.evaluation_id == evaluation_id, FeedbackSummary.student_id == student_id
        )
    )
    if stored is None:
        stored = FeedbackSummary(evaluation_id=evaluation_id, student_id=student_id, created_at=utcnow())
        session.add(stored)
    stored.text = summary.text
    stored.method = summary.method
    stored.feedback_hash = fingerprint
    stored.feedback_count = count
    stored.duration_ms = summary.duration_ms
    stored.model = summary.model
    stored.prompt_version = summary.prompt_version
    stored.stale = False
    stored.updated_at = utcnow()
    return stored


def _find(session: Session, job_id: str) -> SummaryJob | None:
    return session.scalar(select(SummaryJob).where(SummaryJob.job_id == job_id))


def _progress(session: Session, job_id: str, progress: int) -> None:
    job = _find(session, job_id)
    if job is not None:
        job.progress = progress


def _fail(settings: Settings, job_id: str, error: str) -> None:
    with session_scope(settings.database_url) as session:
        job = _find(session, job_id)
        if job is not None and job.is_open:
            job.finish(JobStatus.failed, error=error)
