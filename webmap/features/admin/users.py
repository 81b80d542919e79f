"""Creating and changing user accounts: one set of rules for the CLI and the admin pages."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webmap.access import credentials, user_sessions
from webmap.models import USER_ROLES

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,63}$")


class UserError(ValueError):
    """Bad input for an account, with the problem per field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class NewUser:
    agency_id: uuid.UUID
    email: str
    display_name: str
    role: str
    password: str


def validate(new: NewUser) -> None:
    problems: dict[str, str] = {}
    if not _EMAIL.match(new.email.strip()):
        problems["email"] = "is not an e-mail address"
    if not new.display_name.strip() or len(new.display_name) > 200:
        problems["display_name"] = "must be 1 to 200 characters"
    if new.role not in USER_ROLES:
        problems["role"] = f"must be one of {', '.join(USER_ROLES)}"
    pw_problem = credentials.password_problem(new.password)
    if pw_problem:
        problems["password"] = pw_problem
    if problems:
        raise UserError(problems)


def create_user(session: Session, new: NewUser) -> uuid.UUID:
    """Insert a user (the caller commits). Raises UserError naming the bad field."""
    validate(new)
    try:
        with session.begin_nested():
            user_id: uuid.UUID = session.execute(
                text(
                    "INSERT INTO app_user (agency_id, email, display_name, role, password_hash)"
                    " VALUES (:agency, :email, :name, :role, :hash) RETURNING id"
                ),
                {
                    "agency": new.agency_id,
                    "email": new.email.strip(),
                    "name": new.display_name.strip(),
                    "role": new.role,
                    "hash": credentials.hash_password(new.password),
                },
            ).scalar_one()
    except IntegrityError as exc:
        if "uq_app_user_email" in str(exc.orig):
            raise UserError({"email": "is already used by another account"}) from None
        raise
    return user_id


def _end_sessions(session: Session, user_id: uuid.UUID) -> None:
    # The epoch bump alone would end them at their next request; ending the rows now also
    # shows them as ended on the sessions pages.
    user_sessions.end(session, user_id, user_sessions.ACCOUNT_CHANGED)


def set_active(session: Session, user_id: uuid.UUID, active: bool) -> bool:
    """Disable or re-enable; disabling ends every session of the user at once."""
    if not active:
        _end_sessions(session, user_id)
    result = session.execute(
        text(
            "UPDATE app_user SET is_active = :active, session_epoch = session_epoch + 1,"
            " updated_at = now() WHERE id = :id"
        ),
        {"id": user_id, "active": active},
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def reset_second_factor(session: Session, user_id: uuid.UUID) -> bool:
    """Remove the TOTP secret and recovery codes; the user enrols again at next sign-in. Ends
    every session of the user."""
    _end_sessions(session, user_id)
    result = session.execute(
        text(
            "UPDATE app_user SET totp_secret = NULL, totp_last_step = NULL,"
            " recovery_codes = '{}', session_epoch = session_epoch + 1, updated_at = now()"
            " WHERE id = :id"
        ),
        {"id": user_id},
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def set_password(session: Session, user_id: uuid.UUID, password: str) -> bool:
    problem = credentials.password_problem(password)
    if problem:
        raise UserError({"password": problem})
    _end_sessions(session, user_id)
    result = session.execute(
        text(
            "UPDATE app_user SET password_hash = :hash, session_epoch = session_epoch + 1,"
            " updated_at = now() WHERE id = :id"
        ),
        {"id": user_id, "hash": credentials.hash_password(password)},
    )
    return bool(cast(CursorResult[Any], result).rowcount)
