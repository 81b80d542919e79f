"""The audit trail: append an entry in the caller's transaction; verify the hash chain.

Entries say who, which agency, when, what action, on which object ids, in which request, and
why where the policy asks. They never carry coordinates, notes, registration marks or person
refs: ``details`` is checked against a short list of allowed keys so a careless caller cannot
put a record's content into the trail.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import g, has_request_context
from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.infra import telemetry

#: The only keys ``details`` may hold: counts, reasons, filters by name — never content.
ALLOWED_DETAILS = frozenset(
    {
        "reason",
        "count",
        "second_factor",
        "filters",
        "role",
        "changed",
        "page",
        "format",
        "via",
        "tier",
        # Refused access: the route *pattern* (``/s/<token>``, never the path) and the status.
        "route",
        "status",
        # A boundary-set import: how many areas were repaired and rejected (counts only).
        "repaired",
        "rejected",
        # Meetings (issue 14): the stage a place moved to and an action's Four P (vocabulary).
        "stage",
        "four_p",
    }
)
GENESIS = "0" * 64
#: Refused requests audited per actor per clock minute; the next one writes a single
#: ``access.refused.capped`` entry and the rest of that minute's refusals write nothing.
REFUSALS_PER_MINUTE = 20

INSERT = text(
    """
    INSERT INTO audit_log (user_id, agency_id, subject_agency_id, action, object_type,
                           object_ids, request_id, justification, details,
                           id, at, prev_hash, hash)
    VALUES (:user_id, :agency_id, :subject_agency_id, :action, :object_type, :object_ids,
            :request_id, :justification, CAST(:details AS jsonb),
            0, now(), '', '')  -- id, time and hashes are set by the chaining trigger
    """
)


def record(
    session: Session,
    action: str,
    *,
    object_type: str | None = None,
    object_ids: Iterable[uuid.UUID | str] = (),
    subject_agency_id: uuid.UUID | str | None = None,
    justification: str | None = None,
    details: Mapping[str, Any] | None = None,
    user_id: uuid.UUID | str | None = None,
    agency_id: uuid.UUID | str | None = None,
) -> None:
    """Append an audit entry in the session's current transaction (the caller commits)."""

    details = dict(details or {})
    unknown = set(details) - ALLOWED_DETAILS
    if unknown:
        raise ValueError(f"audit details may not carry {sorted(unknown)}")
    ctx = g.get("db_context") if has_request_context() else None
    session.execute(
        INSERT,
        {
            "user_id": str(user_id) if user_id else (ctx.user_id or None if ctx else None),
            "agency_id": str(agency_id) if agency_id else (ctx.agency_id or None if ctx else None),
            "subject_agency_id": str(subject_agency_id) if subject_agency_id else None,
            "action": action,
            "object_type": object_type,
            "object_ids": [str(i) for i in object_ids],
            "request_id": g.get("request_id") if has_request_context() else None,
            "justification": justification,
            "details": json.dumps(details, sort_keys=True),
        },
    )
    telemetry.audit_entry_recorded(session)


def record_refusal(session: Session, actor_key: str, route: str, status: int) -> None:
    """Audit a refused request (401, 403 or 404 on an object route) and commit, within the
    actor's cap. ``actor_key`` names the user, or a keyed hash of an anonymous client's
    address; the count lives in the database so that every worker shares it."""
    count = session.execute(
        text("SELECT csmap_note_refusal(:actor)"), {"actor": actor_key}
    ).scalar_one()
    if count <= REFUSALS_PER_MINUTE:
        record(session, "access.refused", details={"route": route, "status": status})
    elif count == REFUSALS_PER_MINUTE + 1:
        record(
            session,
            "access.refused.capped",
            details={"route": route, "status": status, "count": count},
        )
    session.commit()


# -- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_broken: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


_ROWS = """
SELECT id, prev_hash, hash,
       concat_ws('|', id::text,
                 to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                 coalesce(user_id::text, ''), coalesce(agency_id::text, ''),
                 coalesce(subject_agency_id::text, ''), action, coalesce(object_type, ''),
                 array_to_string(object_ids, ','), coalesce(request_id, ''),
                 coalesce(justification, ''), details::text) AS body
FROM audit_log ORDER BY id
"""


def verify(conn: psycopg.Connection[Any]) -> VerifyResult:
    """Walk the chain in id order, recomputing each hash here (not with the database's own
    function), and report the first entry whose hash or link does not hold."""
    expected_prev = GENESIS
    checked = 0
    with conn.cursor(name="audit_verify") as cur:
        cur.execute(_ROWS)
        for entry_id, prev_hash, stored_hash, body in cur:
            checked += 1
            if prev_hash != expected_prev:
                return VerifyResult(checked, entry_id, "its link to the previous entry is broken")
            digest = hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()
            if digest != stored_hash:
                return VerifyResult(checked, entry_id, "its contents do not match its hash")
            expected_prev = stored_hash
    return VerifyResult(checked, None, None)
