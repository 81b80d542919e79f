"""Signed-in users: loading them per request, timeouts, and the RLS context.

The session cookie holds the user id and the account's ``session_epoch``. On every request the
user row is re-read (as that user, so RLS allows exactly their own row); a disabled account or
a changed epoch ends the session there and then. Idle and absolute timeouts are enforced from
times kept in the signed cookie.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, flash, g, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy import text

from webmap.db import EMPTY_CONTEXT, DbContext, get_session, set_request_context

login_manager = LoginManager()


@dataclass
class CurrentUser:
    """The signed-in user, as Flask-Login wants one."""

    id: uuid.UUID
    agency_id: uuid.UUID
    agency_name: str
    role: str
    email: str
    display_name: str
    session_epoch: int
    totp_enabled: bool

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def db_context(self) -> DbContext:
        return DbContext(str(self.id), str(self.agency_id), self.role)


_LOAD = text(
    """
    SELECT u.id, u.agency_id, a.name AS agency_name, u.role::text AS role, u.email,
           u.display_name, u.session_epoch, u.is_active, u.totp_secret IS NOT NULL AS totp
    FROM app_user u JOIN agency a ON a.id = u.agency_id
    WHERE u.id = :id
    """
)


def load_user(user_id: str | uuid.UUID, epoch: int | None = None) -> CurrentUser | None:
    """Load an active user as themselves and make them the request's RLS context."""
    try:
        uid = uuid.UUID(str(user_id))
    except ValueError:
        return None
    # Only the user id is known yet: the app_user policy lets a user read their own row, and
    # the agency policy lets any identified user read the directory.
    set_request_context(DbContext(user_id=str(uid)))
    row = get_session().execute(_LOAD, {"id": uid}).mappings().first()
    if row is None or not row["is_active"] or (epoch is not None and row["session_epoch"] != epoch):
        set_request_context(EMPTY_CONTEXT)
        return None
    user = CurrentUser(
        id=row["id"],
        agency_id=row["agency_id"],
        agency_name=row["agency_name"],
        role=row["role"],
        email=row["email"],
        display_name=row["display_name"],
        session_epoch=row["session_epoch"],
        totp_enabled=row["totp"],
    )
    set_request_context(user.db_context)
    return user


@login_manager.user_loader
def _user_loader(session_id: str) -> CurrentUser | None:
    user_id, _, epoch = session_id.partition(":")
    return load_user(user_id, int(epoch) if epoch.isdigit() else -1)


@login_manager.unauthorized_handler
def _unauthorised() -> Any:
    from webmap.policy import _unauthorised, wants_json

    if wants_json():
        return _unauthorised()
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def start_session(user: CurrentUser) -> None:
    """Call right after ``login_user``: a fresh session id and the clock for timeouts."""
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = False


def end_session() -> None:
    logout_user()
    session.clear()
    set_request_context(EMPTY_CONTEXT)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    settings = app.extensions["csmap.settings"]
    idle = settings.session_idle_minutes * 60
    absolute = settings.session_absolute_hours * 3600

    @app.before_request
    def _enforce_session() -> Any:
        g.db_context = EMPTY_CONTEXT
        if request.endpoint == "static":
            return None
        if not current_user.is_authenticated:  # loads (and checks) the user
            return None
        now = int(time.time())
        login_at = int(session.get("login_at", 0))
        seen_at = int(session.get("seen_at", 0))
        if now - login_at > absolute or now - seen_at > idle:
            end_session()
            message = "Your session has expired. Please sign in again."
            if request.path.startswith("/api/"):
                resp = jsonify({"error": {"code": "session_expired", "message": message}})
                resp.status_code = 401
                return resp
            flash(message, "warning")
            return redirect(url_for("auth.login"))
        session["seen_at"] = now
        return None
