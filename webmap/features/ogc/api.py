"""OGC API – Features at /ogc: the routes (the documents are built in the service).

GIS clients sign in with a personal access token (``Authorization: Bearer …``); a browser's
session works too. Every route answers in JSON (errors included), and lists only what the
user may see on the map.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask_login import current_user

from webmap.access.policy import permission
from webmap.access.session import actor
from webmap.features.ogc import service
from webmap.features.ogc.openapi import openapi as ogc_openapi
from webmap.infra.db import get_session, side_sessions, unit_of_work
from webmap.web.context import get_settings
from webmap.web.responder import returns_json

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


def _base() -> str:
    return url_for("ogc.landing", _external=True).rstrip("/")


def _json(body: dict[str, Any], mimetype: str = "application/json") -> Response:
    resp = jsonify(body)
    resp.mimetype = mimetype
    return resp


def _bounds() -> list[float]:
    return list(get_settings().service_area)


@bp.get("", strict_slashes=False)
@returns_json
@permission("ogc", "read")
@unit_of_work
def landing(scope: frozenset[str]) -> Response:
    """The landing page: links to the conformance classes, the API and the collections."""
    return _json(service.landing(_base()))


@bp.get("/conformance")
@returns_json
@permission("ogc", "read")
@unit_of_work
def conformance(scope: frozenset[str]) -> Response:
    return _json({"conformsTo": service.CONFORMANCE})


@bp.get("/api")
@returns_json
@permission("ogc", "read")
@unit_of_work
def api(scope: frozenset[str]) -> Response:
    """The OpenAPI 3.0 description of this OGC API."""
    return _json(ogc_openapi(_base()), "application/vnd.oai.openapi+json;version=3.0")


@bp.get("/collections")
@returns_json
@permission("ogc", "read")
@unit_of_work
def collections(scope: frozenset[str]) -> Response:
    base = _base()
    found = service.collections(get_session(), actor())
    return _json(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
            "collections": [service.collection_doc(base, c, _bounds()) for c in found],
        }
    )


@bp.get("/collections/<collection_id>")
@returns_json
@permission("ogc", "read")
@unit_of_work
def collection(scope: frozenset[str], collection_id: str) -> Response:
    c = service.collection(get_session(), actor(), collection_id)
    return _json(service.collection_doc(_base(), c, _bounds()))


@bp.get("/collections/<collection_id>/items")
@returns_json
@permission("ogc", "read")
@unit_of_work
def items(scope: frozenset[str], collection_id: str) -> Response:
    session = get_session()
    c = service.collection(session, actor(), collection_id)
    page, when = service.parse_page(request.args)
    total, features = service.items(
        session, actor(), c, page, when, side_sessions(), current_user.agency_name
    )
    body = service.items_doc(_base(), c, request.args, page, total, features)
    return _json(body, service.GEOJSON)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@returns_json
@permission("ogc", "read")
@unit_of_work
def item(scope: frozenset[str], collection_id: str, feature_id: str) -> Response:
    session = get_session()
    c = service.collection(session, actor(), collection_id)
    feature = service.item(
        session, actor(), c, feature_id, side_sessions(), current_user.agency_name
    )
    base = _base()
    feature["links"] = [
        {"href": f"{base}/collections/{c.id}/items/{feature_id}", "rel": "self",
         "type": service.GEOJSON},
        {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": "application/json"},
    ]  # fmt: skip
    return _json(feature, service.GEOJSON)
