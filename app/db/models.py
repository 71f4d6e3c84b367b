"""The tables. Alembic migrations create them; `tests/db/test_migrations.py` checks they agree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Deployment(Base):
    """One upload of files, parsed together."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(200))
    file_names: Mapped[list[str]] = mapped_column(JSON)


class DeploymentFile(Base):
    __tablename__ = "deployment_file"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ProcessVersion(Base):
    """A deployed version of one process; its spec is stored here once."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    spec_json: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, Any]] = mapped_column(JSON)
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(200))


class ProcessInstance(Base):
    """A running or finished workflow; `state` holds its serialized state without the spec."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_key", "status", "process_key"),
        # The worker's claim reads this partial index in due order: no sort, however many
        # timers are due at the same moment.
        Index("ix_process_instance_due", "next_timer_at", "id",
              postgresql_where=text("status IN ('running', 'waiting')"),
              sqlite_where=text("status IN ('running', 'waiting')")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    waiting_messages: Mapped[list[str] | None] = mapped_column(JSON)
    """The message names it subscribes to (a copy of its message_subscription rows)."""
    lock_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012


class MessageSubscription(Base):
    """Which messages a waiting instance can catch, so delivery finds it without loading states."""

    __tablename__ = "message_subscription"
    __table_args__ = (UniqueConstraint("instance_id", "message_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    instance: Mapped[ProcessInstance] = relationship(lazy="raise_on_sql")
    message_name: Mapped[str] = mapped_column(String(255), index=True)


class HumanTask(Base):
    """The inbox's index of user tasks, written in the instance's transaction."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_state_lane_due", "state", "lane", "due_at"),
        Index("ix_human_task_state_created", "state", "created_at"),
        Index("ix_human_task_business_key", "business_key", "state"),
        Index("ix_human_task_process_key", "process_key", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    instance: Mapped[ProcessInstance] = relationship(lazy="raise_on_sql")
    """Never loaded (rows are appended in bulk after their instance, see `UnitOfWork.append`)."""
    process_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(200))
    form_name: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Answers saved in the inbox but not yet submitted."""
    element_process: Mapped[str | None] = mapped_column(String(255))
    """The BPMN process the task is drawn in: the called review route for a task inside a call
    activity (its instance's `process_key` is the referral's). Null on rows from before it."""


class Event(Base):
    """The append-only timeline."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_instance_id_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"))
    instance: Mapped[ProcessInstance] = relationship(lazy="raise_on_sql")
    """Never loaded (rows are appended in bulk after their instance, see `UnitOfWork.append`)."""
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class DecisionVersion(Base):
    """A deployed version of one DMN decision, evaluated on its own by the decisions API."""

    __tablename__ = "decision_version"
    __table_args__ = (UniqueConstraint("decision_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReviewCase(Base):
    """A referral and the review that follows it, known by its reference (LIR-2026-0001)."""

    __tablename__ = "review_case"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        Index("ix_review_case_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    child_pseudonym: Mapped[str] = mapped_column(String(100))
    agencies: Mapped[list[str]] = mapped_column(JSON)
    incident_date: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(30))
    grade: Mapped[str | None] = mapped_column(String(30))
    route: Mapped[str | None] = mapped_column(String(30))
    review_type: Mapped[str | None] = mapped_column(String(200))
    statutory: Mapped[bool | None] = mapped_column(Boolean)
    key_dates: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    referral_instance_id: Mapped[str | None] = mapped_column(String(36))
    notify: Mapped[list[str] | None] = mapped_column(JSON)
    """Who must be told (the grading matrix's Reputation column), e.g. media_coverage."""
    scr_held: Mapped[bool | None] = mapped_column(Boolean)
    """For a statutory case: True once an SCR is decided, False when the chair decided not to
    hold one (with `scr_not_held_reason`); None while undecided or not statutory."""
    scr_not_held_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AppUser(Base):
    """A person who logs in to the inbox; agency leads belong to one agency."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    agency: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for an agency system or a script; only its argon2 hash is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    agency: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginSession(Base):
    """A browser session: the cookie holds the id, which is stored hashed."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(300))
    client_address: Mapped[str | None] = mapped_column(String(100))


class SignInThrottle(Base):
    """Failed sign-ins of one account name or one client address (scope "account" or
    "address"), and until when its attempts are refused."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index("ix_sign_in_throttle_last_failure_at", "last_failure_at"),)

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """A command one caller sent with an `Idempotency-Key`, inserted in the transaction of what
    the command created; `response_body` is its answer, stored once that answer is built."""

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)

    caller: Mapped[str] = mapped_column(String(255), primary_key=True)
    operation: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """sha256 of the request's body, as canonical JSON."""
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who did or read what, when. Append-only: no route updates or deletes it."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    agency: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class Finding(Base):
    """What a review found, with its themes (the annual report counts them)."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_reference: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    themes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Recommendation(Base):
    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_reference: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Action(Base):
    """A SMART action of an action plan, owned by one agency and signed off by the sub-group."""

    __tablename__ = "action"
    __table_args__ = (
        Index("ix_action_owner_status", "owner_agency", "status"),
        Index("ix_action_target_date", "target_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_reference: Mapped[str] = mapped_column(String(20), index=True)
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id"))
    action: Mapped[str] = mapped_column(Text)
    owner_agency: Mapped[str] = mapped_column(String(100))
    lead: Mapped[str] = mapped_column(String(200))
    target_date: Mapped[dt.date] = mapped_column(Date)
    measure_of_success: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    progress: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_off_by: Mapped[str | None] = mapped_column(String(200))
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Publication(Base):
    """Something the Board published about a review, for how long and for whom."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_reference: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[dt.date] = mapped_column(Date)
    available_until: Mapped[dt.date | None] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(500))
    readership: Mapped[str | None] = mapped_column(String(100))
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LearningEvent(Base):
    """A learning event, multi-agency forum or briefing session that cascades learning."""

    __tablename__ = "learning_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(Text)
    attendance: Mapped[dict[str, int]] = mapped_column(JSON)
    outputs: Mapped[str] = mapped_column(Text)
    case_reference: Mapped[str | None] = mapped_column(String(20))
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Briefing(Base):
    """A 7-minute briefing on a review: generated from its findings, edited, then published."""

    __tablename__ = "briefing"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_reference: Mapped[str] = mapped_column(String(20), unique=True)
    background: Mapped[str] = mapped_column(Text)
    what_happened: Mapped[str] = mapped_column(Text)
    learning: Mapped[list[str]] = mapped_column(JSON)
    questions: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Incident(Base):
    """A worker loop failed on an instance in a way no step error explains (a corrupt state, a
    bug): kept open for a board manager until the instance runs again or someone resolves it.
    One open incident per instance and source; `attempts` counts the failures it covers."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_resolved_at", "resolved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(50))
    error_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    """The exception's message, cut short; the stack trace goes to the log only."""
    attempts: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """When the worker tries the instance again; None once it waits for an operator's retry."""
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))


class WorkerHeartbeat(Base):
    """One worker loop in one process: when it last polled and last polled without failing."""

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    process: Mapped[str] = mapped_column(String(255), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_poll_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
