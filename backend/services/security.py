"""Secrets handling: password hashes (argon2id), API tokens (random, stored as SHA-256), and
signed session tokens for the dashboard (JWT, HS256)."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.core.config import Settings

API_TOKEN_PREFIX = "ipt_"
_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret_key(settings: Settings) -> str:
    """SECRET_KEY, or in development a random key kept in DATA_DIR/.secret_key (mode 600)."""
    if settings.SECRET_KEY:
        return settings.SECRET_KEY.get_secret_value()
    if settings.ENVIRONMENT == "production":
        raise RuntimeError("SECRET_KEY must be set in production (32+ random characters)")
    path: Path = settings.DATA_DIR / ".secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def issue_session(
    settings: Settings, user_id: int, epoch: int, minutes: int | None = None
) -> tuple[str, datetime]:
    """A signed session token. `epoch` is the user's session epoch: raising it (log out, new
    password, deactivation) ends every session issued before."""
    expires = datetime.now(UTC) + timedelta(minutes=minutes or settings.SESSION_MINUTES)
    claims = {"sub": str(user_id), "ep": epoch, "exp": expires, "typ": "session"}
    return jwt.encode(claims, secret_key(settings), algorithm="HS256"), expires


def session_claims(settings: Settings, token: str) -> tuple[int, int] | None:
    """(user id, epoch) of a valid, unexpired session token; None for anything else."""
    try:
        # A session without `exp` would never end: refuse it however it was signed.
        claims = jwt.decode(
            token,
            secret_key(settings),
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "session":
        return None
    try:
        return int(claims["sub"]), int(claims["ep"])
    except (KeyError, TypeError, ValueError):
        return None
