"""JSON/GeoJSON API under /api/v1. Views parse, call a service, respond — nothing more."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from webmap.access.policy import permission
from webmap.features.reference import boundaries
from webmap.features.reference import queries as geodata
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import Invalid, NotFound
from webmap.web.context import get_settings
from webmap.web.openapi import GEOJSON, MONTH, build, documented, query

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _geojson(body: str) -> Response:
    return Response(body, mimetype=GEOJSON)


@bp.get("/basemap")
@documented(media=GEOJSON)
@permission("reference", "read")
@unit_of_work
def basemap(scope: frozenset[str]) -> Response:
    return _geojson(geodata.basemap_geojson(get_session()))


@bp.get("/openapi.json")
@permission("reference", "read")
@unit_of_work
def openapi(scope: frozenset[str]) -> Response:
    """This document."""

    return jsonify(build(current_app))


@bp.get("/docs")
@documented(media="text/html")
@permission("reference", "read")
@unit_of_work
def docs(scope: frozenset[str]) -> str:
    """The API described for people, from the same document."""

    doc = build(current_app)
    return render_template("api_docs.html", doc=doc, dumps=lambda o: json.dumps(o, indent=2))


@bp.get("/boundary-sets")
@permission("reference", "read")
@unit_of_work
def boundary_sets(scope: frozenset[str]) -> Response:
    return jsonify({"boundary_sets": geodata.list_boundary_sets(get_session())})


@bp.get("/boundary-sets/<slug>/areas")
@documented(media=GEOJSON)
@permission("reference", "read")
@unit_of_work
def boundary_set_areas(slug: str, scope: frozenset[str]) -> Response:
    body = geodata.boundary_set_areas_geojson(get_session(), slug)
    if body is None:
        raise NotFound(f"No boundary set called '{slug}'.")
    return _geojson(body)


@bp.get("/reference/police-uk")
@documented(media=GEOJSON, query=[query("month", MONTH, "One month only, YYYY-MM.")])
@permission("reference", "read")
@unit_of_work
def police_uk(scope: frozenset[str]) -> Response:
    """data.police.uk street-level crimes imported as a reference layer (every agency)."""

    month = request.args.get("month")
    if month is not None and not _MONTH.match(month):
        raise Invalid("month: must be YYYY-MM", {"month": "must be YYYY-MM"})
    return _geojson(geodata.police_uk_geojson(get_session(), month))


@bp.get("/areas")
@documented(
    query=[
        query("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude.", True),
        query("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude.", True),
    ]
)
@permission("reference", "read")
@unit_of_work
def areas_at(scope: frozenset[str]) -> Response:
    """Every area of every current boundary set containing a point (as MapIt does)."""

    problems = {}
    values = {}
    for name, low, high in (("lon", -180, 180), ("lat", -90, 90)):
        try:
            values[name] = float(request.args.get(name, ""))
            if not low <= values[name] <= high:
                raise ValueError
        except ValueError:
            problems[name] = f"must be a number from {low} to {high}"
    if problems:
        first = next(iter(problems))
        raise Invalid(f"{first}: {problems[first]}", problems)
    area = get_settings().service_area
    inside = area[0] <= values["lon"] <= area[2] and area[1] <= values["lat"] <= area[3]
    swapped = area[0] <= values["lat"] <= area[2] and area[1] <= values["lon"] <= area[3]
    if swapped and not inside:
        raise Invalid("lon/lat look swapped", {"lon": "looks swapped with lat"})
    return jsonify({"areas": boundaries.areas_at(get_session(), values["lon"], values["lat"])})
