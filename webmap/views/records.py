"""An agency's own records over the API (read side; recording arrives with issue 4)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from webmap.db import get_session
from webmap.errors import ApiError
from webmap.policy import permission
from webmap.services import records

bp = Blueprint("records", __name__, url_prefix="/api/v1")
GEOJSON = "application/geo+json"


@bp.get("/contexts")
@permission("context", "read")
def contexts(scope: frozenset[str]) -> Response:
    return Response(records.list_contexts(get_session(), current_user), mimetype=GEOJSON)


@bp.get("/contexts/<context_id>")
@permission("context", "read")
def context(context_id: str, scope: frozenset[str]) -> Response:
    body = records.get_context(get_session(), current_user, context_id, scope)
    return Response(body, mimetype=GEOJSON)


@bp.get("/observations")
@permission("observation", "read")
def observations(scope: frozenset[str]) -> Response:
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise ApiError(
            422,
            "invalid",
            "page: must be a whole number from 1",
            {"page": "must be a whole number from 1"},
        )
    return jsonify(records.list_observations(get_session(), current_user, int(page)))


@bp.get("/observations/<observation_id>")
@permission("observation", "read")
def observation(observation_id: str, scope: frozenset[str]) -> Response:
    return jsonify(records.get_observation(get_session(), current_user, observation_id, scope))
