"""Vector tiles (Mapbox Vector Tile, built by PostGIS's ST_AsMVT) of the cell layers.

The cell size grows as you zoom out (res 9 from z14, res 8 at z12–13, res 7 below), so a tile
never carries more cells than it can draw; if a tile would still pass the size cap, the next
coarser resolution is used instead. Counts come from ``cell_month`` as for every layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.features.layers.queries import CELL_MONTH_FILTER, LayerQuery

MAX_TILE_BYTES = 500_000
#: Tiles are served from z0; past z16 a client over-zooms (the finest cells are drawn at z14).
MIN_ZOOM, MAX_ZOOM = 0, 16

_MVT = f"""
WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
cells AS (
  SELECT c.cell, c.geom FROM cell c, env
  WHERE c.res = :res AND c.geom && ST_Transform(env.e, 4326)
),
counts AS (
  SELECT cm.cell, sum(cm.n)::int AS n FROM cell_month cm
  WHERE {CELL_MONTH_FILTER} AND cm.cell IN (SELECT cell FROM cells)
  GROUP BY cm.cell
)
SELECT ST_AsMVT(t, 'cells', 4096, 'geom') FROM (
  SELECT counts.cell::text AS cell, counts.n,
         ST_AsMVTGeom(ST_Transform(cells.geom, 3857), env.e, 4096, 64, true) AS geom
  FROM counts JOIN cells USING (cell), env
) t
"""  # noqa: S608 - CELL_MONTH_FILTER is a constant


def resolution_for_zoom(z: int) -> int:
    """Coarser cells when zoomed out.

    >>> [resolution_for_zoom(z) for z in (10, 12, 14)]
    [7, 8, 9]
    """
    if z >= 14:
        return 9
    if z >= 12:
        return 8
    return 7


def cell_tile(
    session: Session, agency: uuid.UUID, q: LayerQuery, z: int, x: int, y: int
) -> tuple[bytes, int]:
    """The tile's bytes and the resolution used."""
    res = resolution_for_zoom(z)
    while True:
        params: dict[str, Any] = {
            "agency": agency,
            "res": res,
            "m_from": q.month_from,
            "m_to": q.month_to,
            "cats": list(q.categories),
            "z": z,
            "x": x,
            "y": y,
        }
        tile = bytes(session.execute(text(_MVT), params).scalar_one() or b"")
        if len(tile) <= MAX_TILE_BYTES or res == 7:
            return tile, res
        res -= 1


# A shared layer's tile: the published cells of one period, read from the ledger through the
# share's own function (never recomputed here), drawn on the fixed outlines. Counts are
# integers; a banded publication carries its band label instead.
_SHARED_MVT = """
WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
pub AS (SELECT cell, n, band FROM csmap_share_published_cells(:s) WHERE period = :p)
SELECT ST_AsMVT(t, 'shared', 4096, 'geom') FROM (
  SELECT pub.cell::text AS cell, pub.n AS count, pub.band, CAST(:p AS text) AS period,
         ST_AsMVTGeom(ST_Transform(c.geom, 3857), env.e, 4096, 64, true) AS geom
  FROM pub JOIN cell c ON c.res = ((pub.cell >> 52) & 15) AND c.cell = pub.cell, env
  WHERE c.geom && ST_Transform(env.e, 4326)
) t
"""


def shared_tile(session: Session, share_id: str, period: str, z: int, x: int, y: int) -> bytes:
    """A tile of one share's published cells of ``period``, in one round trip."""
    params: dict[str, Any] = {"s": share_id, "p": period, "z": z, "x": x, "y": y}
    return bytes(session.execute(text(_SHARED_MVT), params).scalar_one() or b"")


def tilejson(
    *,
    name: str,
    description: str,
    tiles: str,
    bounds: tuple[float, float, float, float],
    layer: str,
    fields: Mapping[str, str],
) -> dict[str, Any]:
    """A TileJSON 3.0.0 document for one vector tile layer, so QGIS, MapLibre and GDAL's MVT
    driver find the tiles, their extent and each field's type (counts are Numbers) without
    guessing. ``description`` carries the layer's precision statement.

    >>> doc = tilejson(name="Counts", description="Cells about 0.1 km².",
    ...                tiles="https://x/tiles/counts/{z}/{x}/{y}.mvt",
    ...                bounds=(1.1, 54.5, 1.3, 54.7),
    ...                layer="cells", fields={"cell": "String", "n": "Number"})
    >>> doc["tilejson"], doc["center"], doc["vector_layers"][0]["fields"]["n"]
    ('3.0.0', [1.2, 54.6, 12], 'Number')
    """
    west, south, east, north = bounds
    return {
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "attribution": "csmap",
        "scheme": "xyz",
        "tiles": [tiles],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), 12],
        "vector_layers": [
            {
                "id": layer,
                "description": description,
                "minzoom": MIN_ZOOM,
                "maxzoom": MAX_ZOOM,
                "fields": dict(fields),
            }
        ],
    }
