"""A record's version history, and the notes it had before they were changed or redacted
(which only the owning agency's admins may read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.recording.queries import parse_id
from webmap.infra import audit


def history(session: Session, user: Actor, object_type: str, raw_id: str) -> list[dict[str, Any]]:
    object_id = parse_id(raw_id)
    rows = (
        session.execute(
            text(
                "SELECT v.version, v.action, v.changed_fields, v.changed_at, n.display_name"
                " FROM record_version v"
                " LEFT JOIN colleague_names(ARRAY(SELECT changed_by FROM record_version"
                "   WHERE object_type = :t AND object_id = :id)) n ON n.id = v.changed_by"
                " WHERE v.object_type = :t AND v.object_id = :id ORDER BY v.version"
            ),
            {"t": object_type, "id": object_id},
        )
        .mappings()
        .all()
    )
    # Records loaded in bulk before versioning may have no entries: an empty history.
    audit.record(
        session,
        f"{object_type}.history_read",
        object_type=object_type,
        object_ids=[object_id],
        subject_agency_id=user.agency_id,
    )
    return [
        {
            "version": r["version"],
            "action": r["action"],
            "changed_fields": r["changed_fields"],
            "changed_at": r["changed_at"].isoformat(),
            "changed_by_name": r["display_name"],
        }
        for r in rows
    ]


def note_history(session: Session, user: Actor, raw_id: str) -> list[dict[str, Any]]:
    """Earlier and redacted texts of a note: RLS shows them to the owning agency's admins only."""
    object_id = parse_id(raw_id)
    rows = (
        session.execute(
            text(
                "SELECT version, note, reason, changed_at FROM note_history"
                " WHERE observation_id = :id ORDER BY id"
            ),
            {"id": object_id},
        )
        .mappings()
        .all()
    )
    audit.record(
        session,
        "observation.note_history_read",
        object_type="observation",
        object_ids=[object_id],
        subject_agency_id=user.agency_id,
        details={"count": len(rows)},
    )
    return [
        {
            "version": r["version"],
            "note": r["note"],
            "reason": r["reason"],
            "changed_at": r["changed_at"].isoformat(),
        }
        for r in rows
    ]
