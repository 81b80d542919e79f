"""Password hashing (argon2id), TOTP codes and recovery codes.

Recovery codes are random and high-entropy, so a keyed SHA-256 is enough to store them (and
lets a code be found with one indexed comparison instead of ten argon2 verifications).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
#: Verifying against this keeps a log-in for an unknown account as slow as for a real one.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

TOTP_ISSUER = "csmap"
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches. Takes the same time whether or not the account exists."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "must be at most 1024 characters"
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data: URI, rendered here (never by a web service)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def totp_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step a valid ``code`` belongs to (±1 step of clock drift), else None.

    The caller records the step so the same code cannot be used twice.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = 10) -> list[str]:
    return [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(count)]


def recovery_code_hash(code: str, key: str) -> str:
    normalised = code.strip().lower().replace(" ", "")
    return hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()
