"""Credentials never reach a stored message or a log line: one function removes them.

Provider and proxy errors sometimes echo the request (an `Authorization` header, a key in a
URL). `redact` replaces anything shaped like a credential, and every secret the process was
configured with, by `[REDACTED]`. Applied where failure messages are built and in the log
formatter, so no caller has to remember it.
"""

import re
from collections.abc import Iterable

MARK = "[REDACTED]"
_MIN_SECRET = 6  # shorter "secrets" (e.g. "none") would blank ordinary words

_SOURCES = (
    # Authorization: Bearer <value>, Basic <value>, also inside quoted JSON or repr text.
    r"(?i:\b(bearer|basic)(\s+|%20)[A-Za-z0-9._~+/=\-]{4,})",
    # OpenAI-style keys (sk-..., sk-proj-...), our API tokens, Google API keys.
    r"\bsk-[A-Za-z0-9_\-]{8,}",
    r"\bipt_[A-Za-z0-9_\-]{8,}",
    r"\bAIza[0-9A-Za-z_\-]{20,}",
    # key=..., api_key: "...", x-api-key: ...
    r"(?i:\b((?:x-)?api[-_]?key|access[-_]?token|password|secret)(\"?\s*[:=]\s*\"?)"
    r"[^\s\"',&}]{4,})",
)
_PATTERNS = tuple(re.compile(source) for source in _SOURCES)
_known: list[str] = []  # longest first, so a secret containing another is replaced whole


def _any_of(secrets: list[str]) -> re.Pattern[str]:
    return re.compile("|".join([*_SOURCES, *(re.escape(s) for s in secrets)]))


# Every log line passes here: one scan finds the (usual) line with nothing to redact.
_ANY = _any_of([])


def remember_secrets(values: Iterable[str | None]) -> None:
    """Secrets of this process's configuration, redacted wherever they appear verbatim."""
    global _ANY
    known = set(_known) | {v for v in values if v and len(v) >= _MIN_SECRET}
    _known[:] = sorted(known, key=len, reverse=True)
    _ANY = _any_of(_known)


def redact(text: str) -> str:
    if not text or not _ANY.search(text):
        return text
    for secret in _known:
        text = text.replace(secret, MARK)
    for pattern in _PATTERNS:
        text = pattern.sub(_replacement, text)
    return text


def _replacement(match: re.Match[str]) -> str:
    # Keep the label ("Bearer ", "api_key=") so the message still says what was there.
    if match.lastindex and match.lastindex >= 2:
        return match.group(1) + match.group(2) + MARK
    return MARK
