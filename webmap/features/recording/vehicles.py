"""Vehicles of interest, and the cross-agency match that reveals nothing but its existence.

The full registration mark is stored only in the owning agency's row (RLS keeps it there).
A keyed HMAC of the normalised mark lets csmap tell a practitioner that another agency has
also reported the vehicle, and whom to contact, without showing any of that agency's records.

A match answers "is this exact mark known elsewhere?", so unlimited matching recovers marks by
guessing. Hence:

- matching runs only when a sighting is saved (never when a vehicle is merely created);
- it is limited per user and per agency per hour, counted in the database (every worker sees
  the same count) and checked *before anything is written*, so a refused guess leaves no
  sighting, no vehicle and no match behind. A repeat sighting of a vehicle already matched in
  the hour does not count again: it asks about no new mark;
- every match is audited, and ``csmap_vehicle_match`` records the query and tells each matched
  agency who asked and when (the notices), as in police de-confliction.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.vehicles import display_mark, mark_hmac, normalise_mark
from webmap.access.actor import Actor
from webmap.config import Settings
from webmap.features.recording.schemas import ObservationIn, SightingIn, VehicleIn
from webmap.features.recording.service import (
    add_version,
    check_refs_exist,
    create_observation,
    invalid,
)
from webmap.infra import audit
from webmap.infra.errors import TooMany

WINDOW = timedelta(hours=1)
#: First key of the transaction-level advisory lock that serialises one agency's match checks
#: (two concurrent sightings must not both take the last place under the limit).
_LOCK_CLASS = 0x7E41
#: Most recent notices shown with a vehicle; the total is given too.
MAX_NOTICES = 100


class MatchLimitReached(TooMany):
    """Too many marks matched in the hour; carries the seconds until one more is allowed."""

    code = "match_limit_reached"

    def __init__(self, scope: str, limit: int, retry_after: int) -> None:
        setting = f"CSMAP_VEHICLE_MATCH_PER_{scope.upper()}_HOUR"
        who = "You have" if scope == "user" else "Your agency has"
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"{who} checked {limit} registration marks against other agencies' records in the"
            f" last hour, the most allowed per {scope} ({setting}). Nothing was saved. Try again"
            f" in {minutes} minute{'s' if minutes != 1 else ''}.",
            {"limit": f"{setting}={limit}"},
            retry_after=retry_after,
        )


# -- vehicles -------------------------------------------------------------------------------


def _own_by_mark(session: Session, digest: bytes) -> uuid.UUID | None:
    """This agency's live record of the mark, if any (RLS shows no other agency's)."""
    found: uuid.UUID | None = session.execute(
        text("SELECT id FROM vehicle WHERE mark_hmac = :h AND deleted_at IS NULL"),
        {"h": digest},
    ).scalar_one_or_none()
    return found


_UPSERT = text(
    "INSERT INTO vehicle (agency_id, registration_mark, registration_normalised, mark_hmac,"
    " make, model, colour) VALUES (:a, :mark, :norm, :h, :make, :model, :colour)"
    " ON CONFLICT (agency_id, mark_hmac) WHERE deleted_at IS NULL DO NOTHING RETURNING id"
)


def _upsert_vehicle(session: Session, user: Actor, data: VehicleIn, digest: bytes) -> uuid.UUID:
    """This agency's live record of the mark: inserted, or the one already there.

    One statement decides, on the unique index of revision 0011: a concurrent create of the
    same mark waits for the other transaction and then inserts nothing, so twenty at once make
    one row (reading first and inserting after made two). Only the create that inserted writes
    the version and the audit entry."""
    vehicle_id: uuid.UUID | None = session.execute(
        _UPSERT,
        {
            "a": user.agency_id,
            "mark": display_mark(data.registration_mark),
            "norm": normalise_mark(data.registration_mark),
            "h": digest,
            "make": data.make,
            "model": data.model,
            "colour": data.colour,
        },
    ).scalar_one_or_none()
    if vehicle_id is None:  # already there (committed before this statement, or just now)
        found = _own_by_mark(session, digest)
        assert found is not None, "a conflicting live vehicle must be visible once committed"
        return found
    fields = ["registration_mark", "make", "model", "colour"]
    add_version(session, user, "vehicle", vehicle_id, 1, "created", fields)
    audit.record(
        session,
        "vehicle.created",
        object_type="vehicle",
        object_ids=[vehicle_id],
        subject_agency_id=user.agency_id,
    )
    return vehicle_id


def create_vehicle(session: Session, user: Actor, hmac_key: str, data: VehicleIn) -> uuid.UUID:
    """Insert the vehicle, or reuse this agency's record of the same mark. No match runs here:
    creating a vehicle says nothing about other agencies' records."""
    return _upsert_vehicle(session, user, data, mark_hmac(data.registration_mark, hmac_key))


# -- sightings and the match ----------------------------------------------------------------

_WINDOW_QUERIES = text(
    """
    SELECT vehicle_id,
           ceil(extract(epoch FROM max(at) + make_interval(secs => :window) - now()))::int
             AS frees_in
    FROM vehicle_match_query
    WHERE agency_id = :agency AND at > now() - make_interval(secs => :window)
      AND (CAST(:user AS uuid) IS NULL OR user_id = CAST(:user AS uuid))
    GROUP BY vehicle_id
    """
)


def check_match_limit(
    session: Session, user: Actor, settings: Settings, vehicle_id: uuid.UUID | None
) -> None:
    """Raise :class:`MatchLimitReached` if matching ``vehicle_id`` (None: a mark new to this
    agency) would exceed the user's or the agency's hourly limit. Writes nothing; the lock it
    takes is held until the caller's transaction ends, so the count stays true until the
    match is recorded."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:k, hashtext(CAST(:a AS text)))"),
        {"k": _LOCK_CLASS, "a": str(user.agency_id)},
    )
    window = WINDOW.total_seconds()
    for scope, who, limit in (
        ("user", user.id, settings.vehicle_match_per_user_hour),
        ("agency", None, settings.vehicle_match_per_agency_hour),
    ):
        rows = session.execute(
            _WINDOW_QUERIES, {"agency": user.agency_id, "user": who, "window": window}
        ).all()
        if vehicle_id in {r.vehicle_id for r in rows} or len(rows) < limit:
            continue
        # A place frees when enough marks have left the window: the (n - limit + 1)-th soonest.
        frees = sorted(r.frees_in for r in rows)
        raise MatchLimitReached(scope, limit, max(1, frees[len(rows) - limit]))


def match(session: Session, user: Actor, vehicle_id: uuid.UUID) -> list[dict[str, str]]:
    """Run the match for one of the agency's vehicles: the database records the query and
    notifies the matched agencies; the query is audited here, found or not."""
    rows = session.execute(
        text("SELECT agency_name, lead_contact FROM csmap_vehicle_match(:v) ORDER BY 1"),
        {"v": vehicle_id},
    ).all()
    # Which agencies matched is in the answer (and in their notices), not in the trail.
    audit.record(
        session,
        "vehicle.match_queried",
        object_type="vehicle",
        object_ids=[vehicle_id],
        subject_agency_id=user.agency_id,
        details={"count": len(rows)},
    )
    return [{"agency": name, "contact": contact} for name, contact in rows]


def save_sighting(
    session: Session, user: Actor, settings: Settings, data: SightingIn | ObservationIn
) -> tuple[uuid.UUID, list[dict[str, str]]]:
    """Save an observation of a vehicle (the agency's ``vehicle_id``, or a ``vehicle`` given
    inline, created or reused in the same transaction) and match it. The limit is checked
    before the first write; the caller commits."""
    inline: VehicleIn | None = getattr(data, "vehicle", None)
    if inline is not None and data.vehicle_id is not None:
        raise invalid("vehicle", "send either vehicle_id or vehicle (a new one), not both")
    digest = b""
    if inline is not None:
        digest = mark_hmac(inline.registration_mark, settings.secret("hmac_key"))
        vehicle_id = _own_by_mark(session, digest)
    elif data.vehicle_id is not None:
        check_refs_exist(session, {"vehicle_id": data.vehicle_id})
        vehicle_id = uuid.UUID(data.vehicle_id)
    else:
        raise invalid("vehicle_id", "choose a vehicle, or give a new one's details in vehicle")
    check_match_limit(session, user, settings, vehicle_id)
    if vehicle_id is None:
        assert inline is not None  # a mark new to the agency came inline
        vehicle_id = _upsert_vehicle(session, user, inline, digest)
    observation_id = create_observation(
        session, user, settings, data.model_copy(update={"vehicle_id": str(vehicle_id)})
    )
    return observation_id, match(session, user, vehicle_id)


# -- what the matched agency sees -------------------------------------------------------------


def matched_by(session: Session, vehicle_id: str) -> dict[str, Any]:
    """Who in other agencies matched this vehicle, and when (most recent first). RLS shows
    notices only to the matched agency's record readers."""
    rows = session.execute(
        text(
            "SELECT from_agency_name, from_user_name, from_role, at,"
            " count(*) OVER () AS total FROM vehicle_match_notice"
            " WHERE vehicle_id = CAST(:v AS uuid) ORDER BY at DESC, id DESC LIMIT :n"
        ),
        {"v": vehicle_id, "n": MAX_NOTICES},
    ).all()
    return {
        "matched_by": [
            {"agency": r[0], "user": r[1], "role": r[2], "at": r[3].isoformat()} for r in rows
        ],
        "matched_by_total": rows[0].total if rows else 0,
    }


def notice_counts(session: Session) -> dict[str, int]:
    """Notices per vehicle of the user's agency (RLS), for the list of vehicles."""
    rows = session.execute(
        text("SELECT vehicle_id, count(*) FROM vehicle_match_notice GROUP BY vehicle_id")
    )
    return {str(v): int(n) for v, n in rows}
