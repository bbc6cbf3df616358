"""The database of record.

Redis only ever holds job ids; everything a user was promised (a job was
accepted, a summary was written) lives in these tables, so anything Redis
loses can be rebuilt from here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


# Ids are INTEGER columns: PostgreSQL's hold at most 2**31 - 1 (SQLite's 2**63 - 1); a larger
# number is no id of anything here, and would make the database raise instead of find nothing.
MAX_ID = 2**31 - 1


# The years a stored moment may fall in. Pages show a moment in the school's time zone (up to 14 hours from UTC),
# where one in year 1 or 9999 can fall outside what a datetime holds: it would fail to store or to show (a 500).
FIRST_YEAR, LAST_YEAR = 1970, 9998


def within_years(moment: datetime) -> datetime:
    """`moment`, if it falls in FIRST_YEAR to LAST_YEAR in UTC (and so is a datetime in every time zone)."""
    try:
        year = moment.astimezone(timezone.utc).year
    except OverflowError:  # year 1 or 9999 at an offset that puts it outside what a datetime holds in UTC
        year = moment.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"a moment lies in the year {FIRST_YEAR} to {LAST_YEAR}")
    return moment


def no_nul(text: str) -> str:
    """`text`, if it has no NUL character: PostgreSQL cannot store one in any text column."""
    if "\x00" in text:
        raise ValueError("text cannot contain the NUL character (\\0)")
    return text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend.

    SQLite has no timezone type and hands back naive datetimes; this makes
    both backends return aware UTC values so comparisons never mix kinds.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware datetimes")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class Role(StrEnum):
    teacher = "teacher"
    student = "student"
    admin = "admin"


class JobStatus(StrEnum):
    queued = "queued"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"

    @classmethod
    def open(cls) -> tuple[JobStatus, ...]:
        """Statuses of a job that has not reached its end yet."""
        return (cls.queued, cls.processing)


class Priority(StrEnum):
    high = "high"
    normal = "normal"
    low = "low"


class Release(StrEnum):
    """When a student gets to see their summary."""

    automatic = "automatic"  # as soon as it is written
    after_review = "after_review"  # once a teacher approved it


DEFAULT_TIME_ZONE = "Europe/Amsterdam"


class School(Base):
    __tablename__ = "school"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Where the school is: times on its pages and in its mail are shown in this IANA zone, and a
    # teacher's "closes at 17:00" means 17:00 here. Its language is the interface's last resort
    # (after the user's own setting and the browser's Accept-Language).
    time_zone: Mapped[str] = mapped_column(String(60), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE)
    language: Mapped[str] = mapped_column(String(2), default="nl", server_default="nl")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.student)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    # The interface language the user chose ("nl", "en"); None: the browser's, else the school's.
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    # People are never deleted by a click: a removed teacher is disabled (no access, no sign-in),
    # and what they gave as a reviewer stays. Who did it and when is kept.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()


class Evaluation(Base):
    __tablename__ = "evaluation"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    # Students fill in the form from opens_at (None: at once) until the deadline (the close time;
    # None: no end). At the deadline the scheduler queues the evaluation's summaries (`close_queued_at`).
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    release: Mapped[str] = mapped_column(String(20), default=Release.after_review)
    # Whether each student also rates themself, and whether that self-rating counts in the
    # contribution factors (it never counts as feedback received).
    self_rating: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    self_rating_counts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether the form asks a comment for every teammate before it can be submitted.
    comment_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Reminder mail to those who have not submitted, this many hours before the deadline (None: none);
    # reminded_at records when it went, so a scheduler pass sends it once.
    remind_hours_before: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the scheduler queued every summary at the deadline (claimed like `reminded_at`, so once).
    close_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Archived (deleted from the teacher's view) evaluations keep their rows; nothing lists them.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="evaluation", order_by="Criterion.position", cascade="all, delete-orphan"
    )


class Criterion(Base):
    __tablename__ = "criterion"
    __table_args__ = (UniqueConstraint("evaluation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    min_score: Mapped[float] = mapped_column(Float, default=1)
    max_score: Mapped[float] = mapped_column(Float, default=5)

    evaluation: Mapped[Evaluation] = relationship(back_populates="criteria")


class Allocation(Base):
    """One reviewer asked to review one reviewee within an evaluation."""

    __tablename__ = "allocation"
    __table_args__ = (UniqueConstraint("evaluation_id", "reviewer_id", "reviewee_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    reviewee: Mapped[User] = relationship(foreign_keys=[reviewee_id])
    scores: Mapped[list[Score]] = relationship(back_populates="allocation", cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("allocation_id", "criterion_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocation.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)

    allocation: Mapped[Allocation] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class Submission(Base):
    """Where one reviewer stands in one evaluation's form: started (saved at least once) and submitted.

    No row: not started. The scores themselves are `score` rows, the same ones
    the import and the scores API write; this row holds only the reviewer's progress.
    """

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("evaluation_id", "reviewer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutgoingMail(Base):
    """One e-mail to send (a reminder, a released summary, a sign-in link): the outbox.

    Written in the same transaction as what caused it, sent by a worker over SMTP
    (SMTP_URL); without SMTP the teacher's page lists the unsent ones with their
    links, to send by hand.
    """

    __tablename__ = "outgoing_mail"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    evaluation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # reminder | released | sign_in
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SignInLink(Base):
    """A one-time sign-in link sent by mail; only the hash of its secret is stored."""

    __tablename__ = "sign_in_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Where the link leads once signed in (a path on this site, e.g. the evaluation's form).
    next_path: Mapped[str] = mapped_column(String(500), default="/")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()


class FeedbackSummary(Base):
    """The latest summary of what one student received in one evaluation."""

    __tablename__ = "feedback_summary"
    __table_args__ = (UniqueConstraint("evaluation_id", "student_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    summary_text: Mapped[str] = mapped_column(Text)
    generation_method: Mapped[str] = mapped_column(String(20))  # a GenerationMethod
    feedback_hash: Mapped[str] = mapped_column(String(64))
    feedback_count: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    # The review (see domain/review.py): who approved this text for the student and when, and
    # who last changed the text by hand. A newly written summary starts without either.
    approved_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    edited_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When this text was written (by a summarizer; a teacher's edit has edited_at): approving it or
    # marking it stale moves updated_at, never this.
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def edited(self) -> bool:
        return self.edited_at is not None

    def as_result(self) -> dict:
        """The `result` a job that produced (or reused) this summary reports."""
        return {
            "summary_text": self.summary_text,
            "generation_method": self.generation_method,
            "feedback_count": self.feedback_count,
        }


class SummaryJob(Base):
    """One request for a summary, from acceptance to its end.

    `evaluation_id` and `student_id` are deliberately plain columns, not
    foreign keys: the job history must survive the deletion of what it was
    about (the job then fails with that reason instead of disappearing).
    """

    __tablename__ = "summary_job"
    __table_args__ = (
        Index("ix_summary_job_eval_student_status", "evaluation_id", "student_id", "status"),
        Index("ix_summary_job_status", "status"),
        Index("ix_summary_job_eval_updated", "evaluation_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), unique=True)
    evaluation_id: Mapped[int] = mapped_column(Integer)
    student_id: Mapped[int] = mapped_column(Integer)
    requested_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.queued)
    # "{evaluation}-{student}" while the job is open, NULL once it ended: the unique
    # constraint makes "one open job per student" hold even under concurrent requests.
    open_key: Mapped[str | None] = mapped_column(String(50), unique=True, nullable=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[str] = mapped_column(String(10), default=Priority.normal)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_retries: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Why the job failed, or the last transient error before a retry.
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # Set when the job ends with a webhook to send, cleared once Redis took its delivery; the
    # reconciler announces what stayed set (the job ended while Redis was away).
    webhook_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    worker_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A failed job an operator has dealt with (retried or discarded) leaves the operations page's list;
    # the row itself stays, as every job's history does.
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dismissed_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Bumped by every write of the row (ORM flushes and Core UPDATEs alike), so a
    # client can ask for "jobs changed since" instead of polling each job.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    webhook_deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="job", order_by="WebhookDelivery.id", cascade="all, delete-orphan"
    )

    @staticmethod
    def open_key_for(evaluation_id: int, student_id: int) -> str:
        return f"{evaluation_id}-{student_id}"

    @property
    def is_open(self) -> bool:
        return self.status in JobStatus.open()


class WebhookDelivery(Base):
    """One attempt to deliver a job's webhook."""

    __tablename__ = "webhook_delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    summary_job_id: Mapped[int] = mapped_column(ForeignKey("summary_job.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    job: Mapped[SummaryJob] = relationship(back_populates="webhook_deliveries")


class ScheduledJob(Base):
    """A cron schedule that queues summaries for an evaluation."""

    __tablename__ = "scheduled_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cron: Mapped[str] = mapped_column(String(100))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"), index=True)
    student_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for `AUTH_MODE=token`; only its hash is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()


class WebSession(Base):
    """A browser's sign-in: the cookie holds a secret whose hash is stored here, with the form (CSRF) token.

    Kept in the database rather than in a signed cookie so that signing out ends
    the session on the server: a copied cookie is worthless afterwards. It is
    bound to what started it: the AUTH_MODE of then, and in token mode the API
    token pasted (revoked or expired, the session ends with it).
    """

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    auth_mode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), nullable=True)

    user: Mapped[User] = relationship()
    api_token: Mapped[ApiToken | None] = relationship()
