"""JSON/GeoJSON API under /api/v1. Views parse, call a service, respond — nothing more."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from webmap.access.policy import permission
from webmap.features.reference import boundaries, generations, upload
from webmap.features.reference import queries as geodata
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import Invalid, NotFound
from webmap.infra.values import parse_bbox
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


#: The police.uk layer's page size: 1,000 unless asked, never more than 10,000 a page.
POLICE_PAGE, POLICE_MAX_PAGE = 1_000, 10_000
_POLICE_PARAMS = frozenset({"month", "bbox", "limit", "offset"})


@bp.get("/reference/police-uk")
@documented(
    media=GEOJSON,
    query=[
        query("month", MONTH, "One month only, YYYY-MM."),
        query("bbox", {"type": "string"}, "west,south,east,north in WGS84 degrees."),
        query("limit", {"type": "integer", "minimum": 1, "maximum": 10_000}, "Page size."),
        query("offset", {"type": "integer", "minimum": 0}, "Features to skip."),
    ],
)
@permission("reference", "read")
@unit_of_work
def police_uk(scope: frozenset[str]) -> Response:
    """data.police.uk street-level crimes imported as a reference layer (every agency): every
    published column, by month and bbox, a page at a time with numberMatched and next/prev
    links, so a client can always tell it has them all."""

    args = request.args
    unknown = sorted(set(args) - _POLICE_PARAMS)
    if unknown:
        raise Invalid.field(unknown[0], "is not a parameter of this layer")
    month = args.get("month") or None
    if month is not None and not _MONTH.match(month):
        raise Invalid.field("month", "must be YYYY-MM")
    bbox = parse_bbox(args["bbox"]) if args.get("bbox") else None
    limit = _whole(args, "limit", POLICE_PAGE, 1, POLICE_MAX_PAGE)
    offset = _whole(args, "offset", 0, 0, None)
    body, matched = geodata.police_uk_page(get_session(), month, bbox, limit, offset)
    page = json.loads(body)
    page["numberMatched"] = matched
    page["numberReturned"] = len(page["features"])
    links = []
    if offset + limit < matched:
        links.append(_page_link("next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link("prev", max(offset - limit, 0), limit))
    page["links"] = links
    return _geojson(json.dumps(page, separators=(",", ":")))


def _whole(args: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        limits = f"{low} to {high:,}" if high is not None else f"{low} or more"
        raise Invalid.field(name, f"a whole number, {limits}")
    return int(raw)


def _page_link(rel: str, offset: int, limit: int) -> dict[str, str]:
    args = {**request.args.to_dict(), "offset": str(offset), "limit": str(limit)}
    return {
        "rel": rel,
        "type": GEOJSON,
        "href": url_for("api.police_uk", _external=True, **args),
    }


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


# -- boundary sets: upload, generations, lookup ---------------------------------------------


@bp.post("/boundary-sets")
@documented(
    response=("201", {"type": "object"}),
    errors=(413,),
    form={
        "type": "object",
        "required": ["file", "name", "kind"],
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "name": {"type": "string", "maxLength": 200},
            "kind": {"type": "string"},
            "code_field": {"type": "string"},
            "name_field": {"type": "string"},
            "crs": {"type": "string", "description": "e.g. EPSG:27700 when the file has none"},
        },
    },
)
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_upload(scope: frozenset[str]) -> tuple[Response, int]:
    """Upload a boundary set (GeoJSON, GeoPackage or zipped Shapefile, any CRS) as a new
    generation; the answer reports every repair, rejection and area outside the service area."""
    file = request.files.get("file")
    report = upload.import_upload(
        get_session(),
        file.filename or "" if file else "",
        file.read() if file else b"",
        request.form,
        get_settings().service_area,
    )
    return jsonify(upload.report_json(report)), 201


@bp.get("/boundary-sets/<slug>/generations")
@permission("reference", "read")
@unit_of_work
def boundary_set_generations(slug: str, scope: frozenset[str]) -> Response:
    rows = generations.generations(get_session(), slug)
    return jsonify({"generations": [upload.generation_json(r) for r in rows]})


@bp.get("/boundary-sets/<slug>/compare")
@documented(
    query=[
        query("from", {"type": "integer", "minimum": 1}, "The older generation.", True),
        query("to", {"type": "integer", "minimum": 1}, "The newer generation.", True),
    ]
)
@permission("reference", "read")
@unit_of_work
def boundary_set_compare(slug: str, scope: frozenset[str]) -> Response:
    """Areas added, removed, redrawn or renamed between two generations (?from=&to=)."""
    older, newer = upload.int_args(request.args, "from", "to")
    return jsonify(generations.compare(get_session(), slug, older, newer))


@bp.get("/boundary-sets/<slug>/areas/<code>")
@documented(
    media=GEOJSON,
    query=[query("generation", {"type": "integer", "minimum": 1}, "An older generation.")],
)
@permission("reference", "read")
@unit_of_work
def boundary_area(slug: str, code: str, scope: frozenset[str]) -> Response:
    """One area by its code (?generation= for an older one), as MapIt looks areas up."""
    gen = upload.int_args(request.args, "generation")[0] if "generation" in request.args else None
    return _json_feature(generations.area_by_code(get_session(), slug, code, gen))


@bp.post("/boundary-sets/generations/<set_id>/retire")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_retire(set_id: str, scope: frozenset[str]) -> Response:
    generations.retire(get_session(), set_id)
    return jsonify({"retired": set_id})


@bp.post("/boundary-sets/<slug>/default")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_default(slug: str, scope: frozenset[str]) -> Response:
    generations.set_default(get_session(), slug)
    return jsonify({"default": slug})


def _json_feature(feature: dict[str, Any]) -> Response:
    resp = jsonify(feature)
    resp.mimetype = GEOJSON
    return resp
