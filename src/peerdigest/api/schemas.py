"""Request and response models: the JSON contract existing clients rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AliasChoices, BeforeValidator, AwareDatetime, BaseModel, ConfigDict, Field, computed_field, model_validator

from peerdigest.config import Language
from peerdigest.db.models import MAX_ID, Evaluation, FeedbackSummary, Priority, Release, SummaryJob, no_nul, within_years
from peerdigest.domain.release import released
from peerdigest.domain.review import MAX_TEXT as MAX_SUMMARY_TEXT

# --- What the edge accepts: every value fits the column it ends up in, so no input reaches the
# database that it would refuse with an error (a 500) instead of a 422 with the reason.

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def plain_decimal(value: object) -> object:
    """A path id as written: digits only, no leading zero. pydantic would also read `1.0`, ` 1`, `+1`, `01`
    and `١` as 1; refused instead, so one resource has one URL (caches, logs and access checks agree on it)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and (value[:1] != "0" or value == "0")):
        raise ValueError("an id is written in plain digits (like 56), without sign, spaces, decimals or leading zeros")
    return value


PathId = Annotated[
    int, BeforeValidator(plain_decimal), Path(ge=1, le=MAX_ID, description="A positive id (at most 2147483647)")
]
JobId = Annotated[
    str,
    Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="A job id like summary-56-19-3f9a1c2b7d4e"),
]


# A moment with its time zone, in years every school's time zone can show.
Moment = Annotated[AwareDatetime, AfterValidator(within_years)]


def Text(max_length: int, min_length: int = 0):  # noqa: N802 (used like a type: Text(200))
    """A string of at most `max_length` characters (the column's) without NUL, which PostgreSQL refuses."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(no_nul)]



class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in plain words")


class FieldError(BaseModel):
    """One way the request did not match the schema (pydantic's error, with a bad value cut short)."""

    type: str = Field(description="e.g. missing, int_parsing, string_too_long")
    loc: list[str | int] = Field(description="Where: [\"body\", \"priority\"], [\"path\", \"evaluation_id\"] ...")
    msg: str
    input: object | None = Field(None, description="The bad value; strings and other values at most 40 characters")
    ctx: dict | None = None


class ValidationProblem(Problem):
    """Every 422: the reason in `detail`; when the request did not match the schema, each mismatch in `errors`."""

    errors: list[FieldError] = Field(
        default_factory=list, description="Present when the request did not match the schema"
    )


class QueueOptions(BaseModel):
    """How to run a summary job; every field may be left out."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority = Field(
        Priority.normal, description="high | normal | low: workers always take high jobs before normal before low"
    )
    webhook_url: Text(2000) | None = Field(
        None,
        description="An http(s) URL that receives a signed POST when the job completes or fails; "
        "hosts resolving to private, loopback or link-local addresses are refused (422)",
    )
    max_retries: int | None = Field(
        None, ge=0, le=10, description="Retries after a transient failure (LLM timeout or 5xx, lost database); "
        "default MAX_RETRIES"
    )


class RegenerateOptions(QueueOptions):
    force: bool = Field(
        True, description="True (default): write a new summary even when the feedback is unchanged; "
        "false: an unchanged summary completes from the cache, as with .../queue"
    )


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
    cached: bool = Field(
        False,
        description="True: completed from the stored summary, because the feedback had not changed; asking again "
        "while nothing changed returns this same job",
    )

    @classmethod
    def of(cls, job: SummaryJob, already_queued: bool = False) -> JobAccepted:
        return cls(
            job_id=job.job_id,
            status=job.status,
            student_id=job.student_id,
            evaluation_id=job.evaluation_id,
            created_at=job.created_at,
            already_queued=already_queued,
            cached=job.cached,
        )


class WebhookDeliveryOut(BaseModel):
    delivery_id: str = Field(description="Also sent as X-Peerdigest-Delivery; the same for every attempt of one delivery")
    event: str = Field(description="job.completed | job.failed")
    attempt: int = Field(description="1 for the first attempt")
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came")
    error: str | None = Field(description="Why the attempt failed; null when it was delivered (2xx)")
    created_at: datetime


class JobStatusOut(JobAccepted):
    progress: int
    priority: str
    attempts: int
    max_retries: int
    next_retry_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: int | None = Field(description="Id of the user who cancelled the job (null: from the command line)")
    updated_at: datetime = Field(description="When anything about the job last changed")
    result: JobResult | None
    error_message: str | None = Field(description="Why the job failed, or the last transient error before a retry")
    # Not the webhook URL itself: it may carry the receiver's secret, and students see their own jobs.
    webhook_deliveries: list[WebhookDeliveryOut] = Field(description="Every attempt to deliver the job's webhook")

    @classmethod
    def of(cls, job: SummaryJob, already_queued: bool = False) -> JobStatusOut:
        return cls(
            **JobAccepted.of(job, already_queued).model_dump(),
            progress=job.progress,
            priority=job.priority,
            attempts=job.attempts,
            max_retries=job.max_retries,
            next_retry_at=job.next_retry_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            cancelled_at=job.cancelled_at,
            cancelled_by=job.cancelled_by_id,
            updated_at=job.updated_at,
            result=JobResult(**job.result) if job.result else None,
            error_message=job.error_message,
            webhook_deliveries=[
                WebhookDeliveryOut(
                    delivery_id=d.delivery_id,
                    event=d.event,
                    attempt=d.attempt,
                    status_code=d.status_code,
                    error=d.error,
                    created_at=d.created_at,
                )
                # Only a job with a webhook has deliveries: the others skip a query on every status read.
                for d in (job.webhook_deliveries if job.webhook_url else ())
            ],
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
    released: bool = Field(
        description="True when the student may read it: the evaluation releases automatically, or a teacher approved it"
    )
    approved_by: int | None = Field(description="Id of the teacher who approved this text; null: not approved")
    approved_at: datetime | None
    edited: bool = Field(description="True when a teacher changed the text the summarizer wrote")
    edited_by: int | None = Field(description="Id of the teacher who last changed the text")
    edited_at: datetime | None

    @classmethod
    def of(cls, summary: FeedbackSummary, student_name: str, released: bool) -> StoredSummary:
        return cls(
            student_id=summary.student_id,
            student_name=student_name,
            summary_text=summary.summary_text,
            generation_method=summary.generation_method,
            feedback_count=summary.feedback_count,
            cached=True,
            stale=summary.stale,
            updated_at=summary.updated_at,
            released=released,
            approved_by=summary.approved_by_id,
            approved_at=summary.approved_at,
            edited=summary.edited,
            edited_by=summary.edited_by_id,
            edited_at=summary.edited_at,
        )


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary_text: Text(MAX_SUMMARY_TEXT) | None = Field(
        None, description="The text as the student should read it; left out: approve the text as it stands"
    )


class ReviewRow(BaseModel):
    student_id: int
    student_name: str
    has_summary: bool
    stale: bool
    released: bool = Field(description="The student may read their summary")
    approved_by: int | None
    approved_at: datetime | None
    edited: bool
    flagged_comments: int = Field(description="Comments this student received that a teacher should read themself")

    @classmethod
    def of(
        cls, student_id: int, name: str, summary: FeedbackSummary | None, evaluation: Evaluation, flagged: int
    ) -> ReviewRow:
        return cls(
            student_id=student_id,
            student_name=name,
            has_summary=summary is not None,
            stale=summary.stale if summary else False,
            released=released(evaluation, summary),
            approved_by=summary.approved_by_id if summary else None,
            approved_at=summary.approved_at if summary else None,
            edited=summary.edited if summary else False,
            flagged_comments=flagged,
        )


class ReviewOut(BaseModel):
    evaluation_id: int
    release: str = Field(description="automatic | after_review")
    students: list[ReviewRow]


class ApproveAllOut(BaseModel):
    evaluation_id: int
    approved: int = Field(description="How many summaries were approved now (those approved before are left alone)")
    student_ids: list[int]


class BatchQueueIn(BaseModel):
    student_ids: list[Id] | None = Field(
        None, description="Default: every student who receives feedback; at most as many ids as the evaluation has students"
    )


class BatchItem(BaseModel):
    student_id: int
    status: str = Field(
        description="queued | already_queued (the student's open job) | completed (at once from the stored "
        "summary: the feedback had not changed) | failed"
    )
    job_id: str | None = None
    cached: bool = Field(False, description="True: completed from the stored summary, no worker involved")
    error: str | None = None


class BatchQueueOut(BaseModel):
    evaluation_id: int
    total_students: int
    queued: int
    already_queued: int
    completed: int = Field(description="Completed at once from the stored summary (cached)")
    failed: int
    results: list[BatchItem]


class JobList(BaseModel):
    evaluation_id: int
    total: int
    jobs: list[JobStatusOut]
    as_of: datetime = Field(
        description="Pass it as `since` on the next poll to get only what changed after this answer "
        "(a few seconds early on purpose, so nothing is missed; a job may come twice)"
    )


class CancelAllOut(BaseModel):
    evaluation_id: int
    cancelled: int = Field(description="How many open jobs were cancelled")
    job_ids: list[str]


class Quote(BaseModel):
    text: str = Field(description="A comment as the student received it, with every name replaced")
    criterion_id: int
    flagged: str | None = Field(
        None, description="Teachers only: offensive | threat | self_harm when a teacher should read it themself"
    )


class QuotesOut(BaseModel):
    quotes: list[Quote]
    count: int


# --- evaluations, peer scores and imports ---


class CriterionIn(BaseModel):
    name: Text(200, min_length=1)
    min_score: float = Field(1, allow_inf_nan=False)
    max_score: float = Field(5, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> CriterionIn:
        if self.min_score >= self.max_score:
            raise ValueError(f"criterion {self.name!r}: min_score must be below max_score")
        return self


class CriterionOut(CriterionIn):
    id: int
    position: int


class EvaluationIn(BaseModel):
    """A new evaluation. A deadline, when given, must lie ahead (422 otherwise)."""

    title: Text(300, min_length=1)
    language: Language | None = Field(None, description="Default: SUMMARY_LANGUAGE")
    deadline: Moment | None = Field(None, description="Reviewers may submit scores until then; none: no end")
    release: Release = Field(
        Release.after_review,
        description="automatic: students read their summary as soon as it is written; "
        "after_review: only once a teacher approved it",
    )
    criteria: list[CriterionIn] = Field(min_length=1)
    teams: dict[Text(100, min_length=1), list[Text(320, min_length=1)]] = Field(
        default_factory=dict,
        description="Team name → member emails (students of your school); every member reviews every teammate",
    )
    # The options of the teacher's New evaluation page, checked by the same rules (domain.evaluations.check_options).
    opens_at: Moment | None = Field(
        None, description="When reviewers may start (none: at once); before the deadline"
    )
    self_rating: bool = Field(False, description="Every member also rates themself")
    self_rating_counts: bool = Field(
        False, description="A self-rating counts in the student's own averages (only with self_rating; ignored without)"
    )
    comment_required: bool = Field(False, description="A reviewer must write a comment on every teammate to submit")
    remind_hours_before: int | None = Field(
        None, description="Hours (1 to 720) before the deadline at which those who have not submitted are mailed a "
        "reminder; none: no automatic reminder"
    )
    scale: int | None = Field(
        None, description="5 or 10: every criterion is scored 1 to scale (then leave out the criteria's own "
        "min_score and max_score); none: each criterion's own"
    )

    @model_validator(mode="after")
    def _unique_criteria(self) -> EvaluationIn:
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError("criterion names must be unique within an evaluation")
        return self


class EvaluationPatch(BaseModel):
    title: Text(300, min_length=1) | None = None
    language: Language | None = None
    deadline: Moment | None = Field(None, description="null removes the deadline")
    release: Release | None = None


class Reviewee(BaseModel):
    student_id: int
    name: str


class EvaluationOut(BaseModel):
    id: int
    title: str
    language: str
    deadline: datetime | None
    release: str = Field(description="automatic | after_review")
    created_at: datetime
    criteria: list[CriterionOut]
    opens_at: datetime | None = Field(description="When reviewers may start; none: from the start")
    self_rating: bool
    self_rating_counts: bool
    comment_required: bool
    remind_hours_before: int | None
    students: int = Field(description="How many students take part")
    to_review: list[Reviewee] = Field(description="The students you are asked to review (empty for staff)")


class ScoreIn(BaseModel):
    reviewee_id: Id
    criterion_id: Id
    score: float | None = Field(
        None, allow_inf_nan=False, description="Within the criterion's scale; null: a comment only"
    )
    comment: Text(5000) | None = None


class ScoresIn(BaseModel):
    scores: list[ScoreIn] = Field(min_length=1)


class ScoresSaved(BaseModel):
    created: int
    updated: int
    unchanged: int
    summaries_marked_stale: int


class ImportProblemOut(BaseModel):
    line: int | None = Field(description="Line of the file; null when about the file as a whole")
    message: str


class ImportRejected(Problem):
    problems: list[ImportProblemOut]


class ExportedStudent(BaseModel):
    student_id: int
    student_name: str
    student_email: str
    team: str | None
    summary: str | None = Field(description="null: no summary written yet (student copy: none released yet)")
    method: str | None = Field(description="ai | builtin | fallback | empty")
    feedback_count: int | None
    generated_at: datetime | None
    stale: bool
    released: bool | None = Field(None, description="Teacher's copy only: the student may read it")
    factor: float | None = Field(None, description="Teacher's copy only: the contribution factor")
    labels: list[str] | None = Field(None, description="Teacher's copy only")


class ExportedEvaluation(BaseModel):
    """`format=json`; csv has the same columns (`labels` space-separated), md and html one page per student."""

    evaluation_id: int
    title: str
    language: str
    exported_at: datetime
    students: list[ExportedStudent]


class ImportResult(BaseModel):
    evaluation_id: int
    evaluation_created: bool
    rows: int
    users_created: int
    users_renamed: int
    criteria_created: int
    allocations_created: int
    scores_created: int
    scores_updated: int
    scores_unchanged: int
    summaries_marked_stale: int


class ScheduledJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text(200, min_length=1)
    cron: Text(100) = Field(
        validation_alias=AliasChoices("cron", "cron_expression"),
        description="(or `cron_expression`, as the origin app's clients send it) Five-field cron expression (minute hour day-of-month month day-of-week) or @daily, @hourly ...; "
        "read in SCHEDULE_TIMEZONE",
        examples=["0 8 * * mon"],
    )
    evaluation_id: Id
    student_ids: list[Id] | None = Field(None, description="Students to summarize; null or left out: every student")
    enabled: bool = True


class ScheduledJobPatch(BaseModel):
    """Only the fields sent change; a new cron expression or re-enabling counts from now on."""

    model_config = ConfigDict(extra="forbid")

    name: Text(200, min_length=1) | None = None
    cron: Text(100) | None = Field(None, validation_alias=AliasChoices("cron", "cron_expression"))
    evaluation_id: Id | None = None
    student_ids: list[Id] | None = Field(None, description="null: every student of the evaluation")
    enabled: bool | None = None


class ScheduledJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    cron: str
    evaluation_id: int
    student_ids: list[int] | None = Field(description="null: every student of the evaluation")
    enabled: bool
    next_run_at: datetime | None = Field(description="When the scheduler queues the next run; null while disabled")
    last_run_at: datetime | None
    created_at: datetime

    @computed_field(description="The same as `cron`, under the name the origin app's clients read")
    @property
    def cron_expression(self) -> str:
        return self.cron


class ScheduledJobList(BaseModel):
    total: int
    scheduled_jobs: list[ScheduledJobOut]


class QueueDepth(BaseModel):
    name: str
    queued: int = Field(description="Waiting to be taken by a worker")
    started: int
    scheduled: int = Field(description="Waiting for a retry or a delayed start")
    deferred: int
    failed: int
    finished: int
    canceled: int


class WorkerOut(BaseModel):
    name: str
    state: str = Field(description="RQ's worker state: idle, busy, suspended ...")
    current_job: str | None
    last_heartbeat: datetime | None
    successful_jobs: int
    failed_jobs: int


class QueueStatsOut(BaseModel):
    scope: str = Field(
        description="school: the caller's school's jobs only, no queues or workers | installation: everything "
        "(INSTALLATION_ADMINS)"
    )
    jobs: dict[str, int] = Field(description="Jobs in the database by status")
    redis_reachable: bool
    queues: list[QueueDepth] = Field(description="Each queue on Redis; empty when Redis does not answer")
    workers: list[WorkerOut]
    quarantined: int = Field(0, description="Queue entries that were not job ids, moved aside (see `peerdigest doctor`)")


class QueueHealthOut(BaseModel):
    status: str = Field(description="ok | unhealthy")
    detail: str | None = Field(description="What is wrong, in plain words; null when healthy")
    redis_reachable: bool
    workers_alive: int = Field(description="Workers that sent a heartbeat within WORKER_HEARTBEAT_MAX_AGE seconds")
    workers: list[WorkerOut] = Field(
        description="Always empty, kept for older clients: which workers run what is in /queue/stats "
        "(installation administrators)"
    )
