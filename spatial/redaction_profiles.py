"""Tier profiles for shared outputs: the floors, checking, tightening, and calendar periods.

A :class:`TierProfile` is data: how fine a grid, how long a period, how many observations and
distinct young people a cell-period needs before it is published, how counts are rounded, how
many periods are held back. :data:`FLOORS` holds the loosest profile each shared tier allows;
an agency may :func:`tighten` a profile, never loosen it below the floor.

The redaction itself lives in :mod:`spatial.redaction`, which re-exports everything here.

Examples
--------
>>> p = tighten(FLOORS["B"], k_observations=8)
>>> p.k_observations, check_profile(p)
(8, [])
>>> tighten(FLOORS["C"], show_vehicles=True)
Traceback (most recent call last):
...
spatial.redaction_profiles.ProfileError: show_vehicles: tier C never shows vehicles
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Final, Literal, TypeGuard
from zoneinfo import ZoneInfo

from spatial.cells import cell_precision

Tier = Literal["B", "C"]
Period = Literal["month", "quarter", "year"]
Residential = Literal["snap", "omit"]
#: ``None`` (exact counts), an ``int`` step (round to the nearest multiple, half up), or a
#: banding: ascending lower edges of bands, the last band open (``(10, 20, 50)`` gives
#: ``"10–19"``, ``"20–49"``, ``"50+"``).
Rounding = int | tuple[int, ...] | None

#: Calendar periods are taken in this zone (so a 00:30 BST event on 1 April is April).
LONDON: Final = ZoneInfo("Europe/London")
#: Periods, finest first.
PERIODS: Final[tuple[Period, ...]] = ("month", "quarter", "year")
#: Handling of non-public contexts, loosest first.
RESIDENTIAL: Final[tuple[Residential, ...]] = ("snap", "omit")


class ProfileError(ValueError):
    """A profile that would loosen a floor, or is malformed; ``field`` names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class TierProfile:
    """How one shared tier is redacted.

    Attributes
    ----------
    tier : {"B", "C"}
        B: partner agencies and panels under a share. C: briefings for operators and the
        public.
    resolution : int
        H3 resolution of the published cells (8 for B, 7 for C; only equal or coarser).
    period : {"month", "quarter", "year"}
        Calendar period, in Europe/London, of the published counts.
    k_observations : int
        A cell-period with fewer observations is suppressed.
    k_young_people : int
        If any observation in a cell-period names a young person, it needs at least this many
        distinct young people …
    max_person_share : float
        … and no one young person in more than this share of its observations.
    rounding : None, int or tuple of int
        Applied after suppression: exact, nearest multiple of a step, or a band label.
    publication_lag : int
        Closed periods held back before a period is published (the period in progress is
        never published): 0 publishes a month as soon as it has closed.
    show_vehicles : bool
        Whether masked registration marks may be shown.
    residential_contexts : {"snap", "omit"}
        Non-public contexts: shown at their cell's centre under their kind's label, or omitted.
    """

    tier: Tier
    resolution: int
    period: Period
    k_observations: int
    k_young_people: int
    max_person_share: float
    rounding: Rounding
    publication_lag: int
    show_vehicles: bool
    residential_contexts: Residential


#: The loosest profile each shared tier allows (read-only).
FLOORS: Final[Mapping[str, TierProfile]] = MappingProxyType(
    {
        "B": TierProfile(
            tier="B",
            resolution=8,
            period="month",
            k_observations=5,
            k_young_people=3,
            max_person_share=0.5,
            rounding=None,
            publication_lag=0,
            show_vehicles=True,
            residential_contexts="snap",
        ),
        "C": TierProfile(
            tier="C",
            resolution=7,
            period="quarter",
            k_observations=10,
            k_young_people=5,
            max_person_share=0.5,
            rounding=5,
            publication_lag=1,
            show_vehicles=False,
            residential_contexts="omit",
        ),
    }
)
#: The profiles used when an agency has not tightened its own: the floors themselves.
DEFAULT_PROFILES: Final[Mapping[str, TierProfile]] = MappingProxyType(dict(FLOORS))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _rounding_problem(rounding: object) -> str | None:
    """Why ``rounding`` is malformed, or None."""
    if rounding is None:
        return None
    if _is_int(rounding):
        return None if rounding >= 1 else "a rounding step must be at least 1"
    if isinstance(rounding, tuple) and rounding and all(_is_int(e) for e in rounding):
        if rounding[0] < 1 or any(b <= a for a, b in pairwise(rounding)):
            return "band edges must be positive and strictly increasing"
        return None
    return "must be None, a step, or a tuple of band edges"


def _rounding_at_least(new: Rounding, base: Rounding) -> bool:
    """Whether ``new`` is at least as coarse as ``base``."""
    if base is None:
        return True
    if isinstance(base, int):
        if isinstance(new, int):
            return new % base == 0
        if isinstance(new, tuple):
            return all(b - a >= base for a, b in pairwise(new))
        return False
    return isinstance(new, tuple) and set(new) <= set(base)  # merging bands only


def _loosenings(p: TierProfile, base: TierProfile) -> list[ProfileError]:
    """The fields in which ``p`` is looser than ``base`` (assumed well-formed)."""
    out: list[ProfileError] = []

    def below(field: str, problem: str) -> None:
        out.append(ProfileError(field, problem))

    if p.resolution > base.resolution:
        below("resolution", f"must be {base.resolution} or coarser (a smaller number)")
    if PERIODS.index(p.period) < PERIODS.index(base.period):
        below("period", f"must be {base.period} or longer")
    if p.k_observations < base.k_observations:
        below("k_observations", f"must be at least {base.k_observations}")
    if p.k_young_people < base.k_young_people:
        below("k_young_people", f"must be at least {base.k_young_people}")
    if p.max_person_share > base.max_person_share:
        below("max_person_share", f"must be at most {base.max_person_share}")
    if not _rounding_at_least(p.rounding, base.rounding):
        below("rounding", f"must be at least as coarse as {base.rounding!r}")
    if p.publication_lag < base.publication_lag:
        below("publication_lag", f"must be at least {base.publication_lag}")
    if p.show_vehicles and not base.show_vehicles:
        below("show_vehicles", f"tier {p.tier} never shows vehicles")
    if RESIDENTIAL.index(p.residential_contexts) < RESIDENTIAL.index(base.residential_contexts):
        below("residential_contexts", f"must be {base.residential_contexts!r}")
    return out


def _malformations(p: TierProfile) -> list[ProfileError]:
    """Type and range problems, independent of any floor."""
    out: list[ProfileError] = []
    if p.tier not in FLOORS:
        return [ProfileError("tier", "must be 'B' or 'C'")]
    if not _is_int(p.resolution) or not 0 <= p.resolution <= 15:
        out.append(ProfileError("resolution", "must be an H3 resolution, 0 to 15"))
    if p.period not in PERIODS:
        out.append(ProfileError("period", f"must be one of {', '.join(PERIODS)}"))
    for name in ("k_observations", "k_young_people"):
        if not _is_int(getattr(p, name)) or getattr(p, name) < 1:
            out.append(ProfileError(name, "must be a positive integer"))
    share = p.max_person_share
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        out.append(ProfileError("max_person_share", "must be a number in (0, 1]"))
    if (problem := _rounding_problem(p.rounding)) is not None:
        out.append(ProfileError("rounding", problem))
    if not _is_int(p.publication_lag) or p.publication_lag < 0:
        out.append(ProfileError("publication_lag", "must be a non-negative integer"))
    if not isinstance(p.show_vehicles, bool):
        out.append(ProfileError("show_vehicles", "must be True or False"))
    if p.residential_contexts not in RESIDENTIAL:
        out.append(ProfileError("residential_contexts", "must be 'snap' or 'omit'"))
    return out


def _inconsistencies(p: TierProfile) -> list[ProfileError]:
    """Problems between fields (assumed well-formed)."""
    if isinstance(p.rounding, tuple) and p.rounding[0] > p.k_observations:
        return [ProfileError("rounding", "the first band must start at or below k")]
    return []


def check_profile(p: TierProfile) -> list[str]:
    """Every problem with ``p``: malformed fields, then anything looser than its tier's floor.

    Examples
    --------
    >>> check_profile(FLOORS["C"])
    []
    >>> check_profile(dataclasses.replace(FLOORS["B"], k_observations=3, resolution=9))
    ['resolution: must be 8 or coarser (a smaller number)', 'k_observations: must be at least 5']
    """
    bad = _malformations(p)
    if not bad:
        bad = _loosenings(p, FLOORS[p.tier]) + _inconsistencies(p)
    return [str(e) for e in bad]


def require_valid(p: TierProfile) -> None:
    """Raise :class:`ProfileError` for the first problem :func:`check_profile` finds.

    >>> require_valid(dataclasses.replace(FLOORS["C"], rounding=None))
    Traceback (most recent call last):
    ...
    spatial.redaction_profiles.ProfileError: rounding: must be at least as coarse as 5
    """
    bad = _malformations(p) or _loosenings(p, FLOORS[p.tier]) or _inconsistencies(p)
    if bad:
        raise bad[0]


def tighten(floor: TierProfile, **changes: Any) -> TierProfile:
    """``floor`` with ``changes`` applied, refusing any change that loosens it.

    ``floor`` may itself be a tightened profile: the result must be at least as tight as both
    it and the tier's floor in :data:`FLOORS`.

    Raises
    ------
    ProfileError
        Naming the first field that is unknown, malformed, or looser than allowed.

    Examples
    --------
    >>> tighten(FLOORS["C"], rounding=(10, 20, 50), period="year").rounding
    (10, 20, 50)
    >>> tighten(FLOORS["B"], resolution=9)
    Traceback (most recent call last):
    ...
    spatial.redaction_profiles.ProfileError: resolution: must be 8 or coarser (a smaller number)
    """
    require_valid(floor)
    known = {f.name for f in dataclasses.fields(TierProfile)}
    for name in changes:
        if name not in known:
            raise ProfileError(name, "no such profile field")
    if "tier" in changes and changes["tier"] != floor.tier:
        raise ProfileError("tier", "a profile cannot change tier")
    p = dataclasses.replace(floor, **changes)
    bad = (
        _malformations(p)
        or _loosenings(p, floor)
        or _loosenings(p, FLOORS[p.tier])
        or _inconsistencies(p)  # k only grows, so only a new banding can start above it
    )
    if bad:
        raise bad[0]
    return p


def precision_statement(p: TierProfile) -> str:
    """The sentence every shared map and export carries about its precision.

    Examples
    --------
    >>> precision_statement(FLOORS["B"])
    'Cells of about 0.74 km², counts under 5 hidden, by month.'
    >>> precision_statement(FLOORS["C"])
    'Cells of about 5.2 km², counts under 10 hidden, by quarter; counts rounded to the nearest 5; each quarter published a quarter after it ends.'
    """  # noqa: E501
    text = cell_precision(p.resolution, p.period, p.k_observations)
    if isinstance(p.rounding, int):
        text += f"; counts rounded to the nearest {p.rounding}"
    elif isinstance(p.rounding, tuple):
        text += f"; counts shown in bands ({', '.join(band_labels(p.rounding))})"
    if p.publication_lag == 1:
        text += f"; each {p.period} published a {p.period} after it ends"
    elif p.publication_lag > 1:
        text += f"; each {p.period} published {p.publication_lag} {p.period}s after it ends"
    return text + "."


def band_labels(edges: tuple[int, ...]) -> list[str]:
    """Labels of the bands with these lower edges.

    >>> band_labels((10, 20, 50))
    ['10–19', '20–49', '50+']
    """
    pairs = pairwise(edges)
    return [f"{a}–{b - 1}" if b - 1 > a else f"{a}" for a, b in pairs] + [f"{edges[-1]}+"]


def round_count(n: int, rounding: Rounding, k: int = 1) -> int | str:
    """A published count after rounding: exact, its band's label, or the nearest multiple of
    the step (half up) but never below the threshold ``k`` — the smallest multiple at or
    above ``k`` instead, so a rounded count can never fall in the hidden range.

    >>> round_count(12, 5), round_count(13, 5), round_count(12, None), round_count(12, (10, 20))
    (10, 15, 12, '10–19')
    >>> round_count(12, 5, k=12)  # 10 would look like a hidden count
    15
    """
    if rounding is None:
        return n
    if isinstance(rounding, int):
        nearest = (n + rounding // 2) // rounding * rounding
        return max(nearest, -(-k // rounding) * rounding)
    labels = band_labels(rounding)
    index = max((i for i, edge in enumerate(rounding) if n >= edge), default=0)
    return labels[index]


def _london(ts: datetime) -> datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("a time zone is required")
    return ts.astimezone(LONDON)


def period_key(ts: datetime, period: Period) -> str:
    """The calendar period holding ``ts`` (timezone-aware), in Europe/London.

    Examples
    --------
    >>> from datetime import timezone
    >>> t = datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc)  # 00:30 BST, 1 April
    >>> period_key(t, "month"), period_key(t, "quarter"), period_key(t, "year")
    ('2026-04', '2026-Q2', '2026')
    """
    local = _london(ts)
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "quarter":
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    if period == "year":
        return f"{local.year:04d}"
    raise ValueError(f"period: must be one of {', '.join(PERIODS)}")


def period_index(ts: datetime, period: Period) -> int:
    """A consecutive integer per period (months since year 0, and so on), in Europe/London.

    >>> from datetime import timezone
    >>> a = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> period_index(a, "month") - period_index(a.replace(year=2025), "month")
    12
    """
    local = _london(ts)
    if period == "month":
        return local.year * 12 + local.month - 1
    if period == "quarter":
        return local.year * 4 + (local.month - 1) // 3
    if period == "year":
        return local.year
    raise ValueError(f"period: must be one of {', '.join(PERIODS)}")
