"""/api/v1/feedback-summaries: queue summaries, follow and cancel their jobs, read the results."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Query, status
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerdigest.api.deps import (
    CurrentUser,
    EvaluationStudent,
    OwnStudent,
    RedisDep,
    SessionDep,
    SettingsDep,
    StaffEvaluation,
    VisibleEvaluation,
    VisibleJob,
    is_staff,
)
from peerdigest.api.errors import ERRORS, problem
from peerdigest.api.ratelimit import Limit, limit
from peerdigest.api.schemas import (
    BatchItem,
    BatchQueueIn,
    BatchQueueOut,
    CancelAllOut,
    JobAccepted,
    JobList,
    JobStatusOut,
    Moment,
    QueueOptions,
    Quote,
    QuotesOut,
    RegenerateOptions,
    StoredSummary,
)
from peerdigest.config import Settings
from peerdigest.db.models import Evaluation, JobStatus, Release, SummaryJob, User, utcnow
from peerdigest.domain import release, review, summaries
from peerdigest.domain.feedback import anonymize, collect, evaluation_students
from peerdigest.summarize.injection import quotable
from peerdigest.domain.webhooks import UnsafeWebhookURL, validate_url
from peerdigest.queue.cancel import JobAlreadyEnded, cancel, cancel_all
from peerdigest.queue.enqueue import Accepted, request_class, request_summary

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])

# Malformed options and refused webhook URLs alike answer {"detail": "..."} (see api/validation.py).
NOT_RELEASED = "Your summary has not been released yet: your teacher reads it first."
OPTION_ERRORS = {
    **ERRORS,
    422: problem("Malformed options, or a webhook URL this server refuses to call"),
}


def _accept(
    session: Session,
    redis: Redis,
    settings: Settings,
    user: User,
    asked: EvaluationStudent,
    options: QueueOptions,
    force: bool,
) -> JobAccepted:
    """The checks and the request that .../queue and .../regenerate share."""
    evaluation, student_id = asked.evaluation, asked.student_id
    if options.webhook_url is not None:
        if not is_staff(user) and evaluation.release == Release.after_review:
            # A webhook carries the summary text, which the student may read only once it is approved.
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "Your teacher reviews summaries first: a webhook is for teachers here."
            )
        try:
            validate_url(options.webhook_url, settings)
        except UnsafeWebhookURL as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    accepted = request_summary(
        session,
        redis,
        settings,
        evaluation_id=evaluation.id,
        student_id=student_id,
        requested_by_id=user.id,
        priority=options.priority,
        force=force,
        webhook_url=options.webhook_url,
        max_retries=options.max_retries,
    )
    return JobAccepted.of(accepted.job, accepted.already_queued)


@router.post(
    "/evaluation/{evaluation_id}/student/{student_id}/queue",
    openapi_extra=limit(Limit.queue),
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses=OPTION_ERRORS,
    summary="Queue a summary of the feedback a student received",
    description="Answers at once with the job; a worker writes the summary. A student who already has an open "
    "job gets that job back (`already_queued`). When the feedback has not changed since the stored summary was "
    "written, the job is `completed` at once from that summary (`cached: true`) and no worker is involved.",
)
def queue_summary(
    asked: OwnStudent,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    options: QueueOptions | None = None,
) -> JobAccepted:
    return _accept(session, redis, settings, user, asked, options or QueueOptions(), force=False)


@router.post(
    "/evaluation/{evaluation_id}/student/{student_id}/regenerate",
    openapi_extra=limit(Limit.queue),
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses=OPTION_ERRORS,
    summary="Queue a fresh summary, even when the feedback has not changed",
    description="Deliberately asynchronous: unlike the synchronous regenerate older clients knew, this answers "
    "202 with a job at once, exactly like .../queue, and a worker writes the new summary; follow the job with "
    "GET /jobs/{job_id}/status. It skips the cache unless `force` is false. A student who already has an open "
    "job gets that job back (`already_queued`) instead of a second one.",
)
def regenerate_summary(
    asked: OwnStudent,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    options: RegenerateOptions | None = None,
) -> JobAccepted:
    options = options or RegenerateOptions()
    return _accept(session, redis, settings, user, asked, options, force=options.force)


def _job_out(session: Session, user: User, job: SummaryJob) -> JobStatusOut:
    """The job as this user may see it: a student reads its result only as the released summary's text."""
    out = JobStatusOut.of(job)
    if out.result is None or is_staff(user):
        return out
    released = release.released_summary(session, session.get(Evaluation, job.evaluation_id), job.student_id)
    # A teacher's edit replaces what the job wrote; the student reads only the text their teacher let through.
    out.result = out.result.model_copy(update={"summary_text": released.summary_text}) if released else None
    return out


@router.get(
    "/jobs/{job_id}/status",
    response_model=JobStatusOut,
    responses=ERRORS,
    summary="Follow a job",
    openapi_extra=limit(Limit.status),
)
def job_status(job: VisibleJob, user: CurrentUser, session: SessionDep) -> JobStatusOut:
    return _job_out(session, user, job)


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobStatusOut,
    responses={**ERRORS, 409: problem("The job has already ended")},
    summary="Cancel a job",
    description="A queued job (also one waiting for a retry) will never run; a running job is stopped and its "
    "summary discarded. The job records `cancelled_at` and `cancelled_by`. Students may cancel their own jobs only.",
)
def cancel_job(
    job: VisibleJob, user: CurrentUser, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> JobStatusOut:
    try:
        return _job_out(session, user, cancel(session, redis, settings, job.job_id, by_id=user.id))
    except JobAlreadyEnded as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.post(
    "/evaluation/{evaluation_id}/cancel-all",
    response_model=CancelAllOut,
    responses=ERRORS,
    summary="Cancel every open job of an evaluation (teachers)",
)
def cancel_evaluation_jobs(
    evaluation: StaffEvaluation, user: CurrentUser, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> CancelAllOut:
    cancelled = cancel_all(session, redis, settings, evaluation.id, by_id=user.id)
    return CancelAllOut(evaluation_id=evaluation.id, cancelled=len(cancelled), job_ids=[j.job_id for j in cancelled])


@router.get(
    "/evaluation/{evaluation_id}/student/{student_id}",
    response_model=StoredSummary,
    responses=ERRORS,
    summary="The stored summary of a student",
    description="Under review (`release: after_review`) a student gets 404 until a teacher approved their summary.",
)
def stored_summary(asked: OwnStudent, user: CurrentUser, session: SessionDep) -> StoredSummary:
    evaluation, evaluation_id, student_id = asked.evaluation, asked.evaluation.id, asked.student_id
    summary = summaries.stored_summary(session, evaluation_id, student_id)
    if summary is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No summary yet for student {student_id}: queue one with "
            f"POST /api/v1/feedback-summaries/evaluation/{evaluation_id}/student/{student_id}/queue.",
        )
    released = release.released(evaluation, summary)
    if not released and not is_staff(user):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_RELEASED)
    return StoredSummary.of(summary, session.get(User, student_id).name, released)


@router.get(
    "/evaluation/{evaluation_id}/student/{student_id}/quotes",
    response_model=QuotesOut,
    responses=ERRORS,
    summary="The comments a student received, anonymized",
    description="Every peer comment the student received (their self-assessment excluded), with the names of "
    "everyone in the evaluation replaced by a neutral word; a comment that tried to give the summarizer orders "
    "is left out whole. Teachers see why a comment is flagged (`flagged`: offensive, threat, self_harm); a student "
    "never sees a flagged comment, and sees their quotes only once their summary is released.",
)
def quotes(asked: OwnStudent, user: CurrentUser, session: SessionDep) -> QuotesOut:
    evaluation, evaluation_id, student_id = asked.evaluation, asked.evaluation.id, asked.student_id
    comments = quotable(anonymize(collect(session, evaluation_id, student_id)))
    if is_staff(user):
        found = review.flagged(comments, evaluation.language)
        shown = [Quote(text=c.text, criterion_id=c.criterion_id, flagged=f.concern if f else None) for c, f in found]
        return QuotesOut(quotes=shown, count=len(shown))
    if release.released_summary(session, evaluation, student_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_RELEASED)
    shown = [Quote(text=c.text, criterion_id=c.criterion_id) for c in review.visible_to_student(comments, evaluation.language)]
    return QuotesOut(quotes=shown, count=len(shown))


@router.post(
    "/evaluation/{evaluation_id}/batch-queue",
    openapi_extra=limit(Limit.batch),
    response_model=BatchQueueOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
    summary="Queue summaries for many students of an evaluation (teachers)",
)
def batch_queue(
    evaluation: StaffEvaluation,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    body: BatchQueueIn | None = None,
) -> BatchQueueOut:
    evaluation_id = evaluation.id
    members = evaluation_students(session, evaluation_id)
    wanted = members if body is None or body.student_ids is None else list(dict.fromkeys(body.student_ids))
    if len(wanted) > len(members):
        # More ids than students can only be mistakes (or an attempt to make the server work for nothing).
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"Evaluation {evaluation_id} has {len(members)} students who receive feedback; send at most that many "
            "student_ids, or none to queue them all.",
        )
    results: list[BatchItem] = []
    for student_id, item in request_class(
        session, redis, settings, evaluation_id=evaluation_id, student_ids=wanted, requested_by_id=user.id
    ):
        if item is None:
            results.append(BatchItem(student_id=student_id, status="failed", error="receives no feedback here"))
            continue
        results.append(BatchItem(student_id=student_id, status=_batch_status(item), job_id=item.job.job_id,
                                 cached=item.job.cached))
    return BatchQueueOut(
        evaluation_id=evaluation_id,
        total_students=len(wanted),
        queued=sum(r.status == "queued" for r in results),
        already_queued=sum(r.status == "already_queued" for r in results),
        completed=sum(r.status == "completed" for r in results),
        failed=sum(r.status == "failed" for r in results),
        results=results,
    )


def _batch_status(accepted: Accepted) -> str:
    if accepted.already_queued:
        return "already_queued"
    return "completed" if accepted.job.cached else "queued"


# A job is stamped when its transaction writes it and becomes visible when that commits: a list read in
# between misses it. `as_of` lags this far behind the read, so polling with since=as_of never misses a job
# (one may come twice).
SINCE_MARGIN = timedelta(seconds=5)


@router.get(
    "/evaluation/{evaluation_id}/jobs",
    openapi_extra=limit(Limit.status),
    response_model=JobList,
    responses=ERRORS,
    summary="Jobs of an evaluation",
    description="With `since`, only the jobs that changed after that time: poll with the `as_of` of the previous "
    "answer to follow a whole class cheaply (see the README, Following jobs).",
)
def evaluation_jobs(
    evaluation: VisibleEvaluation,
    user: CurrentUser,
    session: SessionDep,
    status_filter: JobStatus | None = Query(None, alias="status"),
    since: Moment | None = Query(
        None, description="Only jobs changed after this time (with a time zone), e.g. the previous answer's as_of"
    ),
) -> JobList:
    evaluation_id = evaluation.id
    read_at = utcnow()
    query = select(SummaryJob).where(SummaryJob.evaluation_id == evaluation_id).order_by(SummaryJob.id)
    if not is_staff(user):
        query = query.where(SummaryJob.student_id == user.id)
    if status_filter is not None:
        query = query.where(SummaryJob.status == status_filter)
    if since is not None:
        query = query.where(SummaryJob.updated_at > since)
    jobs = [_job_out(session, user, job) for job in session.scalars(query)]
    return JobList(evaluation_id=evaluation_id, total=len(jobs), jobs=jobs, as_of=read_at - SINCE_MARGIN)
