"""Where every student of an evaluation stands: the comments they received and the state of their summary.

A student's state is read from the database alone (the job rows and the
stored summary), so it is right whatever Redis knows:

- `queued`, `processing` (with the job's progress): an open job;
- `failed` (with the reason), `cancelled`: the latest job ended so, after the stored summary was written;
- `stale`: a summary exists but the feedback changed since;
- `completed`: a summary of the current feedback;
- `none`: nothing asked for yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, FeedbackSummary, JobStatus, Score, SummaryJob, User
from peerdigest.domain.summaries import stored_summaries


@dataclass(frozen=True)
class StudentState:
    # The field names are the JSON keys the events stream and /states send (`as_json`), which
    # the pages' scripts read: `method` is the summary's generation_method, `error` the job's error_message.
    student_id: int
    name: str
    team: str | None
    comments: int  # comments received from peers (self-assessment excluded)
    state: str
    progress: int
    method: str | None
    updated_at: datetime | None  # when the summary, or the latest job, last changed
    error: str | None
    job_id: str | None  # the open job, else the latest one
    job_open: bool

    def as_json(self) -> dict:
        values = asdict(self)
        values["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return values


def student_states(session: Session, evaluation_id: int) -> list[StudentState]:
    """Every student who receives feedback in the evaluation, by name, with where their summary stands."""
    students = session.execute(
        select(User.id, User.name, func.max(Allocation.team))
        .join(Allocation, Allocation.reviewee_id == User.id)
        .where(Allocation.evaluation_id == evaluation_id)
        .group_by(User.id, User.name)
        .order_by(User.name)
    ).all()
    comments = dict(
        session.execute(
            select(Allocation.reviewee_id, func.count(Score.id))
            .join(Score, Score.allocation_id == Allocation.id)
            .where(
                Allocation.evaluation_id == evaluation_id,
                Allocation.is_self.is_(False),
                func.length(func.trim(func.coalesce(Score.comment, ""))) > 0,
            )
            .group_by(Allocation.reviewee_id)
        ).all()
    )
    summaries = stored_summaries(session, evaluation_id)
    latest: dict[int, SummaryJob] = {}
    for job in session.scalars(
        select(SummaryJob).where(SummaryJob.evaluation_id == evaluation_id).order_by(SummaryJob.id)
    ):
        latest[job.student_id] = job  # ordered by id: the last one wins
    return [
        _state(student_id, name, team, comments.get(student_id, 0), summaries.get(student_id), latest.get(student_id))
        for student_id, name, team in students
    ]


def _state(
    student_id: int, name: str, team: str | None, comments: int, summary: FeedbackSummary | None, job: SummaryJob | None
) -> StudentState:
    state, progress, error = "none", 0, None
    updated_at = summary.updated_at if summary else None
    ended_after_summary = (
        job is not None
        and not job.is_open
        and job.completed_at is not None
        and (summary is None or job.completed_at > summary.updated_at)
    )
    if job is not None and job.is_open:
        # A retry's last error shows while it waits.
        state, progress, error = job.status, job.progress, job.error_message
        updated_at = job.updated_at
    elif ended_after_summary and job.status in (JobStatus.failed, JobStatus.cancelled):
        state, error, updated_at = job.status, job.error_message, job.updated_at
    elif summary is not None:
        state, progress = ("stale" if summary.stale else "completed"), 100
    return StudentState(
        student_id=student_id,
        name=name,
        team=team,
        comments=comments,
        state=state,
        progress=progress,
        method=summary.generation_method if summary else None,
        updated_at=updated_at,
        error=error,
        job_id=job.job_id if job else None,
        job_open=job is not None and job.is_open,
    )
