"""Shared outputs as data: the published records, and their GeoJSON.

Part of the one redaction module (:mod:`spatial.redaction` re-exports all of it): what
:func:`spatial.redaction.publish_cells` and friends produce, and the only serialisers of shared
geometry — published cells on the fixed lattice, shared contexts at their published position,
public places at their true geometry, and a shared heatmap's input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import h3
import shapely.errors
import shapely.geometry
import shapely.wkt

from spatial.cells import cell_boundary
from spatial.redaction_profiles import TierProfile, precision_statement, require_valid
from spatial.vocabulary import CONTEXT_KINDS

_COORD_DP = 6  # about 0.1 m: no false precision


@dataclass(frozen=True)
class ContextFact:
    """A context: a place, route or hub, with a representative point and its full geometry."""

    id: str
    kind: str
    name: str
    public_place: bool
    lon: float
    lat: float
    geometry_wkt: str


@dataclass(frozen=True)
class PublishedCell:
    """A published cell-period: an exact count (B) or a rounded count or band label (C)."""

    cell: int
    period: str
    count: int | str


@dataclass(frozen=True)
class PublishedContext:
    """A context as shared; ``precise`` is False when it stands at its cell's centre."""

    id: str
    kind: str
    name: str
    lon: float
    lat: float
    precise: bool
    #: The lattice cell (at the profile's resolution) the context is published in.
    cell: int = 0


def centre(cell: int) -> tuple[float, float]:
    lat, lon = h3.api.basic_int.cell_to_latlng(cell)
    return round(lon, _COORD_DP), round(lat, _COORD_DP)


def public_place_feature(context: ContextFact) -> dict[str, Any]:
    """A context flagged public place at its true geometry: a GeoJSON Feature with only its
    name and kind. Anything not flagged public place is refused.

    Tier C shows coarse cells and *named public places*: a bus route, a station or a taxi
    rank may be drawn where it is. A place that is not public (a flat, a stairwell) is never
    drawn by its geometry, in any tier; this is the one way a context's geometry leaves.
    Coordinates are rounded to 6 decimal places (about 0.1 m).

    Raises
    ------
    ValueError
        For a context not flagged public place, an unknown kind or a geometry that is not
        valid WKT.

    Examples
    --------
    >>> route = ContextFact("c1", "transport_route", "Coast Line", True, 1.2, 54.6,
    ...                     "LINESTRING (1.2 54.6, 1.21000004 54.61)")
    >>> public_place_feature(route)["geometry"]
    {'type': 'LineString', 'coordinates': [[1.2, 54.6], [1.21, 54.61]]}
    >>> public_place_feature(route)["properties"]
    {'name': 'Coast Line', 'kind': 'transport_route'}
    >>> flat = ContextFact("c2", "place_of_concern", "Flat 3", False, 1.21, 54.61,
    ...                    "POINT (1.21 54.61)")
    >>> public_place_feature(flat)
    Traceback (most recent call last):
    ...
    ValueError: public_place: only a public place is drawn at its geometry
    """
    if context.public_place is not True:
        raise ValueError("public_place: only a public place is drawn at its geometry")
    if context.kind not in CONTEXT_KINDS:
        raise ValueError(f"kind: {context.kind!r} is not a context kind")
    try:
        geometry = shapely.wkt.loads(context.geometry_wkt)
    except shapely.errors.ShapelyError:
        raise ValueError("geometry_wkt: not a valid WKT geometry") from None
    if geometry.is_empty:
        raise ValueError("geometry_wkt: empty geometry")
    return {
        "type": "Feature",
        "geometry": _rounded(shapely.geometry.mapping(geometry)),
        "properties": {"name": context.name, "kind": context.kind},
    }


def _rounded(node: Any) -> Any:
    """GeoJSON with tuples as lists and every number rounded to 6 decimal places."""
    if isinstance(node, dict):
        return {k: _rounded(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_rounded(v) for v in node]
    if isinstance(node, float):
        return round(node, _COORD_DP)
    return node


def contexts_geojson(contexts: Iterable[PublishedContext]) -> dict[str, Any]:
    """Published contexts as a GeoJSON FeatureCollection of points (their shared position).

    >>> bus = PublishedContext("c1", "transport_hub", "Bus station", 1.2, 54.6, True)
    >>> contexts_geojson([bus])["features"][0]["properties"]
    {'kind': 'transport_hub', 'name': 'Bus station', 'precise': True}
    """
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": c.id,
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {"kind": c.kind, "name": c.name, "precise": c.precise},
            }
            for c in contexts
        ],
    }


def heatmap_points(published: list[PublishedCell]) -> tuple[list[float], list[float], list[int]]:
    """(lons, lats, weights) of published cells' centres: a shared heatmap's only input.

    >>> from spatial.cells import cell_key
    >>> lons, lats, w = heatmap_points([PublishedCell(cell_key(1.2, 54.6, 8), "2026-05", 7)])
    >>> w
    [7]
    """
    lons: list[float] = []
    lats: list[float] = []
    weights: list[int] = []
    for c in published:
        if isinstance(c.count, str):
            raise ValueError("count: a heatmap needs counts, not bands")
        lon, lat = centre(c.cell)
        lons.append(lon)
        lats.append(lat)
        weights.append(c.count)
    return lons, lats, weights


def _check_published(c: PublishedCell, profile: TierProfile) -> None:
    """Belt and braces: refuse what :func:`publish_cells` could not have produced."""
    if (c.cell >> 52) & 0xF != profile.resolution or not h3.api.basic_int.is_valid_cell(c.cell):
        raise ValueError(f"cell: {c.cell} is not a resolution-{profile.resolution} cell")
    if isinstance(c.count, int) and c.count < profile.k_observations:
        raise ValueError(f"count: {c.count} is below k = {profile.k_observations}")


def to_geojson(published: list[PublishedCell], profile: TierProfile) -> dict[str, Any]:
    """Published cells as a GeoJSON FeatureCollection with the precision sentence.

    Cell keys are written as decimal strings (JavaScript numbers cannot hold them exactly).

    Examples
    --------
    >>> from spatial.cells import cell_key
    >>> from spatial.redaction_profiles import DEFAULT_PROFILES
    >>> fc = to_geojson([PublishedCell(cell_key(1.2, 54.6, 8), "2026-05", 7)],
    ...                 DEFAULT_PROFILES["B"])
    >>> fc["precision"]
    'Cells of about 0.74 km², counts under 5 hidden, by month.'
    >>> fc["features"][0]["properties"]["count"], len(fc["features"][0]["geometry"]["coordinates"][0])
    (7, 7)
    """  # noqa: E501
    require_valid(profile)
    features = []
    for c in sorted(published, key=lambda c: (c.period, c.cell)):
        _check_published(c, profile)
        ring = [[round(x, _COORD_DP), round(y, _COORD_DP)] for x, y in cell_boundary(c.cell)]
        features.append(
            {
                "type": "Feature",
                "id": f"{c.cell}/{c.period}",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"cell": str(c.cell), "period": c.period, "count": c.count},
            }
        )
    return {
        "type": "FeatureCollection",
        "tier": profile.tier,
        "resolution": profile.resolution,
        "period": profile.period,
        "precision": precision_statement(profile),
        "features": features,
    }
