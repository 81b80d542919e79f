"""Checking geometry from users before it is stored: the ugly cases, each with a clear reason.

Pure functions over GeoJSON-like dicts (RFC 7946: WGS84, [longitude, latitude]). The caller
turns a :class:`GeometryProblem` into a 422 naming the ``geometry`` field.

Examples
--------
>>> area = (1.10, 54.54, 1.30, 54.66)
>>> check_geometry({"type": "Point", "coordinates": [1.2, 54.6]}, ("Point",), area).wkt
'POINT (1.2 54.6)'
>>> try:
...     check_geometry({"type": "Point", "coordinates": [54.6, 1.2]}, ("Point",), area)
... except GeometryProblem as p:
...     print(p)
coordinates look swapped: GeoJSON order is [longitude, latitude]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

MAX_VERTICES: Final = 2_000
#: Nothing a practitioner draws in a town is longer than this across.
MAX_EXTENT_M: Final = 30_000.0
_GEOD: Final = Geod(ellps="WGS84")

BBox = tuple[float, float, float, float]


class GeometryProblem(ValueError):
    """Why a geometry cannot be accepted, in words a user can act on."""


def _coords(geom: BaseGeometry) -> Any:
    return shapely.get_coordinates(geom)


def _inside(geom: BaseGeometry, bbox: BBox) -> bool:
    min_x, min_y, max_x, max_y = geom.bounds
    return bbox[0] <= min_x and max_x <= bbox[2] and bbox[1] <= min_y and max_y <= bbox[3]


def _swap(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def extent_m(geom: BaseGeometry) -> float:
    """Length of the bounding box's diagonal on the ellipsoid, in metres."""
    min_x, min_y, max_x, max_y = geom.bounds
    return float(_GEOD.inv(min_x, min_y, max_x, max_y)[2])


def parse_geometry(raw: Any, allowed: Sequence[str]) -> BaseGeometry:
    """GeoJSON dict → shapely geometry of an allowed type, or GeometryProblem."""
    if not isinstance(raw, dict) or "type" not in raw or "coordinates" not in raw:
        raise GeometryProblem("must be a GeoJSON geometry object with 'type' and 'coordinates'")
    if raw["type"] not in allowed:
        raise GeometryProblem(f"must be a {' or '.join(allowed)}, not a {raw['type']}")
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed input
        raise GeometryProblem(f"is not valid GeoJSON: {exc}") from None
    coords = _coords(geom)
    if len(coords) == 0:
        raise GeometryProblem("has no coordinates")
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise GeometryProblem("has a coordinate that is not a finite number")
    return geom


def check_geometry(
    raw: Any,
    allowed: Sequence[str],
    service_area: BBox,
    *,
    repair: bool = False,
    max_vertices: int = MAX_VERTICES,
) -> BaseGeometry:
    """Parse and check a user's geometry; return it (repaired only if ``repair``).

    Checks, in order: GeoJSON shape and type; finite numbers; swapped lon/lat; inside the
    service area; vertex count; overall extent; validity (self-intersection and the like).
    """
    geom = parse_geometry(raw, allowed)
    if not _inside(geom, service_area):
        if _inside(_swap(geom), service_area):
            raise GeometryProblem(
                "coordinates look swapped: GeoJSON order is [longitude, latitude]"
            )
        raise GeometryProblem(
            "is outside the service area "
            f"(longitude {service_area[0]}–{service_area[2]}, "
            f"latitude {service_area[1]}–{service_area[3]})"
        )
    n = len(_coords(geom))
    if n > max_vertices:
        raise GeometryProblem(f"has too many vertices ({n:,}; at most {max_vertices:,})")
    if extent_m(geom) > MAX_EXTENT_M:
        raise GeometryProblem(f"is too large (more than {MAX_EXTENT_M / 1000:.0f} km across)")
    if geom.geom_type == "LineString" and shapely.length(geom) == 0:
        raise GeometryProblem("a line needs at least two different points")
    if not geom.is_valid:
        reason = readable_validity(explain_validity(geom))
        if not repair:
            raise GeometryProblem(
                f"is not valid: {reason}. Redraw it, or send repair=true to have it repaired"
            )
        geom = _repair(geom, allowed, reason)
    if geom.geom_type == "Polygon" and geom.area == 0:
        raise GeometryProblem("an area needs at least three different points")
    return geom


def readable_validity(reason: str) -> str:
    """'Self-intersection[1.205 54.605]' → 'self-intersection at 1.205, 54.605'."""
    text, _, where = reason.partition("[")
    where = where.rstrip("]").replace(" ", ", ")
    return f"{text.lower()} at {where}" if where else text.lower()


def _repair(geom: BaseGeometry, allowed: Sequence[str], reason: str) -> BaseGeometry:
    fixed = shapely.make_valid(geom)
    if fixed.geom_type == "MultiPolygon" and "Polygon" in allowed:
        # A bow-tie becomes two triangles; keep the largest, the part the user meant most.
        fixed = max(fixed.geoms, key=lambda g: g.area)  # type: ignore[attr-defined]
    if fixed.geom_type not in allowed or fixed.is_empty:
        raise GeometryProblem(
            f"is not valid ({reason}) and cannot be repaired into a {' or '.join(allowed)}"
        )
    return fixed
