"""Boundary-set generations: list them, compare two, retire one, choose the map's default set,
and look an area up by its code (at the current generation or an older one, as MapIt does).

Writes go through the SECURITY DEFINER functions of revision 0013, which only a system admin
(or the schema owner) may call; each is audited by the caller's route in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.infra import audit
from webmap.infra.errors import Invalid, NotFound


def generations(session: Session, slug: str) -> list[dict[str, Any]]:
    """Every generation of a set, newest first, with its area count and state."""
    rows = session.execute(
        text(
            "SELECT b.id, b.generation, b.name, b.is_current, b.map_default, b.created_at,"
            " b.retired_at, count(a.id) AS areas FROM boundary_set b"
            " LEFT JOIN area a ON a.boundary_set_id = b.id WHERE b.slug = :s"
            " GROUP BY b.id ORDER BY b.generation DESC"
        ),
        {"s": slug},
    ).mappings()
    found = [dict(r) | {"id": str(r["id"])} for r in rows]
    if not found:
        raise NotFound(f"No boundary set called '{slug}'.")
    return found


def compare(session: Session, slug: str, older: int, newer: int) -> dict[str, list[str]]:
    """What changed between two generations, by area code: added, removed, renamed, and
    redrawn (the outline moved by more than about a square metre)."""
    known = {g["generation"] for g in generations(session, slug)}
    for field, gen in (("from", older), ("to", newer)):
        if gen not in known:
            raise Invalid.field(field, f"{slug} has no generation {gen}")
    rows = session.execute(
        text(
            """
            WITH a AS (SELECT x.code, x.name, x.geom FROM area x JOIN boundary_set b
                       ON b.id = x.boundary_set_id WHERE b.slug = :s AND b.generation = :g1),
                 b AS (SELECT x.code, x.name, x.geom FROM area x JOIN boundary_set b
                       ON b.id = x.boundary_set_id WHERE b.slug = :s AND b.generation = :g2)
            SELECT coalesce(a.code, b.code),
                   CASE WHEN a.code IS NULL THEN 'added' WHEN b.code IS NULL THEN 'removed'
                        WHEN ST_Area(ST_SymDifference(a.geom, b.geom)::geography) > 1
                        THEN 'redrawn' WHEN a.name <> b.name THEN 'renamed' END
            FROM a FULL JOIN b ON a.code = b.code ORDER BY 1
            """
        ),
        {"s": slug, "g1": older, "g2": newer},
    ).all()
    out: dict[str, list[str]] = {"added": [], "removed": [], "redrawn": [], "renamed": []}
    for code, change in rows:
        if change:
            out[change].append(code)
    return out


def retire(session: Session, set_id: str) -> None:
    """Take a generation out of use (its areas stay, for what was made against them)."""
    done = session.execute(
        text("SELECT csmap_boundary_retire(CAST(:i AS uuid))"), {"i": set_id}
    ).scalar_one()
    if not done:
        raise NotFound("No such generation, or it is already retired.")
    audit.record(session, "boundary_set.retired", object_type="boundary_set", object_ids=[set_id])


def set_default(session: Session, slug: str) -> None:
    """The set the map shows first."""
    if not session.execute(text("SELECT csmap_boundary_set_default(:s)"), {"s": slug}).scalar_one():
        raise Invalid.field("default", "choose a boundary set that is in use")
    audit.record(session, "boundary_set.default", object_type="boundary_set", object_ids=[slug])


def area_by_code(
    session: Session, slug: str, code: str, generation: int | None = None
) -> dict[str, Any]:
    """One area as a GeoJSON feature, at the current generation or the one asked for."""
    row = session.execute(
        text(
            "SELECT a.id, a.code, a.name, b.generation, b.is_current,"
            " ST_AsGeoJSON(a.geom, 6) FROM area a JOIN boundary_set b"
            " ON b.id = a.boundary_set_id WHERE b.slug = :s AND a.code = :c"
            " AND (CAST(:g AS integer) IS NULL AND b.is_current OR b.generation = :g)"
        ),
        {"s": slug, "c": code, "g": generation},
    ).first()
    if row is None:
        raise NotFound(
            f"No area {code} in {slug}" + (f" generation {generation}." if generation else ".")
        )
    area_id, code, name, gen, current, geometry = row
    return {
        "type": "Feature",
        "id": str(area_id),
        "geometry": json.loads(geometry),
        "properties": {"boundary_set": slug, "code": code, "name": name, "generation": gen,
                       "current": current},
    }  # fmt: skip
