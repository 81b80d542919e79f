"""The SQL behind the OGC API's tier A and reference collections: one page of features, and how
many match, with the bbox and datetime filters done in PostGIS.

Tier A is the caller's own agency's records, read under row-level security like every other
tier A read. Shared collections are not here: they come from the publication ledger, through
:mod:`webmap.features.sharing.output`, like every other shared output.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    """Which features: a bbox (lon/lat), a month range, and a window of the ordered list."""

    bbox: tuple[float, float, float, float] | None
    month_from: date | None
    month_to: date | None  # inclusive (the first day of the last month)
    limit: int
    offset: int


def _bbox(page: Page) -> dict[str, Any]:
    box = page.bbox or (-180.0, -90.0, 180.0, 90.0)
    return {"x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3]}


#: The agency's observations per (res-8 cell, month), all categories together: the same
#: numbers as /api/v1/layers/counts, one feature per cell and month.
_CELL_MONTHS = """
FROM (SELECT cm.cell, cm.month, sum(cm.n)::int AS n FROM cell_month cm
      WHERE cm.agency_id = :agency AND cm.res = 8
        AND (CAST(:m_from AS date) IS NULL OR cm.month >= CAST(:m_from AS date))
        AND (CAST(:m_to AS date) IS NULL OR cm.month <= CAST(:m_to AS date))
      GROUP BY cm.cell, cm.month) t
JOIN cell c ON c.res = 8 AND c.cell = t.cell
WHERE c.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
"""


def cell_months(session: Session, agency: uuid.UUID, page: Page) -> tuple[int, list[Any]]:
    """(how many match, this page's rows: cell, month, count, GeoJSON geometry)."""
    params = {
        "agency": agency,
        "m_from": page.month_from,
        "m_to": page.month_to,
        **_bbox(page),
    }
    total = session.execute(text(f"SELECT count(*) {_CELL_MONTHS}"), params).scalar_one()
    rows = session.execute(
        text(
            f"SELECT t.cell, t.month, t.n, ST_AsGeoJSON(c.geom, 6) {_CELL_MONTHS}"
            " ORDER BY t.month, t.cell LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": page.limit, "offset": page.offset},
    ).all()
    return int(total), [(int(c), m, n, json.loads(g)) for c, m, n, g in rows]


_CONTEXTS = """
FROM context c
WHERE c.agency_id = :agency AND c.deleted_at IS NULL
  AND c.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
  AND (CAST(:id AS uuid) IS NULL OR c.id = CAST(:id AS uuid))
"""


def contexts(
    session: Session, agency: uuid.UUID, page: Page, context_id: uuid.UUID | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """The agency's live contexts at their true geometry (tier A)."""
    params = {"agency": agency, "id": context_id, **_bbox(page)}
    total = session.execute(text(f"SELECT count(*) {_CONTEXTS}"), params).scalar_one()
    rows = session.execute(
        text(
            "SELECT c.id, c.kind::text, c.name, c.public_place, c.status::text,"
            f" c.updated_at, ST_AsGeoJSON(c.geom, 6) {_CONTEXTS}"
            " ORDER BY c.kind, c.name, c.id LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": page.limit, "offset": page.offset},
    ).all()
    return int(total), [
        {
            "id": str(i),
            "geometry": json.loads(g),
            "properties": {
                "kind": kind,
                "name": name,
                "public_place": public,
                "status": status,
                "updated_at": updated.isoformat(),
            },
        }
        for i, kind, name, public, status, updated, g in rows
    ]


_AREAS = """
FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id
WHERE b.slug = :slug AND b.is_current AND a.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
  AND (CAST(:code AS text) IS NULL OR a.code = CAST(:code AS text))
"""


def areas(
    session: Session, slug: str, page: Page, code: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """The areas of the current generation of a boundary set."""
    params = {"slug": slug, "code": code, **_bbox(page)}
    total = session.execute(text(f"SELECT count(*) {_AREAS}"), params).scalar_one()
    rows = session.execute(
        text(
            "SELECT a.code, a.name, b.generation, ST_AsGeoJSON(a.geom, 6)"
            f" {_AREAS} ORDER BY a.code LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": page.limit, "offset": page.offset},
    ).all()
    return int(total), [
        {
            "id": code,
            "geometry": json.loads(g),
            "properties": {"code": code, "name": name, "generation": generation},
        }
        for code, name, generation, g in rows
    ]


def current_sets(session: Session) -> list[tuple[str, str, str]]:
    """(slug, name, kind) of each current boundary set."""
    return [
        (slug, name, kind)
        for slug, name, kind in session.execute(
            text("SELECT slug, name, kind::text FROM boundary_set WHERE is_current ORDER BY name")
        )
    ]


def month_extent(session: Session, agency: uuid.UUID) -> tuple[date | None, date | None]:
    """The first and last months the agency has records in."""
    first, last = session.execute(
        text("SELECT min(month), max(month) FROM cell_month WHERE agency_id = :a AND res = 8"),
        {"a": agency},
    ).one()
    return first, last
