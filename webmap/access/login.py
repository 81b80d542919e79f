"""Log-in steps as plain functions over a Session: throttle, password, second factor.

Every outcome is audited in the same transaction as the attempt it records. Messages never
say whether an account exists: an unknown e-mail, a disabled account and a wrong password all
read the same, and take the same time (argon2 verifies against a dummy hash).

Throttling slows a guesser without locking the real user out. Failures are counted per
(account, client address) pair: after ``login_max_failures`` of them the pair waits 1 s from
its last failure, then 2, 4, … up to 5 minutes, until a sign-in from that pair succeeds. The
same account from another address is not slowed at all. One address failing against many
accounts is limited separately (:func:`address_limit` failures in 15 minutes). Only keyed
hashes of the account and the address are stored.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from webmap.access import credentials
from webmap.config import Settings
from webmap.infra import audit
from webmap.infra.db import EMPTY_CONTEXT, DbContext, set_request_context
from webmap.infra.values import keyed_hash

NOT_RECOGNISED = "E-mail or password not recognised."
#: The longest a pair must wait after its last failure, however many there were.
MAX_DELAY_SECONDS = 300
#: How far back a pair's failures count (unless a sign-in from the pair succeeded since).
PAIR_LOOKBACK = "24 hours"
#: The window of the per-address limit across accounts.
ADDRESS_WINDOW_SECONDS = 15 * 60


def throttled_message(retry_after: int) -> str:
    return f"Too many attempts. Wait {retry_after} seconds, then try again."


class AlreadyEnrolled(Exception):
    """The account has a second factor: enrolling again cannot replace it (an admin resets)."""


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
        keyed_hash("acct:" + email.strip().lower(), key),
        keyed_hash("client:" + client_addr, key),
    )


def address_limit(settings: Settings) -> int:
    """Failures from one client address, across accounts, in 15 minutes before it waits."""
    return 10 * settings.login_max_failures


def retry_after(session: Session, k: Keys, settings: Settings) -> int:
    """Seconds the (account, address) pair, or the address, must still wait; 0 = go ahead.

    Computed the same way whether or not the account exists."""
    row = session.execute(
        text(
            """
            WITH pair AS (
              SELECT count(*) AS failures, max(f.at) AS last_failure FROM login_attempt f
              WHERE f.account_key = :a AND f.client_key = :c AND NOT f.succeeded
                AND f.at > now() - CAST(:lookback AS interval)
                AND f.at > coalesce((SELECT max(s.at) FROM login_attempt s
                                     WHERE s.account_key = :a AND s.client_key = :c
                                       AND s.succeeded), '-infinity')
            ), address AS (
              SELECT at FROM login_attempt
              WHERE client_key = :c AND NOT succeeded
                AND at > now() - make_interval(secs => :window)
              ORDER BY at DESC OFFSET :limit - 1 LIMIT 1
            )
            SELECT pair.failures,
                   extract(epoch FROM now() - pair.last_failure) AS since_last,
                   extract(epoch FROM (SELECT at FROM address)
                           + make_interval(secs => :window) - now()) AS address_wait
            FROM pair
            """
        ),
        {
            "a": k.account,
            "c": k.client,
            "lookback": PAIR_LOOKBACK,
            "window": ADDRESS_WINDOW_SECONDS,
            "limit": address_limit(settings),
        },
    ).one()
    wait = 0.0
    excess = row.failures - settings.login_max_failures
    if excess >= 0:
        wait = min(2.0**excess, MAX_DELAY_SECONDS) - float(row.since_last)
    if row.address_wait is not None:
        wait = max(wait, float(row.address_wait))
    return math.ceil(wait) if wait > 0 else 0


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
    code's, recorded as used); return new recovery codes.

    Raises :class:`AlreadyEnrolled` (and the transaction is rolled back) if the account has
    a second factor: the database function refuses to replace one, whatever the caller."""
    codes = credentials.new_recovery_codes()
    key = settings.secret("hmac_key")
    try:
        session.execute(
            text("SELECT csmap_self_set_totp(:s, :r)"),
            {"s": secret, "r": [credentials.recovery_code_hash(c, key) for c in codes]},
        )
    except DBAPIError as exc:
        session.rollback()
        if isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
            raise AlreadyEnrolled() from None
        raise
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
