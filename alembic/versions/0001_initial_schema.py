"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 05:45:35.940598
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    op.create_index(op.f("ix_datasets_checksum"), "datasets", ["checksum"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("llm_provider", sa.String(length=32), nullable=False),
        sa.Column("llm_model", sa.String(length=255), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("max_iterations", sa.Integer(), nullable=False),
        sa.Column("convergence_threshold", sa.Float(), nullable=False),
        sa.Column("early_stop", sa.Boolean(), nullable=False),
        sa.Column("max_workers", sa.Integer(), nullable=False),
        sa.Column("target_properties", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("total_samples", sa.Integer(), nullable=False),
        sa.Column("continue_from_task_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("early_stop_reason", sa.String(length=32), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name="status_valid",
        ),
        sa.CheckConstraint(
            "convergence_threshold >= 0.001 AND convergence_threshold <= 0.1",
            name="threshold_range",
        ),
        sa.CheckConstraint("max_iterations BETWEEN 1 AND 10", name="max_iterations_range"),
        sa.CheckConstraint("max_workers BETWEEN 1 AND 20", name="max_workers_range"),
        sa.CheckConstraint("temperature >= 0 AND temperature <= 2", name="temperature_range"),
        sa.ForeignKeyConstraint(["continue_from_task_id"], ["tasks.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_tasks_continue_from_task_id"),
        "tasks",
        ["continue_from_task_id"],
        unique=False,
    )
    op.create_index("ix_tasks_created", "tasks", ["created_at"], unique=False)
    op.create_index("ix_tasks_status_created", "tasks", ["status", "created_at"], unique=False)
    op.create_table(
        "samples",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("sample_index", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.String(length=255), nullable=False),
        sa.Column("composition", sa.JSON(), nullable=False),
        sa.Column("truth", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("iterations_done", sa.Integer(), nullable=False),
        sa.Column("converged_at_iteration", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'converged', 'not_converged', 'failed')",
            name="sample_status_valid",
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "sample_index"),
    )
    op.create_index("ix_samples_task_status", "samples", ["task_id", "status"], unique=False)
    op.create_table(
        "failures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("sample_index", sa.Integer(), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["task_id", "sample_index"],
            ["samples.task_id", "samples.sample_index"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_failures_task_sample", "failures", ["task_id", "sample_index"], unique=False
    )
    op.create_table(
        "predictions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("sample_index", sa.Integer(), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("raw_response", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("copied_from_task_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("iteration >= 1", name="iteration_positive"),
        sa.ForeignKeyConstraint(
            ["task_id", "sample_index"],
            ["samples.task_id", "samples.sample_index"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "sample_index", "iteration", name="uq_prediction_round"),
    )


def downgrade() -> None:
    op.drop_table("predictions")
    op.drop_index("ix_failures_task_sample", table_name="failures")
    op.drop_table("failures")
    op.drop_index("ix_samples_task_status", table_name="samples")
    op.drop_table("samples")
    op.drop_index("ix_tasks_status_created", table_name="tasks")
    op.drop_index("ix_tasks_created", table_name="tasks")
    op.drop_index(op.f("ix_tasks_continue_from_task_id"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_datasets_checksum"), table_name="datasets")
    op.drop_table("datasets")
