"""The history document computes every sample's relative changes and convergence for all samples
at once (numpy, backend/services/history.py); on random histories stored in real PostgreSQL it
must say exactly what the convergence rule's pure functions (workflow/convergence.py) say."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.core.config import Settings
from backend.core.vocabulary import ConvergenceStatus, SampleStatus
from backend.db.models import Failure, Prediction, Sample, Task
from backend.db.session import dispose_engine, init_engine, unit_of_work
from backend.services import history
from backend.services.task_views import to_json
from backend.workflow.convergence import is_converged, relative_changes, target_converged_at
from tests.helpers import task_row

TARGETS = ["UTS", "El"]

# Values that exercise the rule's edges: exact repeats, the denominator floor (|x| ≤ 0.1),
# signs, and magnitudes far apart.
value = st.one_of(
    st.sampled_from([0.0, 0.1, -0.1, 0.05, 100.0, 100.5, 850.0]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
rounds = st.lists(st.fixed_dictionaries({t: value for t in TARGETS}), max_size=6)
sample = st.tuples(
    rounds,
    st.sampled_from([None, 2, 3]),  # the sample's own converged_at_iteration
    st.booleans(),  # failed, with an error stored
)


@pytest.fixture
def engine(db_url: str) -> Iterator[None]:
    init_engine(Settings(DATABASE_URL=db_url))
    yield
    dispose_engine()


StoredSample = tuple[list[dict[str, float]], int | None, bool]  # rounds, converged at, failed


def store(samples: list[StoredSample], threshold: float) -> int:
    with unit_of_work() as session:
        task = task_row(
            status="running",
            target_properties=TARGETS,
            convergence_threshold=threshold,
            total_samples=len(samples),
            max_iterations=6,
        )
        session.add(task)
        session.flush()
        for index, (values, converged_at, failed) in enumerate(samples):
            status = SampleStatus.FAILED if failed else SampleStatus.RUNNING
            session.add(
                Sample(
                    task_id=task.id,
                    sample_index=index,
                    sample_id=f"S{index}",
                    composition={"Fe(at%)": 50.0, "Ni(at%)": 50.0},
                    status=status,
                    iterations_done=len(values),
                    converged_at_iteration=converged_at,
                )
            )
            session.flush()  # before its rounds (their foreign key)
            # Iterations with gaps (a round that failed and was not retried): the document goes
            # by the stored rounds' order, as convergence.py does with a sample's history.
            for n, round_values in enumerate(values, start=1):
                session.add(
                    Prediction(
                        task_id=task.id,
                        sample_index=index,
                        iteration=2 * n if index % 2 else n,
                        values=round_values,
                    )
                )
            if failed:
                session.add(
                    Failure(
                        task_id=task.id,
                        sample_index=index,
                        iteration=len(values) + 1,
                        error_type="timeout",
                        message="no answer",
                        attempts=3,
                    )
                )
        return task.id


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    samples=st.lists(sample, min_size=1, max_size=8),
    threshold=st.sampled_from([0.001, 0.01, 0.05]),
)
def test_the_document_says_what_the_convergence_rule_says(
    engine: None, samples: list[Any], threshold: float
) -> None:
    if not any(values for values, _, _ in samples):
        samples[0] = ([{"UTS": 1.0, "El": 2.0}], None, False)  # a history needs one round
    task_id = store(samples, threshold)
    with unit_of_work() as session:
        task = session.get_one(Task, task_id)
        document = orjson.loads(
            to_json(history.iteration_history(session, task, history.Selection(), 100))
        )
    for index, (values, converged_at, failed) in enumerate(samples):
        seen = document["samples"][f"sample_{index}"]
        assert seen["converged_at_iteration"] == converged_at
        assert seen["final_predictions"] == (values[-1] if values else {})
        assert seen["composition"] == {"Fe(at%)": 50.0, "Ni(at%)": 50.0}
        assert seen["failed_iterations"] == ([len(values) + 1] if failed else [])
        assert len(seen["errors"]) == int(failed)
        for target in TARGETS:
            series = [r[target] for r in values]
            changes = relative_changes(series) if series else []
            converged = is_converged(changes[-1], threshold) if series else False
            assert seen["targets"][target] == {
                "iterations": series,
                "relative_changes": changes,  # exactly: the same IEEE operations
                "convergence_status": (
                    ConvergenceStatus.CONVERGED if converged else ConvergenceStatus.NOT_CONVERGED
                ),
                "converged_at_iteration": converged_at or target_converged_at(changes, threshold),
            }


def test_pages_and_one_sample_hold_the_same_documents(engine: None) -> None:
    samples: list[StoredSample] = [
        ([{"UTS": 100.0 + i + r, "El": 10.0} for r in range(i % 4)], None, False) for i in range(9)
    ]
    task_id = store(samples, 0.01)
    with unit_of_work() as session:
        task = session.get_one(Task, task_id)

        def read(**selection: Any) -> dict[str, Any]:
            answer = history.iteration_history(session, task, history.Selection(**selection), 100)
            return orjson.loads(to_json(answer))["samples"]

        whole = read()
        assert read(limit=3, offset=4) == {f"sample_{i}": whole[f"sample_{i}"] for i in (4, 5, 6)}
        assert read(sample_index=7) == {"sample_7": whole["sample_7"]}
        assert read(limit=3, offset=20) == {}
        with_rounds = {key: doc for key, doc in whole.items() if doc["final_predictions"]}
        assert read(since=datetime(2000, 1, 1, tzinfo=UTC)) == with_rounds
        assert whole["sample_0"]["targets"]["UTS"]["iterations"] == []  # no round yet
