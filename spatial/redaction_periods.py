"""Calendar periods of the publication ledger: when a period may be published, and which.

Every tier B/C number comes from a *publication*: one source agency's cells for one tier and
one calendar period, written once and never changed. A period may be published only once it
has closed and ``publication_lag`` further periods have passed (so the period in progress is
never published), and no two publications of one source and tier overlap in time: otherwise a
recipient could subtract one release from the other.

An agency may lengthen its period (month → quarter) while earlier periods are already
published. The new length then applies from its next boundary; until then periods keep the
tier floor's length, which is always aligned with what was published before.

Examples
--------
>>> march = Period.starting(date(2026, 3, 1), "month")
>>> march.key, march.end
('2026-03', datetime.date(2026, 4, 1))
>>> publishable_until("quarter", 1, date(2026, 12, 6))  # Q3 waits for Q4 to close
datetime.date(2026, 7, 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

from spatial.redaction_profiles import Period as PeriodKind

#: Months in each kind of period.
MONTHS: Final[dict[str, int]] = {"month": 1, "quarter": 3, "year": 12}


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s.

    >>> add_months(date(2026, 11, 20), 3)
    datetime.date(2027, 2, 1)
    """
    total = d.year * 12 + d.month - 1 + n
    return date(total // 12, total % 12 + 1, 1)


def period_start(d: date, kind: PeriodKind) -> date:
    """The first day of the period of ``kind`` holding ``d``.

    >>> period_start(date(2026, 8, 14), "quarter"), period_start(date(2026, 8, 14), "year")
    (datetime.date(2026, 7, 1), datetime.date(2026, 1, 1))
    """
    step = MONTHS[kind]
    return date(d.year, (d.month - 1) // step * step + 1, 1)


def aligned(d: date, kind: PeriodKind) -> bool:
    """Whether ``d`` is the first day of a period of ``kind``.

    >>> aligned(date(2026, 4, 1), "quarter"), aligned(date(2026, 5, 1), "quarter")
    (True, False)
    """
    return period_start(d, kind) == d


@dataclass(frozen=True)
class Period:
    """One calendar period: its key (``2026-05``, ``2026-Q2``, ``2026``), first day, first day
    after and kind."""

    key: str
    start: date
    end: date
    kind: PeriodKind

    @classmethod
    def starting(cls, start: date, kind: PeriodKind) -> Period:
        """The period of ``kind`` that begins on ``start`` (which must be aligned).

        >>> Period.starting(date(2026, 4, 1), "quarter").key
        '2026-Q2'
        >>> Period.starting(date(2026, 5, 1), "quarter")
        Traceback (most recent call last):
        ...
        ValueError: start: 2026-05-01 does not begin a quarter
        """
        if not aligned(start, kind):
            raise ValueError(f"start: {start.isoformat()} does not begin a {kind}")
        if kind == "month":
            key = f"{start.year:04d}-{start.month:02d}"
        elif kind == "quarter":
            key = f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
        else:
            key = f"{start.year:04d}"
        return cls(key, start, add_months(start, MONTHS[kind]), kind)


def publishable_until(kind: PeriodKind, lag: int, today: date) -> date:
    """The day before which periods of ``kind`` may be published on ``today``: the start of
    the period in progress, less ``lag`` whole periods.

    >>> publishable_until("month", 0, date(2026, 12, 1))  # November has just closed
    datetime.date(2026, 12, 1)
    >>> publishable_until("month", 2, date(2026, 12, 31))
    datetime.date(2026, 10, 1)
    """
    return add_months(period_start(today, kind), -MONTHS[kind] * lag)


def due_periods(
    kind: PeriodKind,
    floor_kind: PeriodKind,
    lag: int,
    start: date,
    end: date | None,
    published: Iterable[tuple[date, date]],
    today: date,
) -> list[Period]:
    """The periods from ``start`` (to ``end``, if any) that may be published on ``today`` and
    are not yet, oldest first, skipping over anything already published.

    Periods are of ``kind`` where one begins, otherwise of ``floor_kind`` (the tier floor's,
    which every earlier boundary is aligned with); a period that would overlap a publication,
    or run past ``end``, is not planned.

    Examples
    --------
    >>> jan = date(2026, 1, 1)
    >>> [p.key for p in due_periods("month", "month", 0, jan, None, [], date(2026, 4, 9))]
    ['2026-01', '2026-02', '2026-03']
    >>> done = [(date(2026, 1, 1), date(2026, 3, 1))]
    >>> [p.key for p in due_periods("quarter", "month", 0, jan, None, done, date(2026, 9, 9))]
    ['2026-03', '2026-Q2']
    """
    taken = sorted(published)
    out: list[Period] = []
    cursor = start
    while True:
        cover = next((e for s, e in taken if s <= cursor < e), None)
        if cover is not None:
            cursor = cover
            continue
        planned = None
        for k in dict.fromkeys((kind, floor_kind)):
            if not aligned(cursor, k):
                continue
            p = Period.starting(cursor, k)
            clashes = any(s < p.end and e > p.start for s, e in taken)
            if not clashes and (end is None or p.end <= end):
                planned = p
                break
        if planned is None or planned.end > publishable_until(planned.kind, lag, today):
            return out
        out.append(planned)
        cursor = planned.end
