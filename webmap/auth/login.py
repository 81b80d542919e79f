"""Log-in steps as plain functions over a Session: throttle, password, second factor.

Every outcome is audited in the same transaction as the attempt it records. Messages never
say whether an account exists: an unknown e-mail, a disabled account and a wrong password all
read the same, and take the same time (argon2 verifies against a dummy hash).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap import audit
from webmap.auth import credentials
from webmap.config import Settings
from webmap.db import EMPTY_CONTEXT, DbContext, set_request_context

WINDOW = "15 minutes"
NOT_RECOGNISED = "E-mail or password not recognised."
THROTTLED = "Too many attempts. Wait 15 minutes, then try again."


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    agency_id: uuid.UUID
    role: str
    totp_enabled: bool
    session_epoch: int


@dataclass(frozen=True)
class Keys:
    account: str
    client: str


def keys(settings: Settings, email: str, client_addr: str) -> Keys:
    key = settings.secret("hmac_key")
    return Keys(
        credentials.keyed_hash("acct:" + email.strip().lower(), key),
        credentials.keyed_hash("client:" + client_addr, key),
    )


def throttled(session: Session, k: Keys, max_failures: int) -> bool:
    account_fails, client_fails = session.execute(
        text(
            """
            SELECT count(*) FILTER (WHERE account_key = :a),
                   count(*) FILTER (WHERE client_key = :c)
            FROM login_attempt
            WHERE NOT succeeded AND at > now() - CAST(:window AS interval)
              AND (account_key = :a OR client_key = :c)
            """
        ),
        {"a": k.account, "c": k.client, "window": WINDOW},
    ).one()
    return bool(account_fails >= max_failures or client_fails >= 4 * max_failures)


def note_attempt(session: Session, k: Keys, succeeded: bool) -> None:
    session.execute(
        text("INSERT INTO login_attempt (account_key, client_key, succeeded) VALUES (:a, :c, :s)"),
        {"a": k.account, "c": k.client, "s": succeeded},
    )


def check_password(session: Session, email: str, password: str) -> Account | None:
    """The account if the password is right and the account active; audits a failure."""
    row = (
        session.execute(text("SELECT * FROM csmap_login_lookup(:email)"), {"email": email.strip()})
        .mappings()
        .first()
    )
    ok = credentials.check_password(row["password_hash"] if row else None, password)
    if row is None or not ok or not row["is_active"]:
        reason = "disabled" if row is not None and ok else "bad_credentials"
        if row is not None:
            # Audit against the account (so its agency's admins see it), as that account.
            set_request_context(DbContext(user_id=str(row["id"])))
            audit.record(
                session,
                "login.failed",
                object_type="user",
                object_ids=[row["id"]],
                subject_agency_id=row["agency_id"],
                agency_id=row["agency_id"],
                details={"reason": reason},
            )
            set_request_context(EMPTY_CONTEXT)
        else:
            audit.record(session, "login.failed", details={"reason": "bad_credentials"})
        return None
    return Account(
        row["id"], row["agency_id"], row["role"], row["totp_enabled"], row["session_epoch"]
    )


def check_second_factor(
    session: Session, settings: Settings, user_id: uuid.UUID, code: str
) -> str | None:
    """Verify a TOTP or recovery code as the user; return None if accepted, else the problem.

    A TOTP step is recorded when used, so the same code (or an earlier one) fails next time.
    """
    set_request_context(DbContext(user_id=str(user_id)))
    secret = session.execute(
        text("SELECT totp_secret FROM app_user WHERE id = :id"), {"id": user_id}
    ).scalar_one_or_none()
    if not secret:
        return "No second factor is set up for this account."
    step = credentials.totp_step(secret, code)
    if step is not None:
        fresh = session.execute(
            text("SELECT csmap_self_use_totp_step(:s)"), {"s": step}
        ).scalar_one()
        return None if fresh else "That code has already been used. Wait for the next one."
    if "-" in code:
        code_hash = credentials.recovery_code_hash(code, settings.secret("hmac_key"))
        used = session.execute(
            text("SELECT csmap_self_use_recovery_code(:h)"), {"h": code_hash}
        ).scalar_one()
        if used:
            return None
    return "That code is not right. Check the time on your device and try again."


def enrol_second_factor(session: Session, settings: Settings, secret: str, step: int) -> list[str]:
    """Store a confirmed TOTP secret for the context's user (``step`` is the confirming
    code's, recorded as used); return new recovery codes."""
    codes = credentials.new_recovery_codes()
    key = settings.secret("hmac_key")
    session.execute(
        text("SELECT csmap_self_set_totp(:s, :r)"),
        {"s": secret, "r": [credentials.recovery_code_hash(c, key) for c in codes]},
    )
    session.execute(text("SELECT csmap_self_use_totp_step(:s)"), {"s": step})
    return codes


def mark_logged_in(session: Session, account: Account, second_factor: str) -> None:
    """Call with the account already the request's context."""
    session.execute(text("SELECT csmap_login_succeeded(:id)"), {"id": account.id})
    audit.record(
        session,
        "login.succeeded",
        object_type="user",
        object_ids=[account.id],
        subject_agency_id=account.agency_id,
        details={"second_factor": second_factor},
    )
