"""The physical layout of Wrenmouth: coast, roads, river, rail, parks and named sites.

The town is built in a local frame of British National Grid metres measured from
:data:`ORIGIN` (a point in the North Sea, so no real street is implied) and only converted to
WGS84 on the way out. The layout does not depend on the seed: Wrenmouth should look the same
in every demo, screenshot and test; the seed only drives the activity recorded in it.

Examples
--------
>>> town = build_layout()
>>> 45e6 < town.land.area < 60e6  # square metres: about 9 km by 7 km
True
>>> round(to_wgs84(Point(0, 0)).x, 2)
1.2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely import affinity, ops
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

#: BNG easting/northing of the local origin (the middle of the town centre).
ORIGIN: tuple[float, float] = (606_800.0, 527_465.0)

G = TypeVar("G", bound=BaseGeometry)
FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=1)
def _transformer() -> Transformer:
    return Transformer.from_crs(27700, 4326, always_xy=True)


def to_wgs84_xy(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Convert local BNG offsets (metres from :data:`ORIGIN`) to WGS84 lon/lat arrays."""
    lon, lat = _transformer().transform(x + ORIGIN[0], y + ORIGIN[1])
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def to_wgs84(geom: G) -> G:
    """Convert a geometry in local BNG offsets to WGS84 (lon, lat)."""

    def convert(coords: FloatArray) -> FloatArray:
        lon, lat = to_wgs84_xy(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, convert)


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep only the polygonal parts of an overlay result, as one MultiPolygon."""
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    nested = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return MultiPolygon(nested)


def line_parts(geom: BaseGeometry, min_length: float = 0.0) -> list[LineString]:
    """Explode an overlay result into its LineStrings, dropping stubs shorter than min_length."""
    merged = ops.linemerge(geom) if isinstance(geom, MultiLineString) else geom
    return [
        g for g in shapely.get_parts(merged) if isinstance(g, LineString) and g.length >= min_length
    ]


@dataclass(frozen=True)
class Site:
    """A named point in the town (a school, a takeaway, a taxi rank...)."""

    name: str
    kind: str
    point: Point


@dataclass(frozen=True)
class District:
    """A named residential district: its label point and its residential land."""

    name: str
    label: Point
    residential: MultiPolygon


@dataclass(frozen=True)
class Layout:
    """Everything physical about the town, in local BNG metres (see :data:`ORIGIN`)."""

    land: Polygon
    safe_land: Polygon  # land pulled in 40 m so sampled points stay on land after reprojection
    built_up: Polygon
    main_roads: tuple[tuple[str, LineString], ...]
    ring_road: LineString
    minor_roads: tuple[LineString, ...]
    river: LineString
    rail: LineString
    central_station: Point
    second_station: Point
    bus_station: Point
    retail: Polygon
    parks: tuple[tuple[str, Polygon], ...]
    districts: tuple[District, ...]
    schools: tuple[Site, ...]
    youth_sites: tuple[Site, ...]
    taxi_ranks: tuple[Site, ...]
    takeaways: tuple[Site, ...]
    bus_routes: tuple[tuple[str, LineString], ...]

    @property
    def residential(self) -> MultiPolygon:
        """All residential land as one MultiPolygon."""
        return as_multipolygon(shapely.union_all([d.residential for d in self.districts]))


def _wobbly_ellipse(a: float, b: float, harmonics: list[tuple[int, float, float]]) -> Polygon:
    # A star-shaped outline (radius a function of angle) is always a valid simple polygon,
    # however much the harmonics roughen it, so the coastline can never self-intersect.
    theta = np.linspace(0.0, 2.0 * math.pi, 360, endpoint=False)
    radius = a * b / np.hypot(b * np.cos(theta), a * np.sin(theta))
    factor = np.ones_like(theta)
    for k, amp, phase in harmonics:
        factor += amp * np.cos(k * theta + phase)
    # A harbour bay where the river meets the sea, on the south coast.
    bay_angle = math.radians(-69.0)
    gap = np.angle(np.exp(1j * (theta - bay_angle)))
    factor -= 0.08 * np.exp(-((gap / 0.09) ** 2))
    r = radius * factor
    return Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))


def _ellipse(cx: float, cy: float, rx: float, ry: float, angle: float) -> Polygon:
    circle = Point(0, 0).buffer(1.0, quad_segs=16)
    shape = affinity.scale(circle, rx, ry, origin=(0, 0))
    return affinity.translate(affinity.rotate(shape, angle, origin=(0, 0)), cx, cy)


def _longest(geom: BaseGeometry) -> LineString:
    return max(line_parts(geom), key=lambda g: g.length)


def _radial(angle_deg: float, bend: float, land: Polygon) -> LineString:
    # Main roads leave the centre and curve gently (a real road bends round hills and
    # farms); the curve is a sine of distance so each road keeps its own character.
    r = np.arange(0.0, 6001.0, 150.0)
    theta = math.radians(angle_deg) + bend * np.sin(r / 1500.0)
    line = LineString(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    for part in line_parts(line.intersection(land)):
        if part.distance(Point(0, 0)) < 1.0:
            return part
    raise ValueError("radial road does not start in the town centre")


def _grid(built_up: BaseGeometry) -> list[LineString]:
    # Two families of slightly wavy streets, 300 m apart, rotated off north like an old
    # grid that has grown around its landmarks.
    lines: list[LineString] = []
    t = np.arange(-6000.0, 6001.0, 200.0)
    for family, angle in ((0, 12.0), (1, 102.0)):
        for i, offset in enumerate(np.arange(-5100.0, 5101.0, 300.0)):
            wobble = 18.0 * np.sin(t / 450.0 + i * 0.7 + family)
            line = LineString(np.column_stack([t, offset + wobble]))
            lines.append(affinity.rotate(line, angle, origin=(0, 0)))
    clipped = shapely.intersection(np.array(lines, dtype=object), built_up)
    return [p for g in clipped for p in line_parts(g, min_length=150.0)]


def _polyline(points: list[tuple[float, float]], land: Polygon) -> LineString:
    return _longest(LineString(points).intersection(land))


_MAIN_ROADS: tuple[tuple[str, float, float], ...] = (
    ("Eastcliff Road", 18.0, 0.10),
    ("North Road", 78.0, -0.08),
    ("Brackley Road", 138.0, 0.12),
    ("Westgate Road", 198.0, -0.10),
    ("Marsh Road", 250.0, 0.08),
    ("Harbour Road", 298.0, -0.06),
    ("Ferry Road", 340.0, 0.05),
)

_PARKS: tuple[tuple[str, float, float, float, float, float], ...] = (
    ("Riverside Park", -800.0, 950.0, 420.0, 200.0, -55.0),
    ("Castle Fields", 1000.0, 1450.0, 360.0, 240.0, 20.0),
    ("Northfield Recreation Ground", -200.0, 2350.0, 300.0, 190.0, 0.0),
    ("Saltings Park", -2400.0, -1050.0, 420.0, 260.0, 30.0),
    ("Harbour Green", 1500.0, -2300.0, 260.0, 160.0, -30.0),
)

_DISTRICTS: tuple[tuple[str, float, float], ...] = (
    ("Oldtown", -1000.0, -500.0),
    ("Harbourside", 900.0, -2200.0),
    ("Northfield", -300.0, 1900.0),
    ("Kingsley", 1500.0, 700.0),
    ("Westgate", -2300.0, 300.0),
    ("Saltmarsh", -1900.0, -1600.0),
    ("Ferry Hill", 2600.0, -500.0),
    ("Brackley", -1700.0, 1600.0),
    ("Eastcliff", 2700.0, 1300.0),
    ("Marsh End", -400.0, -1900.0),
    ("Castlegate", 700.0, 1900.0),
)

_SCHOOLS: tuple[tuple[str, str, float, float], ...] = (
    ("Wrenmouth Academy", "secondary", -1500.0, 250.0),
    ("St Aidan's Catholic High School", "secondary", 1900.0, 350.0),
    ("Northfield Community College", "secondary", -100.0, 1750.0),
    ("Harbourside Primary School", "primary", 1200.0, -2000.0),
    ("Castle Primary School", "primary", 500.0, 1200.0),
    ("Saltmarsh Primary School", "primary", -2100.0, -1300.0),
    ("Brackley Primary School", "primary", -1500.0, 1400.0),
    ("Eastcliff Primary School", "primary", 2500.0, 1150.0),
    ("Oldtown Primary School", "primary", -900.0, -800.0),
    ("Ferry Hill Primary School", "primary", 2200.0, -200.0),
    ("Marsh End Primary School", "primary", 100.0, -1900.0),
    ("St Mark's CE Primary School", "primary", -2600.0, 700.0),
)

_YOUTH: tuple[tuple[str, str, float, float], ...] = (
    ("Harbour Youth Club", "youth_club", 700.0, -1600.0),
    ("Northfield Youth Hub", "youth_club", -600.0, 2050.0),
    ("Westgate Youth Club", "youth_club", -2000.0, -100.0),
    ("Town Centre Safe Haven", "safe_haven", 350.0, 150.0),
)

# Generic descriptions rather than trading names, so no real business is implied.
_TAKEAWAYS: tuple[tuple[str, float, float], ...] = (
    ("Chicken shop, High Street", -80.0, 60.0),
    ("Fish bar, Market Street", 40.0, 20.0),
    ("Kebab house, Quay Street", 180.0, -40.0),
    ("Pizza takeaway, Bridge Street", 300.0, -120.0),
    ("Chinese takeaway, Market Street", 0.0, -200.0),
    ("Burger bar, High Street", 420.0, 10.0),
    ("Late-night grocer, Station Approach", 120.0, 120.0),
)


def _bus_routes(
    bus_station: Point, roads: dict[str, LineString], ring: LineString
) -> list[tuple[str, LineString]]:
    start = list(bus_station.coords)

    def out(road: str) -> LineString:
        return LineString(start + list(roads[road].coords))

    def via_ring(first: str, second: str) -> LineString:
        # Out along one radial, round the ring road, and out along the next: the shape of
        # a real "A" variant that serves an estate between two main roads.
        a, b = roads[first], roads[second]
        pa, pb = a.intersection(ring), b.intersection(ring)
        pa = min(shapely.get_parts(pa), key=lambda p: p.distance(Point(0, 0)))
        pb = min(shapely.get_parts(pb), key=lambda p: p.distance(Point(0, 0)))
        inner = ops.substring(a, 0.0, a.project(pa))
        arc = ops.substring(ring, ring.project(pa), ring.project(pb))
        outer = ops.substring(b, b.project(pb), b.length)
        coords = start + list(inner.coords) + list(arc.coords) + list(outer.coords)
        deduped = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
        return LineString(deduped)

    return [
        ("1", out("North Road")),
        ("2", out("Brackley Road")),
        ("2A", via_ring("Westgate Road", "Marsh Road")),
        ("3", out("Eastcliff Road")),
        ("4", out("Harbour Road")),
        ("5", out("Ferry Road")),
        ("R", ring),
    ]


@lru_cache(maxsize=1)
def build_layout() -> Layout:
    """Build the (seed-independent, cached) physical layout of Wrenmouth."""
    land = _wobbly_ellipse(
        4600.0, 3600.0, [(3, 0.05, 0.4), (5, 0.035, 1.3), (9, 0.02, 2.1), (17, 0.012, 0.7)]
    )
    safe_land = land.buffer(-40.0)
    road_land = land.buffer(-60.0)
    built_up = _wobbly_ellipse(3400.0, 2700.0, [(4, 0.05, 0.9), (7, 0.03, 0.2)]).intersection(
        land.buffer(-250.0)
    )
    assert isinstance(built_up, Polygon)

    roads = {name: _radial(angle, bend, road_land) for name, angle, bend in _MAIN_ROADS}
    ring_theta = np.linspace(0.0, 2.0 * math.pi, 181)
    ring_r = 1900.0 * 1500.0 / np.hypot(1500.0 * np.cos(ring_theta), 1900.0 * np.sin(ring_theta))
    ring_r *= 1.0 + 0.04 * np.cos(3.0 * ring_theta + 1.0)
    ring = LineString(np.column_stack([ring_r * np.cos(ring_theta), ring_r * np.sin(ring_theta)]))

    river = _polyline(
        [(-2300, 2500), (-1700, 1900), (-1100, 1300), (-700, 700), (-550, 150), (-450, -450),
         (-100, -1100), (400, -1700), (800, -2400), (1150, -3200), (1400, -4400)],
        land,
    )  # fmt: skip
    rail = _polyline(
        [(-5200, 1400), (-3000, 1000), (-1400, 650), (250, 450), (1500, 50), (2600, -600),
         (3700, -1300), (5600, -2100)],
        land.buffer(-30.0),
    )  # fmt: skip
    central = rail.interpolate(rail.project(Point(250, 450)))
    second = rail.interpolate(rail.project(Point(2600, -600)))
    bus_station = Point(-250, 130)
    retail = affinity.rotate(
        Polygon([(-200, -270), (500, -270), (500, 110), (-200, 110)]), 12.0, origin=(150, -80)
    )
    parks = [(n, _ellipse(x, y, rx, ry, a)) for n, x, y, rx, ry, a in _PARKS]
    park_union = shapely.union_all([p for _, p in parks])

    # Residential land: districts are Voronoi cells of their label points, minus the centre,
    # the parks and the railway corridor.
    core = Point(100, -50).buffer(550.0)
    housing = built_up.difference(shapely.union_all([core, park_union, rail.buffer(40.0)]))
    seeds = shapely.MultiPoint([(x, y) for _, x, y in _DISTRICTS])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=land.envelope.buffer(500)))
    districts: list[District] = []
    for name, x, y in _DISTRICTS:
        cell = next(c for c in cells if c.contains(Point(x, y)))
        districts.append(District(name, Point(x, y), as_multipolygon(cell.intersection(housing))))

    minor = _grid(built_up.difference(shapely.union_all([park_union.buffer(10.0), retail])))
    return Layout(
        land=land,
        safe_land=safe_land,
        built_up=built_up,
        main_roads=tuple(roads.items()),
        ring_road=ring,
        minor_roads=tuple(minor),
        river=river,
        rail=rail,
        central_station=central,
        second_station=second,
        bus_station=bus_station,
        retail=retail,
        parks=tuple(parks),
        districts=tuple(districts),
        schools=tuple(Site(n, k, Point(x, y)) for n, k, x, y in _SCHOOLS),
        youth_sites=tuple(Site(n, k, Point(x, y)) for n, k, x, y in _YOUTH),
        taxi_ranks=(
            Site("Central Station taxi rank", "taxi_rank", Point(central.x + 60, central.y - 40)),
            Site("Market Street taxi rank", "taxi_rank", Point(250, -200)),
            Site("Parkway taxi rank", "taxi_rank", Point(second.x - 50, second.y - 60)),
        ),
        takeaways=tuple(Site(n, "takeaway", Point(x, y)) for n, x, y in _TAKEAWAYS),
        bus_routes=tuple(_bus_routes(bus_station, roads, ring)),
    )
