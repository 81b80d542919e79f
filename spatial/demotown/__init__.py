"""Wrenmouth: a fictional English demo town of about 60,000 people, generated from a seed.

The town sits on an island placed over open sea (around lon 1.2, lat 54.6, off the North
Yorkshire coast) so that no real street, school or business is implied. Its layout is fixed;
the seed drives the 24 months of observations recorded in it. The generator is pure: the same
``(seed, size, end_month)`` always gives the same town, byte for byte, ids included.

Examples
--------
>>> import datetime as dt
>>> town = generate_town(seed=1, size=2_000, end_month=dt.date(2024, 6, 1))
>>> sorted(a.key for a in town.agencies)
['bus', 'education', 'health', 'police', 'social_care', 'vcse']
>>> town.observations["occurred_at"].max() < dt.datetime(2024, 7, 1, tzinfo=dt.timezone.utc)
True
"""

from __future__ import annotations

import datetime as dt

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from spatial.demotown.activity import CLUSTER_CENTRES, generate_observations
from spatial.demotown.boundaries import (
    FADING_SPOT,
    HEALTH_JURISDICTION,
    RIVERSIDE_PATH,
    STAIRWELL,
    build_agencies,
    build_boundary_sets,
    build_contexts,
    build_vehicles,
    emerging_spot,
)
from spatial.demotown.layout import Layout, build_layout, to_wgs84
from spatial.demotown.model import (
    OBSERVATION_DTYPES,
    AgencySpec,
    AreaSpec,
    BasemapFeature,
    BoundarySetSpec,
    ContextSpec,
    DemoTown,
    VehicleSpec,
)

__all__ = [
    "OBSERVATION_DTYPES",
    "AgencySpec",
    "AreaSpec",
    "BasemapFeature",
    "BoundarySetSpec",
    "ContextSpec",
    "DemoTown",
    "VehicleSpec",
    "default_end_month",
    "generate_town",
]


def default_end_month(today: dt.date | None = None) -> dt.date:
    """First day of the last complete calendar month before ``today``.

    Examples
    --------
    >>> default_end_month(dt.date(2025, 1, 15))
    datetime.date(2024, 12, 1)
    """
    today = today or dt.date.today()
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def _basemap(layout: Layout) -> tuple[BasemapFeature, ...]:
    def f(layer: str, name: str | None, kind: str | None, geom: BaseGeometry) -> BasemapFeature:
        return BasemapFeature(layer, name, kind, to_wgs84(geom))

    features = [f("land", "Wrenmouth", None, layout.land)]
    features += [f("park", name, None, geom) for name, geom in layout.parks]
    features.append(f("retail", "Wrenmouth town centre", None, layout.retail))
    features += [f("residential", d.name, None, d.residential) for d in layout.districts]
    features.append(f("river", "River Wren", None, layout.river))
    features += [f("road", name, "main", geom) for name, geom in layout.main_roads]
    features.append(f("road", "Ring Road", "main", layout.ring_road))
    features += [f("road", None, "minor", geom) for geom in layout.minor_roads]
    features.append(f("rail", "Coast Line", None, layout.rail))
    features.append(f("station", "Wrenmouth Central", "rail", layout.central_station))
    features.append(f("station", "Wrenmouth Parkway", "rail", layout.second_station))
    features.append(f("station", "Wrenmouth Bus Station", "bus", layout.bus_station))
    features.append(f("place_label", "Town Centre", "district", Point(100, -50)))
    features += [f("place_label", d.name, "district", d.label) for d in layout.districts]
    return tuple(features)


def generate_town(seed: int = 1, size: int = 20_000, end_month: dt.date | None = None) -> DemoTown:
    """Generate the Wrenmouth demo town.

    Parameters
    ----------
    seed
        Seed for :func:`numpy.random.default_rng`; it drives the observations, pseudonyms
        and every id (ids of fixed records are UUID5s of the seed and the record's name).
    size
        Number of observations (exactly; at least about 1,000 so every pattern shows).
    end_month
        Any day of the last month of data (normalised to its first day); 24 calendar months
        end there. ``None`` means the last complete month before today.

    Returns
    -------
    DemoTown
        Base map, boundary sets, agencies, contexts, vehicles and observations, all WGS84.

    Examples
    --------
    >>> import datetime as dt
    >>> town = generate_town(seed=7, size=1_500, end_month=dt.date(2025, 3, 1))
    >>> len(town.observations), town.end_month
    (1500, datetime.date(2025, 3, 1))
    >>> town.service_area.contains(town.named_places["bus_station"])
    True
    """
    end = (end_month or default_end_month()).replace(day=1)
    layout = build_layout()
    sets = build_boundary_sets(layout, seed)
    agencies = build_agencies(seed, sets)
    contexts = build_contexts(layout, seed)
    vehicles = build_vehicles(seed)
    health_set = next(s for s in sets if s.slug == HEALTH_JURISDICTION[0])
    health_area = next(a for a in health_set.areas if a.code == HEALTH_JURISDICTION[1])
    observations = generate_observations(
        layout, contexts, vehicles, health_area.geom, seed, size, end
    )
    places = {
        "town_centre": Point(100, -50),
        "bus_station": layout.bus_station,
        "central_station": layout.central_station,
        "second_station": layout.second_station,
        "emerging_hotspot": emerging_spot(layout),
        "fading_hotspot": FADING_SPOT,
        "park_hotspot": dict(layout.parks)["Castle Fields"].centroid,
        "stairwell": STAIRWELL,
        "retail_centre": layout.retail.centroid,
        "riverside_path": RIVERSIDE_PATH,
    }
    service = shapely.box(*to_wgs84(layout.land.buffer(500.0)).bounds)
    return DemoTown(
        seed=seed,
        size=size,
        end_month=end,
        service_area=service,
        basemap=_basemap(layout),
        boundary_sets=sets,
        agencies=agencies,
        contexts=tuple(contexts.values()),
        vehicles=tuple(vehicles.values()),
        observations=observations,
        single_child_clusters=tuple(to_wgs84(Point(c)) for c in CLUSTER_CENTRES),
        named_places={key: to_wgs84(p) for key, p in places.items()},
    )
