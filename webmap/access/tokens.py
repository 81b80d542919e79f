"""Personal access tokens: how a GIS client (QGIS, GDAL, OWSLib) signs in.

A browser signs in with a password, a second factor and a cookie; a GIS client cannot. So a
signed-in user may make a *personal access token* for one client: read-only, at most 90 days,
shown once and stored only as its SHA-256. A request carrying ``Authorization: Bearer <token>``
acts as that user — for GET requests to the API, ``/ogc`` and tiles only, never a form, a
write or the admin — and every use is audited.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.infra import audit
from webmap.infra.errors import Invalid, NotFound

#: What a token starts with, so one pasted into the wrong place is recognisable.
PREFIX: Final = "csmap_pat_"
MAX_DAYS: Final = 90
#: The only requests a token may make: reads of the API, the OGC API and tiles.
READ_PREFIXES: Final = ("/api/v1/", "/ogc", "/tiles/")
_NAME: Final = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def allowed(method: str, path: str) -> bool:
    """Whether a token may make this request (read-only, and only the data routes).

    >>> allowed("GET", "/ogc/collections"), allowed("POST", "/api/v1/observations")
    (True, False)
    >>> allowed("GET", "/admin/users"), allowed("GET", "/s/abc")
    (False, False)
    """
    return method in {"GET", "HEAD"} and path.startswith(READ_PREFIXES)


@dataclass(frozen=True)
class NewToken:
    id: uuid.UUID
    token: str  # shown once, never stored
    expires_at: datetime


def create(session: Session, actor: Actor, name: str, days: int) -> NewToken:
    """Make a token for ``actor`` (the caller commits); the answer is the only time the token
    itself exists outside the client."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise Invalid.field("name", "give the token a name of 1 to 100 characters, e.g. QGIS")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise Invalid.field("expires", f"a token lasts 1 to {MAX_DAYS} days")
    token = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    token_id: uuid.UUID = session.execute(
        text(
            "INSERT INTO access_token (user_id, agency_id, name, token_sha256, created_at,"
            " expires_at) VALUES (:u, :a, :n, :h, :now, :exp) RETURNING id"
        ),
        {
            "u": actor.id,
            "a": actor.agency_id,
            "n": name,
            "h": token_sha256(token),
            "now": now,
            "exp": now + timedelta(days=days),
        },
    ).scalar_one()
    audit.record(
        session,
        "token.created",
        object_type="access_token",
        object_ids=[token_id],
        subject_agency_id=actor.agency_id,
        details={"count": days},
    )
    return NewToken(token_id, token, now + timedelta(days=days))


def listing(session: Session) -> list[dict[str, Any]]:
    """The tokens the caller may see (their own; an agency admin's agency's), newest first."""
    rows = session.execute(
        text(
            "SELECT t.id, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at,"
            " t.user_id FROM access_token t ORDER BY t.created_at DESC"
        )
    ).mappings()
    now = datetime.now(UTC)
    return [
        {
            **dict(r),
            "state": "revoked"
            if r["revoked_at"]
            else "expired"
            if r["expires_at"] <= now
            else "live",
        }
        for r in rows
    ]


def revoke(session: Session, actor: Actor, raw_id: str) -> None:
    """Revoke a token the caller may see (RLS); any other id is 404."""
    try:
        token_id = uuid.UUID(str(raw_id))
    except ValueError:
        raise NotFound("No such token.") from None
    done = session.execute(
        text(
            "UPDATE access_token SET revoked_at = now(), revoked_by = :u"
            " WHERE id = :id AND revoked_at IS NULL RETURNING agency_id"
        ),
        {"u": actor.id, "id": token_id},
    ).scalar_one_or_none()
    if done is None:
        raise NotFound("No such token.")
    audit.record(
        session,
        "token.revoked",
        object_type="access_token",
        object_ids=[token_id],
        subject_agency_id=done,
    )


def check(session: Session, token: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(token id, user id) for a live token of an active account, else None."""
    if not token.startswith(PREFIX):
        return None
    row = session.execute(
        text("SELECT token_id, user_id FROM csmap_token_check(:h)"), {"h": token_sha256(token)}
    ).first()
    return (row[0], row[1]) if row else None
