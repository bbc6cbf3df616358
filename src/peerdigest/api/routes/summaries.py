"""/api/v1/feedback-summaries: queue summaries, follow their jobs, read the results."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from peerdigest.api.deps import (
    CurrentUser,
    RedisDep,
    SessionDep,
    SettingsDep,
    check_student,
    evaluation_students,
    is_staff,
    require_staff,
    visible_evaluation,
)
from peerdigest.api.schemas import (
    BatchItem,
    BatchQueueIn,
    BatchQueueOut,
    JobAccepted,
    JobList,
    JobStatusOut,
    Problem,
    StoredSummary,
)
from peerdigest.db.models import FeedbackSummary, JobStatus, SummaryJob, User
from peerdigest.queue.enqueue import request_summary

router = APIRouter(prefix="/api/v1/feedback-summaries", tags=["feedback summaries"])

ERRORS = {
    401: {"model": Problem, "description": "No or unknown user"},
    403: {"model": Problem, "description": "Not allowed for this user"},
    404: {"model": Problem, "description": "Evaluation, student or job not found (or of another school)"},
}


@router.post(
    "/evaluation/{evaluation_id}/student/{student_id}/queue",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses=ERRORS,
    summary="Queue a summary of the feedback a student received",
)
def queue_summary(
    evaluation_id: int, student_id: int, user: CurrentUser, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> JobAccepted:
    evaluation = visible_evaluation(session, user, evaluation_id)
    check_student(session, user, evaluation, student_id)
    accepted = request_summary(
        session, redis, settings, evaluation_id=evaluation_id, student_id=student_id, requested_by_id=user.id
    )
    return JobAccepted.of(accepted.job, accepted.created)


@router.get("/jobs/{job_id}/status", response_model=JobStatusOut, responses=ERRORS, summary="Follow a job")
def job_status(job_id: str, user: CurrentUser, session: SessionDep) -> JobStatusOut:
    job = session.scalar(select(SummaryJob).where(SummaryJob.job_id == job_id))
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Job {job_id!r} not found.")
    visible_evaluation(session, user, job.evaluation_id)
    if not is_staff(user) and job.student_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Students may only follow their own jobs.")
    return JobStatusOut.of(job)


@router.get(
    "/evaluation/{evaluation_id}/student/{student_id}",
    response_model=StoredSummary,
    responses=ERRORS,
    summary="The stored summary of a student",
)
def stored_summary(evaluation_id: int, student_id: int, user: CurrentUser, session: SessionDep) -> StoredSummary:
    evaluation = visible_evaluation(session, user, evaluation_id)
    check_student(session, user, evaluation, student_id)
    summary = session.scalar(
        select(FeedbackSummary).where(
            FeedbackSummary.evaluation_id == evaluation_id, FeedbackSummary.student_id == student_id
        )
    )
    if summary is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No summary yet for student {student_id}: queue one with "
            f"POST /api/v1/feedback-summaries/evaluation/{evaluation_id}/student/{student_id}/queue.",
        )
    return StoredSummary(
        student_id=student_id,
        student_name=session.get(User, student_id).name,
        summary_text=summary.text,
        generation_method=summary.method,
        feedback_count=summary.feedback_count,
        cached=True,
        stale=summary.stale,
        updated_at=summary.updated_at,
    )


@router.post(
    "/evaluation/{evaluation_id}/batch-queue",
    response_model=BatchQueueOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
    summary="Queue summaries for many students of an evaluation (teachers)",
)
def batch_queue(
    evaluation_id: int,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    body: BatchQueueIn | None = None,
) -> BatchQueueOut:
    require_staff(user)
    visible_evaluation(session, user, evaluation_id)
    members = evaluation_students(session, evaluation_id)
    wanted = members if body is None or body.student_ids is None else list(dict.fromkeys(body.student_ids))
    results: list[BatchItem] = []
    for student_id in wanted:
        if student_id not in members:
            results.append(BatchItem(student_id=student_id, status="failed", error="receives no feedback here"))
            continue
        accepted = request_summary(
            session, redis, settings, evaluation_id=evaluation_id, student_id=student_id, requested_by_id=user.id
        )
        results.append(
            BatchItem(
                student_id=student_id,
                status="queued" if accepted.created else "already_queued",
                job_id=accepted.job.job_id,
            )
        )
    return BatchQueueOut(
        evaluation_id=evaluation_id,
        total_students=len(wanted),
        queued=sum(r.status == "queued" for r in results),
        already_queued=sum(r.status == "already_queued" for r in results),
        failed=sum(r.status == "failed" for r in results),
        results=results,
    )


@router.get("/evaluation/{evaluation_id}/jobs", response_model=JobList, responses=ERRORS, summary="Jobs of an evaluation")
def evaluation_jobs(
    evaluation_id: int,
    user: CurrentUser,
    session: SessionDep,
    status_filter: JobStatus | None = Query(None, alias="status"),
) -> JobList:
    visible_evaluation(session, user, evaluation_id)
    query = select(SummaryJob).where(SummaryJob.evaluation_id == evaluation_id).order_by(SummaryJob.id)
    if not is_staff(user):
        query = query.where(SummaryJob.student_id == user.id)
    if status_filter is not None:
        query = query.where(SummaryJob.status == status_filter)
    jobs = [JobStatusOut.of(job) for job in session.scalars(query)]
    return JobList(evaluation_id=evaluation_id, total=len(jobs), jobs=jobs)
