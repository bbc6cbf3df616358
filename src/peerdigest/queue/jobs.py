"""The job rows in the database of record: find them, list them.

Their status changes only in `queue.lifecycle`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.db.models import Evaluation, JobStatus, SummaryJob


def find(session: Session, job_id: str) -> SummaryJob | None:
    return session.scalar(select(SummaryJob).where(SummaryJob.job_id == job_id))


def find_with_evaluation(session: Session, job_id: str) -> tuple[SummaryJob, Evaluation | None] | None:
    """The job and its evaluation (None if it is gone), read by one statement.

    Following a job is most of what the API is asked, and every answer first checks
    the job's evaluation (`api.deps.visible_job`): while the caller holds the
    evaluation, the check's `session.get` finds it in the session and asks the
    database nothing, one round trip fewer per request. (Held: the session keeps
    only weak references to what it loaded.)
    """
    row = session.execute(
        select(SummaryJob, Evaluation)
        .outerjoin(Evaluation, Evaluation.id == SummaryJob.evaluation_id)
        .where(SummaryJob.job_id == job_id)
    ).first()
    return (row[0], row[1]) if row else None


def open_job(session: Session, evaluation_id: int, student_id: int) -> SummaryJob | None:
    """The student's one open (queued or processing) job in the evaluation, if any."""
    key = SummaryJob.open_key_for(evaluation_id, student_id)
    return session.scalar(select(SummaryJob).where(SummaryJob.open_key == key))


def open_jobs(session: Session, evaluation_id: int, student_ids: list[int]) -> dict[int, SummaryJob]:
    """The open job of each of the students that has one, by student id; one query."""
    keys = [SummaryJob.open_key_for(evaluation_id, student_id) for student_id in student_ids]
    return {job.student_id: job for job in session.scalars(select(SummaryJob).where(SummaryJob.open_key.in_(keys)))}


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


def statuses(session: Session, job_ids: list[str]) -> dict[str, JobStatus]:
    """The status of each of these jobs that has a row, by job id; one query."""
    if not job_ids:
        return {}
    found = session.execute(select(SummaryJob.job_id, SummaryJob.status).where(SummaryJob.job_id.in_(job_ids)))
    return {job_id: JobStatus(status) for job_id, status in found}
