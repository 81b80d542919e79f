"""Trend layers (JSON/GeoJSON) and vector tiles for the panel page: the agency's own data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_login import current_user

from webmap.access.policy import permission
from webmap.features.layers import queries as layers
from webmap.features.layers.heatmap import heatmap_json
from webmap.features.layers.tiles import (
    app_cache,
    counts_tile,
    resolution_for_zoom,
    tilejson,
)
from webmap.infra import audit
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import Invalid, NotFound
from webmap.infra.reads import read_session
from webmap.web.context import get_settings
from webmap.web.openapi import BANDWIDTH, CELL_RES, GEOJSON, MONTH, documented, query
from webmap.web.responder import revalidated

bp = Blueprint("layers", __name__)
MVT = "application/vnd.mapbox-vector-tile"
#: The query every layer of the agency's own records takes (layers.queries.parse_query).
_LAYER_QUERY = [
    query("res", CELL_RES, "Cell resolution: 7, 8 (default) or 9."),
    query("month", MONTH, "One month, YYYY-MM (default: the latest with records)."),
    query("from", MONTH, "First month, YYYY-MM."),
    query("to", MONTH, "Last month, YYYY-MM."),
    query("category", {"type": "string"}, "Category codes, comma-separated."),
]


def _query(default_months: int = 1) -> layers.LayerQuery:
    return layers.parse_query(read_session(), current_user.agency_id, request.args, default_months)


def _answer(
    name: str, q: layers.LayerQuery, body: dict[str, Any], mimetype: str = "application/json"
) -> Response:
    db = get_session()
    audit.record(
        db,
        "layer.read",
        object_type="layer",
        object_ids=[name],
        subject_agency_id=current_user.agency_id,
        details={
            "filters": sorted(
                k for k in ("res", "from", "to", "month", "category", "set") if request.args.get(k)
            )
        },
    )
    body = {
        **body,
        "layer": name,
        "precision": layers.precision(q.res),
        "from": q.month_from.strftime("%Y-%m"),
        "to": q.month_to.strftime("%Y-%m"),
    }
    resp = jsonify(body)
    resp.mimetype = mimetype
    return resp


@bp.get("/api/v1/layers/counts")
@documented(media=GEOJSON, query=_LAYER_QUERY)
@permission("layer", "read")
@unit_of_work
def counts(scope: frozenset[str]) -> Response:
    """Observations per cell over the months asked for (default: the latest month)."""
    q = _query()
    return _answer(
        "counts", q, layers.cell_counts_geojson(read_session(), current_user.agency_id, q), GEOJSON
    )


@bp.get("/api/v1/layers/series")
@documented(query=_LAYER_QUERY)
@permission("layer", "read")
@unit_of_work
def series(scope: frozenset[str]) -> Response:
    """Monthly counts of every non-empty cell (default: the last 12 months)."""
    q = _query(12)
    return _answer("series", q, layers.series_json(read_session(), current_user.agency_id, q))


@bp.get("/api/v1/layers/change")
@documented(query=_LAYER_QUERY)
@permission("layer", "read")
@unit_of_work
def change(scope: frozenset[str]) -> Response:
    """This period against the one before it, per cell, with percent change."""
    q = _query()
    return _answer("change", q, layers.change_json(read_session(), current_user.agency_id, q))


@bp.get("/api/v1/layers/emerging")
@documented(query=_LAYER_QUERY)
@permission("layer", "read")
@unit_of_work
def emerging(scope: frozenset[str]) -> Response:
    """Emerging hot spot classes per cell (default: the last 12 months)."""
    q = _query(12)
    return _answer("emerging", q, layers.emerging_json(read_session(), current_user.agency_id, q))


@bp.get("/api/v1/layers/areas/<slug>")
@documented(media=GEOJSON, query=_LAYER_QUERY)
@permission("layer", "read")
@unit_of_work
def areas(slug: str, scope: frozenset[str]) -> Response:
    """Counts per area of a boundary set: sums of the cells assigned to each area."""
    q = _query()
    body = layers.area_counts(read_session(), current_user.agency_id, q, slug)
    if body is None:
        raise NotFound(f"No boundary set called '{slug}'.")
    return _answer(f"areas:{slug}", q, body, GEOJSON)


@bp.get("/api/v1/layers/heatmap")
@documented(
    media=GEOJSON,
    query=[*_LAYER_QUERY, query("bandwidth", BANDWIDTH, "Kernel bandwidth in metres.")],
)
@permission("layer", "read")
@unit_of_work
def heatmap(scope: frozenset[str]) -> Response:
    """A kernel density surface of the period's observations, in classes (server-side)."""

    settings = get_settings()
    q = _query()
    bandwidth = request.args.get("bandwidth", "400")
    if not bandwidth.isdigit() or not 100 <= int(bandwidth) <= 2000:
        raise Invalid("bandwidth: metres, 100 to 2000", {"bandwidth": "metres, 100 to 2000"})
    body = heatmap_json(
        read_session(),
        current_user.agency_id,
        q,
        settings.service_area,
        settings.projected_srid,
        float(bandwidth),
    )
    return _answer("heatmap", q, body, GEOJSON)


@bp.get("/api/v1/layers/top-contexts")
@documented(query=_LAYER_QUERY)
@permission("layer", "read")
@unit_of_work
def top_contexts(scope: frozenset[str]) -> Response:
    """Contexts ranked by observations in the period, and by change."""
    q = _query()
    return _answer(
        "top-contexts",
        q,
        {"contexts": layers.top_contexts(read_session(), current_user.agency_id, q)},
    )


@bp.get("/tiles/<layer>/<int:z>/<int:x>/<int:y>.mvt")
@documented(
    media="application/vnd.mapbox-vector-tile",
    query=_LAYER_QUERY,
    path={
        "layer": {"type": "string", "enum": ["counts"]},
        "z": {"type": "integer", "minimum": 0, "maximum": 20},
    },
)
@permission("layer", "read")
@unit_of_work
def tile(layer: str, z: int, x: int, y: int, scope: frozenset[str]) -> Response:
    """A Mapbox Vector Tile of the cell counts (layer 'counts'): one round trip to the
    database, which builds it only when neither this process nor the client holds the current
    version (then a 304 to a client whose ETag is current)."""
    if layer != "counts":
        raise NotFound(f"No tile layer called '{layer}'.")
    if not (0 <= z <= 20 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound("No such tile.")
    found = counts_tile(
        app_cache(current_app.extensions),
        current_user.db_context,
        _query(),
        z,
        x,
        y,
        request.headers.get("If-None-Match"),
    )
    # Tiles are not audited one by one (a map view fetches dozens); the layer read is.
    headers = {"X-Cell-Resolution": str(found.res)} if found.res else {}
    return revalidated(found.body, found.etag, MVT, **headers)


@bp.get("/tiles/<layer>.json")
@documented(query=_LAYER_QUERY[1:], path={"layer": {"type": "string", "enum": ["counts"]}})
@permission("layer", "read")
@unit_of_work
def tile_json(layer: str, scope: frozenset[str]) -> Response:
    """TileJSON for the counts tiles of the months asked for (from, to, category; default the
    latest month): the tile URL it gives fixes those months, so a GIS client keeps drawing
    the same layer. The cells grow as the map zooms out; the description says how."""
    if layer != "counts":
        raise NotFound(f"No tile layer called '{layer}'.")
    q = _query()
    fixed = {"from": q.month_from.strftime("%Y-%m"), "to": q.month_to.strftime("%Y-%m")}
    if q.categories:
        fixed["category"] = ",".join(q.categories)
    url = url_for("layers.tile", layer=layer, z=0, x=0, y=0, _external=True, **fixed)
    sizes = "; ".join(
        f"from zoom {z}: {layers.precision(resolution_for_zoom(z)).rstrip('.')}"
        for z in (0, 12, 14)
    )
    body = tilejson(
        name=f"Observations per cell, {fixed['from']} to {fixed['to']}",
        description=f"Counts are whole numbers of observations. {sizes}.",
        tiles=url.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt"),
        bounds=get_settings().service_area,
        layer="cells",
        fields={"cell": "String", "n": "Number"},
    )
    return _answer("tilejson", q, body)
