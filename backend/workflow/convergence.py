"""How convergence is decided (API.md, "Convergence rule"). Pure functions, no I/O."""

from collections.abc import Mapping, Sequence
from itertools import pairwise

# Below this magnitude the previous value no longer scales the change (avoids dividing by ~0).
DENOMINATOR_FLOOR = 0.1


def relative_change(previous: float, current: float) -> float:
    scale = abs(previous)
    return abs(current - previous) / (scale if scale > DENOMINATOR_FLOOR else DENOMINATOR_FLOOR)


def relative_changes(values: Sequence[float]) -> list[float | None]:
    """Aligned with `values`: the first round has no change (None)."""
    return [None, *(relative_change(a, b) for a, b in pairwise(values))]


def is_converged(change: float | None, threshold: float) -> bool:
    # Strictly below: a change equal to the threshold is not converged.
    return change is not None and change < threshold


def sample_converged_at(
    history: Sequence[Mapping[str, float]], targets: Sequence[str], threshold: float
) -> int | None:
    """First round (1-based) at which every target is converged at once, else None."""
    for n in range(2, len(history) + 1):
        prev, cur = history[n - 2], history[n - 1]
        if all(is_converged(relative_change(prev[t], cur[t]), threshold) for t in targets):
            return n
    return None


def target_converged_at(changes: Sequence[float | None], threshold: float) -> int | None:
    """Start of the run of below-threshold changes that ends at the latest round, else None."""
    start = None
    for n, change in enumerate(changes, start=1):
        start = (start or n) if is_converged(change, threshold) else None
    return start


def trend(changes: Sequence[float | None], threshold: float) -> str:
    """A word for the prompt: converged, converging (shrinking changes) or still changing."""
    known = [c for c in changes if c is not None]
    if not known:
        return "first prediction"
    if known[-1] < threshold:
        return "converged"
    if len(known) >= 2 and known[-1] < known[-2]:
        return "converging"
    return "still changing"
