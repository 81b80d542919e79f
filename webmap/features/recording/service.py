"""Recording and changing an agency's own records: contexts, observations and sightings.

One pattern for every kind: validate (model → database checks → geometry), write the row and a
version entry and an audit entry in one transaction. The caller commits, so a failure at any
step leaves nothing half-written. Updates carry the version the user saw; a stale one is a
409, never a silent overwrite. Deletion is soft and keeps its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.cells import cell_keys
from spatial.geometry_checks import GeometryProblem, check_geometry
from webmap.access.actor import Actor
from webmap.config import Settings
from webmap.features.recording.queries import NOT_FOUND, parse_id
from webmap.features.recording.schemas import CONTEXT_GEOMETRY, ContextFields, ObservationFields
from webmap.infra import audit
from webmap.infra.errors import Conflict, DomainError, Invalid

REDACTED = "[redacted]"
OBSERVATION_COLUMNS = (
    "occurred_at",
    "category",
    "note",
    "context_id",
    "young_person_refs",
    "source_grade",
    "info_grade",
    "vehicle_id",
)
CONTEXT_COLUMNS = (
    "kind",
    "name",
    "public_place",
    "features",
    "status",
    "last_confirmed",
    "operator",
    "route_name",
)
TABLES = {"observation": "observation", "context": "context", "vehicle": "vehicle"}


def invalid(field: str, problem: str) -> DomainError:
    return Invalid(f"{field}: {problem}", {field: problem})


def _geometry(raw: Any, allowed: tuple[str, ...], settings: Settings, repair: bool) -> BaseGeometry:
    try:
        return check_geometry(raw, allowed, settings.service_area, repair=repair)
    except GeometryProblem as problem:
        raise invalid("geometry", str(problem)) from None


def _exists(session: Session, sql: str, value: Any) -> bool:
    return bool(session.execute(text(sql), {"v": value}).scalar())


def check_refs_exist(session: Session, values: Mapping[str, Any]) -> None:
    """Category known; context and vehicle are this agency's (RLS shows no others)."""
    if "category" in values and not _exists(
        session,
        "SELECT EXISTS (SELECT 1 FROM category WHERE code = :v AND active)",
        values["category"],
    ):
        raise invalid("category", f"'{values['category']}' is not a known category")
    for field, table in (("context_id", "context"), ("vehicle_id", "vehicle")):
        raw = values.get(field)
        if raw is None:
            continue
        try:
            values = {**values, field: uuid.UUID(str(raw))}
        except ValueError:
            raise invalid(field, "is not an id") from None
        if not _exists(
            session,
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = :v AND deleted_at IS NULL)",  # noqa: S608
            values[field],
        ):
            raise invalid(field, f"there is no such {table} in your agency's records")


def _check_features(session: Session, features: list[str] | None) -> None:
    if not features:
        return
    known = set(session.execute(text("SELECT code FROM place_feature WHERE active")).scalars())
    unknown = sorted(set(features) - known)
    if unknown:
        raise invalid("features", f"unknown place features: {', '.join(unknown)}")


def add_version(
    session: Session,
    user: Actor,
    object_type: str,
    object_id: uuid.UUID,
    version: int,
    action: str,
    fields: list[str],
) -> None:
    session.execute(
        text(
            "INSERT INTO record_version (object_type, object_id, agency_id, version, action,"
            " changed_fields, changed_by) VALUES (:t, :id, :a, :v, :action, :f, :u)"
        ),
        {
            "t": object_type,
            "id": object_id,
            "a": user.agency_id,
            "v": version,
            "action": action,
            "f": fields,
            "u": user.id,
        },
    )


def _geom_values(geom: BaseGeometry | None) -> dict[str, Any]:
    return {} if geom is None else {"geom": geom.wkt}


def _cells(geom: BaseGeometry) -> dict[str, int]:
    keys = cell_keys([geom.x], [geom.y])  # type: ignore[attr-defined]
    return {f"cell_r{r}": int(k[0]) for r, k in keys.items()}


def _insert(session: Session, table: str, values: Mapping[str, Any]) -> uuid.UUID:
    cols = list(values)
    placeholders = ["ST_GeomFromText(:geom, 4326)" if c == "geom" else f":{c}" for c in cols]
    new_id: uuid.UUID = session.execute(
        text(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(placeholders)})"  # noqa: S608
            " RETURNING id"
        ),
        dict(values),
    ).scalar_one()
    return new_id


def _update(
    session: Session, table: str, object_id: uuid.UUID, expected: int, values: Mapping[str, Any]
) -> int:
    """Apply ``values`` if the row is still at version ``expected``; return the new version."""
    sets = [
        ("geom = ST_GeomFromText(:geom, 4326)" if c == "geom" else f"{c} = :{c}") for c in values
    ]
    sets += ["version = version + 1", "updated_at = now()"]
    new_version = session.execute(
        text(
            f"UPDATE {table} SET {', '.join(sets)} WHERE id = :id AND version = :expected"  # noqa: S608
            " AND deleted_at IS NULL RETURNING version"
        ),
        {**values, "id": object_id, "expected": expected},
    ).scalar_one_or_none()
    if new_version is None:
        current = session.execute(
            text(f"SELECT version FROM {table} WHERE id = :id AND deleted_at IS NULL"),  # noqa: S608
            {"id": object_id},
        ).scalar_one_or_none()
        if current is None:
            raise NOT_FOUND
        raise Conflict(
            f"This record changed since you read it (now version {current}, you had "
            f"{expected}). Reload it and make your change again."
        )
    return int(new_version)


def _apply_update(
    session: Session,
    user: Actor,
    object_type: str,
    object_id: uuid.UUID,
    expected: int,
    changes: dict[str, Any],
    fields: list[str],
) -> uuid.UUID:
    """The one way a record changes: version check, version row, audit entry."""
    if not changes:
        raise Invalid("Nothing to change: send at least one field.")
    version = _update(session, TABLES[object_type], object_id, expected, changes)
    add_version(session, user, object_type, object_id, version, "updated", fields)
    audit.record(
        session,
        f"{object_type}.updated",
        object_type=object_type,
        object_ids=[object_id],
        subject_agency_id=user.agency_id,
        details={"changed": fields},
    )
    return object_id


# -- observations and sightings -----------------------------------------------------------


def create_observation(
    session: Session, user: Actor, settings: Settings, data: ObservationFields
) -> uuid.UUID:
    values = data.model_dump(include=set(OBSERVATION_COLUMNS), exclude_none=True)
    check_refs_exist(session, values)
    geom = _geometry(data.geometry, ("Point",), settings, repair=False)
    row = {
        **values,
        "agency_id": user.agency_id,
        "recorded_by": user.id,
        **_geom_values(geom),
        **_cells(geom),
    }
    new_id = _insert(session, "observation", row)
    add_version(session, user, "observation", new_id, 1, "created", [*sorted(values), "geometry"])
    audit.record(
        session,
        "observation.created",
        object_type="observation",
        object_ids=[new_id],
        subject_agency_id=user.agency_id,
        details={"via": "sighting" if values.get("vehicle_id") else "observation"},
    )
    return new_id


def update_observation(
    session: Session,
    user: Actor,
    settings: Settings,
    raw_id: str,
    expected: int,
    patch: ObservationFields,
) -> uuid.UUID:
    object_id = parse_id(raw_id)
    values = patch.model_dump(include=set(OBSERVATION_COLUMNS), exclude_unset=True)
    for field in (
        "occurred_at",
        "category",
        "source_grade",
        "info_grade",
        "note",
        "young_person_refs",
    ):
        if field in values and values[field] is None:
            raise invalid(field, "cannot be empty")
    check_refs_exist(session, values)
    changes: dict[str, Any] = dict(values)
    if patch.geometry is not None:
        geom = _geometry(patch.geometry, ("Point",), settings, repair=False)
        changes.update(_geom_values(geom), **_cells(geom))
    if "note" in changes:
        _keep_old_note(session, user, object_id, "edited")
    fields = sorted(set(values) | ({"geometry"} if patch.geometry is not None else set()))
    return _apply_update(session, user, "observation", object_id, expected, changes, fields)


def _keep_old_note(session: Session, user: Actor, object_id: uuid.UUID, reason: str) -> None:
    session.execute(
        text(
            "INSERT INTO note_history (observation_id, agency_id, version, note, reason,"
            " changed_by) SELECT id, agency_id, version, note, :reason, :u FROM observation"
            " WHERE id = :id AND note <> ''"
        ),
        {"id": object_id, "reason": reason, "u": user.id},
    )


def redact_note(
    session: Session, user: Actor, raw_id: str, expected: int, fragment: str
) -> uuid.UUID:
    """Replace ``fragment`` in the note with a marker; the original goes to note_history,
    which only the owning agency's admins can read."""
    object_id = parse_id(raw_id)
    note = session.execute(
        text("SELECT note FROM observation WHERE id = :id AND deleted_at IS NULL"),
        {"id": object_id},
    ).scalar_one_or_none()
    if note is None:
        raise NOT_FOUND
    if fragment not in note:
        raise invalid("text", "does not occur in the note")
    _keep_old_note(session, user, object_id, "redacted")
    version = _update(
        session, "observation", object_id, expected, {"note": note.replace(fragment, REDACTED)}
    )
    add_version(session, user, "observation", object_id, version, "note_redacted", ["note"])
    audit.record(
        session,
        "observation.note_redacted",
        object_type="observation",
        object_ids=[object_id],
        subject_agency_id=user.agency_id,
    )
    return object_id


# -- contexts -------------------------------------------------------------------------------


def create_context(
    session: Session, user: Actor, settings: Settings, data: ContextFields, repair: bool
) -> uuid.UUID:
    values = data.model_dump(include=set(CONTEXT_COLUMNS), exclude_none=True)
    _check_features(session, data.features)
    geom = _geometry(data.geometry, CONTEXT_GEOMETRY[str(data.kind)], settings, repair)
    new_id = _insert(
        session,
        "context",
        {**values, "agency_id": user.agency_id, "created_by": user.id, **_geom_values(geom)},
    )
    add_version(session, user, "context", new_id, 1, "created", [*sorted(values), "geometry"])
    audit.record(
        session,
        "context.created",
        object_type="context",
        object_ids=[new_id],
        subject_agency_id=user.agency_id,
    )
    return new_id


def update_context(
    session: Session,
    user: Actor,
    settings: Settings,
    raw_id: str,
    expected: int,
    patch: ContextFields,
    repair: bool,
) -> uuid.UUID:
    object_id = parse_id(raw_id)
    values = patch.model_dump(include=set(CONTEXT_COLUMNS), exclude_unset=True)
    for field in ("kind", "name", "public_place", "features", "status"):
        if field in values and values[field] is None:
            raise invalid(field, "cannot be empty")
    _check_features(session, values.get("features"))
    kind = (
        values.get("kind")
        or session.execute(
            text("SELECT kind::text FROM context WHERE id = :id"), {"id": object_id}
        ).scalar_one_or_none()
    )
    if kind is None:
        raise NOT_FOUND
    changes: dict[str, Any] = dict(values)
    if patch.geometry is not None:
        changes.update(
            _geom_values(_geometry(patch.geometry, CONTEXT_GEOMETRY[kind], settings, repair))
        )
    elif "kind" in values:
        current = session.execute(
            text("SELECT GeometryType(geom) FROM context WHERE id = :id"), {"id": object_id}
        ).scalar_one()
        if current.title().replace("string", "String") not in CONTEXT_GEOMETRY[kind]:
            raise invalid("kind", f"a {kind} cannot have a {current.lower()} geometry")
    fields = sorted(set(values) | ({"geometry"} if patch.geometry is not None else set()))
    return _apply_update(session, user, "context", object_id, expected, changes, fields)


# -- shared ---------------------------------------------------------------------------------


def soft_delete(
    session: Session, user: Actor, object_type: str, raw_id: str, expected: int, reason: str
) -> uuid.UUID:
    object_id = parse_id(raw_id)
    table = TABLES[object_type]
    version = _update(session, table, object_id, expected, {"deleted_reason": reason})
    session.execute(
        text(f"UPDATE {table} SET deleted_at = now() WHERE id = :id"),  # noqa: S608
        {"id": object_id},
    )
    add_version(session, user, object_type, object_id, version, "deleted", ["deleted"])
    audit.record(
        session,
        f"{object_type}.deleted",
        object_type=object_type,
        object_ids=[object_id],
        subject_agency_id=user.agency_id,
        justification=reason,
    )
    return object_id
