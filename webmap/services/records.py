"""Reading an agency's own records at full detail (tier A), audited in the same transaction.

Row-level security already limits the rows to the user's agency; the policy check here is the
first guard and must agree with it. Anything outside scope is reported exactly like something
that does not exist.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap import audit
from webmap.auth.session import CurrentUser
from webmap.errors import ApiError
from webmap.policy import relation

NOT_FOUND = ApiError(404, "not_found", "There is no such record, or you cannot see it.")

_CONTEXT_FEATURES = """
SELECT json_build_object('type', 'FeatureCollection', 'features',
         coalesce(json_agg(json_build_object(
           'type', 'Feature', 'id', c.id,
           'geometry', ST_AsGeoJSON(c.geom, 6)::json,
           'properties', json_build_object(
              'kind', c.kind, 'name', c.name, 'public_place', c.public_place,
              'status', c.status, 'features', c.features, 'operator', c.operator,
              'route_name', c.route_name, 'version', c.version))
         ORDER BY c.kind, c.name), '[]'::json))::text,
       coalesce(array_agg(c.id::text), '{{}}')
FROM context c
WHERE c.agency_id = :agency AND c.deleted_at IS NULL {extra}
"""


def _parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NOT_FOUND from None


def list_contexts(session: Session, user: CurrentUser) -> str:
    """The user's agency's contexts as GeoJSON text."""
    body, ids = session.execute(
        text(_CONTEXT_FEATURES.format(extra="")), {"agency": user.agency_id}
    ).one()
    audit.record(
        session,
        "context.list",
        object_type="context",
        object_ids=ids,
        subject_agency_id=user.agency_id,
        details={"count": len(ids)},
    )
    session.commit()
    return str(body)


def _owner(session: Session, table: str, object_id: uuid.UUID) -> uuid.UUID | None:
    # RLS hides other agencies' rows, so "not yours" and "not there" look the same here too.
    owner: uuid.UUID | None = session.execute(
        text(f"SELECT agency_id FROM {table} WHERE id = :id AND deleted_at IS NULL"),  # noqa: S608
        {"id": object_id},
    ).scalar_one_or_none()
    return owner


def _check_scope(
    session: Session, user: CurrentUser, owner: uuid.UUID | None, scope: frozenset[str]
) -> uuid.UUID:
    if owner is None or relation(session, user.agency_id, owner) not in scope:
        raise NOT_FOUND
    return owner


def get_context(session: Session, user: CurrentUser, raw_id: str, scope: frozenset[str]) -> str:
    object_id = _parse_id(raw_id)
    owner = _check_scope(session, user, _owner(session, "context", object_id), scope)
    body, _ = session.execute(
        text(_CONTEXT_FEATURES.format(extra="AND c.id = :id")), {"agency": owner, "id": object_id}
    ).one()
    audit.record(
        session,
        "context.read",
        object_type="context",
        object_ids=[object_id],
        subject_agency_id=owner,
    )
    session.commit()
    feature = json.loads(body)["features"][0]
    return json.dumps(feature)


_OBSERVATION = """
SELECT o.id, o.occurred_at, o.category, o.note, o.context_id, o.vehicle_id,
       o.young_person_refs, o.source_grade, o.info_grade, o.version,
       ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat
FROM observation o
WHERE o.agency_id = :agency AND o.deleted_at IS NULL {extra}
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
        },
    }


def list_observations(
    session: Session, user: CurrentUser, page: int, per_page: int = 100
) -> dict[str, Any]:
    rows = (
        session.execute(
            text(_OBSERVATION.format(extra="")),
            {"agency": user.agency_id, "limit": per_page, "offset": (page - 1) * per_page},
        )
        .mappings()
        .all()
    )
    ids = [r["id"] for r in rows]
    audit.record(
        session,
        "observation.list",
        object_type="observation",
        object_ids=ids,
        subject_agency_id=user.agency_id,
        details={"count": len(ids), "page": page},
    )
    session.commit()
    return {
        "type": "FeatureCollection",
        "features": [_observation_json(r) for r in rows],
        "page": page,
        "per_page": per_page,
    }


def get_observation(
    session: Session, user: CurrentUser, raw_id: str, scope: frozenset[str]
) -> dict[str, Any]:
    object_id = _parse_id(raw_id)
    owner = _check_scope(session, user, _owner(session, "observation", object_id), scope)
    row = (
        session.execute(
            text(_OBSERVATION.format(extra="AND o.id = :id")),
            {"agency": owner, "id": object_id, "limit": 1, "offset": 0},
        )
        .mappings()
        .one()
    )
    audit.record(
        session,
        "observation.read",
        object_type="observation",
        object_ids=[object_id],
        subject_agency_id=owner,
    )
    session.commit()
    return _observation_json(row)
