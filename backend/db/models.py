"""Tables. Predictions and failures are rows, so a write is O(1) and a round is stored once."""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.core.vocabulary import Role, SampleStatus, TaskStatus, sql_in

# Plain JSON, not JSONB: it keeps the key order of columns and targets as the user wrote them.
Json = JSON(none_as_null=True)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: Json, list[Any]: Json}


def _now() -> Any:
    return func.now()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {sql_in(Role)}", name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sessions carry the epoch they were issued in; raising it ends them all.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=_now(), onupdate=_now()
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(255))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=True)
    details: Mapped[dict[str, Any] | None] = mapped_column()


class RateCounter(Base):
    """Fixed-window request counters, shared by every worker process."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # Relative to DATA_DIR; what test_file_path / reference_file_path take.
    path: Mapped[str] = mapped_column(String(512), unique=True)
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[Any]] = mapped_column()
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    # Who uploaded it: members may delete only their own. NULL: before accounts, or a local user.
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(TaskStatus)}", name="status_valid"),
        CheckConstraint("max_iterations BETWEEN 1 AND 10", name="max_iterations_range"),
        CheckConstraint(
            "convergence_threshold >= 0.001 AND convergence_threshold <= 0.1",
            name="threshold_range",
        ),
        CheckConstraint("max_workers BETWEEN 1 AND 20", name="max_workers_range"),
        CheckConstraint("temperature >= 0 AND temperature <= 2", name="temperature_range"),
        Index("ix_tasks_created", "created_at"),
        Index("ix_tasks_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.PENDING)
    llm_provider: Mapped[str] = mapped_column(String(32))
    llm_model: Mapped[str] = mapped_column(String(255))
    temperature: Mapped[float] = mapped_column(Float)
    max_iterations: Mapped[int] = mapped_column(Integer)
    convergence_threshold: Mapped[float] = mapped_column(Float)
    early_stop: Mapped[bool] = mapped_column(Boolean)
    max_workers: Mapped[int] = mapped_column(Integer)
    target_properties: Mapped[list[Any]] = mapped_column()
    # Everything else the run needs: file paths, columns, top-k. Never an API key.
    config: Mapped[dict[str, Any]] = mapped_column()
    total_samples: Mapped[int] = mapped_column(Integer)
    continue_from_task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    # Who started it: members may cancel or retry only their own.
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Split-conformal calibration of the final predictions (backend/services/intervals.py):
    # {"level": 0.9, "n": rows, "method", "source", "half_widths": {TARGET: number|null}, ...}
    # (the baseline's at creation; an LLM task's when it completes); None: no intervals.
    calibration: Mapped[dict[str, Any] | None] = mapped_column()
    # An LLM task's calibration samples requested at start (Sample.calibration); 0: none.
    calibration_samples: Mapped[int] = mapped_column(Integer, server_default="0")
    priority: Mapped[int] = mapped_column(Integer, server_default="0")  # higher runs first
    max_cost_usd: Mapped[float | None] = mapped_column(Float)  # the budget; None: no limit
    # What its priced calls have cost so far, kept by each stored round: the budget's measure.
    spent_usd: Mapped[float] = mapped_column(Float, server_default="0")
    # The task view's `usage`, kept by each stored round and failure (not summed per poll).
    llm_calls: Mapped[int] = mapped_column(BigInteger, server_default="0")  # attempts sent
    cache_hits: Mapped[int] = mapped_column(BigInteger, server_default="0")
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    early_stop_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=_now(), onupdate=_now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Sample(Base):
    __tablename__ = "samples"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(SampleStatus)}", name="sample_status_valid"),
        Index("ix_samples_task_status", "task_id", "status"),
    )

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    sample_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[str] = mapped_column(String(255))
    composition: Mapped[dict[str, Any]] = mapped_column()
    # Known target values from the test file: used only to score, never shown to the model.
    truth: Mapped[dict[str, Any] | None] = mapped_column()
    # Its nearest references, [[reference row, distance], ...], computed once at creation.
    neighbours: Mapped[list[Any] | None] = mapped_column()
    # A calibration sample: a reference row predicted like a test sample, hidden from the task's
    # results; its final prediction against its measured values calibrates the task's intervals.
    # They follow the test samples: sample_index >= the task's total_samples.
    calibration: Mapped[bool] = mapped_column(Boolean, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default=SampleStatus.PENDING)
    iterations_done: Mapped[int] = mapped_column(Integer, default=0)
    converged_at_iteration: Mapped[int | None] = mapped_column(Integer)


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("task_id", "sample_index", "iteration", name="uq_prediction_round"),
        ForeignKeyConstraint(
            ["task_id", "sample_index"],
            ["samples.task_id", "samples.sample_index"],
            ondelete="CASCADE",
        ),
        CheckConstraint("iteration >= 1", name="iteration_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer)
    sample_index: Mapped[int] = mapped_column(Integer)
    iteration: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any]] = mapped_column()
    raw_response: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    # The messages sent, as zlib-compressed JSON (backend/services/rounds.py): an MPEA round's
    # 2.5 kB prompt is stored in 1.0 kB. None: nothing was sent (the baseline).
    messages_zlib: Mapped[bytes | None] = mapped_column(LargeBinary)
    reasoning: Mapped[dict[str, Any] | None] = mapped_column()  # the answer's `analysis`
    # Copied from the task a retry continues, rather than asked again.
    copied_from_task_id: Mapped[int | None] = mapped_column(Integer)
    cached: Mapped[bool] = mapped_column(Boolean, server_default=false())  # from the answer cache
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Failure(Base):
    __tablename__ = "failures"
    __table_args__ = (
        ForeignKeyConstraint(
            ["task_id", "sample_index"],
            ["samples.task_id", "samples.sample_index"],
            ondelete="CASCADE",
        ),
        Index("ix_failures_task_sample", "task_id", "sample_index"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer)
    sample_index: Mapped[int] = mapped_column(Integer)
    iteration: Mapped[int] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    messages_zlib: Mapped[bytes | None] = mapped_column(LargeBinary)  # as on Prediction
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class LlmCacheEntry(Base):
    """An answer kept for an identical call at temperature 0 (backend/services/answer_cache.py)."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the call
    model: Mapped[str] = mapped_column(String(255))
    response: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class ProviderGate(Base):
    """Per provider and model, shared by every worker: the calls-per-minute bucket and the pause
    a 429's Retry-After imposes (backend/services/provider_limits.py)."""

    __tablename__ = "provider_gates"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CallSlot(Base):
    """One of the N leases of a cross-process semaphore (calls in flight per provider and model,
    or per task). A lease expires, so a killed holder frees its slot."""

    __tablename__ = "call_slots"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
