"""Unit tests for the Wrenmouth demo-town generator (no database)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from spatial.cells import cell_key, cell_keys, cells_in_bbox
from spatial.demotown import OBSERVATION_DTYPES, DemoTown, default_end_month, generate_town
from spatial.trends import CellTrend, emerging_hotspots
from spatial.vocabulary import (
    AGENCY_KINDS,
    BASEMAP_LAYERS,
    BOUNDARY_SET_KINDS,
    CATEGORIES,
    CONTEXT_KINDS,
    CONTEXT_STATUSES,
    INFORMATION_GRADES,
    PLACE_FEATURES,
    SOURCE_GRADES,
)

END = dt.date(2025, 6, 1)
FIRST = pd.Timestamp("2023-07-01", tz="UTC")
AFTER_END = pd.Timestamp("2025-07-01", tz="UTC")
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


@pytest.fixture(scope="module")
def town() -> DemoTown:
    return generate_town(seed=11, size=3_000, end_month=END)


@pytest.fixture(scope="module")
def big_town() -> DemoTown:
    # The default size, where the monthly patterns are clear enough to test month by month.
    return generate_town(seed=1, end_month=END)


def _bng(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, y = _TO_BNG.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _within_m(town: DemoTown, point: Point, metres: float) -> np.ndarray:
    obs = town.observations
    x, y = _bng(obs["lon"].to_numpy(), obs["lat"].to_numpy())
    px, py = _bng(point.x, point.y)
    return np.asarray(np.hypot(x - px, y - py) < metres)


def _month_index(town: DemoTown) -> np.ndarray:
    """0 for the first of the 24 months … 23 for end_month."""
    ts = town.observations["occurred_at"]
    end = town.end_month
    return np.asarray((ts.dt.year - end.year) * 12 + ts.dt.month - end.month + 23)


def _land(town: DemoTown) -> BaseGeometry:
    (land,) = [f.geom for f in town.basemap if f.layer == "land"]
    return land


def _area_bng(geom: BaseGeometry) -> float:
    return float(shapely.transform(geom, lambda c: np.column_stack(_bng(c[:, 0], c[:, 1]))).area)


# --- determinism -------------------------------------------------------------------------


def test_same_arguments_give_identical_town(town: DemoTown) -> None:
    again = generate_town(seed=11, size=3_000, end_month=END)
    assert [shapely.to_wkb(f.geom) for f in again.basemap] == [
        shapely.to_wkb(f.geom) for f in town.basemap
    ]
    assert [(f.layer, f.name, f.kind) for f in again.basemap] == [
        (f.layer, f.name, f.kind) for f in town.basemap
    ]
    assert again.boundary_sets == town.boundary_sets
    assert again.agencies == town.agencies
    assert again.contexts == town.contexts
    assert again.vehicles == town.vehicles
    assert again.single_child_clusters == town.single_child_clusters
    assert again.named_places == town.named_places
    pd.testing.assert_frame_equal(again.observations, town.observations)


def test_different_seed_gives_different_observations(town: DemoTown) -> None:
    other = generate_town(seed=12, size=3_000, end_month=END)
    assert set(other.observations["id"]).isdisjoint(town.observations["id"])
    assert not np.array_equal(other.observations["lon"], town.observations["lon"])
    assert other.agencies[0].id != town.agencies[0].id  # ids are per seed, too


def test_end_month_is_normalised_and_tiny_sizes_are_refused() -> None:
    assert generate_town(seed=3, size=1_000, end_month=dt.date(2025, 6, 17)).end_month == END
    with pytest.raises(ValueError, match="too small"):
        generate_town(size=40)


def test_end_month_defaults_to_last_complete_month() -> None:
    assert default_end_month(dt.date(2025, 3, 31)) == dt.date(2025, 2, 1)
    assert default_end_month(dt.date(2025, 1, 1)) == dt.date(2024, 12, 1)
    small = generate_town(size=1_000)
    assert small.end_month == default_end_month()
    assert small.observations["occurred_at"].max() < pd.Timestamp(dt.date.today(), tz="UTC")


# --- observations ------------------------------------------------------------------------


def test_columns_and_dtypes(town: DemoTown) -> None:
    obs = town.observations
    assert {c: str(t) for c, t in obs.dtypes.items()} == OBSERVATION_DTYPES
    assert isinstance(obs["id"].iloc[0], str)
    assert all(isinstance(r, tuple) for r in obs["young_person_refs"])
    assert obs["context_id"].map(lambda v: v is None or isinstance(v, str)).all()
    assert obs["vehicle_id"].map(lambda v: v is None or isinstance(v, str)).all()
    assert obs["note"].map(lambda v: isinstance(v, str) and 0 < len(v) < 120).all()


def test_size_and_ids(town: DemoTown) -> None:
    obs = town.observations
    assert abs(len(obs) - 3_000) <= 60
    assert obs["id"].is_unique
    assert all(uuid.UUID(v).version == 4 for v in obs["id"].head(500))


def test_values_come_from_the_vocabulary(town: DemoTown) -> None:
    obs = town.observations
    assert set(obs["category"]) <= set(CATEGORIES)
    assert set(obs["source_grade"]) <= set(SOURCE_GRADES)
    assert set(obs["info_grade"]) <= set(INFORMATION_GRADES)
    assert set(obs["agency_key"]) == {a.key for a in town.agencies}
    assert set(obs["context_id"].dropna()) <= {str(c.id) for c in town.contexts}
    assert set(obs["vehicle_id"].dropna()) <= {str(v.id) for v in town.vehicles}
    # A vehicle of interest is always identified, and only vehicle reports name one.
    is_vehicle = obs["category"] == "vehicle_of_interest"
    assert (is_vehicle == obs["vehicle_id"].notna()).all()


def test_young_person_refs_are_recurring_pseudonyms(town: DemoTown) -> None:
    refs = [r for row in town.observations["young_person_refs"] for r in row]
    assert all(re.fullmatch(r"YP-[0-9A-F]{4}", r) for r in refs)
    assert all(len(set(row)) == len(row) for row in town.observations["young_person_refs"])
    counts = Counter(refs)
    assert 100 <= len(counts) <= 1_000
    assert max(counts.values()) >= 10
    share = (town.observations["young_person_refs"].map(len) > 0).mean()
    assert 0.2 < share < 0.7


def test_time_span(town: DemoTown) -> None:
    ts = town.observations["occurred_at"]
    assert ts.min() >= FIRST
    assert ts.max() < AFTER_END
    assert ts.is_monotonic_increasing
    assert set(_month_index(town)) == set(range(24))


def test_observations_on_land_and_in_service_area(town: DemoTown) -> None:
    obs = town.observations
    lon, lat = obs["lon"].to_numpy(), obs["lat"].to_numpy()
    assert shapely.contains_xy(town.service_area, lon, lat).all()
    assert shapely.contains_xy(_land(town), lon, lat).all()


def test_health_reports_stay_in_the_health_agencys_area(town: DemoTown) -> None:
    (health,) = [a for a in town.agencies if a.key == "health"]
    (slug, code), *_ = health.jurisdiction
    (hset,) = [s for s in town.boundary_sets if s.slug == slug]
    (area,) = [a for a in hset.areas if a.code == code]
    rows = town.observations[town.observations["agency_key"] == "health"]
    assert len(rows) > 0
    assert shapely.contains_xy(area.geom, rows["lon"], rows["lat"]).all()


# --- MACE patterns -----------------------------------------------------------------------


def test_emerging_hotspot_is_recent(town: DemoTown) -> None:
    near = _within_m(town, town.named_places["emerging_hotspot"], 300)
    months = _month_index(town)[near]
    assert len(months) >= 50
    assert (months >= 21).mean() > 0.75


def test_fading_hotspot_declines_but_never_dies_out(town: DemoTown) -> None:
    near = _within_m(town, town.named_places["fading_hotspot"], 300)
    month = _month_index(town)
    counts = np.bincount(month[near], None, 24)
    assert counts.sum() >= 50
    assert counts[:12].sum() > 1.3 * counts[12:].sum()
    # Year on year (the same calendar months, so seasonality cancels) it has about halved...
    assert counts[21:].sum() < 0.75 * counts[9:12].sum()
    # ...but in the last quarter a 300 m disc (about 0.6 % of the island) still holds well
    # over 3 % of all the town's reports.
    assert near[month >= 21].mean() > 0.03


#: The MACE panel's study area (lon/lat box around the service area).
PANEL_BBOX = (1.10, 54.54, 1.30, 54.66)


def _panel_matrix(town: DemoTown) -> tuple[np.ndarray, np.ndarray]:
    """Counts of all observations per Europe/London calendar month (the last 12) and res-8
    cell, over every cell of the panel's box (zero counts included), as the panel's trend
    layer builds them; returns (counts[12, cells], cells)."""
    cells = np.array(cells_in_bbox(PANEL_BBOX, 8), dtype=np.int64)
    obs = town.observations
    local = obs["occurred_at"].dt.tz_convert("Europe/London")
    end = town.end_month
    period = np.asarray((local.dt.year - end.year) * 12 + local.dt.month - end.month + 11)
    keys = cell_keys(obs["lon"].to_numpy(), obs["lat"].to_numpy(), (8,))[8]
    column = np.minimum(np.searchsorted(cells, keys), cells.size - 1)
    assert (cells[column] == keys).all()  # every observation lies in the study area
    keep = (period >= 0) & (period < 12)
    counts = np.zeros((12, cells.size))
    np.add.at(counts, (period[keep], column[keep]), 1)
    return counts, cells


@pytest.mark.parametrize(
    ("seed", "size", "end_month"),
    [(7, 6_000, dt.date(2026, 10, 1)), (1, 20_000, END), (1, 20_000, None)],
    ids=["seed7-6k", "default-demo-2025-06", "default-demo-now"],
)
def test_panel_emerging_hotspot_classes(seed: int, size: int, end_month: dt.date | None) -> None:
    town = generate_town(seed=seed, size=size, end_month=end_month)
    counts, cells = _panel_matrix(town)
    trends: dict[int, CellTrend] = {t.cell: t for t in emerging_hotspots(counts, cells)}

    def trend(key: str) -> tuple[CellTrend, np.ndarray]:
        place = town.named_places[key]
        cell = cell_key(place.x, place.y, 8)
        return trends[cell], counts[:, int(np.searchsorted(cells, cell))]

    emerging, _ = trend("emerging_hotspot")
    assert emerging.pattern in ("new", "consecutive"), emerging
    assert min(emerging.bins[-3:]) >= 1 and max(emerging.bins[:-3]) <= 0, emerging.bins

    fading, fading_counts = trend("fading_hotspot")
    # Hot in at least 90 % of the months, the last included, with a falling Gi* z-score.
    assert fading.pattern == "diminishing", fading
    assert fading.bins[-1] >= 1 and fading.mk.trend == "decreasing"
    # On the map it visibly fades: the last half-year is below the first even when it holds
    # the summer peak (about 0.6 of it otherwise).
    assert fading_counts[6:].sum() < 0.9 * fading_counts[:6].sum()


def test_persistent_hotspots_every_month(big_town: DemoTown) -> None:
    months = _month_index(big_town)
    for key in ("bus_station", "park_hotspot", "stairwell", "retail_centre"):
        counts = np.bincount(months[_within_m(big_town, big_town.named_places[key], 150)], None, 24)
        assert counts.min() >= 10, key
        assert counts[:12].sum() == pytest.approx(counts[12:].sum(), rel=0.25), key


def test_summer_peak(big_town: DemoTown) -> None:
    month = big_town.observations["occurred_at"].dt.month
    per_month = month.value_counts() / 2  # two of each calendar month
    assert per_month[[7, 8]].mean() > 1.15 * per_month.mean()


def test_vehicle_of_interest_follows_a_bus_route(town: DemoTown) -> None:
    obs = town.observations
    per_vehicle = obs["vehicle_id"].value_counts()
    voi = per_vehicle.index[0]
    assert per_vehicle.iloc[0] >= 30
    assert 3 <= len(per_vehicle) - 1 <= 5
    assert (per_vehicle.iloc[1:] < per_vehicle.iloc[0] / 3).all()
    rows = obs[obs["vehicle_id"] == voi]
    routes = [c for c in town.contexts if c.id == uuid.UUID(rows["context_id"].dropna().iloc[0])]
    assert routes and routes[0].kind == "transport_route" and routes[0].route_name
    assert isinstance(routes[0].geom, LineString)
    route_x, route_y = _bng(*routes[0].geom.xy)
    route = LineString(np.column_stack([route_x, route_y]))
    x, y = _bng(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    assert (shapely.distance(route, shapely.points(x, y)) < 50).all()


def test_single_child_clusters(town: DemoTown) -> None:
    assert len(town.single_child_clusters) >= 3
    residential = shapely.union_all([f.geom for f in town.basemap if f.layer == "residential"])
    all_refs = Counter(r for row in town.observations["young_person_refs"] for r in row)
    for centre in town.single_child_clusters:
        assert residential.contains(centre)
        near = town.observations[_within_m(town, centre, 350)]
        assert 2 <= len(near) <= 4
        assert (_within_m(town, centre, 50) == _within_m(town, centre, 350)).all()
        refs = set(near["young_person_refs"])
        assert len(refs) == 1 and len(next(iter(refs))) == 1
        (child,) = next(iter(refs))
        assert all_refs[child] == len(near)  # this child is seen nowhere else
        assert near["context_id"].isna().all()


# --- geography ---------------------------------------------------------------------------


def test_all_geometries_valid(town: DemoTown) -> None:
    geoms = [f.geom for f in town.basemap] + [c.geom for c in town.contexts]
    geoms += [a.geom for s in town.boundary_sets for a in s.areas]
    geoms += [town.service_area, *town.named_places.values(), *town.single_child_clusters]
    assert all(g.is_valid and not g.is_empty for g in geoms)
    assert all(town.service_area.contains(g) for g in geoms if g is not town.service_area)


def test_land_is_a_town_sized_island(town: DemoTown) -> None:
    land = _land(town)
    minx, miny, maxx, maxy = shapely.transform(
        land, lambda c: np.column_stack(_bng(c[:, 0], c[:, 1]))
    ).bounds
    assert 8_000 < maxx - minx < 10_500 and 6_000 < maxy - miny < 8_500
    assert abs((minx + maxx) / 2 - 606_800) < 1_000 and abs((miny + maxy) / 2 - 527_465) < 1_000
    assert town.service_area.contains(land)


def test_basemap_layers(town: DemoTown) -> None:
    layers = Counter(f.layer for f in town.basemap)
    assert set(layers) == set(BASEMAP_LAYERS)
    assert layers["park"] >= 4 and layers["residential"] >= 5
    roads = [f for f in town.basemap if f.layer == "road"]
    assert {f.kind for f in roads} == {"main", "minor"}
    assert sum(f.kind == "main" for f in roads) >= 5 and sum(f.kind == "minor" for f in roads) > 30
    assert all(isinstance(f.geom, LineString) for f in roads)
    rail_stations = [f for f in town.basemap if f.layer == "station" and f.kind == "rail"]
    assert {f.name for f in rail_stations} >= {"Wrenmouth Central", "Wrenmouth Parkway"}
    labels = [f for f in town.basemap if f.layer == "place_label"]
    assert len(labels) >= 8 and all(isinstance(f.geom, Point) and f.name for f in labels)
    land = _land(town)
    assert all(land.buffer(1e-6).contains(f.geom) for f in town.basemap)


def test_named_places(town: DemoTown) -> None:
    for key in ("bus_station", "central_station", "second_station", "emerging_hotspot"):
        assert isinstance(town.named_places[key], Point)
    assert isinstance(town.named_places["fading_hotspot"], Point)


def test_contexts(town: DemoTown) -> None:
    ctx = town.contexts
    assert 40 <= len(ctx) <= 80
    assert len({c.id for c in ctx}) == len(ctx)
    agencies = {a.key for a in town.agencies}
    for c in ctx:
        assert c.kind in CONTEXT_KINDS and c.status in CONTEXT_STATUSES
        assert set(c.features) <= set(PLACE_FEATURES) and c.agency_key in agencies
    buses = [c for c in ctx if c.kind == "transport_route" and c.operator == "Coastline Buses"]
    assert len(buses) >= 6 and len({c.route_name for c in buses}) == len(buses)
    assert all(isinstance(c.geom, LineString) and c.geom.length > 0 for c in buses)
    assert any(c.kind == "transport_route" and "rail" in c.name for c in ctx)
    hubs = [c for c in ctx if c.kind == "transport_hub"]
    assert all(c.public_place for c in hubs)
    assert sum("taxi rank" in c.name for c in hubs) >= 3
    assert sum("station" in c.name.lower() for c in hubs) >= 3  # bus + two rail
    places = [c for c in ctx if c.kind == "place_of_concern"]
    assert sum(c.public_place for c in places) >= 6
    assert sum(not c.public_place for c in places) >= 2
    protective = [c for c in ctx if c.kind == "protective_space"]
    assert sum("School" in c.name for c in protective) >= 10
    assert sum("Youth" in c.name or "Safe Haven" in c.name for c in protective) >= 3
    hotspots = [c for c in ctx if c.kind == "hotspot"]
    assert any(isinstance(c.geom, Point) for c in hotspots)
    assert any(c.geom.geom_type in ("Polygon", "MultiPolygon") for c in hotspots)
    assert len({c.agency_key for c in ctx}) >= 4


def test_vehicles(town: DemoTown) -> None:
    assert 4 <= len(town.vehicles) <= 6
    for v in town.vehicles:
        # UK current format; "Q" is never issued in the random letters, so no real car.
        assert re.fullmatch(r"[A-Z]{2}\d{2} Q[A-Z]{2}", v.registration_mark)


# --- boundaries and agencies -------------------------------------------------------------


def test_boundary_sets_tile_the_land(town: DemoTown) -> None:
    land_area = _area_bng(_land(town))
    assert len(town.boundary_sets) >= 5
    assert len({s.kind for s in town.boundary_sets}) >= 5
    for bset in town.boundary_sets:
        assert bset.kind in BOUNDARY_SET_KINDS
        codes = [a.code for a in bset.areas]
        assert len(set(codes)) == len(codes)
        assert all(isinstance(a.geom, MultiPolygon) and a.geom.is_valid for a in bset.areas)
        areas = [_area_bng(a.geom) for a in bset.areas]
        assert sum(areas) == pytest.approx(land_area, rel=1e-4), bset.slug
        union = shapely.union_all([a.geom for a in bset.areas])
        assert _area_bng(union) == pytest.approx(land_area, rel=1e-4), bset.slug
        for a, b in itertools.combinations(bset.areas, 2):
            assert _area_bng(a.geom.intersection(b.geom)) < 1.0, (a.code, b.code)  # m²


def test_boundary_set_sizes(town: DemoTown) -> None:
    sizes = {s.kind: len(s.areas) for s in town.boundary_sets}
    assert 10 <= sizes["council_ward"] <= 14
    assert 5 <= sizes["police_neighbourhood"] <= 7
    assert sizes["health_area"] == 2 and sizes["ldsm_area"] == 2
    assert sizes["school_catchment"] == 3
    assert re.fullmatch(r"W\d\d", town.boundary_sets[0].areas[0].code)


def _split_fraction(part: BaseGeometry, whole: BaseGeometry) -> float:
    return float(part.intersection(whole).area / whole.area)


def test_health_border_cuts_through_wards(town: DemoTown) -> None:
    sets = {s.kind: s for s in town.boundary_sets}
    health = sets["health_area"].areas
    split = [
        w.code
        for w in sets["council_ward"].areas
        if all(0.1 < _split_fraction(h.geom, w.geom) < 0.9 for h in health)
    ]
    assert len(split) >= 2


def test_police_neighbourhoods_cross_ward_lines(town: DemoTown) -> None:
    sets = {s.kind: s for s in town.boundary_sets}
    crossings = [
        (pn.code, w.code)
        for pn in sets["police_neighbourhood"].areas
        for w in sets["council_ward"].areas
        if 0.05 < _split_fraction(pn.geom, w.geom) < 0.95
    ]
    assert len({pn for pn, _ in crossings}) >= 2


def test_agencies(town: DemoTown) -> None:
    by_key = {a.key: a for a in town.agencies}
    assert set(by_key) == {"police", "social_care", "health", "education", "vcse", "bus"}
    assert all(a.kind in AGENCY_KINDS for a in town.agencies)
    assert by_key["police"].name == "Wrenmouth Police"
    assert by_key["bus"].name == "Coastline Buses" and by_key["bus"].kind == "transport_operator"
    sets = {s.slug: {a.code: a for a in s.areas} for s in town.boundary_sets}
    for agency in town.agencies:
        assert all(code in sets[slug] for slug, code in agency.jurisdiction)
    (health_area,) = by_key["health"].jurisdiction
    share = _area_bng(sets[health_area[0]][health_area[1]].geom) / _area_bng(_land(town))
    assert 0.3 < share < 0.7
    wards = {("wards", code) for code in sets["wards"]}
    assert set(by_key["social_care"].jurisdiction) == wards
    assert {slug for slug, _ in by_key["police"].jurisdiction} == {"police-neighbourhoods"}


def test_spatial_package_never_imports_the_web_app() -> None:
    package = Path(__file__).resolve().parents[2] / "spatial" / "demotown"
    for source in package.glob("*.py"):
        text = source.read_text()
        assert not re.search(r"^\s*(from|import)\s+(flask|webmap)\b", text, re.M), source
