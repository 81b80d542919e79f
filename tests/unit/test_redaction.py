"""The redaction module, attacked: every shared output is checked against an independent oracle
and against the rules it must never break (thresholds, young-person floors, sums of published
cells, neighbouring datasets, planted sentinels and private coordinates, profile floors,
calendar periods in Europe/London)."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import h3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial.cells import cell_key
from spatial.redaction import (
    DEFAULT_PROFILES,
    FLOORS,
    ContextFact,
    ObservationFact,
    ProfileError,
    PublishedCell,
    SightingFact,
    TierProfile,
    boundary_totals,
    check_profile,
    heatmap_points,
    period_key,
    precision_statement,
    public_place_feature,
    publish_cells,
    publish_contexts,
    publish_vehicle_marks,
    published_periods,
    tighten,
    to_geojson,
)
from spatial.vocabulary import CATEGORIES, CONTEXT_KINDS

LONDON: Final = ZoneInfo("Europe/London")
SENTINEL: Final = "ZQJX"  # planted in everything that must never be shared
NOW: Final = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
NOW_LOCAL: Final = (2026, 10)
FIRST_MONTH: Final = (2024, 11)  # 25 months: 2024-11 … 2026-11 (the last is after NOW)
MONTHS: Final = 25
REFS: Final = (
    "yp-zqjx-1",
    "yp-zqjx-2",
    "yp-zqjx-3",
    "yp-zqjx-4",
    "yp-zqjx-5",
    "yp-zqjx-6",
    " YP-ZQJX-1",  # the same young person as the first, written differently
)
SNT_CATEGORY: Final = "zqjx_category"
PERIOD_ORDER: Final = ("month", "quarter", "year")
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

# --- the area: res-9 cells around 54.6N 1.2E, each with a private and a public point --------

_CENTRE = h3.latlng_to_cell(54.6, 1.2, 9)
_DISK = sorted(h3.grid_disk(_CENTRE, 6))


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * math.cos(math.radians(54.6)) * 111_320
    dy = (a[1] - b[1]) * 110_540
    return math.hypot(dx, dy)


def _lattice_points() -> list[tuple[float, float]]:
    """Every vertex and centre a shared output could draw, at any resolution tested."""
    points: list[tuple[float, float]] = []
    for res in (6, 7, 8):
        for cell in {h3.cell_to_parent(c, res) for c in _DISK}:
            lat, lon = h3.cell_to_latlng(cell)
            points.append((lon, lat))
            points.extend((lo, la) for la, lo in h3.cell_to_boundary(cell))
    return points


def _safe_points() -> tuple[list[int], list[tuple[float, float]], list[tuple[float, float]]]:
    """Per res-9 cell: a private and a public point inside it, each at least 25 m from any
    lattice vertex or centre and from each other, so that a leak cannot be a coincidence."""
    lattice = _lattice_points()
    offsets = [(dx * 0.0004, dy * 0.0003) for dx in (-2, -1, 1, 2) for dy in (-2, -1, 1, 2)]
    cells, private, public = [], [], []
    chosen: list[tuple[float, float]] = []
    for cell in _DISK:
        lat0, lon0 = h3.cell_to_latlng(cell)
        found = []
        for dx, dy in offsets:
            p = (lon0 + dx, lat0 + dy)
            if h3.latlng_to_cell(p[1], p[0], 9) != cell:
                continue
            if min(_metres(p, q) for q in lattice + chosen + found) < 25:
                continue
            found.append(p)
            if len(found) == 2:
                break
        if len(found) == 2:
            cells.append(h3.str_to_int(cell))
            private.append(found[0])
            public.append(found[1])
            chosen.extend(found)
    return cells, private, public


CELLS, PRIVATE_POINTS, PUBLIC_POINTS = _safe_points()
assert len(CELLS) > 100

# --- facts from "bursts": several observations in one res-9 cell in one London month --------


@dataclasses.dataclass(frozen=True)
class Fact:
    """A fact and the London (year, month) it was built in: the oracle's own record."""

    fact: ObservationFact
    local_month: tuple[int, int]
    burst: tuple[int, int]  # (cell index, month index) it was made from


def _add_months(ym: tuple[int, int], n: int) -> tuple[int, int]:
    i = ym[0] * 12 + ym[1] - 1 + n
    return i // 12, i % 12 + 1


def _local_time(rng: random.Random, ym: tuple[int, int]) -> datetime:
    y, m = ym
    last = (datetime(*_add_months(ym, 1), 1) - datetime(y, m, 1)).days
    day, hour, minute = rng.choice(
        [(1, 0, 30), (last, 23, 30), (rng.randint(1, last), rng.randint(0, 23), rng.randint(0, 59))]
    )
    return datetime(y, m, day, hour, minute, tzinfo=LONDON)


def make_burst(cell_i: int, month_i: int, size: int, mode: int, seed: int) -> list[Fact]:
    """``size`` observations in one res-9 cell and London month. Refs by ``mode``: 0 none,
    1 one young person in all, 2 random from the pool, 3 random or none."""
    rng = random.Random(seed)
    i = cell_i % len(CELLS)
    ym = _add_months(FIRST_MONTH, month_i % MONTHS)
    out = []
    for j in range(size):
        if mode % 4 == 0:
            refs: tuple[str, ...] = ()
        elif mode % 4 == 1:
            refs = (REFS[seed % len(REFS)],)
        else:
            refs = tuple(rng.sample(REFS, rng.randint(0 if mode % 4 == 3 else 1, 2)))
        lon, lat = PRIVATE_POINTS[i]
        fact = ObservationFact(
            cell_fine=CELLS[i],
            occurred_at=_local_time(rng, ym).astimezone(UTC),
            category=rng.choice([*CATEGORIES, SNT_CATEGORY]),
            young_person_refs=refs,
            agency=f"agency-{SENTINEL}-{seed % 3}",
            note=f"note {SENTINEL} {seed}-{j}: boy called Jamie",
            registration_mark=rng.choice([None, f"AB{j % 100:02d}{SENTINEL}{seed % 10}"]),
            lon=lon + rng.uniform(-2e-5, 2e-5),
            lat=lat + rng.uniform(-2e-5, 2e-5),
        )
        out.append(Fact(fact, ym, (cell_i, month_i)))
    return out


bursts = st.tuples(
    st.integers(0, len(_DISK)),
    st.integers(0, MONTHS - 1),
    st.integers(1, 14),
    st.integers(0, 3),
    st.integers(0, 10_000),
)


def make_dataset(seed: int | None, explicit: list[tuple[int, int, int, int, int]]) -> list[Fact]:
    """Hypothesis's own bursts, over a random background of bursts packed into a few cells and
    months (so that many cell-periods are near, at and over every threshold)."""
    rng = random.Random(seed)
    background = [
        (
            rng.randrange(20),
            rng.randrange(MONTHS),
            rng.randint(1, 9),
            rng.randrange(4),
            rng.random(),
        )
        for _ in range(0 if seed is None else rng.randint(5, 30))
    ]
    chosen = [(c, m, n, mode, int(x * 1e6)) for c, m, n, mode, x in background] + explicit
    return [f for b in chosen for f in make_burst(*b)]


datasets = st.builds(make_dataset, st.none() | st.integers(0, 2**16), st.lists(bursts, max_size=15))


def _tightened(tier: str) -> st.SearchStrategy[TierProfile]:
    floor = FLOORS[tier]
    rounding: list[Any] = [None, 5, (5, 10, 20)] if tier == "B" else [5, 10, (10, 20, 50)]
    return st.builds(
        lambda **kw: tighten(floor, **kw),
        resolution=st.sampled_from([floor.resolution, floor.resolution - 1]),
        period=st.sampled_from(PERIOD_ORDER[PERIOD_ORDER.index(floor.period) :]),
        k_observations=st.integers(floor.k_observations, floor.k_observations + 6),
        k_young_people=st.integers(floor.k_young_people, floor.k_young_people + 3),
        max_person_share=st.sampled_from([floor.max_person_share, 0.4, 1 / 3]),
        rounding=st.sampled_from(rounding),
        publication_lag=st.integers(floor.publication_lag, floor.publication_lag + 2),
        show_vehicles=st.sampled_from([False, floor.show_vehicles]),
        residential_contexts=st.sampled_from(sorted({"omit", floor.residential_contexts})),
    )


profiles = st.one_of(st.sampled_from([FLOORS["B"], FLOORS["C"]]), _tightened("B"), _tightened("C"))

# --- the oracle: the rules recomputed from the facts, with nothing from the module ----------


def _period(ym: tuple[int, int], period: str) -> tuple[str, int]:
    y, m = ym
    if period == "month":
        return f"{y}-{m:02d}", y * 12 + m - 1
    if period == "quarter":
        return f"{y}-Q{(m - 1) // 3 + 1}", y * 4 + (m - 1) // 3
    return f"{y}", y


@dataclasses.dataclass
class Group:
    n: int = 0
    people: Counter[str] = dataclasses.field(default_factory=Counter)


def cell_of(fact: ObservationFact, res: int) -> int:
    return h3.str_to_int(h3.cell_to_parent(h3.int_to_str(fact.cell_fine), res))


def groups(facts: list[Fact], profile: TierProfile) -> dict[tuple[int, str], Group]:
    """Every cell-period the profile may publish (lag applied), with its raw aggregates."""
    # The period in progress is never published; the lag holds back that many closed ones.
    latest = _period(NOW_LOCAL, profile.period)[1] - 1 - profile.publication_lag
    out: dict[tuple[int, str], Group] = {}
    for f in facts:
        key, index = _period(f.local_month, profile.period)
        if index > latest:
            continue
        g = out.setdefault((cell_of(f.fact, profile.resolution), key), Group())
        g.n += 1
        g.people.update({r.strip().lower() for r in f.fact.young_person_refs})
    return out


def passes(g: Group, p: TierProfile) -> bool:
    if g.n < p.k_observations:
        return False
    if g.people and len(g.people) < p.k_young_people:
        return False
    return not (g.people and max(g.people.values()) * 1.0 > p.max_person_share * g.n)


def shown(n: int, p: TierProfile) -> int | str:
    if p.rounding is None:
        return n
    if isinstance(p.rounding, int):
        step = p.rounding
        nearest = math.floor(n / step + 0.5) * step
        return max(nearest, math.ceil(p.k_observations / step) * step)
    edges = p.rounding
    i = max(j for j, e in enumerate(edges) if e <= n)
    return f"{edges[i]}+" if i == len(edges) - 1 else f"{edges[i]}–{edges[i + 1] - 1}"


def oracle(facts: list[Fact], p: TierProfile) -> list[PublishedCell]:
    cells = [
        PublishedCell(cell, period, shown(g.n, p))
        for (cell, period), g in groups(facts, p).items()
        if passes(g, p)
    ]
    return sorted(cells, key=lambda c: (c.period, c.cell))


def publish(facts: list[Fact], p: TierProfile) -> list[PublishedCell]:
    return publish_cells([f.fact for f in facts], p, NOW)


def dump(cells: list[PublishedCell], p: TierProfile) -> str:
    return json.dumps(to_geojson(cells, p), sort_keys=True)


# --- thresholds and young-person floors ------------------------------------------------------


@FAST
@given(datasets, profiles)
def test_published_cells_are_exactly_the_cells_that_pass_every_floor(
    facts: list[Fact], p: TierProfile
) -> None:
    published = publish(facts, p)
    assert published == oracle(facts, p)
    raw = groups(facts, p)
    for c in published:
        g = raw[(c.cell, c.period)]
        assert g.n >= p.k_observations >= FLOORS[p.tier].k_observations
        if isinstance(c.count, int):
            assert c.count >= p.k_observations  # never 1 … k−1, rounded or not
        if g.people:  # distinct young people, and no one of them more than half
            assert len(g.people) >= p.k_young_people >= FLOORS[p.tier].k_young_people
            assert 2 * max(g.people.values()) <= g.n
        assert h3.get_resolution(h3.int_to_str(c.cell)) == p.resolution


def test_the_generator_reaches_both_sides_of_every_threshold() -> None:
    rng = random.Random(1)
    seen: Counter[str] = Counter()
    for _ in range(200):
        facts = [
            f
            for _ in range(rng.randint(1, 25))
            for f in make_burst(
                rng.randint(0, 30), rng.randint(0, 3), rng.randint(1, 14), rng.randint(0, 3), 7
            )
        ]
        for g in groups(facts, FLOORS["B"]).values():
            seen["small"] += g.n < 5
            seen["dominated"] += g.n >= 5 and bool(g.people) and passes(g, FLOORS["B"]) is False
            seen["published"] += passes(g, FLOORS["B"])
    assert min(seen.values()) > 20, seen


def test_one_child_is_never_a_published_cell() -> None:
    facts = make_burst(0, 20, 14, 1, seed=3)  # 14 reports, one young person in every one
    assert publish(facts, FLOORS["B"]) == []
    other = make_burst(0, 20, 6, 0, seed=4)  # with 6 unnamed: still 14 of 20
    assert publish(facts + other, FLOORS["B"]) == []


# --- boundaries: sums of published cells, for two overlapping sets ---------------------------


def _assignment(p: TierProfile, seed: int, areas: int) -> dict[int, str]:
    rng = random.Random(seed)
    cells = sorted(
        {h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), p.resolution)) for c in CELLS}
    )
    return {c: f"area-{rng.randrange(areas)}" for c in cells if rng.random() < 0.85}


@FAST
@given(datasets, profiles, st.integers(0, 10_000), st.integers(0, 10_000))
def test_every_boundary_total_is_the_sum_of_its_published_cells(
    facts: list[Fact], p: TierProfile, seed_a: int, seed_b: int
) -> None:
    published = publish(facts, p)
    expected = oracle(facts, p)
    if isinstance(p.rounding, tuple):
        if published:
            with pytest.raises(ValueError, match="banded"):
                boundary_totals(published, {})
        return
    for assignment in (_assignment(p, seed_a, 3), _assignment(p, seed_b, 5)):
        totals = boundary_totals(published, assignment)
        sums: dict[tuple[str, str], int] = {}
        for c in expected:
            if c.cell in assignment:
                key = (assignment[c.cell], c.period)
                sums[key] = sums.get(key, 0) + int(c.count)
        assert totals == sums
        assert all(n >= p.k_observations for n in totals.values())


# --- neighbouring datasets: a group under k moves nothing but its own cell -------------------


def _without(fc: dict[str, Any], feature_id: str) -> str:
    rest = [f for f in fc["features"] if f["id"] != feature_id]
    return json.dumps({**fc, "features": rest}, sort_keys=True)


@FAST
@given(datasets, profiles, bursts, st.booleans(), st.booleans())
def test_neighbouring_datasets_differ_only_in_the_cell_they_touch(
    facts: list[Fact],
    p: TierProfile,
    burst: tuple[int, int, int, int, int],
    remove: bool,
    aim: bool,
) -> None:
    if aim and facts:  # usually at a cell-period that already holds observations
        burst = (*facts[burst[4] % len(facts)].burst, *burst[2:])
    group = make_burst(*burst)[: p.k_observations - 1]
    target = group[0]
    cell = cell_of(target.fact, p.resolution)
    period = _period(target.local_month, p.period)[0]
    if remove:  # take up to k−1 observations out of the target's cell-period instead
        inside = [
            f
            for f in facts
            if cell_of(f.fact, p.resolution) == cell
            and _period(f.local_month, p.period)[0] == period
        ]
        drop = {id(f) for f in inside[: p.k_observations - 1]}
        before, after = facts, [f for f in facts if id(f) not in drop]
    else:
        before, after = facts, facts + group
    a, b = publish(before, p), publish(after, p)
    before_facts, after_facts = [f.fact for f in before], [f.fact for f in after]
    fa, fb = to_geojson(a, p), to_geojson(b, p)
    feature_id = f"{cell}/{period}"
    assert _without(fa, feature_id) == _without(fb, feature_id)
    others = [c for c in a if (c.cell, c.period) != (cell, period)]
    assert others == [c for c in b if (c.cell, c.period) != (cell, period)]
    pa, pb = published_periods(before_facts, p, NOW), published_periods(after_facts, p, NOW)
    assert [x for x in pa if x != period] == [x for x in pb if x != period]
    in_a = any((c.cell, c.period) == (cell, period) for c in a)
    in_b = any((c.cell, c.period) == (cell, period) for c in b)
    if not in_a and not in_b:
        assert dump(a, p) == dump(b, p)  # byte for byte
        assert pa == pb


# --- nothing private reaches any output ------------------------------------------------------


def make_contexts(specs: list[tuple[int, bool, int]]) -> list[ContextFact]:
    kinds = sorted(CONTEXT_KINDS)
    out = []
    for n, (cell_i, public, kind_i) in enumerate(specs):
        i = cell_i % len(CELLS)
        lon, lat = (PUBLIC_POINTS if public else PRIVATE_POINTS)[i]
        name = f"Station {n}" if public else f"Home of {SENTINEL} {n}, 4 Acacia Road"
        wkt = f"POINT ({lon!r} {lat!r}) {SENTINEL}"
        out.append(
            ContextFact(f"ctx-{n:03d}", kinds[kind_i % len(kinds)], name, public, lon, lat, wkt)
        )
    return out


contexts_st = st.lists(
    st.tuples(st.integers(0, len(_DISK)), st.booleans(), st.integers(0, 9)), max_size=12
).map(make_contexts)


def shared_output(facts: list[Fact], contexts: list[ContextFact], p: TierProfile) -> str:
    """Everything a shared tier can be sent, serialised."""
    cells = publish(facts, p)
    parts: dict[str, Any] = {
        "cells": to_geojson(cells, p),
        "contexts": [dataclasses.asdict(c) for c in publish_contexts(contexts, p)],
        "vehicles": [
            dataclasses.asdict(m)
            for m in publish_vehicle_marks(
                [
                    SightingFact(f.fact.cell_fine, f.fact.occurred_at, f.fact.registration_mark)
                    for f in facts
                    if f.fact.registration_mark
                ],
                p,
                NOW,
            )
        ],
        "periods": published_periods([f.fact for f in facts], p, NOW),
    }
    if not isinstance(p.rounding, tuple):
        totals = boundary_totals(cells, _assignment(p, 1, 4))
        parts["totals"] = [[a, per, n] for (a, per), n in totals.items()]
        parts["heat"] = heatmap_points(cells)
    return json.dumps(parts, sort_keys=True)


def _pairs(node: Any) -> list[tuple[float, float]]:
    """Every (lon, lat) an output holds: two-number lists and objects with lon and lat."""
    if isinstance(node, dict):
        found = [(node["lon"], node["lat"])] if {"lon", "lat"} <= node.keys() else []
        return found + [p for v in node.values() for p in _pairs(v)]
    if isinstance(node, list):
        if len(node) == 2 and all(isinstance(x, float) for x in node):
            return [(node[0], node[1])]
        if len(node) == 3 and all(isinstance(x, list) for x in node):  # heatmap columns
            lons, lats = node[0], node[1]
            if all(isinstance(x, float) for x in lons + lats):
                return list(zip(lons, lats, strict=True))
        return [p for v in node for p in _pairs(v)]
    return []


@FAST
@given(datasets, contexts_st, profiles)
def test_no_sentinel_and_no_private_coordinate_reaches_a_shared_output(
    facts: list[Fact], contexts: list[ContextFact], p: TierProfile
) -> None:
    text = shared_output(facts, contexts, p)
    assert SENTINEL not in text.upper()
    for f in facts:
        assert f.fact.note not in text
        assert f.fact.category not in text.split('"')  # no category is published
        for mark in filter(None, [f.fact.registration_mark]):
            assert mark not in text
    private = [(f.fact.lon, f.fact.lat) for f in facts]
    private += [(c.lon, c.lat) for c in contexts if not c.public_place]
    shown_points = _pairs(json.loads(text))
    for q in private:
        assert repr(q[0]) not in text and repr(q[1]) not in text
        assert f"{q[0]:.6f}, {q[1]:.6f}" not in text
        assert all(_metres(q, s) > 15 for s in shown_points), q  # not even at 4 decimals


@FAST
@given(contexts_st, profiles)
def test_contexts_public_at_their_place_others_at_their_cell_centre_or_absent(
    contexts: list[ContextFact], p: TierProfile
) -> None:
    out = {c.id: c for c in publish_contexts(contexts, p)}
    for c in contexts:
        if c.public_place:
            got = out[c.id]
            assert (got.name, got.precise) == (c.name, True)
            assert _metres((got.lon, got.lat), (c.lon, c.lat)) < 0.2
        elif p.residential_contexts == "omit":
            assert c.id not in out
        else:
            got = out[c.id]
            cell = h3.cell_to_parent(h3.latlng_to_cell(c.lat, c.lon, 9), p.resolution)
            lat, lon = h3.cell_to_latlng(cell)
            assert (got.name, got.precise) == (CONTEXT_KINDS[c.kind], False)
            assert _metres((got.lon, got.lat), (lon, lat)) < 0.2
    assert p.tier == "B" or all(c.precise for c in out.values())


def test_vehicles_masked_for_b_only_with_k_sightings_and_absent_from_c() -> None:
    here, there = cell_key(1.2, 54.6), cell_key(1.25, 54.62)
    aug, sep = datetime(2026, 8, 3, tzinfo=UTC), datetime(2026, 9, 3, tzinfo=UTC)
    seen = (
        [SightingFact(here, aug, "WR19 XKZ")] * 3
        + [SightingFact(here, aug, "wr19xkz")] * 2  # the same mark, typed another way
        + [SightingFact(here, aug, "WR19 XKA")] * 4  # one short of k
        + [SightingFact(there, aug, "AB12CDE")] * 5
        + [SightingFact(there, sep, "AB12CDE")] * 4  # k over two months is not k in one
        + [SightingFact(here, datetime(2026, 10, 3, tzinfo=UTC), "ZZ99ZZZ")] * 9  # in progress
    )
    got = publish_vehicle_marks(seen, FLOORS["B"], NOW)
    assert [(m.cell, m.period) for m in got] == [
        (cell_key(1.2, 54.6, 8), "2026-08"),
        (cell_key(1.25, 54.62, 8), "2026-08"),
    ]
    assert sorted(m.mark[:2] for m in got) == ["AB", "WR"]
    # Never more than the first two characters, and never the mark's length.
    assert all(len(m.mark.replace("*", "").replace(" ", "")) <= 2 for m in got)
    assert len({len(m.mark) for m in got}) == 1
    assert publish_vehicle_marks(seen, FLOORS["C"], NOW) == []
    assert publish_vehicle_marks(seen, tighten(FLOORS["B"], show_vehicles=False), NOW) == []
    assert publish_vehicle_marks(seen, tighten(FLOORS["B"], k_observations=6), NOW) == []


# --- periods: Europe/London, and the publication lag -----------------------------------------


@pytest.mark.parametrize(
    ("utc", "month", "quarter", "year"),
    [
        ("2026-03-31T23:30", "2026-04", "2026-Q2", "2026"),  # 00:30 BST on 1 April
        ("2026-03-31T22:30", "2026-03", "2026-Q1", "2026"),  # 23:30 BST on 31 March
        ("2025-12-31T23:30", "2025-12", "2025-Q4", "2025"),  # GMT: still December
        ("2026-09-30T23:30", "2026-10", "2026-Q4", "2026"),  # 00:30 BST on 1 October
        ("2026-10-31T23:30", "2026-10", "2026-Q4", "2026"),  # GMT again after 25 October
    ],
)
def test_period_keys_are_london_calendar_periods(
    utc: str, month: str, quarter: str, year: str
) -> None:
    ts = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert (period_key(ts, "month"), period_key(ts, "quarter"), period_key(ts, "year")) == (
        month,
        quarter,
        year,
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        period_key(datetime(2026, 1, 1), "month")
    fact = make_burst(0, 0, 1, 0, 1)[0].fact
    with pytest.raises(ValueError, match="now"):
        publish_cells([fact], FLOORS["B"], datetime(2026, 1, 1))


def _at(utc: str) -> ObservationFact:
    ts = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    return ObservationFact(CELLS[0], ts, "", (), "", "", None, 0.0, 0.0)


def _tens(*utc: str) -> list[ObservationFact]:
    return [_at(t) for t in utc for _ in range(10)]


def test_publication_lag_drops_the_latest_periods() -> None:
    facts = _tens("2026-03-31T23:30", "2026-06-15T12:00", "2026-08-01T09:00",
                  "2026-10-02T09:00", "2026-11-02T09:00")  # fmt: skip
    b, c = FLOORS["B"], FLOORS["C"]
    # October is in progress on NOW: never published, whatever the lag.
    assert published_periods(facts, b, NOW) == ["2026-04", "2026-06", "2026-08"]
    assert published_periods(facts, tighten(b, publication_lag=2), NOW) == ["2026-04", "2026-06"]
    # Tier C waits one quarter after a quarter closes: Q3 is published from 1 January.
    assert published_periods(facts, c, NOW) == ["2026-Q2"]
    # At 00:30 GMT on 1 January, Q3 may be published; at 23:30 on 31 December it may not.
    assert published_periods(facts, c, datetime(2027, 1, 1, 0, 30, tzinfo=UTC))[-1] == "2026-Q3"
    assert published_periods(facts, c, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))[-1] == (
        "2026-Q2"
    )
    # At 00:30 BST on 1 October, September is over in London, though not yet in UTC.
    late_sep = _tens("2026-09-20T09:00")
    assert published_periods(late_sep, b, datetime(2026, 9, 30, 23, 30, tzinfo=UTC)) == ["2026-09"]
    assert published_periods(late_sep, b, datetime(2026, 9, 30, 22, 30, tzinfo=UTC)) == []
    assert published_periods(facts[:4], b, NOW) == []  # suppressed periods are not listed
    many = [_at("2026-10-02T09:00")] * 30 + [_at("2026-05-02T09:00")] * 30
    assert {x.period for x in publish_cells(many, c, NOW)} == {"2026-Q2"}


# --- profiles: floors, tightening, precision -------------------------------------------------

_LOOSER: Final[dict[str, dict[str, Any]]] = {
    "B": {
        "resolution": 9,
        "k_observations": 4,
        "k_young_people": 2,
        "max_person_share": 0.6,
        "publication_lag": -1,
        "period": "week",
    },
    "C": {
        "resolution": 8,
        "period": "month",
        "k_observations": 9,
        "k_young_people": 4,
        "max_person_share": 0.51,
        "rounding": None,
        "publication_lag": 0,
        "show_vehicles": True,
        "residential_contexts": "snap",
    },
}


@pytest.mark.parametrize(
    ("tier", "field", "value"), [(t, f, v) for t, d in _LOOSER.items() for f, v in d.items()]
)
def test_each_loosening_is_refused_naming_its_field(tier: str, field: str, value: Any) -> None:
    with pytest.raises(ProfileError) as err:
        tighten(FLOORS[tier], **{field: value})
    assert err.value.field == field and field in str(err.value)
    assert check_profile(dataclasses.replace(FLOORS[tier], **{field: value}))


def _at_least_as_tight(p: TierProfile, base: TierProfile) -> bool:
    def rounding_ok() -> bool:
        if base.rounding is None:
            return True
        if isinstance(base.rounding, int):
            if isinstance(p.rounding, int):
                return p.rounding % base.rounding == 0
            return isinstance(p.rounding, tuple) and all(
                b - a >= base.rounding for a, b in zip(p.rounding, p.rounding[1:], strict=False)
            )
        return isinstance(p.rounding, tuple) and set(p.rounding) <= set(base.rounding)

    return (
        p.tier == base.tier
        and p.resolution <= base.resolution
        and PERIOD_ORDER.index(p.period) >= PERIOD_ORDER.index(base.period)
        and p.k_observations >= base.k_observations
        and p.k_young_people >= base.k_young_people
        and p.max_person_share <= base.max_person_share
        and p.publication_lag >= base.publication_lag
        and (base.show_vehicles or not p.show_vehicles)
        and (base.residential_contexts == "snap" or p.residential_contexts == "omit")
        and rounding_ok()
    )


_CHANGES: Final[dict[str, st.SearchStrategy[Any]]] = {
    "tier": st.sampled_from(["B", "C", "A"]),
    "resolution": st.integers(-1, 10),
    "period": st.sampled_from([*PERIOD_ORDER, "week"]),
    "k_observations": st.integers(-1, 15),
    "k_young_people": st.integers(-1, 8),
    "max_person_share": st.sampled_from([0.0, 0.25, 0.5, 0.51, 1.0, 1.5, float("nan")]),
    "rounding": st.sampled_from([None, 0, 1, 5, 7, 10, (5, 10), (10, 20, 50), (20, 50), (3, 2)]),
    "publication_lag": st.integers(-1, 3),
    "show_vehicles": st.booleans(),
    "residential_contexts": st.sampled_from(["snap", "omit", "blur"]),
    "colour": st.just("red"),
}


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.sampled_from(["B", "C"]),
    st.dictionaries(st.sampled_from(sorted(_CHANGES)), st.none(), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: _CHANGES[k] for k in keys})
    ),
    st.dictionaries(st.sampled_from(sorted(_CHANGES)), st.none(), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: _CHANGES[k] for k in keys})
    ),
)
def test_tighten_never_loosens(tier: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    base = FLOORS[tier]
    for changes in (first, second):
        try:
            p = tighten(base, **changes)
        except ProfileError as err:
            assert err.field in changes
            continue
        assert check_profile(p) == []
        assert _at_least_as_tight(p, base) and _at_least_as_tight(p, FLOORS[tier])
        base = p  # tighten again from the tightened profile


def test_bands_may_only_merge_and_steps_only_grow() -> None:
    banded = tighten(FLOORS["C"], rounding=(10, 20, 50))
    assert tighten(banded, rounding=(10, 50)).rounding == (10, 50)
    for looser in [(10, 15, 20, 50), (10, 30), 5, None]:
        with pytest.raises(ProfileError, match="rounding"):
            tighten(banded, rounding=looser)
    assert tighten(FLOORS["C"], rounding=10).rounding == 10
    for bad in [7, 3, (10, 12, 20)]:
        with pytest.raises(ProfileError, match="rounding"):
            tighten(FLOORS["C"], rounding=bad)
    assert tighten(FLOORS["B"], rounding=(5, 6)).rounding == (5, 6)  # B has no rounding floor
    with pytest.raises(ProfileError, match="rounding"):
        tighten(FLOORS["B"], rounding=(6, 10))  # a published 5 would fall below every band


def test_rounding_never_shows_a_hidden_count() -> None:
    p = tighten(FLOORS["C"], k_observations=12)
    facts = [_at("2026-05-02T09:00")] * 12
    assert [c.count for c in publish_cells(facts, p, NOW)] == [15]  # not 10, which is < k
    assert [c.count for c in publish_cells(facts * 2, p, NOW)] == [25]  # 24: nearest 5


def test_floors_are_read_only_and_defaults_are_the_floors() -> None:
    with pytest.raises(TypeError):
        FLOORS["B"] = dataclasses.replace(FLOORS["B"], k_observations=1)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        FLOORS["B"].k_observations = 1  # type: ignore[misc]
    assert dict(DEFAULT_PROFILES) == dict(FLOORS)
    assert all(check_profile(p) == [] for p in FLOORS.values())


def test_a_loosened_profile_cannot_be_used_at_all() -> None:
    loose = dataclasses.replace(FLOORS["B"], k_observations=2)
    facts = [f.fact for f in make_burst(0, 20, 3, 0, 1)]
    calls: list[Callable[[], object]] = [
        lambda: publish_cells(facts, loose, NOW),
        lambda: publish_contexts([], loose),
        lambda: to_geojson([], loose),
        lambda: publish_vehicle_marks([], loose, NOW),
        lambda: published_periods(facts, loose, NOW),
    ]
    for call in calls:
        with pytest.raises(ProfileError, match="k_observations"):
            call()


def test_precision_statements() -> None:
    assert precision_statement(DEFAULT_PROFILES["B"]) == (
        "Cells of about 0.74 km², counts under 5 hidden, by month."
    )
    assert precision_statement(DEFAULT_PROFILES["C"]) == (
        "Cells of about 5.2 km², counts under 10 hidden, by quarter; counts rounded to the "
        "nearest 5; each quarter published a quarter after it ends."
    )
    banded = tighten(FLOORS["C"], rounding=(10, 20, 50), publication_lag=3, period="year")
    assert precision_statement(banded) == (
        "Cells of about 5.2 km², counts under 10 hidden, by year; counts shown in bands "
        "(10–19, 20–49, 50+); each year published 3 years after it ends."
    )
    fc = to_geojson([], FLOORS["C"])
    assert fc["precision"] == precision_statement(FLOORS["C"]) and fc["features"] == []


# --- the module refuses what it could not have produced -------------------------------------


def test_bad_inputs_are_refused() -> None:
    fact = make_burst(0, 20, 1, 0, 1)[0].fact
    coarse = dataclasses.replace(fact, cell_fine=cell_of(fact, 8))
    with pytest.raises(ValueError, match="resolution-9"):
        publish_cells([coarse], FLOORS["B"], NOW)
    with pytest.raises(ValueError, match="below k"):
        to_geojson([PublishedCell(cell_of(fact, 8), "2026-05", 3)], FLOORS["B"])
    with pytest.raises(ValueError, match="resolution-8"):
        to_geojson([PublishedCell(fact.cell_fine, "2026-05", 9)], FLOORS["B"])
    with pytest.raises(ValueError, match="kind"):
        publish_contexts([ContextFact("x", "Jo's flat", "Jo", False, 1.2, 54.6, "")], FLOORS["B"])


def test_boundary_totals_ignore_unassigned_cells_and_never_invent_zeros() -> None:
    cells = [PublishedCell(1, "2026-05", 7), PublishedCell(2, "2026-06", 9)]
    assignment: Mapping[int, str] = {1: "North", 3: "South"}
    assert boundary_totals(cells, assignment) == {("North", "2026-05"): 7}


# --- public places at their true geometry (briefing packs' routes and hubs) ------------------


def _wkt(kind: str, points: list[tuple[float, float]]) -> str:
    coords = ", ".join(f"{x!r} {y!r}" for x, y in points)
    if kind == "point":
        return f"POINT ({coords.split(', ')[0]})"
    if kind == "line":
        return f"LINESTRING ({coords})"
    ring = [*points, points[0]]
    return "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"


place_st = st.builds(
    lambda public, kind, shape, points, n: ContextFact(
        f"ctx-{n}",
        kind,
        f"Route {n}" if public else f"Home of {SENTINEL} {n}, 4 Acacia Road",
        public,
        points[0][0],
        points[0][1],
        _wkt(shape, points),
    ),
    st.booleans(),
    st.sampled_from(sorted(CONTEXT_KINDS)),
    st.sampled_from(["point", "line", "polygon"]),
    st.lists(
        st.tuples(st.floats(1.1, 1.3), st.floats(54.5, 54.7)), min_size=3, max_size=8, unique=True
    ),
    st.integers(0, 999),
)


@FAST
@given(place_st)
def test_only_public_places_come_out_with_their_geometry(context: ContextFact) -> None:
    if not context.public_place:
        with pytest.raises(ValueError, match="public_place"):
            public_place_feature(context)
        return
    feature = public_place_feature(context)
    assert feature["properties"] == {"name": context.name, "kind": context.kind}
    assert set(feature) == {"type", "geometry", "properties"}
    text = json.dumps(feature)
    assert SENTINEL not in text and context.id not in text
    first = feature["geometry"]["coordinates"]
    while isinstance(first[0], list):
        first = first[0]
    assert _metres((first[0], first[1]), (context.lon, context.lat)) < 0.2


def test_a_non_public_context_never_comes_out() -> None:
    flat = ContextFact(
        "c", "transport_hub", f"{SENTINEL} flat", False, 1.2, 54.6, "POINT (1.2 54.6)"
    )
    for public in (False, 0, None, "yes"):
        with pytest.raises(ValueError, match="public_place"):
            public_place_feature(dataclasses.replace(flat, public_place=public))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        public_place_feature(dataclasses.replace(flat, public_place=True, kind="flat"))
    with pytest.raises(ValueError, match="geometry_wkt"):
        public_place_feature(dataclasses.replace(flat, public_place=True, geometry_wkt="x"))


def test_the_module_examples_hold() -> None:
    """The docstring examples (public_place_feature's among them) are part of the contract."""
    import doctest

    import spatial.redaction

    result = doctest.testmod(spatial.redaction)
    assert result.attempted > 0 and result.failed == 0
