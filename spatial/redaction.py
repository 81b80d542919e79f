"""The one redaction module: every shared (tier B and C) output is built here, and only here.

Tier A (the recording agency's own view) is not redaction's concern. For tiers B (partners,
panels) and C (briefings) the module is pure: plain records in, published records out.

The cell lattice
    Every number is computed on one fixed grid — the H3 parent, at the profile's resolution,
    of each observation's res-9 cell — and fixed calendar periods in Europe/London.
    Suppression is applied to these cell-periods FIRST; a count for any boundary is the sum of
    the published cells assigned to it. A suppressed cell is simply absent, never a zero, so
    it looks like an empty one. Any difference between two numbers of one publication is
    then a sum of published cells, each at least k: no area or time window can be
    differenced into a small number.
What reaches the output
    Cell keys, period keys, counts, the profile's precision sentence, contexts' ids, kinds,
    public names and positions, masked marks. Nothing else from the inputs: notes, young
    people's refs, full marks, categories, agencies and observation positions are read only
    to count (refs) or not at all.

The caller's duties
    One publication is one fixed set of facts. Publishing the same cells for two overlapping
    fact sets (all categories and one category; all agencies and one agency) lets the two be
    differenced, so any split by category or agency must be a fixed partition agreed in
    advance, not a free filter. Likewise two profiles over the same facts (tier B by month
    at res 8 and tier C by quarter at res 7) are suppressed independently and can be
    differenced against each other: give one audience one profile's publication. Facts must
    be distinct observations, one per record.

Examples
--------
>>> from datetime import datetime, timezone
>>> from spatial.cells import cell_key
>>> fine = cell_key(1.2, 54.6, 9)
>>> def fact(day: int, ref: str) -> ObservationFact:
...     return ObservationFact(fine, datetime(2026, 5, day, 20, tzinfo=timezone.utc),
...         "weapon_found", (ref,), "police", "a note", "WR19 XKZ", 1.2, 54.6)
>>> facts = [fact(d, f"YP-{d % 4}") for d in range(1, 9)]
>>> now = datetime(2026, 7, 1, tzinfo=timezone.utc)
>>> [(c.period, c.count) for c in publish_cells(facts, DEFAULT_PROFILES["B"], now)]
[('2026-05', 8)]
>>> publish_cells(facts[:4], DEFAULT_PROFILES["B"], now)  # 4 < k = 5: nothing at all
[]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import h3
import numpy as np

from spatial.cells import parent_keys
from spatial.redaction_output import ContextFact as ContextFact
from spatial.redaction_output import PublishedCell as PublishedCell
from spatial.redaction_output import PublishedContext as PublishedContext
from spatial.redaction_output import centre
from spatial.redaction_output import contexts_geojson as contexts_geojson
from spatial.redaction_output import heatmap_points as heatmap_points
from spatial.redaction_output import public_place_feature as public_place_feature
from spatial.redaction_output import to_geojson as to_geojson
from spatial.redaction_profiles import DEFAULT_PROFILES as DEFAULT_PROFILES
from spatial.redaction_profiles import FLOORS as FLOORS
from spatial.redaction_profiles import PERIODS as PERIODS
from spatial.redaction_profiles import ProfileError as ProfileError
from spatial.redaction_profiles import (
    TierProfile,
    period_index,
    period_key,
    require_valid,
    round_count,
)
from spatial.redaction_profiles import band_labels as band_labels
from spatial.redaction_profiles import check_profile as check_profile
from spatial.redaction_profiles import precision_statement as precision_statement
from spatial.redaction_profiles import tighten as tighten
from spatial.vehicles import mask_mark, normalise_mark
from spatial.vocabulary import CONTEXT_KINDS

_FINE_RES = 9
_COORD_DP = 6  # about 0.1 m: no false precision


@dataclass(frozen=True)
class ObservationFact:
    """One observation as redaction sees it.

    Notes, refs, the mark and the position are here on purpose, so that tests can prove they
    never reach a shared output. Only ``cell_fine``, ``occurred_at`` and ``young_person_refs``
    are read, and the refs only to count them.
    """

    cell_fine: int
    occurred_at: datetime
    category: str
    young_person_refs: tuple[str, ...]
    agency: str
    note: str
    registration_mark: str | None
    lon: float
    lat: float


def _check_time(ts: datetime, field: str) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{field}: a time zone is required")


def _latest_published_index(profile: TierProfile, now: datetime) -> int:
    # The period in progress is never published; the lag holds back that many closed ones.
    _check_time(now, "now")
    return period_index(now, profile.period) - 1 - profile.publication_lag


def published_periods(
    facts: Iterable[ObservationFact], profile: TierProfile, now: datetime
) -> list[str]:
    """The periods holding at least one published cell, sorted.

    The period holding ``now`` (in progress) is never published, nor anything later, and
    ``publication_lag`` holds back that many closed periods as well: lag 0 publishes a period
    as soon as it has closed, lag 1 once the next one has closed too. A period whose cells
    are all suppressed is not listed: listing it would tell that something was recorded then.

    Examples
    --------
    >>> from datetime import timezone
    >>> from spatial.cells import cell_key
    >>> def at(month: int) -> list[ObservationFact]:
    ...     t = datetime(2026, month, 15, tzinfo=timezone.utc)
    ...     return [ObservationFact(cell_key(1.2, 54.6), t, "", (), "", "", None, 0, 0)] * 10
    >>> facts = [f for m in (1, 5, 7, 8) for f in at(m)]
    >>> now = datetime(2026, 8, 1, tzinfo=timezone.utc)
    >>> published_periods(facts, DEFAULT_PROFILES["C"], now)  # Q2 waits for Q3 to close
    ['2026-Q1']
    >>> published_periods(facts, DEFAULT_PROFILES["B"], now)  # August is in progress
    ['2026-01', '2026-05', '2026-07']
    >>> published_periods(facts[:4], DEFAULT_PROFILES["B"], now)  # 4 < k = 5
    []
    """
    return sorted({c.period for c in publish_cells(facts, profile, now)})


def _profile_cells(fine: list[int], resolution: int) -> list[int]:
    """Parents at ``resolution`` of res-9 keys, refusing anything that is not a res-9 cell."""
    for key in fine:
        if not h3.api.basic_int.is_valid_cell(key) or (key >> 52) & 0xF != _FINE_RES:
            raise ValueError(f"cell_fine: {key} is not a valid resolution-9 H3 cell")
    if not fine:
        return []
    return [int(k) for k in parent_keys(np.asarray(fine, dtype=np.int64), resolution)]


def _normal_ref(ref: str) -> str:
    # Case and surrounding space are folded, so one young person written two ways counts
    # once: that can only make suppression stricter.
    return ref.strip().casefold()


def _suppressed(n: int, per_person: Counter[str], profile: TierProfile) -> bool:
    if n < profile.k_observations:
        return True
    if not per_person:
        return False
    if len(per_person) < profile.k_young_people:
        return True
    return max(per_person.values()) > profile.max_person_share * n


def publish_cells(
    facts: Iterable[ObservationFact], profile: TierProfile, now: datetime
) -> list[PublishedCell]:
    """Counts per cell-period that pass the profile's suppression rules, sorted.

    Each fact goes to the parent of its res-9 cell at ``profile.resolution`` and to its
    calendar period; periods withheld by the publication lag are dropped. A cell-period is
    suppressed — left out, never shown as 0 — when it has fewer than ``k_observations``
    observations, or, when any of them names a young person, fewer than ``k_young_people``
    distinct young people or one young person in more than ``max_person_share`` of its
    observations (a young person counts once per observation). Rounding comes after
    suppression.

    Raises
    ------
    ProfileError
        If the profile is malformed or looser than its tier's floor.
    ValueError
        For a naive time or a cell key that is not resolution 9.

    Examples
    --------
    >>> from datetime import timezone
    >>> from spatial.cells import cell_key
    >>> t = datetime(2026, 2, 3, 18, tzinfo=timezone.utc)
    >>> def fact(refs: tuple[str, ...]) -> ObservationFact:
    ...     return ObservationFact(cell_key(1.2, 54.6), t, "", refs, "", "", None, 0.0, 0.0)
    >>> now = datetime(2026, 9, 1, tzinfo=timezone.utc)
    >>> b, c = DEFAULT_PROFILES["B"], DEFAULT_PROFILES["C"]
    >>> [x.count for x in publish_cells([fact(())] * 12, b, now)]
    [12]
    >>> [x.count for x in publish_cells([fact(())] * 12, c, now)]  # rounded to 5
    [10]
    >>> one_child = [fact(("YP-1",))] * 6 + [fact(("YP-2",)), fact(("YP-3",))]
    >>> publish_cells(one_child, b, now)  # YP-1 is 6 of 8
    []
    """
    require_valid(profile)
    latest = _latest_published_index(profile, now)
    kept = []
    for f in facts:
        _check_time(f.occurred_at, "occurred_at")
        if period_index(f.occurred_at, profile.period) <= latest:
            kept.append(f)
    cells = _profile_cells([f.cell_fine for f in kept], profile.resolution)
    counts: Counter[tuple[int, str]] = Counter()
    people: dict[tuple[int, str], Counter[str]] = {}
    for cell, f in zip(cells, kept, strict=True):
        key = (cell, period_key(f.occurred_at, profile.period))
        counts[key] += 1
        refs = {_normal_ref(r) for r in f.young_person_refs} - {""}
        people.setdefault(key, Counter()).update(refs)
    out = [
        PublishedCell(cell, period, round_count(n, profile.rounding, profile.k_observations))
        for (cell, period), n in counts.items()
        if not _suppressed(n, people[(cell, period)], profile)
    ]
    return sorted(out, key=lambda c: (c.period, c.cell))


def boundary_totals(
    published: list[PublishedCell], assignment: Mapping[int, str]
) -> dict[tuple[str, str], int]:
    """Per (area, period): the sum of the published cells assigned to the area.

    Cells missing from ``assignment`` are ignored; an area with no published cell in a period
    has no entry (as with suppressed cells, absent is not zero). Rounded counts are summed as
    published. Banded counts cannot be summed: a banded tier C publication shows its cells and
    named public places, not boundary totals.

    Examples
    --------
    >>> cells = [PublishedCell(1, "2026-05", 7), PublishedCell(2, "2026-05", 9),
    ...          PublishedCell(3, "2026-05", 5)]
    >>> boundary_totals(cells, {1: "North ward", 2: "North ward", 3: "South ward"})
    {('North ward', '2026-05'): 16, ('South ward', '2026-05'): 5}
    """
    totals: dict[tuple[str, str], int] = {}
    for c in published:
        if isinstance(c.count, str):
            raise ValueError("count: banded counts are not summed; publish cells instead")
        area = assignment.get(c.cell)
        if area is not None:
            totals[(area, c.period)] = totals.get((area, c.period), 0) + c.count
    return dict(sorted(totals.items()))


def cell_totals(published: list[PublishedCell], label: str) -> list[PublishedCell]:
    """Each cell's published counts summed over the publication's periods, as one period
    called ``label`` — a sum of published cell-periods (each absent or at least k), so it
    tells nothing the publication does not. Banded counts cannot be summed.

    >>> cell_totals([PublishedCell(1, "2026-Q1", 10), PublishedCell(1, "2026-Q2", 15),
    ...              PublishedCell(2, "2026-Q2", 10)], "2026-Q1 to 2026-Q2")  # doctest: +NORMALIZE_WHITESPACE
    [PublishedCell(cell=1, period='2026-Q1 to 2026-Q2', count=25),
     PublishedCell(cell=2, period='2026-Q1 to 2026-Q2', count=10)]
    """  # noqa: E501
    totals: dict[int, int] = {}
    for c in published:
        if isinstance(c.count, str):
            raise ValueError("count: banded counts are not summed; publish cells instead")
        totals[c.cell] = totals.get(c.cell, 0) + c.count
    return [PublishedCell(cell, label, n) for cell, n in sorted(totals.items())]


def _cell_at(lon: float, lat: float, resolution: int) -> int:
    fine = h3.api.basic_int.latlng_to_cell(lat, lon, _FINE_RES)
    return _profile_cells([fine], resolution)[0]


def publish_contexts(
    contexts: Iterable[ContextFact], profile: TierProfile
) -> list[PublishedContext]:
    """Contexts as the tier may see them, sorted by id.

    A public place keeps its name and true position (its representative point, never its
    geometry). Any other context is, for ``residential_contexts="snap"`` (tier B), moved to
    the centre of its cell at the profile's resolution and named only by its kind; for
    ``"omit"`` (tier C) it is left out.

    Examples
    --------
    >>> bus = ContextFact("c1", "transport_hub", "Bus station", True, 1.2, 54.6, "POINT(…)")
    >>> flat = ContextFact("c2", "place_of_concern", "Flat 3", False, 1.21, 54.61, "POINT(…)")
    >>> [(p.name, p.precise) for p in publish_contexts([bus, flat], DEFAULT_PROFILES["B"])]
    [('Bus station', True), ('Place of concern', False)]
    >>> [p.name for p in publish_contexts([bus, flat], DEFAULT_PROFILES["C"])]
    ['Bus station']
    """
    require_valid(profile)
    out: list[PublishedContext] = []
    for c in contexts:
        if c.kind not in CONTEXT_KINDS:
            raise ValueError(f"kind: {c.kind!r} is not a context kind")
        if c.public_place:
            lon, lat = round(c.lon, _COORD_DP), round(c.lat, _COORD_DP)
            cell = _cell_at(c.lon, c.lat, profile.resolution)
            out.append(PublishedContext(c.id, c.kind, c.name, lon, lat, True, cell))
        elif profile.residential_contexts == "snap":
            cell = _cell_at(c.lon, c.lat, profile.resolution)
            lon, lat = centre(cell)
            label = CONTEXT_KINDS[c.kind]
            out.append(PublishedContext(c.id, c.kind, label, lon, lat, False, cell))
    return sorted(out, key=lambda p: p.id)


def mask_vehicle(mark: str) -> str:
    """A registration mark as any shared tier that shows vehicles may see it: never more than
    its first two characters.

    >>> mask_vehicle("wr19 xkz")[:2], "19" in mask_vehicle("wr19 xkz")
    ('WR', False)
    """
    return mask_mark(mark)


@dataclass(frozen=True)
class SightingFact:
    """One sighting of a vehicle as redaction sees it: where (res-9 cell), when, which mark."""

    cell_fine: int
    occurred_at: datetime
    mark: str


@dataclass(frozen=True)
class PublishedMark:
    """A masked mark published in one cell-period."""

    cell: int
    period: str
    mark: str


def publish_vehicle_marks(
    sightings: Iterable[SightingFact], profile: TierProfile, now: datetime
) -> list[PublishedMark]:
    """Masked marks per cell-period, for marks sighted at least ``k_observations`` times in
    that cell and period (one sighting must never put a vehicle on a partner's map); none if
    the tier does not show vehicles. Sorted, distinct.

    >>> from datetime import timezone
    >>> from spatial.cells import cell_key
    >>> t = datetime(2026, 2, 3, 18, tzinfo=timezone.utc)
    >>> now = datetime(2026, 9, 1, tzinfo=timezone.utc)
    >>> cell = cell_key(1.2, 54.6)
    >>> seen = [SightingFact(cell, t, "WR19 XKZ")] * 5 + [SightingFact(cell, t, "WR19 XKA")] * 4
    >>> [(m.period, m.mark[:2]) for m in publish_vehicle_marks(seen, DEFAULT_PROFILES["B"], now)]
    [('2026-02', 'WR')]
    >>> publish_vehicle_marks(seen, DEFAULT_PROFILES["C"], now)
    []
    """
    require_valid(profile)
    if not profile.show_vehicles:
        return []
    latest = _latest_published_index(profile, now)
    kept = [s for s in sightings if period_index(s.occurred_at, profile.period) <= latest]
    cells = _profile_cells([s.cell_fine for s in kept], profile.resolution)
    counts: Counter[tuple[int, str, str]] = Counter(
        (cell, period_key(s.occurred_at, profile.period), normalise_mark(s.mark))
        for cell, s in zip(cells, kept, strict=True)
        if normalise_mark(s.mark)
    )
    out = {
        PublishedMark(cell, period, mask_vehicle(mark))
        for (cell, period, mark), n in counts.items()
        if n >= profile.k_observations
    }
    return sorted(out, key=lambda m: (m.period, m.cell, m.mark))
