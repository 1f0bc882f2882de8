""" "Did you mean …" for a mistyped column name."""

import difflib
from collections.abc import Iterable


def did_you_mean(wrong: Iterable[str], columns: Iterable[str]) -> str:
    """` (did you mean 'UTS(MPa)'?)` for the closest column to each wrong name, or ""."""
    wrong, choices = list(wrong), [str(c) for c in columns]
    by_lower = {c.lower(): c for c in choices}
    hints = []
    for name in wrong:
        # Case and spacing slips first, then spelling (difflib's ratio, at least 0.6).
        exact = by_lower.get(name.lower()) or by_lower.get(name.replace(" ", "").lower())
        close = [exact] if exact else difflib.get_close_matches(name, choices, n=1)
        if close:
            hints.append(f"{close[0]!r} for {name!r}" if len(wrong) > 1 else repr(close[0]))
    return f" (did you mean {', '.join(hints)}?)" if hints else ""
