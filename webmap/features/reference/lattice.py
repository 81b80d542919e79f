"""Filling the fixed cell lattice in the database (outlines and cell → area assignment).

The lattice never changes, so the outlines are built once per service area; assignments are
rebuilt whenever boundary sets change. A cell belongs to the area containing its centre: each
cell counts towards exactly one area of each boundary set, so boundary totals are sums of
cells, and two boundary sets can be compared without ever touching a point.
"""

from __future__ import annotations

from typing import Any

import psycopg

from spatial.cells import RESOLUTIONS, cell_boundary, cells_in_bbox


def build_cells(
    conn: psycopg.Connection[Any], service_area: tuple[float, float, float, float]
) -> int:
    """(Re)fill ``cell`` for the service area and re-assign cells to areas. Caller commits."""
    conn.execute("TRUNCATE cell, cell_area")
    count = 0
    with conn.cursor().copy("COPY cell (res, cell, geom) FROM STDIN") as copy:
        for res in RESOLUTIONS:
            for key in cells_in_bbox(service_area, res):
                ring = ", ".join(f"{lon} {lat}" for lon, lat in cell_boundary(key))
                copy.write_row((res, key, f"SRID=4326;POLYGON(({ring}))"))
                count += 1
    assign_cells(conn)
    return count


def assign_cells(conn: psycopg.Connection[Any]) -> None:
    """Each cell to the area of each current boundary set that contains its centre."""
    conn.execute("DELETE FROM cell_area")
    conn.execute(
        """
        INSERT INTO cell_area (res, cell, area_id)
        SELECT c.res, c.cell, a.id
        FROM cell c
        JOIN area a ON ST_Intersects(a.geom, ST_PointOnSurface(c.geom))
        JOIN boundary_set s ON s.id = a.boundary_set_id AND s.is_current
        """
    )
