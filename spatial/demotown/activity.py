"""Twenty-four months of fictional observations with the structure a MACE panel looks for.

Observations come from a handful of *components*, each a place (or route) with its own
monthly profile, categories, agencies and time of day: four persistent hotspots, one emerging
and one fading hotspot, a vehicle of interest that follows a bus route, school gates,
background noise weighted to housing and the centre, and a few single-child clusters near
homes (the cases privacy checks must protect). Everything is vectorised numpy; the only Python
loops run over components or over the few rows that name two or three young people.

Examples
--------
>>> import datetime as dt
>>> from spatial.demotown import generate_town
>>> town = generate_town(seed=3, size=2_000, end_month=dt.date(2024, 6, 1))
>>> len(town.observations)
2000
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point

from spatial.demotown.boundaries import FADING_SPOT, STAIRWELL, emerging_spot
from spatial.demotown.layout import Layout, to_wgs84_xy
from spatial.demotown.model import OBSERVATION_DTYPES, ContextSpec, VehicleSpec
from spatial.demotown.sampling import Sampler, along, around, choice, draw, mixture, within
from spatial.vocabulary import CATEGORIES, INFORMATION_GRADES, SOURCE_GRADES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

MONTHS = 24
AGENCY_KEYS: tuple[str, ...] = ("police", "social_care", "health", "education", "vcse", "bus")
_CATS: tuple[str, ...] = tuple(CATEGORIES)

#: Centres (local BNG metres) of the single-child clusters, in residential streets away from
#: every hotspot. No other observation is generated within 400 m of a centre, so any H3 cell
#: of resolution 9 or finer that holds a cluster report holds only that one child's reports
#: (a res-9 cell is at most ~350 m across): the case a redacted map must not give away.
CLUSTER_CENTRES: tuple[tuple[float, float], ...] = (
    (-2000.0, 1950.0),
    (1300.0, 900.0),
    (-1500.0, -2000.0),
    (2200.0, 1700.0),
)
_CLUSTER_EXCLUSION_M = 400.0
_POOL = 320  # recurring pseudonymous young people

# Weight of each calendar month (Jan..Dec): summer and school-holiday peaks for activity in
# general; term time for the school gates.
_SEASON = np.array([0.85, 0.95, 0.95, 1.1, 1.0, 1.05, 1.35, 1.45, 0.95, 1.05, 0.9, 1.1])
_TERM = np.array([1.0, 0.9, 1.0, 0.7, 1.0, 1.0, 0.5, 0.05, 1.0, 0.9, 1.0, 0.75])

# Relative frequency of each hour of the day (UTC; the demo ignores summer time).
_EVENING = np.array([0.3, 0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.3, 0.3, 0.4,
                     0.5, 0.5, 0.6, 1.0, 1.2, 1.2, 1.3, 1.4, 1.3, 1.1, 0.8, 0.5])  # fmt: skip
_NIGHT = np.array([0.9, 0.7, 0.4, 0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.1, 0.1, 0.2,
                   0.4, 0.4, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.5, 1.4, 1.2])  # fmt: skip
_SCHOOL = np.zeros(24)
_SCHOOL[[7, 8, 12, 15, 16, 17]] = [0.3, 1.0, 0.3, 1.6, 1.2, 0.4]

_NOTES: dict[str, tuple[str, str, str]] = {
    "suspected_drug_running": (
        "Child seen handing small packages to adults",
        "Young person travelling alone repeatedly with a rucksack",
        "Child seen collecting cash from parked cars",
    ),
    "weapon_found": (
        "Knife found hidden in bushes",
        "Blade recovered under a bench",
        "Weapon found concealed in a bin",
    ),
    "missing_child_found": (
        "Young person reported missing was found here",
        "Missing child located by staff",
        "Missing young person returned from here",
    ),
    "older_males_approaching": (
        "Older males seen approaching children",
        "Adult offering lifts to young people",
        "Adults buying food for a group of children",
    ),
    "vehicle_of_interest": (
        "Car seen picking up young people",
        "Vehicle parked for long periods, children getting in and out",
        "Same car seen following the bus",
    ),
    "unexplained_goods": (
        "Child with new phone and expensive clothes",
        "Young person carrying a large amount of cash",
        "Child paying for others with cash",
    ),
    "cuckooing_concern": (
        "Neighbour reports unfamiliar adults at a flat",
        "High footfall at an address late at night",
        "Vulnerable tenant may have lost control of their flat",
    ),
    "child_out_late": (
        "Child out alone after midnight",
        "Young people gathered late with no adult present",
        "Child in school uniform seen late in the evening",
    ),
}
_NOTE_TABLE = np.array([_NOTES[c] for c in _CATS], dtype=object)


@dataclass(frozen=True)
class _Component:
    """One source of observations: where, when, what and who reports it."""

    share: float
    profile: FloatArray  # MONTHS weights before seasonality
    sampler: Sampler  # also returns an index into ``contexts``
    contexts: tuple[str | None, ...]
    link_rate: float  # share of rows that name the context
    categories: dict[str, float]
    agencies: dict[str, float]
    hours: FloatArray
    yp_rate: float
    regulars: int = 0  # young people who keep coming back to this place
    vehicle: str | None = None
    season: FloatArray = field(default_factory=lambda: _SEASON)


@dataclass
class _Rows:
    """Column fragments of one component, concatenated at the end."""

    x: FloatArray
    y: FloatArray
    t: IntArray
    cat: IntArray
    agency: IntArray
    context: ObjArray
    vehicle: ObjArray
    refs: IntArray  # (n, 4): count, then up to three pseudonym indices


def _components(layout: Layout) -> list[_Component]:
    ones = np.ones(MONTHS)
    emerging = np.zeros(MONTHS)
    emerging[-3:] = [0.7, 1.0, 1.3]  # nothing for 21 months, then a sudden build-up
    # Falling every month for two years, from very strong (2.6) to moderate (1.0), faster in
    # the second year: a panel's twelve-month emerging hot-spot analysis still finds it hot in
    # every month, with a falling Gi* z-score ("diminishing"), and its counts drop by about half
    # over that year. It never fades out: the last month is still clearly above the background.
    fading = 1.0 + 1.6 * (1.0 - np.linspace(0.0, 1.0, MONTHS) ** 2)
    parks = dict(layout.parks)
    routes = dict(layout.bus_routes)
    housing = layout.residential
    main_roads = [line for _, line in layout.main_roads]
    voi = np.concatenate([np.zeros(3), np.ones(MONTHS - 3)])
    generic = {"suspected_drug_running": 0.2, "weapon_found": 0.05, "missing_child_found": 0.12,
               "older_males_approaching": 0.15, "unexplained_goods": 0.15,
               "cuckooing_concern": 0.1, "child_out_late": 0.23}  # fmt: skip
    others = [
        _Component(0.0015, ones, along(main_roads, 8.0), (None,), 0.0,
                   {"vehicle_of_interest": 1.0}, {"police": 0.7, "bus": 0.3}, _EVENING, 0.15,
                   vehicle=key)
        for key in ("v2", "v3", "v4", "v5")
    ]  # fmt: skip
    return [
        # Persistent hotspots: flat profiles, so counts stay steady month after month.
        _Component(0.07, ones, around([layout.bus_station], 45.0), ("bus_station",), 0.7,
                   {"suspected_drug_running": 0.3, "older_males_approaching": 0.25,
                    "child_out_late": 0.2, "missing_child_found": 0.1, "unexplained_goods": 0.15},
                   {"police": 0.45, "bus": 0.3, "social_care": 0.1, "vcse": 0.1,
                    "education": 0.05}, _EVENING, 0.55, 15),
        _Component(0.08, ones, around([s.point for s in layout.takeaways], 20.0),
                   tuple(f"takeaway:{i}" for i in range(len(layout.takeaways))), 0.7,
                   {"unexplained_goods": 0.3, "older_males_approaching": 0.3,
                    "suspected_drug_running": 0.25, "child_out_late": 0.15},
                   {"police": 0.4, "social_care": 0.25, "vcse": 0.2, "health": 0.05,
                    "education": 0.1}, _NIGHT, 0.5, 15),
        _Component(0.05, ones, around([parks["Castle Fields"].centroid], 90.0), ("park",), 0.6,
                   {"weapon_found": 0.2, "suspected_drug_running": 0.35, "child_out_late": 0.25,
                    "older_males_approaching": 0.2},
                   {"police": 0.5, "vcse": 0.3, "social_care": 0.2}, _EVENING, 0.45, 12),
        _Component(0.04, ones, around([STAIRWELL], 15.0), ("stairwell",), 0.8,
                   {"cuckooing_concern": 0.45, "suspected_drug_running": 0.4, "weapon_found": 0.05,
                    "unexplained_goods": 0.1},
                   {"police": 0.6, "social_care": 0.3, "health": 0.1}, _NIGHT, 0.4, 8),
        # The emerging hotspot: the busiest single cell in its last months, but not so far
        # ahead that its Gi* variance drowns every other hotspot (the fading one included).
        _Component(0.02, emerging, around([emerging_spot(layout)], 55.0), ("emerging",), 0.6,
                   {"suspected_drug_running": 0.45, "older_males_approaching": 0.25,
                    "unexplained_goods": 0.15, "child_out_late": 0.15},
                   {"police": 0.5, "bus": 0.2, "social_care": 0.2, "vcse": 0.1}, _NIGHT, 0.6, 10),
        # The fading hotspot: the park shelter (linked to its context) and the streets around
        # it. It is big (over a third of all reports in the first months, about an eighth in
        # the last) and spread over its neighbouring cells, so that Gi*, which judges
        # clustering against the whole town, still finds it while the emerging hotspot peaks.
        _Component(0.28, fading, mixture([(0.25, around([FADING_SPOT], 70.0)),
                                           (0.75, around([FADING_SPOT], 450.0))]),
                   ("fading", None), 0.8,
                   {"suspected_drug_running": 0.3, "weapon_found": 0.2, "child_out_late": 0.3,
                    "older_males_approaching": 0.2},
                   {"vcse": 0.4, "police": 0.4, "education": 0.2}, _EVENING, 0.5, 10),
        # The vehicle of interest keeps turning up along route 2A.
        _Component(0.015, voi, along([routes["2A"]], 8.0), ("route:2A",), 0.8,
                   {"vehicle_of_interest": 1.0}, {"police": 0.5, "bus": 0.4, "social_care": 0.1},
                   _EVENING, 0.3, 8, vehicle="voi"),
        *others,
        _Component(0.05, ones, around([s.point for s in layout.schools], 70.0), (None,), 0.0,
                   {"older_males_approaching": 0.35, "unexplained_goods": 0.25,
                    "suspected_drug_running": 0.2, "child_out_late": 0.1, "weapon_found": 0.1},
                   {"education": 0.7, "police": 0.15, "social_care": 0.15}, _SCHOOL, 0.5,
                   season=_TERM),
        # Background noise (share filled in by the caller): housing first, then the centre.
        _Component(0.0, ones, mixture([(0.6, within(housing)),
                                        (0.25, around([Point(100, -50)], 450.0)),
                                        (0.15, within(layout.built_up))]), (None,), 0.0,
                   generic, {"police": 0.35, "social_care": 0.2, "education": 0.15,
                             "health": 0.1, "vcse": 0.15, "bus": 0.05}, _EVENING, 0.3),
    ]  # fmt: skip


def _spread_months(rng: np.random.Generator, weights: FloatArray, groups: IntArray) -> IntArray:
    """Months for rows from sites ``groups``, in proportion to ``weights``, with little noise.

    Systematic sampling: one random offset, then evenly spaced positions on the cumulative
    weights, so every month gets the floor or the ceiling of its expected share rather than a
    Poisson-like draw. The months are then dealt out site by site (rows ranked at random
    within their site, then interleaved), so each site also gets its share of every month.
    Monthly totals follow the profile closely even in a small demo, which keeps the patterns
    a panel looks for (and the Gi* statistics of :mod:`spatial.trends`) clear of noise.
    """
    n = groups.size
    cdf = np.cumsum(weights)
    months = np.searchsorted(cdf, (rng.random() + np.arange(n)) / n * cdf[-1], side="right")
    order = np.lexsort((rng.random(n), groups))
    sizes = np.bincount(groups)
    starts = np.cumsum(sizes) - sizes
    within = np.arange(n) - starts[groups[order]]
    share = np.empty(n)
    share[order] = (within + rng.random(n)) / sizes[groups[order]]
    out = np.empty(n, dtype=np.int64)
    out[np.argsort(share, kind="stable")] = months
    return out


def _months(end_month: dt.date) -> tuple[IntArray, IntArray, IntArray]:
    """Start (ns since epoch), length in days and calendar month (0-11) of each month."""
    edges = np.datetime64(f"{end_month:%Y-%m}", "M") - (MONTHS - 1) + np.arange(MONTHS + 1)
    starts = edges.astype("datetime64[ns]").astype(np.int64)
    days = np.diff(edges.astype("datetime64[D]")).astype(np.int64)
    return starts[:-1], days, edges[:-1].astype(np.int64) % 12


def _refs(
    rng: np.random.Generator, n: int, rate: float, regulars: IntArray, zipf: FloatArray
) -> IntArray:
    count = np.where(rng.random(n) < rate, rng.choice([1, 2, 3], n, p=[0.7, 0.22, 0.08]), 0)
    first = rng.choice(_POOL, n, p=zipf)
    if regulars.size:
        first = np.where(rng.random(n) < 0.6, regulars[rng.integers(0, regulars.size, n)], first)
    # Companions are near neighbours in the pool, so the same small peer groups recur.
    a = 1 + rng.integers(0, 6, n)
    b = 1 + rng.integers(0, 5, n)
    b = b + (b >= a)
    return np.column_stack([count, first, (first + a) % _POOL, (first + b) % _POOL])


def _ref_tuples(refs: IntArray, names: list[str]) -> ObjArray:
    empty = np.empty(1, dtype=object)
    empty[0] = ()
    out = np.repeat(empty, len(refs))
    singles = np.fromiter(((name,) for name in names), dtype=object, count=len(names))
    one = refs[:, 0] == 1
    out[one] = singles[refs[one, 1]]
    multi = np.flatnonzero(refs[:, 0] >= 2)
    out[multi] = np.fromiter(
        (tuple(names[j] for j in row[1 : 1 + row[0]]) for row in refs[multi].tolist()),
        dtype=object,
        count=multi.size,
    )
    return out


def _uuid4_strings(rng: np.random.Generator, n: int) -> ObjArray:
    """n random version-4 UUID strings, formatted without a Python loop."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2], nibbles[:, 1::2] = raw >> 4, raw & 0x0F
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    chars[:, [i for i in range(36) if i not in (8, 13, 18, 23)]] = np.frombuffer(
        b"0123456789abcdef", dtype=np.uint8
    )[nibbles]
    return chars.view("S36").ravel().astype("U36").astype(object)


def generate_observations(
    layout: Layout,
    contexts: dict[str, ContextSpec],
    vehicles: dict[str, VehicleSpec],
    health_area: MultiPolygon,
    seed: int,
    size: int,
    end_month: dt.date,
) -> pd.DataFrame:
    """Exactly ``size`` observations over the 24 months ending with ``end_month``."""
    rng = np.random.default_rng(seed)
    starts, days, calendar = _months(end_month)
    codes = rng.choice(16**4, _POOL + len(CLUSTER_CENTRES), replace=False)
    names = [f"YP-{c:04X}" for c in codes]
    # Popularity of each pseudonym falls off like Zipf, so a few children recur a lot.
    zipf = np.asarray(1.0 / (np.arange(_POOL) + 8.0), dtype=np.float64)
    zipf /= zipf.sum()

    exclusion = shapely.union_all([Point(c).buffer(_CLUSTER_EXCLUSION_M) for c in CLUSTER_CENTRES])
    region = layout.safe_land.difference(exclusion)
    shapely.prepare(region)

    components = _components(layout)
    counts = [max(3, round(c.share * size)) if c.share else 0 for c in components]
    cluster_sizes = rng.integers(2, 5, len(CLUSTER_CENTRES))
    counts[-1] = size - sum(counts) - int(cluster_sizes.sum())
    if counts[-1] < size // 4:
        raise ValueError(f"size={size} is too small for the demo town's structure")

    def times(month: IntArray, hours: FloatArray) -> IntArray:
        n = month.size
        day = (rng.random(n) * days[month]).astype(np.int64)
        hour = rng.choice(24, n, p=hours / hours.sum())
        seconds = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
        return starts[month] + seconds * 1_000_000_000

    parts: list[_Rows] = []
    for comp, n in zip(components, counts, strict=True):
        x, y, aux = draw(rng, comp.sampler, n, region)
        weights = comp.profile * comp.season[calendar]
        month = _spread_months(rng, weights, aux)
        ids = np.array([str(contexts[k].id) if k else None for k in comp.contexts], object)
        # Components with several contexts (the takeaways; the fading hotspot's shelter and,
        # unlinked, the streets around it) link each row to the one it came from.
        context = ids[aux] if ids.size > 1 else np.repeat(ids, n)
        context[rng.random(n) >= comp.link_rate] = None
        vehicle = np.full(n, str(vehicles[comp.vehicle].id) if comp.vehicle else None, object)
        regulars = rng.choice(60, comp.regulars, replace=False).astype(np.int64)
        parts.append(_Rows(x, y, times(month, comp.hours),
                           choice(rng, comp.categories, _CATS, n),
                           choice(rng, comp.agencies, AGENCY_KEYS, n), context, vehicle,
                           _refs(rng, n, comp.yp_rate, regulars, zipf)))  # fmt: skip

    # Single-child clusters: 2-4 reports of one young person a few weeks apart, near home.
    for j, ((cx, cy), n) in enumerate(zip(CLUSTER_CENTRES, cluster_sizes.tolist(), strict=True)):
        r, angle = 40.0 * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
        month = np.minimum(rng.integers(0, MONTHS) + np.arange(n) // 2, MONTHS - 1)
        refs = np.zeros((n, 4), dtype=np.int64)
        refs[:, :2] = [1, _POOL + j]
        parts.append(_Rows(cx + r * np.cos(angle), cy + r * np.sin(angle),
                           times(month.astype(np.int64), _EVENING),
                           choice(rng, {"missing_child_found": 0.5, "child_out_late": 0.5},
                                   _CATS, n),
                           choice(rng, {"social_care": 0.6, "police": 0.4}, AGENCY_KEYS, n),
                           np.full(n, None, object), np.full(n, None, object), refs))  # fmt: skip

    def joined(field: str) -> npt.NDArray[np.generic]:
        return np.concatenate([getattr(p, field) for p in parts])

    t = joined("t").astype(np.int64)
    order = np.argsort(t, kind="stable")
    x, y = joined("x")[order].astype(np.float64), joined("y")[order].astype(np.float64)
    lon, lat = to_wgs84_xy(x, y)
    category = joined("cat")[order].astype(np.int64)
    agency = np.array(AGENCY_KEYS, dtype=object)[joined("agency")[order].astype(np.int64)]
    # The health agency only works in its own health area; elsewhere the same report would
    # have come through children's social care.
    agency[(agency == "health") & ~shapely.contains_xy(health_area, lon, lat)] = "social_care"
    n = len(t)
    p_source = np.array([0.1, 0.35, 0.35, 0.15, 0.05])
    p_info = np.array([0.15, 0.4, 0.3, 0.1, 0.05])
    frame = pd.DataFrame(
        {
            "id": pd.Series(_uuid4_strings(rng, n), dtype=object),
            "occurred_at": pd.to_datetime(t[order], unit="ns", utc=True),
            "lon": lon,
            "lat": lat,
            "category": pd.Series(np.array(_CATS, dtype=object)[category], dtype=object),
            "agency_key": pd.Series(agency, dtype=object),
            "context_id": pd.Series(joined("context")[order], dtype=object),
            "young_person_refs": pd.Series(
                _ref_tuples(joined("refs")[order].astype(np.int64), names), dtype=object
            ),
            "source_grade": pd.Series(
                np.array(SOURCE_GRADES, dtype=object)[rng.choice(5, n, p=p_source)], dtype=object
            ),
            "info_grade": np.array(INFORMATION_GRADES, dtype=np.int64)[rng.choice(5, n, p=p_info)],
            "vehicle_id": pd.Series(joined("vehicle")[order], dtype=object),
            "note": pd.Series(_NOTE_TABLE[category, rng.integers(0, 3, n)], dtype=object),
        }
    )
    assert list(frame.columns) == list(OBSERVATION_DTYPES)
    return frame
