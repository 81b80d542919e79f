"""Signed-in users: resuming their server-side session per request, and the RLS context.

The session cookie holds only the token of a ``user_session`` row (see
:mod:`webmap.access.user_sessions`). On every request the row is checked in the database — not
ended, not idle, not too old, the account still active with the same ``session_epoch`` — and
only then is the user row read (as that user, so RLS allows exactly their own row). Nothing a
client keeps in its cookie can extend or revive a session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy import text

from webmap.access import tokens, user_sessions
from webmap.access.actor import Actor
from webmap.infra import audit
from webmap.infra.db import (
    EMPTY_CONTEXT,
    DbContext,
    get_session,
    set_request_context,
    side_sessions,
)
from webmap.web.responder import sign_in_required

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
    #: The ``user_session`` row this request runs under, and the token naming it.
    session_id: uuid.UUID | None = None
    session_token: str = ""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # What Flask-Login keeps in the cookie: the session's token, never the user's id.
        return self.session_token

    @property
    def actor(self) -> Actor:
        """What services are given: who, for which agency, in which role."""
        return Actor(self.id, self.agency_id, self.role)

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
def _user_loader(token: str) -> CurrentUser | None:
    found = user_sessions.resume(token, current_app.extensions["csmap.settings"])
    if found is None or found.state != "live" or found.user is None:
        # Remembered for _enforce_session: forget the dead token, and say why if it timed out.
        g.session_over = found.state if found else "ended"
        return None
    # The check read the user's row with the session (one statement): nothing to re-read.
    user = CurrentUser(id=found.user_id, **found.user)
    set_request_context(user.db_context)
    user.session_id, user.session_token = found.session_id, token
    return user


@login_manager.unauthorized_handler
def _unauthorised() -> Any:
    return sign_in_required()


def end_session() -> None:
    """Forget the session on this client (the caller ends its row first, where there is one)."""
    logout_user()
    session.clear()
    set_request_context(EMPTY_CONTEXT)


def init_tokens(app: Flask) -> None:
    """Register the access-token sign-in. It runs before CSRF (create_app registers it
    first): a GIS client's token may only read, and is refused as such (403 with
    WWW-Authenticate), not as a form without its CSRF token."""

    @app.before_request
    def _token() -> Any:
        g.db_context = EMPTY_CONTEXT
        bearer = _bearer_token()
        if bearer is None or request.endpoint in ("static", "metrics.metrics"):
            return None  # /metrics checks its own bearer token (the operator's, not a user's)
        # A GIS client: the token alone decides, never a cookie.
        return _sign_in_by_token(bearer)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"

    @app.before_request
    def _enforce_session() -> Any:
        if request.endpoint == "static" or g.get("via_token"):
            return None
        g.db_context = EMPTY_CONTEXT
        if current_user.is_authenticated:  # resumes (and checks) the session
            return None
        over = g.pop("session_over", None)
        if over is None:
            return None
        end_session()
        if over != "expired":
            return None  # ended elsewhere: carry on as anyone not signed in
        message = "Your session has expired. Please sign in again."
        if request.path.startswith(("/api/", "/tiles/")):
            resp = jsonify({"error": {"code": "session_expired", "message": message}})
            resp.status_code = 401
            return resp
        flash(message, "warning")
        return redirect(url_for("auth.login"))


def _bearer_token() -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _token_refused(error: str, message: str) -> Any:
    resp = jsonify({"error": {"code": error, "message": message}})
    resp.status_code = 401 if error == "invalid_token" else 403
    resp.headers["WWW-Authenticate"] = f'Bearer realm="csmap", error="{error}"'
    return resp


def _sign_in_by_token(token: str) -> Any:
    """Act as the token's user for this request only (no cookie is set), if the token is live
    and the request is a read of the API, the OGC API or tiles; audit the use."""
    if not tokens.allowed(request.method, request.path):
        return _token_refused(
            "insufficient_scope", "An access token may only read the API, /ogc and tiles."
        )
    with side_sessions()() as side:
        found = tokens.check(side, token)
        side.commit()
    user = load_user(found[1]) if found else None
    if found is None or user is None:
        return _token_refused("invalid_token", "This access token is unknown, expired or revoked.")
    g._login_user = user  # Flask-Login's current user for this request alone
    g.via_token = found[0]
    with side_sessions()() as side:  # its own transaction: audited even if the request fails
        audit.record(
            side,
            "token.used",
            object_type="access_token",
            object_ids=[found[0]],
            subject_agency_id=user.agency_id,
            details={"route": request.url_rule.rule if request.url_rule else "<unmatched>"},
        )
        side.commit()
    return None


def actor() -> Actor:
    """The signed-in user as an :class:`~webmap.access.actor.Actor` (route modules only)."""
    user: CurrentUser = current_user
    return user.actor
