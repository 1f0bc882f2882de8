"""job queue (procrastinate), priority and budgets, answer cache, provider-wide limits

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:40:00

The queue's own schema is procrastinate's, read from the installed (pinned) package, so it
matches the library that uses it; a procrastinate upgrade brings its migrations as a new revision.
"""

from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_OBJECTS = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type,
    procrastinate_job_to_defer_v1 CASCADE;
"""


def upgrade() -> None:
    schema = resources.files("procrastinate.sql").joinpath("schema.sql").read_text()
    # Straight to psycopg, without parameters: the script's own `%` signs stay as written.
    op.get_bind().connection.driver_connection.execute(schema)  # type: ignore[union-attr]
    # Batches of one task are found (to cancel them) by the task id in their arguments.
    op.execute(
        "CREATE INDEX ix_jobs_task_id ON procrastinate_jobs (((args->>'task_id')::int)) "
        "WHERE status IN ('todo', 'doing')"
    )

    op.add_column("tasks", sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.add_column("tasks", sa.Column("max_cost_usd", sa.Float(), nullable=True))
    op.add_column("tasks", sa.Column("spent_usd", sa.Float(), server_default="0", nullable=False))
    for counter in ("llm_calls", "cache_hits", "prompt_tokens", "completion_tokens"):
        op.add_column(
            "tasks", sa.Column(counter, sa.BigInteger(), server_default="0", nullable=False)
        )
    # Each sample's nearest references, computed once when the task is created.
    op.add_column("samples", sa.Column("neighbours", sa.JSON(), nullable=True))
    # An LLM task's calibration samples (reference rows predicted alongside the test samples,
    # after them in sample_index): hidden from its results, they calibrate its intervals.
    op.add_column(
        "samples",
        sa.Column("calibration", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "tasks",
        sa.Column("calibration_samples", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "predictions",
        sa.Column("cached", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "llm_cache",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_table(
        "provider_gates",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column(
            "refilled_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "call_slots",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("slot", sa.Integer(), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_slots")
    op.drop_table("provider_gates")
    op.drop_table("llm_cache")
    op.drop_column("predictions", "cached")
    op.drop_column("tasks", "calibration_samples")
    op.drop_column("samples", "calibration")
    op.drop_column("samples", "neighbours")
    for counter in ("llm_calls", "cache_hits", "prompt_tokens", "completion_tokens"):
        op.drop_column("tasks", counter)
    op.drop_column("tasks", "spent_usd")
    op.drop_column("tasks", "max_cost_usd")
    op.drop_column("tasks", "priority")
    op.get_bind().connection.driver_connection.execute(QUEUE_OBJECTS)  # type: ignore[union-attr]
