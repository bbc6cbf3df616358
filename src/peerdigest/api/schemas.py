"""Request and response models: the JSON contract existing clients rely on."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from peerdigest.db.models import SummaryJob


class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in plain words")


class JobResult(BaseModel):
    summary_text: str
    generation_method: str = Field(description="ai | builtin | fallback | empty")
    feedback_count: int


class JobAccepted(BaseModel):
    job_id: str
    status: str
    student_id: int
    evaluation_id: int
    created_at: datetime
    already_queued: bool = Field(False, description="True when the student's open job was returned instead")

    @classmethod
    def of(cls, job: SummaryJob, created: bool = True) -> JobAccepted:
        return cls(
            job_id=job.job_id,
            status=job.status,
            student_id=job.student_id,
            evaluation_id=job.evaluation_id,
            created_at=job.created_at,
            already_queued=not created,
        )


class JobStatusOut(JobAccepted):
    progress: int
    priority: str
    attempts: int
    max_retries: int
    next_retry_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    result: JobResult | None
    error_message: str | None

    @classmethod
    def of(cls, job: SummaryJob, created: bool = True) -> JobStatusOut:
        return cls(
            **JobAccepted.of(job, created).model_dump(),
            progress=job.progress,
            priority=job.priority,
            attempts=job.attempts,
            max_retries=job.max_retries,
            next_retry_at=job.next_retry_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            result=JobResult(**job.result) if job.result else None,
            error_message=job.error,
        )


class StoredSummary(BaseModel):
    student_id: int
    student_name: str
    summary_text: str
    generation_method: str
    feedback_count: int
    cached: bool = Field(description="True: this is the stored summary, not freshly generated for this request")
    stale: bool = Field(description="True when the feedback changed after this summary was written")
    updated_at: datetime


class BatchQueueIn(BaseModel):
    student_ids: list[int] | None = Field(None, description="Default: every student who receives feedback")


class BatchItem(BaseModel):
    student_id: int
    status: str = Field(description="queued | already_queued | failed")
    job_id: str | None = None
    error: str | None = None


class BatchQueueOut(BaseModel):
    evaluation_id: int
    total_students: int
    queued: int
    already_queued: int
    failed: int
    results: list[BatchItem]


class JobList(BaseModel):
    evaluation_id: int
    total: int
    jobs: list[JobStatusOut]
