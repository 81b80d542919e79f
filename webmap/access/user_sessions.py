"""Server-side sessions: the ``user_session`` rows behind the session cookie.

The signed cookie carries only a random token (Flask-Login's "user id"); the database keeps
its SHA-256, so a copy of the table signs nobody in. Every request resumes the session through
``csmap_session_check`` (SECURITY DEFINER: the user is not known yet), which also enforces the
idle and absolute timeouts and ends the session when the account was disabled or its password
or second factor reset. Ending a session is an UPDATE (never a DELETE), so the rows are also
the record of who was signed in when.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.config import Settings
from webmap.infra.reads import statement

#: Why a session ended (the migration's check constraint holds the same list).
SIGNED_OUT: Final = "signed_out"
ENDED_BY_USER: Final = "ended_by_user"
ENDED_BY_ADMIN: Final = "ended_by_admin"
ACCOUNT_CHANGED: Final = "account_changed"


@dataclass(frozen=True)
class Resumed:
    session_id: uuid.UUID
    user_id: uuid.UUID
    #: ``live``, ``expired`` (idle or too old: "please sign in again") or ``ended``.
    state: str
    #: The signed-in user's row (live sessions only): agency_id, agency_name, role, email,
    #: display_name, session_epoch, totp_enabled.
    user: dict[str, Any] | None = None


@dataclass(frozen=True)
class LiveSession:
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    user_agent: str


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    session: Session, user_id: uuid.UUID, agency_id: uuid.UUID, epoch: int, user_agent: str
) -> tuple[uuid.UUID, str]:
    """Record a new session for the context's user (the caller commits); returns its id and
    the token for the cookie, which is never stored."""
    token = secrets.token_urlsafe(32)
    session_id: uuid.UUID = session.execute(
        text(
            "INSERT INTO user_session (user_id, agency_id, token_sha256, session_epoch,"
            " user_agent) VALUES (:u, :a, :h, :e, :ua) RETURNING id"
        ),
        {"u": user_id, "a": agency_id, "h": token_sha256(token), "e": epoch, "ua": user_agent},
    ).scalar_one()
    return session_id, token


_RESUME = (
    "SELECT sid, uid, state, agency_id, agency_name, role, email, display_name,"
    " session_epoch, totp_enabled FROM csmap_session_resume(%(h)s, %(idle)s, %(absolute)s)"
)


def resume(token: str, settings: Settings) -> Resumed | None:
    """Check the session a cookie's token names, and read its user, in ONE statement that
    commits by itself (revision 0016): what the check ends or touches is kept whatever the
    request then does, and nothing is re-read afterwards."""
    if not token or len(token) > 128:
        return None
    rows = statement(
        _RESUME,
        {
            "h": token_sha256(token),
            "idle": settings.session_idle_minutes * 60,
            "absolute": settings.session_absolute_hours * 3600,
        },
    )
    if not rows:
        return None
    sid, uid, state, *fields = rows[0]
    user = dict(zip(_USER_FIELDS, fields, strict=True)) if state == "live" else None
    return Resumed(sid, uid, state, user)


_USER_FIELDS = (
    "agency_id",
    "agency_name",
    "role",
    "email",
    "display_name",
    "session_epoch",
    "totp_enabled",
)


def live(session: Session, user_id: uuid.UUID, settings: Settings) -> list[LiveSession]:
    """The user's sessions that would still let a request in, most recently used first."""
    rows = session.execute(
        text(
            "SELECT id, created_at, last_seen_at, user_agent FROM user_session"
            " WHERE user_id = :u AND revoked_at IS NULL"
            " AND last_seen_at > now() - make_interval(mins => :idle)"
            " AND created_at > now() - make_interval(hours => :absolute)"
            " ORDER BY last_seen_at DESC, created_at DESC"
        ),
        {
            "u": user_id,
            "idle": settings.session_idle_minutes,
            "absolute": settings.session_absolute_hours,
        },
    )
    return [LiveSession(r.id, r.created_at, r.last_seen_at, r.user_agent) for r in rows]


def end(
    session: Session, user_id: uuid.UUID, reason: str, session_id: uuid.UUID | None = None
) -> list[str]:
    """End one session of the user (or all of them, without ``session_id``), recording who
    ended it (the context's user; none from the CLI). RLS decides whose sessions the caller
    may end. Returns the ids ended; the caller audits and commits."""
    rows = session.execute(
        text(
            "UPDATE user_session SET revoked_at = now(), revoked_by = csmap_user_id(),"
            " ended_reason = :reason WHERE user_id = :u AND revoked_at IS NULL"
            " AND (CAST(:sid AS uuid) IS NULL OR id = CAST(:sid AS uuid)) RETURNING id"
        ),
        {"u": user_id, "reason": reason, "sid": session_id},
    )
    return [str(r.id) for r in rows]


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))  # fmt: skip
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))  # fmt: skip


def user_agent_label(user_agent: str) -> str:
    """ "Firefox on Linux": enough to tell one's devices apart, too little to fingerprint."""
    browser = next((name for key, name in _BROWSERS if key in user_agent), "")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    if not browser:
        first = re.match(r"[A-Za-z][A-Za-z0-9._-]{0,30}", user_agent)
        browser = first.group(0) if first else "Unknown browser"
    return f"{browser} on {system}" if system else browser
