"""Importing boundary sets (GeoJSON, GeoPackage, zipped Shapefile, any CRS) and finding the
areas that contain a point.

Each import is a new *generation* of the set: the previous one stays (shares and reports made
against it remain explainable) but stops being current. Every feature is checked: polygons
only; invalid ones are repaired (and said so) or rejected with the reason; areas outside the
service area are imported but named in a warning (they hold no cell of the lattice). The
generation is written, and the lattice's cells assigned to it, by one SECURITY DEFINER
function that only a system admin (or the schema owner, for the CLI) may call: the same import
for the admin page, the API and ``csmap import boundaries``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.geometry_checks import readable_validity
from spatial.vocabulary import BOUNDARY_SET_KINDS

#: Column names that hold an area's code and name, best first: "code" beats an ONS-style
#: "WD24CD", which beats a bare "id" (often just a feature number).
CODE_FIELDS = (
    re.compile(r"^(code|area_?code)$", re.IGNORECASE),
    re.compile(r"^.*cd$", re.IGNORECASE),
    re.compile(r"^id$", re.IGNORECASE),
)
NAME_FIELDS = (
    re.compile(r"^(name|area_?name)$", re.IGNORECASE),
    re.compile(r"^(.*nm|label)$", re.IGNORECASE),
)


class BoundaryImportError(ValueError):
    """The file as a whole cannot be imported; the message says why."""


@dataclass
class ImportReport:
    set_slug: str
    generation: int = 0
    imported: int = 0
    repaired: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    #: Areas that lie (wholly) outside the service area: imported, but they hold no cell.
    outside: list[str] = field(default_factory=list)


def slugify(name: str) -> str:
    """A boundary set's slug from its name.

    >>> slugify("Council Wards 2026")
    'council-wards-2026'
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "boundaries"


def read_boundaries(path: Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read any supported file into WGS84. A zipped Shapefile is read from inside the zip."""
    if not path.exists():
        raise BoundaryImportError(f"{path}: no such file")
    source = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        frame = gpd.read_file(source)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise BoundaryImportError(
            f"{path.name}: cannot be read as GeoJSON, GeoPackage or "
            f"zipped Shapefile ({type(exc).__name__})"
        ) from None
    if frame.crs is None:
        if crs is None:
            raise BoundaryImportError(
                f"{path.name}: has no coordinate reference system; "
                "give it with --crs (e.g. EPSG:27700)"
            )
        frame = frame.set_crs(crs)
    return frame.to_crs(4326)


def _pick(
    columns: list[str], wanted: str | None, patterns: tuple[re.Pattern[str], ...]
) -> str | None:
    if wanted:
        if wanted not in columns:
            raise BoundaryImportError(f"no field called '{wanted}' (fields: {', '.join(columns)})")
        return wanted
    for pattern in patterns:
        found = next((c for c in columns if pattern.match(c)), None)
        if found:
            return found
    return None


def check_feature(geom: BaseGeometry | None) -> tuple[MultiPolygon | None, str | None, bool]:
    """(polygon, problem, repaired): a MultiPolygon to store, or the reason to reject."""
    if geom is None or geom.is_empty:
        return None, "has no geometry", False
    repaired = False
    if not geom.is_valid:
        reason = readable_validity(explain_validity(geom))
        geom = shapely.make_valid(geom)
        repaired = True
        note = f"repaired ({reason})"
    else:
        note = None
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and g.area > 0]
    if not parts:
        return None, f"is a {geom.geom_type}, not an area", repaired
    return MultiPolygon(parts), note, repaired


def import_boundaries(
    session: Session,
    frame: gpd.GeoDataFrame,
    name: str,
    kind: str = "other",
    code_field: str | None = None,
    name_field: str | None = None,
    service_area: tuple[float, float, float, float] | None = None,
) -> ImportReport:
    """Add a new generation of the set ``name`` (the caller commits). Raises
    :class:`BoundaryImportError` for a file with no usable area or an unknown kind."""
    if kind not in BOUNDARY_SET_KINDS:
        raise BoundaryImportError(f"kind must be one of {', '.join(BOUNDARY_SET_KINDS)}")
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = _pick(columns, code_field, CODE_FIELDS)
    name_col = _pick(columns, name_field, NAME_FIELDS)
    report = ImportReport(slugify(name))
    rows = []
    seen: set[str] = set()
    served = shapely.box(*service_area) if service_area else None
    for i, (_, feature) in enumerate(frame.iterrows(), start=1):
        code = str(feature[code_col]) if code_col and feature[code_col] is not None else f"F{i}"
        label = str(feature[name_col]) if name_col and feature[name_col] is not None else code
        geom, problem, repaired = check_feature(feature.geometry)
        if geom is None:
            report.rejected.append((code, problem or "rejected"))
            continue
        if code in seen:
            report.rejected.append((code, "duplicate code in this file"))
            continue
        seen.add(code)
        if repaired:
            report.repaired.append((code, problem or "repaired"))
        if served is not None and not geom.intersects(served):
            report.outside.append(code[:64])
        rows.append((code[:64], label[:200], geom.wkt))
    if not rows:
        raise BoundaryImportError(
            "no usable areas in the file: "
            + "; ".join(f"{c}: {p}" for c, p in report.rejected[:10])
        )
    _set_id, generation = session.execute(
        text("SELECT * FROM csmap_boundary_import(:slug, :name, :kind, CAST(:areas AS jsonb))"),
        {"slug": report.set_slug, "name": name[:200], "kind": kind, "areas": json.dumps(rows)},
    ).one()
    report.generation = int(generation)
    report.imported = len(rows)
    return report


AREAS_AT = """
SELECT s.slug, s.name AS set_name, s.kind::text AS kind, a.id, a.code, a.name
FROM area a JOIN boundary_set s ON s.id = a.boundary_set_id AND s.is_current
WHERE ST_Intersects(a.geom, ST_SetSRID(ST_Point(:lon, :lat), 4326))
ORDER BY s.name, a.code
"""


def areas_at(session: Session, lon: float, lat: float) -> list[dict[str, str]]:
    """Every area of every current boundary set containing the point (as MapIt does)."""
    rows = session.execute(text(AREAS_AT), {"lon": lon, "lat": lat}).mappings()
    return [
        {
            "boundary_set": r["slug"],
            "boundary_set_name": r["set_name"],
            "kind": r["kind"],
            "id": str(r["id"]),
            "code": r["code"],
            "name": r["name"],
        }
        for r in rows
    ]
