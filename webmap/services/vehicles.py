"""Vehicles of interest, and the cross-agency match that reveals nothing but its existence.

The full registration mark is stored only in the owning agency's row (RLS keeps it there).
A keyed HMAC of the normalised mark lets csmap tell a practitioner that another agency has
also reported the vehicle, and whom to contact, without showing any of that agency's records.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.vehicles import display_mark, mark_hmac, normalise_mark
from webmap import audit
from webmap.auth.session import CurrentUser
from webmap.schemas import VehicleIn
from webmap.services.recording import add_version


def create_vehicle(
    session: Session, user: CurrentUser, hmac_key: str, data: VehicleIn
) -> tuple[uuid.UUID, list[dict[str, str]]]:
    """Insert the vehicle (or reuse this agency's record of the same mark); return its id and
    the other agencies that have reported the same mark."""
    digest = mark_hmac(data.registration_mark, hmac_key)
    existing = session.execute(
        text("SELECT id FROM vehicle WHERE mark_hmac = :h AND deleted_at IS NULL"),
        {"h": digest},
    ).scalar_one_or_none()  # RLS: only this agency's vehicles are visible
    if existing is not None:
        vehicle_id: uuid.UUID = existing
    else:
        vehicle_id = session.execute(
            text(
                "INSERT INTO vehicle (agency_id, registration_mark, registration_normalised,"
                " mark_hmac, make, model, colour) VALUES (:a, :mark, :norm, :h, :make, :model,"
                " :colour) RETURNING id"
            ),
            {
                "a": user.agency_id,
                "mark": display_mark(data.registration_mark),
                "norm": normalise_mark(data.registration_mark),
                "h": digest,
                "make": data.make,
                "model": data.model,
                "colour": data.colour,
            },
        ).scalar_one()
        add_version(
            session,
            user,
            "vehicle",
            vehicle_id,
            1,
            "created",
            ["registration_mark", "make", "model", "colour"],
        )
        audit.record(
            session,
            "vehicle.created",
            object_type="vehicle",
            object_ids=[vehicle_id],
            subject_agency_id=user.agency_id,
        )
    matches = others_reporting(session, user, digest)
    return vehicle_id, matches


def others_reporting(session: Session, user: CurrentUser, digest: bytes) -> list[dict[str, str]]:
    rows = session.execute(
        text("SELECT agency_name, lead_contact FROM vehicle_matches(:h) ORDER BY 1"),
        {"h": digest},
    ).all()
    if rows:
        # The fact of a match is worth auditing; which agencies is not (it is in the answer).
        audit.record(
            session,
            "vehicle.match_found",
            object_type="vehicle",
            subject_agency_id=user.agency_id,
            details={"count": len(rows)},
        )
    return [{"agency": name, "contact": contact} for name, contact in rows]


def vehicle_response(vehicle: dict[str, Any], matches: list[dict[str, str]]) -> dict[str, Any]:
    return {**vehicle, "also_reported_by": matches}
