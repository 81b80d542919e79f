"""Reading an agency's own records at full detail (tier A), audited in the same transaction.

Row-level security already limits the rows to the user's agency; the policy check here is the
first guard and must agree with it. Anything outside scope is reported exactly like something
that does not exist.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.vehicles import display_mark
from webmap.access.actor import Actor
from webmap.access.policy import relation
from webmap.infra import audit
from webmap.infra.errors import Invalid, NotFound

NOT_FOUND = NotFound("There is no such record, or you cannot see it.")
MAX_PER_PAGE = 200


def parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NOT_FOUND from None


@dataclass(frozen=True)
class Filters:
    """List filters; built and checked by :func:`parse_filters`."""

    bbox: tuple[float, float, float, float] | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None
    sightings_only: bool = False
    page: int = 1
    per_page: int = 50


def parse_filters(args: Any, sightings_only: bool = False) -> Filters:
    """Query-string filters → :class:`Filters`, or a 422 naming the bad parameter."""
    problems: dict[str, str] = {}
    bbox = None
    if args.get("bbox"):
        try:
            parts = tuple(float(p) for p in args["bbox"].split(","))
            if len(parts) != 4 or not (parts[0] < parts[2] and parts[1] < parts[3]):
                raise ValueError
            bbox = (parts[0], parts[1], parts[2], parts[3])
        except ValueError:
            problems["bbox"] = "must be min_lon,min_lat,max_lon,max_lat with min < max"
    dates: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = args.get(name)
        try:
            dates[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            problems[name] = "must be a date, YYYY-MM-DD"
    page, per_page = 1, 50
    for name, low, high in (("page", 1, 100_000), ("per_page", 1, MAX_PER_PAGE)):
        raw = args.get(name)
        if raw is None:
            continue
        if not str(raw).isdigit() or not low <= int(raw) <= high:
            problems[name] = f"must be a whole number from {low} to {high}"
        elif name == "page":
            page = int(raw)
        else:
            per_page = int(raw)
    if problems:
        first = next(iter(problems))
        raise Invalid(f"{first}: {problems[first]}", problems)
    return Filters(
        bbox,
        dates.get("from"),
        dates.get("to"),
        args.get("category") or None,
        sightings_only,
        page,
        per_page,
    )


# -- observations -----------------------------------------------------------------------------

_OBSERVATIONS = """
SELECT o.id, o.occurred_at, o.category, o.note, o.context_id, o.vehicle_id,
       o.young_person_refs, o.source_grade, o.info_grade, o.version, o.created_at,
       o.updated_at, o.recorded_by, ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat,
       count(*) OVER () AS total
FROM observation o
WHERE o.agency_id = :agency AND o.deleted_at IS NULL
  AND (CAST(:id AS uuid) IS NULL OR o.id = CAST(:id AS uuid))
  AND (CAST(:min_lon AS float8) IS NULL OR o.geom && ST_MakeEnvelope(:min_lon, :min_lat,
                                                                    :max_lon, :max_lat, 4326))
  AND (CAST(:date_from AS date) IS NULL
       OR o.occurred_at >= CAST(:date_from AS date)::timestamp AT TIME ZONE 'Europe/London')
  AND (CAST(:date_to AS date) IS NULL
       OR o.occurred_at < (CAST(:date_to AS date) + 1)::timestamp AT TIME ZONE 'Europe/London')
  AND (CAST(:category AS text) IS NULL OR o.category = :category)
  AND (NOT :sightings OR o.vehicle_id IS NOT NULL)
ORDER BY o.occurred_at DESC, o.id
LIMIT :limit OFFSET :offset
"""


def _observation_json(row: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(row["id"]),
        "geometry": {"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]},
        "properties": {
            "occurred_at": row["occurred_at"].isoformat(),
            "category": row["category"],
            "note": row["note"],
            "context_id": str(row["context_id"]) if row["context_id"] else None,
            "vehicle_id": str(row["vehicle_id"]) if row["vehicle_id"] else None,
            "young_person_refs": list(row["young_person_refs"]),
            "source_grade": row["source_grade"],
            "info_grade": row["info_grade"],
            "version": row["version"],
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
            "recorded_by_name": row.get("recorded_by_name"),
        },
    }


def _query_observations(
    session: Session, agency: uuid.UUID, f: Filters, object_id: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    bbox = f.bbox or (None, None, None, None)
    rows = (
        session.execute(
            text(_OBSERVATIONS),
            {
                "agency": agency,
                "id": object_id,
                "min_lon": bbox[0],
                "min_lat": bbox[1],
                "max_lon": bbox[2],
                "max_lat": bbox[3],
                "date_from": f.date_from,
                "date_to": f.date_to,
                "category": f.category,
                "sightings": f.sightings_only,
                "limit": f.per_page,
                "offset": (f.page - 1) * f.per_page,
            },
        )
        .mappings()
        .all()
    )
    names = colleague_names(session, [r["recorded_by"] for r in rows if r["recorded_by"]])
    return [{**r, "recorded_by_name": names.get(r["recorded_by"])} for r in rows]


def colleague_names(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(
        text("SELECT id, display_name FROM colleague_names(:ids)"), {"ids": list(set(ids))}
    )
    return {r[0]: r[1] for r in rows}


def fetch_observation(session: Session, agency: uuid.UUID, object_id: uuid.UUID) -> dict[str, Any]:
    rows = _query_observations(session, agency, Filters(per_page=1), object_id)
    if not rows:
        raise NOT_FOUND
    return _observation_json(rows[0])


def list_observations(
    session: Session, user: Actor, f: Filters, reads: Session | None = None
) -> dict[str, Any]:
    """The agency's observations, a page at a time, read from ``reads`` (a standby's session,
    see webmap/infra/reads.py) when given; audited on ``session``."""
    rows = _query_observations(reads or session, user.agency_id, f)
    ids = [r["id"] for r in rows]
    audit.record(
        session,
        "observation.list",
        object_type="observation",
        object_ids=ids,
        subject_agency_id=user.agency_id,
        details={
            "count": len(ids),
            "page": f.page,
            "filters": sorted(
                k for k in ("bbox", "date_from", "date_to", "category") if getattr(f, k)
            ),
        },
    )
    return {
        "type": "FeatureCollection",
        "features": [_observation_json(r) for r in rows],
        "page": f.page,
        "per_page": f.per_page,
        "total": rows[0]["total"] if rows else 0,
    }


def _owner(session: Session, table: str, object_id: uuid.UUID) -> uuid.UUID | None:
    # RLS hides other agencies' rows, so "not yours" and "not there" look the same here too.
    owner: uuid.UUID | None = session.execute(
        text(f"SELECT agency_id FROM {table} WHERE id = :id AND deleted_at IS NULL"),  # noqa: S608
        {"id": object_id},
    ).scalar_one_or_none()
    return owner


def check_scope(
    session: Session, user: Actor, table: str, raw_id: str, scope: frozenset[str]
) -> tuple[uuid.UUID, uuid.UUID]:
    """(object id, owning agency) if the object is within scope; else the 404."""
    object_id = parse_id(raw_id)
    owner = _owner(session, table, object_id)
    if owner is None or relation(session, user.agency_id, owner) not in scope:
        raise NOT_FOUND
    return object_id, owner


# -- contexts -----------------------------------------------------------------------------------

_CONTEXT_FEATURES = """
SELECT json_build_object('type', 'FeatureCollection', 'features',
         coalesce(json_agg(json_build_object(
           'type', 'Feature', 'id', c.id,
           'geometry', ST_AsGeoJSON(c.geom, 6)::json,
           'properties', json_build_object(
              'kind', c.kind, 'name', c.name, 'public_place', c.public_place,
              'status', c.status, 'features', c.features, 'operator', c.operator,
              'route_name', c.route_name, 'last_confirmed', c.last_confirmed,
              'version', c.version, 'created_at', c.created_at, 'updated_at', c.updated_at))
         ORDER BY c.kind, c.name), '[]'::json))::text,
       coalesce(array_agg(c.id::text), '{}')
FROM context c
WHERE c.agency_id = :agency AND c.deleted_at IS NULL
  AND (CAST(:id AS uuid) IS NULL OR c.id = CAST(:id AS uuid))
"""


def fetch_context(session: Session, agency: uuid.UUID, object_id: uuid.UUID) -> dict[str, Any]:
    body, _ = session.execute(text(_CONTEXT_FEATURES), {"agency": agency, "id": object_id}).one()
    features = json.loads(body)["features"]
    if not features:
        raise NOT_FOUND
    feature: dict[str, Any] = features[0]
    return feature


def list_contexts(session: Session, user: Actor, reads: Session | None = None) -> str:
    """The user's agency's contexts as GeoJSON text (read from ``reads`` when given)."""
    body, ids = (
        (reads or session)
        .execute(text(_CONTEXT_FEATURES), {"agency": user.agency_id, "id": None})
        .one()
    )
    audit.record(
        session,
        "context.list",
        object_type="context",
        object_ids=ids,
        subject_agency_id=user.agency_id,
        details={"count": len(ids)},
    )
    return str(body)


# -- vehicles -----------------------------------------------------------------------------------

_VEHICLES = """
SELECT v.id, v.registration_mark, v.make, v.model, v.colour, v.version, v.created_at,
       (SELECT count(*) FROM observation o WHERE o.vehicle_id = v.id AND o.deleted_at IS NULL)
         AS sightings
FROM vehicle v
WHERE v.agency_id = :agency AND v.deleted_at IS NULL
  AND (CAST(:id AS uuid) IS NULL OR v.id = CAST(:id AS uuid))
ORDER BY v.registration_normalised
"""


def _vehicle_json(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "registration_mark": display_mark(row["registration_mark"]),
        "make": row["make"],
        "model": row["model"],
        "colour": row["colour"],
        "version": row["version"],
        "sightings": row["sightings"],
        "created_at": row["created_at"].isoformat(),
    }


def fetch_vehicle(session: Session, agency: uuid.UUID, object_id: uuid.UUID) -> dict[str, Any]:
    row = session.execute(text(_VEHICLES), {"agency": agency, "id": object_id}).mappings().first()
    if row is None:
        raise NOT_FOUND
    return _vehicle_json(row)


def list_vehicles(session: Session, user: Actor) -> list[dict[str, Any]]:
    rows = session.execute(text(_VEHICLES), {"agency": user.agency_id, "id": None}).mappings()
    vehicles = [_vehicle_json(r) for r in rows]
    audit.record(
        session,
        "vehicle.list",
        object_type="vehicle",
        object_ids=[v["id"] for v in vehicles],
        subject_agency_id=user.agency_id,
        details={"count": len(vehicles)},
    )
    return vehicles


FETCHERS = {"observation": fetch_observation, "context": fetch_context, "vehicle": fetch_vehicle}


def get_record(
    session: Session, user: Actor, object_type: str, raw_id: str, scope: frozenset[str]
) -> dict[str, Any]:
    """One record at full detail if it is within scope (else the 404), read and audited."""
    object_id, owner = check_scope(session, user, object_type, raw_id, scope)
    body = FETCHERS[object_type](session, owner, object_id)
    audit.record(
        session,
        f"{object_type}.read",
        object_type=object_type,
        object_ids=[object_id],
        subject_agency_id=owner,
    )
    return body


def home_bounds(session: Session, agency: uuid.UUID) -> list[float] | None:
    """[min lon, min lat, max lon, max lat] of the agency's jurisdiction (its areas, from any
    boundary set): where the recording map opens for someone who has not used it here yet.
    None when the agency has no jurisdiction recorded."""
    row = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(a.geom)"
            " AS e FROM agency_jurisdiction j JOIN area a ON a.id = j.area_id"
            " WHERE j.agency_id = :a) x"
        ),
        {"a": agency},
    ).one()
    return None if row[0] is None else [round(float(v), 6) for v in row]
