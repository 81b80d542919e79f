"""The partnership's records of Wrenmouth: boundary sets, agencies, contexts and vehicles.

The sets are deliberately *not* co-terminous, because in real partnerships they never are:
council wards and police neighbourhoods are Voronoi cells of different seed points, the two
health areas are split by a wavy line that cuts straight through several wards, and school
catchments follow the three secondary schools. Every set tiles the land exactly once.

Examples
--------
>>> from spatial.demotown.layout import build_layout
>>> sets = build_boundary_sets(build_layout(), seed=1)
>>> [s.slug for s in sets][:2]
['wards', 'police-neighbourhoods']
>>> len(sets[0].areas)
12
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from spatial.demotown.layout import Layout, as_multipolygon, to_wgs84
from spatial.demotown.model import (
    AgencySpec,
    AreaSpec,
    BoundarySetSpec,
    ContextSpec,
    VehicleSpec,
    stable_id,
)
from spatial.vocabulary import (
    AGENCY_KINDS,
    BOUNDARY_SET_KINDS,
    CONTEXT_KINDS,
    CONTEXT_STATUSES,
    PLACE_FEATURES,
)

_WARDS: tuple[tuple[str, float, float], ...] = (
    ("Harbour", 1000.0, -2400.0),
    ("Oldtown", -900.0, -600.0),
    ("Castle", 800.0, 1500.0),
    ("Northfield", -400.0, 2100.0),
    ("Brackley", -1900.0, 1500.0),
    ("Westgate", -2900.0, 100.0),
    ("Saltmarsh", -2000.0, -1700.0),
    ("Marsh End", -500.0, -2300.0),
    ("Ferry Hill", 2500.0, -1000.0),
    ("Kingsley", 1700.0, 400.0),
    ("Eastcliff", 3000.0, 1500.0),
    ("Quayside", 200.0, -300.0),
)

_NEIGHBOURHOODS: tuple[tuple[str, float, float], ...] = (
    ("Town Centre", 300.0, 200.0),
    ("North", -600.0, 2200.0),
    ("West", -2600.0, 600.0),
    ("South West", -1600.0, -1900.0),
    ("South", 1200.0, -2300.0),
    ("East", 2800.0, 500.0),
)

#: (set slug, area code) of the one health area the health agency covers: the western half.
HEALTH_JURISDICTION: tuple[str, str] = ("health-areas", "HA01")


def _voronoi(
    land: Polygon, seeds: list[tuple[str, float, float]]
) -> list[tuple[str, BaseGeometry]]:
    # Cells are matched to seeds by containment, not by output order, which GEOS does not
    # promise to keep across versions.
    points = shapely.MultiPoint([(x, y) for _, x, y in seeds])
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=land.envelope.buffer(1e3)))
    out = []
    for name, x, y in seeds:
        cell = next(c for c in cells if c.contains(Point(x, y)))
        out.append((name, cell.intersection(land)))
    return out


def _split(
    land: Polygon, line: np.ndarray, far_side: list[tuple[float, float]]
) -> tuple[BaseGeometry, BaseGeometry]:
    # One half-plane polygon bounded by the wavy line; intersection and difference with the
    # same polygon give two halves that share their border exactly.
    half = Polygon([*map(tuple, line), *far_side])
    return land.intersection(half), land.difference(half)


def _wgs84_area(geom: BaseGeometry) -> MultiPolygon:
    out = as_multipolygon(to_wgs84(as_multipolygon(geom)))
    if not out.is_valid:  # reprojection can, very rarely, pinch a sliver
        out = as_multipolygon(shapely.make_valid(out))
    return out


def _boundary_set(
    seed: int, slug: str, name: str, kind: str, prefix: str, areas: list[tuple[str, BaseGeometry]]
) -> BoundarySetSpec:
    assert kind in BOUNDARY_SET_KINDS
    specs = tuple(
        AreaSpec(
            id=stable_id(seed, "area", slug, f"{prefix}{i:02d}"),
            code=f"{prefix}{i:02d}",
            name=area_name,
            geom=_wgs84_area(geom),
        )
        for i, (area_name, geom) in enumerate(areas, start=1)
    )
    return BoundarySetSpec(stable_id(seed, "boundary_set", slug), slug, name, kind, specs)


def build_boundary_sets(layout: Layout, seed: int) -> tuple[BoundarySetSpec, ...]:
    """The five boundary sets of Wrenmouth, each a WGS84 tiling of the land."""
    land = layout.land
    y = np.linspace(-5000.0, 5000.0, 201)
    health_line = np.column_stack([250.0 + 450.0 * np.sin(y / 900.0 + 0.5), y])
    west, east = _split(land, health_line, [(-8000.0, 5000.0), (-8000.0, -5000.0)])
    x = np.linspace(-6000.0, 6000.0, 241)
    ldsm_line = np.column_stack([x, -200.0 + 350.0 * np.sin(x / 1300.0 + 1.0)])
    north, south = _split(land, ldsm_line, [(6000.0, 6000.0), (-6000.0, 6000.0)])
    secondaries = [
        (f"{s.name} catchment", s.point.x, s.point.y)
        for s in layout.schools
        if s.kind == "secondary"
    ]
    return (
        _boundary_set(
            seed, "wards", "Wrenmouth council wards", "council_ward", "W",
            _voronoi(land, list(_WARDS)),
        ),
        _boundary_set(
            seed, "police-neighbourhoods", "Wrenmouth Police neighbourhoods",
            "police_neighbourhood", "PN", _voronoi(land, list(_NEIGHBOURHOODS)),
        ),
        _boundary_set(
            seed, "health-areas", "Wrenmouth health areas", "health_area", "HA",
            [("Wrenmouth West", west), ("Wrenmouth East", east)],
        ),
        _boundary_set(
            seed, "school-catchments", "Secondary school catchments", "school_catchment", "SC",
            _voronoi(land, secondaries),
        ),
        _boundary_set(
            seed, "ldsm-areas", "LDSM areas", "ldsm_area",
            "LD", [("LDSM North", north), ("LDSM South", south)],
        ),
    )  # fmt: skip


def build_agencies(seed: int, sets: tuple[BoundarySetSpec, ...]) -> tuple[AgencySpec, ...]:
    """The six partner agencies; the health agency covers only one health area."""
    by_slug = {s.slug: s for s in sets}

    def all_of(slug: str) -> tuple[tuple[str, str], ...]:
        return tuple((slug, a.code) for a in by_slug[slug].areas)

    rows: list[tuple[str, str, str, tuple[tuple[str, str], ...]]] = [
        ("police", "Wrenmouth Police", "police", all_of("police-neighbourhoods")),
        ("social_care", "Wrenmouth Children's Services", "childrens_social_care", all_of("wards")),
        ("health", "Wrenmouth West Community Health", "health", (HEALTH_JURISDICTION,)),
        ("education", "Wrenmouth Education Service", "education", all_of("wards")),
        ("vcse", "Brightpath Youth", "vcse", all_of("wards")),
        ("bus", "Coastline Buses", "transport_operator", all_of("wards")),
    ]
    assert all(kind in AGENCY_KINDS for _, _, kind, _ in rows)
    return tuple(
        AgencySpec(stable_id(seed, "agency", key), key, name, kind, jurisdiction)
        for key, name, kind, jurisdiction in rows
    )


#: Where the activity generator puts its hotspots (local BNG metres); contexts sit on them.
STAIRWELL = Point(-350.0, -1750.0)
FADING_SPOT = Point(-2350.0, -950.0)
RIVERSIDE_PATH = Point(-900.0, 1050.0)

# (key, agency, name, x, y, features, status): places inside residential buildings, which
# are never public places however often they are reported.
_PRIVATE_PLACES: tuple[tuple[str, str, str, float, float, tuple[str, ...], str], ...] = (
    ("stairwell", "police", "Stairwell, Kestrel House", STAIRWELL.x, STAIRWELL.y,
     ("poor_lighting", "no_cctv", "drug_use_signs", "young_people_gathering"), "plan"),
    ("flat_heron", "police", "Flat, Heron Court", -2200.0, 550.0,
     ("older_people_loitering", "drug_use_signs"), "assessing"),
    ("flat_linnet", "social_care", "Flat, Linnet Road", 2900.0, 900.0,
     ("older_people_loitering",), "referred"),
    ("garages", "social_care", "Garages behind Plover Close", -900.0, 2300.0,
     ("derelict", "isolated", "poor_lighting"), "review"),
)  # fmt: skip

#: Vehicle key, agency, mark, make, model, colour. The first is the vehicle of interest.
_VEHICLES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("voi", "police", "WR19 QKZ", "Vauxhall", "Astra", "Silver"),
    ("v2", "police", "WR21 QBL", "Ford", "Fiesta", "Black"),
    ("v3", "police", "WR68 QTN", "Volkswagen", "Golf", "White"),
    ("v4", "bus", "WR17 QJD", "BMW", "3 Series", "Grey"),
    ("v5", "social_care", "WR70 QFS", "Toyota", "Yaris", "Red"),
)


def emerging_spot(layout: Layout) -> Point:
    """The car park by the second station where activity starts in the last three months."""
    return Point(layout.second_station.x + 120.0, layout.second_station.y + 110.0)


def build_contexts(layout: Layout, seed: int) -> dict[str, ContextSpec]:
    """All contexts, keyed by a short internal name the activity generator links to."""
    out: dict[str, ContextSpec] = {}

    def add(
        key: str,
        agency: str,
        kind: str,
        name: str,
        geom: BaseGeometry,
        public: bool,
        features: tuple[str, ...] = (),
        status: str = "review",
        operator: str | None = None,
        route: str | None = None,
    ) -> None:
        assert kind in CONTEXT_KINDS and status in CONTEXT_STATUSES
        assert set(features) <= set(PLACE_FEATURES)
        out[key] = ContextSpec(
            id=stable_id(seed, "context", key),
            agency_key=agency,
            kind=kind,
            name=name,
            geom=to_wgs84(geom),
            public_place=public,
            features=features,
            status=status,
            operator=operator,
            route_name=route,
        )

    for route, line in layout.bus_routes:
        status = "assessing" if route == "2A" else "review"
        add(f"route:{route}", "bus", "transport_route", f"Bus route {route}", line, True,
            status=status, operator="Coastline Buses", route=route)  # fmt: skip
    add("rail", "police", "transport_route", "Wrenmouth coast railway", layout.rail, True,
        operator="Coastal Rail", route="Coast Line")  # fmt: skip
    add("bus_station", "bus", "transport_hub", "Wrenmouth Bus Station", layout.bus_station,
        True, ("young_people_gathering", "older_people_loitering"), "plan")  # fmt: skip
    add("central_station", "police", "transport_hub", "Wrenmouth Central station",
        layout.central_station, True, ("young_people_gathering",))  # fmt: skip
    add("second_station", "police", "transport_hub", "Wrenmouth Parkway station",
        layout.second_station, True, ("isolated", "poor_lighting"), "referred")  # fmt: skip
    for i, rank in enumerate(layout.taxi_ranks):
        add(f"taxi:{i}", "police" if i % 2 == 0 else "social_care", "transport_hub", rank.name,
            rank.point, True, ("late_night_trade",))  # fmt: skip
    for i, shop in enumerate(layout.takeaways):
        add(f"takeaway:{i}", ("police", "social_care", "vcse")[i % 3], "place_of_concern",
            shop.name, shop.point, True,
            ("late_night_trade", "young_people_gathering", "older_people_loitering")[: 1 + i % 3],
            CONTEXT_STATUSES[i % 4])  # fmt: skip
    for key, agency, name, x, y, features, status in _PRIVATE_PLACES:
        add(key, agency, "place_of_concern", name, Point(x, y), False, features, status)
    parks = dict(layout.parks)
    add("park", "police", "hotspot", "Castle Fields play area", parks["Castle Fields"], True,
        ("poor_sightlines", "young_people_gathering"), "plan")  # fmt: skip
    add("town_centre", "social_care", "hotspot", "Town centre evening economy", layout.retail,
        True, ("late_night_trade", "young_people_gathering"), "review")  # fmt: skip
    add("emerging", "police", "hotspot", "Parkway station car park", emerging_spot(layout),
        True, ("isolated", "poor_lighting", "no_cctv"), "referred")  # fmt: skip
    add("fading", "vcse", "hotspot", "Saltings Park shelter", FADING_SPOT, True,
        ("isolated", "poor_lighting"), "closed")  # fmt: skip
    add("riverside", "vcse", "hotspot", "Riverside Park path", RIVERSIDE_PATH, True,
        ("poor_sightlines", "isolated"), "assessing")  # fmt: skip
    add("saltings", "education", "hotspot", "Saltings Park", parks["Saltings Park"], True,
        ("isolated",), "closed")  # fmt: skip
    for site in layout.youth_sites:
        add(f"youth:{site.name}", "vcse", "protective_space", site.name, site.point, True)
    for site in layout.schools:
        add(f"school:{site.name}", "education", "protective_space", site.name, site.point, True)
    return out


def build_vehicles(seed: int) -> dict[str, VehicleSpec]:
    """The vehicle of interest (key ``"voi"``) and four occasionally-sighted others."""
    return {
        key: VehicleSpec(stable_id(seed, "vehicle", key), agency, mark, make, model, colour)
        for key, agency, mark, make, model, colour in _VEHICLES
    }
