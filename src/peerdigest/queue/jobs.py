"""The job rows in the database of record: find them, list them, lock one to change its status.

Whoever changes a job's status (the worker that runs it, a teacher who cancels
it, the reconciler) starts with `lock`, a compare-and-set on the statuses the
change may start from. Two changes at once therefore never both win: a worker
cannot complete a job a teacher cancelled a moment earlier, and a cancel cannot
overwrite a job that has just completed.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from peerdigest.db.models import JobStatus, SummaryJob


def find(session: Session, job_id: str) -> SummaryJob | None:
    return session.scalar(select(SummaryJob).where(SummaryJob.job_id == job_id))


def lock(session: Session, job_id: str, *statuses: JobStatus) -> SummaryJob | None:
    """The job, locked until the session commits, if its status is one of `statuses`; else None.

    A conditional no-op UPDATE rather than SELECT ... FOR UPDATE: SQLite ignores
    FOR UPDATE, but any UPDATE takes its write lock, and PostgreSQL re-checks the
    WHERE clause after waiting for a concurrent change of the row. Either way the
    status read here is the status the caller's changes are committed over.
    """
    changed = session.execute(
        update(SummaryJob)
        .where(SummaryJob.job_id == job_id, SummaryJob.status.in_(statuses))
        .values(status=SummaryJob.status)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return None
    return session.scalar(
        select(SummaryJob).where(SummaryJob.job_id == job_id).execution_options(populate_existing=True)
    )


def list_jobs(
    session: Session,
    *,
    evaluation_id: int | None = None,
    status: JobStatus | None = None,
    limit: int | None = None,
) -> list[SummaryJob]:
    """Jobs, newest first, narrowed to an evaluation and a status when given."""
    query = select(SummaryJob).order_by(SummaryJob.id.desc())
    if evaluation_id is not None:
        query = query.where(SummaryJob.evaluation_id == evaluation_id)
    if status is not None:
        query = query.where(SummaryJob.status == status)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
