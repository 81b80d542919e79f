"""The recording API under /api/v1: contexts, observations, sightings, vehicles.

Views parse and authorise, call a service, and answer; the services do the work. Creates take
an ``Idempotency-Key``; updates and deletes need ``If-Match`` with the version last read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from pydantic import BaseModel

from spatial.vocabulary import CONTEXT_KINDS, CONTEXT_STATUSES, INFORMATION_GRADES, SOURCE_GRADES
from webmap.access.policy import permission
from webmap.access.session import actor
from webmap.features.recording import queries as records
from webmap.features.recording import service as recording
from webmap.features.recording import vehicles, versions
from webmap.features.recording.schemas import (
    CONTEXT_GEOMETRY,
    ContextIn,
    ContextPatch,
    DeleteIn,
    ObservationIn,
    ObservationPatch,
    RedactIn,
    SightingIn,
    SightingOut,
    VehicleIn,
    VehicleList,
    VehicleOut,
)
from webmap.features.reference import queries as reference
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import Invalid, PreconditionRequired
from webmap.infra.reads import read_session
from webmap.infra.validation import validated
from webmap.web.context import get_settings
from webmap.web.idempotency import create_once
from webmap.web.openapi import DATE, GEOJSON, documented, query

bp = Blueprint("records", __name__, url_prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')
_FILTERS = [
    query("bbox", {"type": "string"}, "min_lon,min_lat,max_lon,max_lat"),
    query("from", DATE, "Occurred on or after, YYYY-MM-DD."),
    query("to", DATE, "Occurred on or before, YYYY-MM-DD."),
    query("category", {"type": "string"}, "One category's code."),
    query("page", {"type": "integer", "minimum": 1, "maximum": 100_000}, "From 1."),
    query("per_page", {"type": "integer", "minimum": 1, "maximum": records.MAX_PER_PAGE}, ""),
]
_REPAIR = [
    query(
        "repair",
        {"type": "string"},
        "1, true or yes: repair a self-intersecting area instead of refusing it (anything "
        "else: refuse it).",
    )
]
_FEATURE = {"$ref": "#/components/schemas/Feature"}
_COLLECTION = {"$ref": "#/components/schemas/FeatureCollection"}


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object, else a 422."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(
            "The body must be a JSON object (Content-Type: application/json).",
            {"body": "must be a JSON object"},
        )
    return data


def parse_body(model: type[M]) -> M:
    """The JSON body as ``model``, or a 422 naming each bad field."""
    return validated(model, json_object())


def expected_version() -> int:
    raw = request.headers.get("If-Match")
    if raw is None:
        raise PreconditionRequired("Send If-Match with the version you last read (its ETag).")
    match = _ETAG.match(raw.strip())
    if not match:
        raise Invalid(
            'If-Match must be a version number such as "3".',
            {"If-Match": "must be a version number"},
        )
    return int(match.group(1))


def _feature(feature: dict[str, Any], status: int = 200) -> Response:
    resp = jsonify(feature)
    resp.status_code = status
    resp.mimetype = GEOJSON
    resp.headers["ETag"] = f'"{feature["properties"]["version"]}"'
    return resp


def _repair() -> bool:
    return request.args.get("repair", "").lower() in {"1", "true", "yes"}


# -- vocabulary -------------------------------------------------------------------------------


@bp.get("/categories")
@permission("reference", "read")
@unit_of_work
def categories(scope: frozenset[str]) -> Response:
    rows = reference.vocabulary(get_session(), "category")
    return jsonify({"categories": [{"code": c, "label": label} for c, label in rows]})


@bp.get("/place-features")
@permission("reference", "read")
@unit_of_work
def place_features(scope: frozenset[str]) -> Response:
    rows = reference.vocabulary(get_session(), "place_feature")
    return jsonify({"place_features": [{"code": c, "label": label} for c, label in rows]})


@bp.get("/vocabulary")
@permission("reference", "read")
@unit_of_work
def vocabulary(scope: frozenset[str]) -> Response:
    return jsonify(
        {
            "context_kinds": [
                {"code": k, "label": label, "geometry": list(CONTEXT_GEOMETRY[k])}
                for k, label in CONTEXT_KINDS.items()
            ],
            "context_statuses": list(CONTEXT_STATUSES),
            "source_grades": list(SOURCE_GRADES),
            "info_grades": list(INFORMATION_GRADES),
        }
    )


# -- observations and sightings ---------------------------------------------------------------


@bp.get("/observations")
@documented(response=("200", _COLLECTION), query=_FILTERS)
@permission("observation", "read")
@unit_of_work
def observations(scope: frozenset[str]) -> Response:
    f = records.parse_filters(request.args)
    return jsonify(records.list_observations(get_session(), actor(), f, read_session()))


@bp.get("/sightings")
@documented(response=("200", _COLLECTION), query=_FILTERS)
@permission("observation", "read")
@unit_of_work
def sightings(scope: frozenset[str]) -> Response:
    f = records.parse_filters(request.args, sightings_only=True)
    return jsonify(records.list_observations(get_session(), actor(), f, read_session()))


def _create_observation(data: ObservationIn | SightingIn) -> Response:
    """An observation; one of a vehicle is a sighting, which runs the (limited) match."""
    db = get_session()
    sighting = data.vehicle_id is not None or isinstance(data, SightingIn)

    def make() -> tuple[dict[str, Any], int]:
        if not sighting:
            new_id = recording.create_observation(db, actor(), get_settings(), data)
            return records.fetch_observation(db, current_user.agency_id, new_id), 201
        new_id, matches = vehicles.save_sighting(db, actor(), get_settings(), data)
        feature = records.fetch_observation(db, current_user.agency_id, new_id)
        return {**feature, "also_reported_by": matches}, 201

    return create_once(db, make)


@bp.post("/observations")
@documented(body=ObservationIn, response=("201", _FEATURE), too_many=True)
@permission("observation", "create")
@unit_of_work
def observation_create(scope: frozenset[str]) -> Response:
    return _create_observation(parse_body(ObservationIn))


@bp.post("/sightings")
@documented(body=SightingIn, response=("201", SightingOut), too_many=True)
@permission("observation", "create")
@unit_of_work
def sighting_create(scope: frozenset[str]) -> Response:
    data = parse_body(SightingIn)
    return _create_observation(data.model_copy(update={"category": "vehicle_of_interest"}))


@bp.get("/observations/<observation_id>")
@documented(response=("200", _FEATURE), media=GEOJSON)
@permission("observation", "read")
@unit_of_work
def observation(observation_id: str, scope: frozenset[str]) -> Response:
    return _feature(
        records.get_record(get_session(), actor(), "observation", observation_id, scope)
    )


@bp.patch("/observations/<observation_id>")
@documented(body=ObservationPatch, response=("200", _FEATURE), media=GEOJSON)
@permission("observation", "update")
@unit_of_work
def observation_update(observation_id: str, scope: frozenset[str]) -> Response:
    return _changed(
        "observation",
        observation_id,
        scope,
        lambda db, version: recording.update_observation(
            db, actor(), get_settings(), observation_id, version, parse_body(ObservationPatch)
        ),
    )


def _changed(
    object_type: str, raw_id: str, scope: frozenset[str], change: Callable[[Any, int], Any]
) -> Response:
    """Scope first (404), then the version (428/422), then the change; answer the new state."""
    db = get_session()
    records.check_scope(db, actor(), object_type, raw_id, scope)
    object_id = change(db, expected_version())
    feature = records.FETCHERS[object_type](db, current_user.agency_id, object_id)
    return _feature(feature)


@bp.post("/observations/<observation_id>/redact")
@documented(body=RedactIn, response=("200", _FEATURE), media=GEOJSON, errors=(409, 428))
@permission("observation", "moderate")
@unit_of_work
def observation_redact(observation_id: str, scope: frozenset[str]) -> Response:
    db = get_session()
    records.check_scope(db, actor(), "observation", observation_id, scope)
    version = expected_version()
    object_id = recording.redact_note(
        db, actor(), observation_id, version, parse_body(RedactIn).text
    )
    feature = records.fetch_observation(db, current_user.agency_id, object_id)
    return _feature(feature)


@bp.get("/observations/<observation_id>/note-history")
@permission("observation", "moderate")
@unit_of_work
def observation_note_history(observation_id: str, scope: frozenset[str]) -> Response:
    db = get_session()
    records.check_scope(db, actor(), "observation", observation_id, scope)
    notes = versions.note_history(db, actor(), observation_id)
    return jsonify({"notes": notes})


@bp.get("/observations/<observation_id>/history")
@permission("observation", "read")
@unit_of_work
def observation_history(observation_id: str, scope: frozenset[str]) -> Response:
    return _history("observation", observation_id, scope)


def _history(object_type: str, raw_id: str, scope: frozenset[str]) -> Response:
    db = get_session()
    records.check_scope(db, actor(), object_type, raw_id, scope)
    return jsonify({"versions": versions.history(db, actor(), object_type, raw_id)})


def _delete(object_type: str, raw_id: str, scope: frozenset[str]) -> Response:
    db = get_session()
    records.check_scope(db, actor(), object_type, raw_id, scope)
    version = expected_version()
    recording.soft_delete(db, actor(), object_type, raw_id, version, parse_body(DeleteIn).reason)
    return jsonify({"id": raw_id, "deleted": True})


@bp.delete("/observations/<observation_id>")
@documented(body=DeleteIn)
@permission("observation", "delete")
@unit_of_work
def observation_delete(observation_id: str, scope: frozenset[str]) -> Response:
    return _delete("observation", observation_id, scope)


# -- contexts -----------------------------------------------------------------------------------


@bp.get("/contexts")
@documented(media=GEOJSON)
@permission("context", "read")
@unit_of_work
def contexts(scope: frozenset[str]) -> Response:
    return Response(records.list_contexts(get_session(), actor(), read_session()), mimetype=GEOJSON)


@bp.post("/contexts")
@documented(body=ContextIn, response=("201", _FEATURE), query=_REPAIR)
@permission("context", "create")
@unit_of_work
def context_create(scope: frozenset[str]) -> Response:
    db = get_session()
    data = parse_body(ContextIn)

    def make() -> tuple[dict[str, Any], int]:
        new_id = recording.create_context(db, actor(), get_settings(), data, _repair())
        return records.fetch_context(db, current_user.agency_id, new_id), 201

    return create_once(db, make)


@bp.get("/contexts/<context_id>")
@documented(response=("200", _FEATURE), media=GEOJSON)
@permission("context", "read")
@unit_of_work
def context(context_id: str, scope: frozenset[str]) -> Response:
    return _feature(records.get_record(get_session(), actor(), "context", context_id, scope))


@bp.patch("/contexts/<context_id>")
@documented(body=ContextPatch, response=("200", _FEATURE), media=GEOJSON, query=_REPAIR)
@permission("context", "update")
@unit_of_work
def context_update(context_id: str, scope: frozenset[str]) -> Response:
    return _changed(
        "context",
        context_id,
        scope,
        lambda db, version: recording.update_context(
            db,
            actor(),
            get_settings(),
            context_id,
            version,
            parse_body(ContextPatch),
            _repair(),
        ),
    )


@bp.delete("/contexts/<context_id>")
@documented(body=DeleteIn)
@permission("context", "delete")
@unit_of_work
def context_delete(context_id: str, scope: frozenset[str]) -> Response:
    return _delete("context", context_id, scope)


@bp.get("/contexts/<context_id>/history")
@permission("context", "read")
@unit_of_work
def context_history(context_id: str, scope: frozenset[str]) -> Response:
    return _history("context", context_id, scope)


# -- vehicles -----------------------------------------------------------------------------------


@bp.get("/vehicles")
@documented(response=("200", VehicleList))
@permission("vehicle", "read")
@unit_of_work
def vehicle_list(scope: frozenset[str]) -> Response:
    db = get_session()
    listed = records.list_vehicles(db, actor())
    counts = vehicles.notice_counts(db)
    return jsonify(
        {"vehicles": [{**v, "matched_by_total": counts.get(v["id"], 0)} for v in listed]}
    )


@bp.post("/vehicles")
@documented(body=VehicleIn, response=("201", VehicleOut))
@permission("vehicle", "create")
@unit_of_work
def vehicle_create(scope: frozenset[str]) -> Response:
    """Records a vehicle without a sighting: no match runs (save a sighting for that)."""
    db = get_session()
    data = parse_body(VehicleIn)

    def make() -> tuple[dict[str, Any], int]:
        new_id = vehicles.create_vehicle(db, actor(), get_settings().secret("hmac_key"), data)
        return records.fetch_vehicle(db, current_user.agency_id, new_id), 201

    return create_once(db, make)


@bp.get("/vehicles/<vehicle_id>")
@documented(response=("200", VehicleOut))
@permission("vehicle", "read")
@unit_of_work
def vehicle(vehicle_id: str, scope: frozenset[str]) -> Response:
    """One vehicle, with who in other agencies has matched it and when."""
    db = get_session()
    body = records.get_record(db, actor(), "vehicle", vehicle_id, scope)
    # The notices are part of the record just read (and audited); RLS shows them to its
    # agency only, and the record itself was scope-checked above.
    return jsonify({**body, **vehicles.matched_by(db, body["id"])})
