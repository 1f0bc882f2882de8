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

_PATTERNS = (
    # Authorization: Bearer <value>, Basic <value>, also inside quoted JSON or repr text.
    re.compile(r"(?i)\b(bearer|basic)(\s+|%20)[A-Za-z0-9._~+/=\-]{4,}"),
    # OpenAI-style keys (sk-..., sk-proj-...), our API tokens, Google API keys.
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bipt_[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
    # key=..., api_key: "...", x-api-key: ...
    re.compile(
        r"(?i)\b((?:x-)?api[-_]?key|access[-_]?token|password|secret)(\"?\s*[:=]\s*\"?)[^\s\"',&}]{4,}"
    ),
)
_known: set[str] = set()


def remember_secrets(values: Iterable[str | None]) -> None:
    """Secrets of this process's configuration, redacted wherever they appear verbatim."""
    _known.update(v for v in values if v and len(v) >= _MIN_SECRET)


def redact(text: str) -> str:
    if not text:
        return text
    for secret in sorted(_known, key=len, reverse=True):
        text = text.replace(secret, MARK)
    for pattern in _PATTERNS:
        text = pattern.sub(_replacement, text)
    return text


def _replacement(match: re.Match[str]) -> str:
    # Keep the label ("Bearer ", "api_key=") so the message still says what was there.
    if match.lastindex and match.lastindex >= 2:
        return match.group(1) + match.group(2) + MARK
    return MARK
