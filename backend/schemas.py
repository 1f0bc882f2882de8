"""Request and response bodies of the HTTP API (API.md). Ranges live here, once."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.core.vocabulary import (
    ConvergenceStatus,
    EarlyStopReason,
    ErrorType,
    Provider,
    TaskStatus,
)

# PostgreSQL integer columns: anything larger cannot name a row (and must not reach a query).
MAX_ID = 2_147_483_647
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
RowIndex = Annotated[int, Field(ge=0, le=MAX_ID)]
# The schema's bound on calibration_samples; the setting MAX_CALIBRATION_SAMPLES (≤ this) is the
# one a server enforces.
CALIBRATION_SAMPLES_CEILING = 10_000


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task_name: str = Field(min_length=1, max_length=255)
    task_description: str | None = Field(None, max_length=10_000)
    test_file_path: str = Field(min_length=1, max_length=1024)
    reference_file_path: str = Field(min_length=1, max_length=1024)
    target_properties: list[str] = Field(min_length=1)
    llm_provider: Provider = Provider.BASELINE
    llm_model: str = Field("baseline", min_length=1, max_length=255)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    enable_iteration: bool = True
    max_iterations: int = Field(5, ge=1, le=10)
    convergence_threshold: float = Field(0.01, ge=0.001, le=0.1)
    early_stop: bool = True
    max_workers: int = Field(5, ge=1, le=20)
    reference_top_k: int = Field(5, ge=1, le=50)
    feature_columns: list[str] | None = None
    id_column: str | None = None
    priority: int = Field(
        0, ge=-1000, le=1000, description="higher runs first; equal priorities in start order"
    )
    max_cost_usd: float | None = Field(
        None,
        gt=0,
        description="the budget: once the task's cost reaches it no new call starts and the "
        "task ends completed with early_stop_reason budget_exhausted",
    )
    calibration_samples: int = Field(
        0,
        ge=0,
        le=CALIBRATION_SAMPLES_CEILING,
        description="LLM runs: this many reference rows are predicted alongside the test samples "
        "(hidden from the results) to give final predictions 90 % split-conformal intervals; "
        "0: no intervals. At most MAX_CALIBRATION_SAMPLES (default 200) and the reference rows "
        "with every target minus 1. The baseline ignores it (it always has intervals).",
    )


class PromptPreviewRequest(StartRequest):
    sample_index: int = Field(0, ge=0, le=MAX_ID)


def field_bounds(*models: type[BaseModel]) -> dict[str, tuple[Any, Any]]:
    """(low, high) of every range-checked field, for error messages naming both ends."""
    bounds: dict[str, tuple[Any, Any]] = {}
    for model in models:
        for name, info in model.model_fields.items():
            low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
            high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
            if low is not None and high is not None:
                bounds[name] = (low, high)
    return bounds


class StartResponse(BaseModel):
    task_id: int
    task_name: str
    status: TaskStatus
    created_at: datetime
    message: str


class Usage(BaseModel):
    llm_calls: int = Field(description="attempts sent to a provider (cache hits excluded)")
    cache_hits: int = Field(description="rounds answered from the answer cache")
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(
        description="what the priced calls cost; null for a model litellm has no price for"
    )


class Calibration(BaseModel):
    """Split-conformal half-widths of the final predictions (backend/services/intervals.py)."""

    level: float = Field(description="0.9: a 90 % interval")
    n: int = Field(description="rows or calibration samples the half-widths come from")
    method: str = Field(description="`leave-one-out` (baseline) or `calibration samples` (LLM)")
    source: str | None = Field(None, description="`baseline_leave_one_out` or `llm_calibration`")
    requested: int | None = Field(None, description="calibration samples requested (LLM)")
    half_widths: dict[str, float | None] = Field(
        description="per target; null: too few rows for the level (no interval)"
    )
    note: str | None = Field(None, description="why there are no intervals, when there are none")


class TaskOut(BaseModel):
    task_id: int
    task_name: str
    task_description: str | None
    status: TaskStatus
    enable_iteration: bool = True
    llm_provider: Provider
    llm_model: str
    is_baseline: bool
    provider_label: str
    target_properties: list[str]
    max_iterations: int
    convergence_threshold: float
    early_stop: bool
    max_workers: int
    temperature: float
    current_iteration: int
    progress: float
    converged_samples: int
    total_samples: int
    failed_samples: int
    continue_from_task_id: int | None
    early_stop_reason: EarlyStopReason | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None
    owner_id: int | None = Field(
        description="the account that started it (null: single-user mode, or a deleted account)"
    )
    priority: int
    max_cost_usd: float | None
    usage: Usage
    queue_position: int | None = Field(
        description="while pending: 1 + the pending tasks that run before it; else null"
    )
    calibration_samples: int = Field(
        description="calibration samples requested at start (an LLM task's; 0: none)"
    )
    calibration: Calibration | None = Field(
        description="what the final predictions' intervals come from; null: no intervals "
        "(yet: an LLM task's arrive when it completes)"
    )


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int


class RetryRequest(BaseModel):
    task_id: RowId
    sample_indices: list[RowIndex] | None = None


class RetryResponse(BaseModel):
    new_task_id: int
    original_task_id: int
    retrying_samples: list[int]
    message: str


class DatasetOut(BaseModel):
    dataset_id: int
    path: str
    filename: str
    rows: int
    columns: list[str]
    column_types: dict[str, Literal["numeric", "text"]]
    size_bytes: int
    checksum: str
    created_at: datetime


class DatasetDetail(DatasetOut):
    preview: list[dict[str, Any]]


class UploadPreview(BaseModel):
    encoding: str
    rows: int
    columns: list[str]
    column_types: dict[str, Literal["numeric", "text"]]
    preview: list[dict[str, Any]]


class DatasetPage(BaseModel):
    items: list[DatasetOut]
    total: int


class Estimate(BaseModel):
    """What the configuration would cost (backend/services/estimates.py)."""

    samples: int = Field(
        description="samples to predict: the test samples and an LLM task's calibration samples"
    )
    calls_min: int = Field(
        description="samples × 2 when early stop may end a sample at round 2, else × "
        "max_iterations; retries excluded"
    )
    calls_max: int = Field(description="samples × max_iterations; retries excluded")
    prompt_tokens_per_call: int = Field(description="the round-1 prompt, by litellm's counter")
    prompt_tokens_per_call_max: int = Field(description="the last round's (longest) prompt")
    completion_tokens_per_call: int = Field(description="assumed, not measured")
    cost_usd_min: float | None = Field(description="null: litellm has no price for the model")
    cost_usd_max: float | None
    note: str


class PromptPreview(BaseModel):
    sample_index: int
    sample_id: str
    prompt: str
    estimate: Estimate


class HealthOut(BaseModel):
    status: str
    database: str
    version: str


class SpeedBuckets(BaseModel):
    fast: int
    medium: int
    slow: int


class ConvergenceStats(BaseModel):
    task_id: int
    total_samples: int
    converged_samples: int
    convergence_rate: float
    average_convergence_iteration: float
    fastest_convergence_iteration: int
    slowest_convergence_iteration: int
    samples_by_convergence_speed: SpeedBuckets


class TargetHistory(BaseModel):
    iterations: list[float]
    relative_changes: list[float | None]
    convergence_status: Literal[ConvergenceStatus.CONVERGED, ConvergenceStatus.NOT_CONVERGED]
    converged_at_iteration: int | None


class SampleError(BaseModel):
    iteration: int
    error_type: ErrorType
    message: str
    attempts: int


class Interval(BaseModel):
    lower: float
    upper: float
    level: float


class SampleHistory(BaseModel):
    sample_index: int
    sample_id: str
    composition: dict[str, Any]
    convergence_status: ConvergenceStatus
    converged_at_iteration: int | None
    targets: dict[str, TargetHistory]
    final_predictions: dict[str, float]
    intervals: dict[str, Interval] = {}
    failed_iterations: list[int]
    errors: list[SampleError]


class GlobalInfo(BaseModel):
    task_id: int
    total_iterations: int
    max_iterations: int
    convergence_threshold: float
    early_stopped: bool
    early_stop_reason: EarlyStopReason | None
    total_samples: int
    converged_samples: int
    failed_samples: int
    created_at: datetime
    completed_at: datetime | None
    total_duration_seconds: float | None


class IterationSummary(BaseModel):
    iteration: int
    timestamp: datetime | None
    duration_seconds: float | None
    processed_samples: int
    failed_samples: int
    newly_converged: int


class HistoryPage(BaseModel):
    limit: int
    offset: int
    total: int


class IterationHistory(BaseModel):
    global_info: GlobalInfo
    samples: dict[str, SampleHistory]
    iteration_summaries: list[IterationSummary]
    # Pass back as `since` to get only the samples that changed after this answer.
    cursor: str
    # Only when a page (limit/offset) was asked for.
    page: HistoryPage | None = None


class Scores(BaseModel):
    n: int
    mae: float | None
    rmse: float | None
    r2: float | None


class RoundScores(Scores):
    iteration: int


class TargetAccuracy(BaseModel):
    rounds: list[RoundScores]
    first: Scores
    final: Scores
    improved: bool | None


class ScatterPoint(BaseModel):
    sample_index: int
    sample_id: str
    predicted: float
    measured: float
    lower: float | None = None
    upper: float | None = None


class Accuracy(BaseModel):
    task_id: int
    has_ground_truth: bool
    targets: dict[str, TargetAccuracy]
    scatter: dict[str, list[ScatterPoint]]
    interval_coverage: dict[str, float | None] = {}


class Message(BaseModel):
    role: str
    content: str


class RoundError(BaseModel):
    error_type: str
    message: str


class RoundDetail(BaseModel):
    """One round of one sample as it happened (a failed round carries `error`)."""

    task_id: int
    sample_index: int
    sample_id: str
    iteration: int
    messages: list[Message]
    raw_answer: str | None
    reasoning: dict[str, Any] | None
    predictions: dict[str, float]
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float | None
    attempts: int
    model: str
    cached: bool
    error: RoundError | None


class ComparedTask(BaseModel):
    task_id: int
    task_name: str
    llm_provider: str
    llm_model: str
    status: TaskStatus
    test_file_path: str
    # True for the baseline added because none of the chosen tasks was one.
    added_as_baseline: bool
    usage: Usage
    duration_seconds: float | None
    accuracy: Accuracy
    convergence: ConvergenceStats


class Comparison(BaseModel):
    tasks: list[ComparedTask]
    same_test_file: bool


class ErrorEnvelope(BaseModel):
    """Every 4xx and 5xx answer."""

    error: str = Field(description="a stable code, e.g. INVALID_CONFIG or TASK_NOT_FOUND")
    details: str | list[str] = Field(
        description="a list of messages for INVALID_CONFIG, one message for every other code"
    )
