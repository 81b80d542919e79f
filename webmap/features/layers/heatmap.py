"""The kernel density heatmap layer: cell counts → density surface → class polygons."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.heatmap import (
    DEFAULT_BANDWIDTH_M,
    DEFAULT_CELL_M,
    class_breaks,
    class_polygons,
    kernel_density,
)
from webmap.features.layers.queries import CELL_MONTH_FILTER, LayerQuery, filter_params


def heatmap_json(
    session: Session,
    agency: uuid.UUID,
    q: LayerQuery,
    service_area: tuple[float, float, float, float],
    srid: int,
    bandwidth_m: float = DEFAULT_BANDWIDTH_M,
    cell_m: float = DEFAULT_CELL_M,
) -> dict[str, Any]:
    """Density classes as GeoJSON, from the finest cells' counts placed at their centres."""
    rows = session.execute(
        text(
            f"""SELECT ST_X(ST_Centroid(c.geom)), ST_Y(ST_Centroid(c.geom)), t.n
                FROM (SELECT cm.cell, sum(cm.n) AS n FROM cell_month cm WHERE {CELL_MONTH_FILTER}
                      GROUP BY cm.cell) t
                JOIN cell c ON c.res = :res AND c.cell = t.cell"""  # noqa: S608
        ),
        filter_params(agency, LayerQuery(9, q.month_from, q.month_to, q.categories)),
    ).all()
    return density_geojson(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        service_area,
        srid,
        bandwidth_m,
        cell_m,
    )


def density_geojson(
    lons: list[float],
    lats: list[float],
    weights: list[float] | list[int],
    service_area: tuple[float, float, float, float],
    srid: int,
    bandwidth_m: float = DEFAULT_BANDWIDTH_M,
    cell_m: float = DEFAULT_CELL_M,
) -> dict[str, Any]:
    """Density classes as GeoJSON from weighted points (cell centres, never records)."""
    forward = Transformer.from_crs(4326, srid, always_xy=True)
    back = Transformer.from_crs(srid, 4326, always_xy=True)
    min_x, min_y = forward.transform(service_area[0], service_area[1])
    max_x, max_y = forward.transform(service_area[2], service_area[3])
    lon = np.array(lons, dtype=np.float64)
    lat = np.array(lats, dtype=np.float64)
    weight = np.array(weights, dtype=np.float64)
    x, y = forward.transform(lon, lat) if len(lon) else (lon, lat)
    grid = kernel_density(
        np.asarray(x), np.asarray(y), weight, (min_x, min_y, max_x, max_y), cell_m, bandwidth_m
    )
    breaks = class_breaks(grid)

    def to_wgs84(geom: Any) -> Any:
        return shapely.transform(
            geom, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1]))
        )

    polygons = class_polygons(grid, breaks, (min_x, min_y), cell_m, to_wgs84) if len(lon) else []
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(shapely.set_precision(geom, 1e-6)),
                "properties": {"class": cls, "min": breaks[cls - 1], "max": breaks[cls]},
            }
            for cls, geom in polygons
        ],
        "bandwidth_m": bandwidth_m,
        "cell_m": cell_m,
        "unit": "observations per km²",
        "breaks": breaks,
        "legend": f"Kernel density (quartic), bandwidth {bandwidth_m:.0f} m, on a "
        f"{cell_m:.0f} m grid; observations per km².",
    }
