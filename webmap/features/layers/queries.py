"""Trend layers for the panel, computed on the fixed cell lattice (tier A: the user's own
agency's counts, at full precision).

Everything reads ``cell_month`` — a small table kept exact by triggers — joined to the fixed
``cell`` outlines; no request ever scans or spatially joins the observations. Boundary totals
are sums of the cells assigned to each area. The sharing work (tiers B and C) will feed the
same functions with published cells only.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.cells import cell_precision
from spatial.trends import emerging_hotspots, percent_change_array
from webmap.infra.errors import DomainError, Invalid

RESOLUTIONS = (7, 8, 9)


@dataclass(frozen=True)
class LayerQuery:
    """What a layer request asks for; built and checked by :func:`parse_query`."""

    res: int
    month_from: date
    month_to: date
    categories: tuple[str, ...] = ()


#: Months a layer may be asked about, and how many at a time: bounded before any list of
#: months is built, so an absurd range is a 422, not a 500 or a long loop.
YEARS = (2000, 2100)
MAX_MONTHS = 60
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _invalid(name: str, problem: str) -> DomainError:
    return Invalid(f"{name}: {problem}", {name: problem})


def _month(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    found = _MONTH.match(raw)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise _invalid(name, "must be a month, YYYY-MM")
    year = int(found.group(1))
    if not YEARS[0] <= year <= YEARS[1]:
        raise _invalid(name, f"must be a month from {YEARS[0]} to {YEARS[1]}")
    return date(year, int(found.group(2)), 1)


def month_span(a: date, b: date) -> int:
    """How many months from ``a`` to ``b``, both included: arithmetic, no list."""
    return (b.year - a.year) * 12 + b.month - a.month + 1


def latest_month(session: Session, agency: uuid.UUID) -> date:
    latest: date | None = session.execute(
        text("SELECT max(month) FROM cell_month WHERE agency_id = :a"), {"a": agency}
    ).scalar_one()
    return latest or date.today().replace(day=1)


def add_months(d: date, n: int) -> date:
    total = d.year * 12 + d.month - 1 + n
    return date(total // 12, total % 12 + 1, 1)


def months_between(a: date, b: date) -> list[date]:
    out, d = [], a
    while d <= b:
        out.append(d)
        d = add_months(d, 1)
    return out


def parse_query(
    session: Session, agency: uuid.UUID, args: Any, default_months: int = 1
) -> LayerQuery:
    res_raw = args.get("res", "8")
    if res_raw not in {"7", "8", "9"}:
        raise Invalid("res: must be 7, 8 or 9", {"res": "must be 7, 8 or 9"})
    to_name = "to" if args.get("to") else "month"
    from_name = "from" if args.get("from") else "month"
    month_to = _month(args.get(to_name), to_name) or latest_month(session, agency)
    month_from = _month(args.get(from_name), from_name) or add_months(month_to, 1 - default_months)
    if month_from > month_to:
        raise _invalid("from", "must not be after to")
    # With both ends inside YEARS and at most MAX_MONTHS apart, the period before (change,
    # top contexts) and the month after stay valid dates too.
    if month_span(month_from, month_to) > MAX_MONTHS:
        raise _invalid("from", f"at most {MAX_MONTHS} months at a time")
    cats = tuple(c for c in (args.get("category") or "").split(",") if c)
    return LayerQuery(int(res_raw), month_from, month_to, cats)


def precision(res: int) -> str:
    """The precision statement of the agency's own (tier A) layers: the same sentence as a
    shared map's (spatial.cells.cell_precision), saying nothing is hidden."""
    return cell_precision(res, "month", None) + "."


CELL_MONTH_FILTER = """
  cm.agency_id = :agency AND cm.res = :res AND cm.month BETWEEN :m_from AND :m_to
  AND (cardinality(CAST(:cats AS text[])) = 0 OR cm.category = ANY(CAST(:cats AS text[])))
"""


def filter_params(agency: uuid.UUID, q: LayerQuery) -> dict[str, Any]:
    return {
        "agency": agency,
        "res": q.res,
        "m_from": q.month_from,
        "m_to": q.month_to,
        "cats": list(q.categories),
    }


def cell_counts_geojson(session: Session, agency: uuid.UUID, q: LayerQuery) -> dict[str, Any]:
    """Observations per cell over the query's months, with cell outlines."""
    body = session.execute(
        text(
            f"""
            SELECT json_build_object('type', 'FeatureCollection', 'features',
                coalesce(json_agg(json_build_object(
                  'type', 'Feature', 'id', t.cell::text,
                  'geometry', ST_AsGeoJSON(c.geom, 6)::json,
                  'properties', json_build_object('cell', t.cell::text, 'n', t.n))
                ORDER BY t.cell), '[]'::json))::text
            FROM (SELECT cm.cell, sum(cm.n)::int AS n FROM cell_month cm
                  WHERE {CELL_MONTH_FILTER} GROUP BY cm.cell) t
            JOIN cell c ON c.res = :res AND c.cell = t.cell
            """  # noqa: S608 - CELL_MONTH_FILTER is a constant
        ),
        filter_params(agency, q),
    ).scalar_one()
    fc: dict[str, Any] = json.loads(body)
    return fc


def series(
    session: Session, agency: uuid.UUID, q: LayerQuery
) -> tuple[list[date], list[int], np.ndarray]:
    """(months, cells, counts[months, cells]) over EVERY lattice cell at ``q.res``, zeros
    included (Gi* needs the empty cells too)."""
    months = months_between(q.month_from, q.month_to)
    cells = [
        int(c)
        for c in session.execute(
            text("SELECT cell FROM cell WHERE res = :res ORDER BY cell"), {"res": q.res}
        ).scalars()
    ]
    index = {c: i for i, c in enumerate(cells)}
    counts = np.zeros((len(months), len(cells)), dtype=np.float64)
    rows = session.execute(
        text(
            f"SELECT cm.month, cm.cell, sum(cm.n) FROM cell_month cm WHERE {CELL_MONTH_FILTER}"  # noqa: S608
            " GROUP BY 1, 2"
        ),
        filter_params(agency, q),
    )
    m_index = {m: i for i, m in enumerate(months)}
    for month, cell, n in rows:
        if cell in index:
            counts[m_index[month], index[cell]] = n
    return months, cells, counts


def series_json(session: Session, agency: uuid.UUID, q: LayerQuery) -> dict[str, Any]:
    """Monthly counts of every non-empty cell: the slider plays these without refetching."""
    months, cells, counts = series(session, agency, q)
    nonzero = np.flatnonzero(counts.sum(axis=0))
    return {
        "res": q.res,
        "months": [m.strftime("%Y-%m") for m in months],
        "cells": {str(cells[i]): counts[:, i].astype(int).tolist() for i in nonzero},
        "max": int(counts.max()) if counts.size else 0,
    }


def change_json(session: Session, agency: uuid.UUID, q: LayerQuery) -> dict[str, Any]:
    """The query's period against the period of the same length just before it, per cell,
    with ArcGIS's percent change ((current − previous) / previous × 100; empty when previous
    is 0)."""
    n = len(months_between(q.month_from, q.month_to))
    prev = LayerQuery(
        q.res, add_months(q.month_from, -n), add_months(q.month_from, -1), q.categories
    )
    _, cells, cur = series(session, agency, q)
    _, _, old = series(session, agency, prev)
    current, previous = cur.sum(axis=0), old.sum(axis=0)
    pct = percent_change_array(current, previous)
    keep = np.flatnonzero((current > 0) | (previous > 0))
    return {
        "current": [q.month_from.strftime("%Y-%m"), q.month_to.strftime("%Y-%m")],
        "previous": [prev.month_from.strftime("%Y-%m"), prev.month_to.strftime("%Y-%m")],
        "cells": [
            {
                "cell": str(cells[i]),
                "current": int(current[i]),
                "previous": int(previous[i]),
                "percent_change": None if np.isnan(pct[i]) else round(float(pct[i]), 1),
            }
            for i in keep
        ],
    }


def emerging_json(session: Session, agency: uuid.UUID, q: LayerQuery) -> dict[str, Any]:
    """Emerging hot spot classes per cell over the query's months (12 or more)."""
    months, cells, counts = series(session, agency, q)
    if len(months) < 3:
        raise Invalid(
            "from: trends need at least 3 months (12 or more is better)",
            {"from": "trends need at least 3 months"},
        )
    trends = emerging_hotspots(counts, cells)
    return {
        "months": [months[0].strftime("%Y-%m"), months[-1].strftime("%Y-%m")],
        "cells": [
            {
                "cell": str(t.cell),
                "pattern": t.pattern,
                "z": round(float(t.z_final), 2),
                "bins": [int(b) for b in t.bins],
            }
            for t in trends
            if t.pattern != "no pattern"
        ],
    }


def area_counts(
    session: Session, agency: uuid.UUID, q: LayerQuery, set_slug: str
) -> dict[str, Any] | None:
    """Counts per area of a boundary set: the sum of the cells assigned to each area."""
    set_id = session.execute(
        text("SELECT id FROM boundary_set WHERE slug = :s AND is_current"), {"s": set_slug}
    ).scalar_one_or_none()
    if set_id is None:
        return None
    body = session.execute(
        text(
            f"""
            SELECT json_build_object('type', 'FeatureCollection', 'features',
                coalesce(json_agg(json_build_object(
                  'type', 'Feature', 'id', a.id,
                  'geometry', ST_AsGeoJSON(a.geom, 6)::json,
                  'properties', json_build_object('code', a.code, 'name', a.name,
                                                  'n', coalesce(t.n, 0)))
                ORDER BY a.code), '[]'::json))::text
            FROM area a
            LEFT JOIN (SELECT ca.area_id, sum(cm.n)::int AS n
                       FROM cell_month cm JOIN cell_area ca ON ca.res = cm.res
                                                           AND ca.cell = cm.cell
                       WHERE {CELL_MONTH_FILTER} GROUP BY ca.area_id) t ON t.area_id = a.id
            WHERE a.boundary_set_id = :set_id
            """  # noqa: S608 - CELL_MONTH_FILTER is a constant
        ),
        {**filter_params(agency, q), "set_id": set_id},
    ).scalar_one()
    fc: dict[str, Any] = json.loads(body)
    return fc


def top_contexts(
    session: Session, agency: uuid.UUID, q: LayerQuery, limit: int = 10
) -> list[dict[str, Any]]:
    """Contexts ranked by observations linked to them in the period, with the change from
    the period before."""
    n = len(months_between(q.month_from, q.month_to))
    rows = session.execute(
        text(
            """
            WITH periods AS (
              SELECT o.context_id,
                     count(*) FILTER (WHERE o.occurred_at >= CAST(:m_from AS date)
                                      AND o.occurred_at < CAST(:m_end AS date)) AS cur,
                     count(*) FILTER (WHERE o.occurred_at >= CAST(:p_from AS date)
                                      AND o.occurred_at < CAST(:m_from AS date)) AS prev
              FROM observation o
              WHERE o.agency_id = :agency AND o.deleted_at IS NULL AND o.context_id IS NOT NULL
                AND o.occurred_at >= CAST(:p_from AS date) AND o.occurred_at < CAST(:m_end AS date)
              GROUP BY o.context_id)
            SELECT c.id, c.name, c.kind::text AS kind, p.cur, p.prev
            FROM periods p JOIN context c ON c.id = p.context_id AND c.deleted_at IS NULL
            ORDER BY p.cur DESC, (p.cur - p.prev) DESC, c.name LIMIT :limit
            """
        ),
        {
            "agency": agency,
            "m_from": q.month_from,
            "m_end": add_months(q.month_to, 1),
            "p_from": add_months(q.month_from, -n),
            "limit": limit,
        },
    ).mappings()
    out = []
    for r in rows:
        pct = percent_change_array(np.array([r["cur"]]), np.array([r["prev"]]))[0]
        out.append(
            {
                "id": str(r["id"]),
                "name": r["name"],
                "kind": r["kind"],
                "current": r["cur"],
                "previous": r["prev"],
                "percent_change": None if np.isnan(pct) else round(float(pct), 1),
            }
        )
    return out
