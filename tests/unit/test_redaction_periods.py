"""The ledger's period planning: only closed periods (plus the lag), never overlapping what is
already published, aligned to their kind, and nothing skipped that could have been planned."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from spatial.redaction_periods import (
    MONTHS,
    Period,
    add_months,
    aligned,
    due_periods,
    publishable_until,
)

KINDS = ("month", "quarter", "year")


def test_the_period_in_progress_is_never_due() -> None:
    today = date(2026, 12, 6)
    due = due_periods("month", "month", 0, date(2026, 10, 1), None, [], today)
    assert [p.key for p in due] == ["2026-10", "2026-11"]
    due = due_periods("quarter", "quarter", 1, date(2026, 1, 1), None, [], today)
    assert [p.key for p in due] == ["2026-Q1", "2026-Q2"]  # Q3 waits for Q4 to close
    # On the last evening of a month, that month is still in progress.
    assert due_periods("month", "month", 0, date(2026, 11, 1), None, [], date(2026, 11, 30)) == []


def test_a_longer_period_begins_at_its_next_boundary() -> None:
    published = [(date(2026, 1, 1), date(2026, 2, 1)), (date(2026, 2, 1), date(2026, 3, 1))]
    due = due_periods("quarter", "month", 0, date(2026, 1, 1), None, published, date(2026, 9, 9))
    assert [p.key for p in due] == ["2026-03", "2026-Q2"]


def test_a_share_ending_inside_a_longer_period_gets_only_whole_floor_periods() -> None:
    due = due_periods(
        "year", "quarter", 0, date(2025, 1, 1), date(2025, 7, 1), [], date(2026, 6, 1)
    )
    assert [p.key for p in due] == ["2025-Q1", "2025-Q2"]


starts = st.builds(date, st.integers(2023, 2026), st.integers(1, 12), st.just(1))


@st.composite
def ledgers(draw: st.DrawFn) -> list[tuple[date, date]]:
    """Publications made earlier, possibly under other profiles: aligned, non-overlapping."""
    out: list[tuple[date, date]] = []
    cursor = draw(starts)
    for _ in range(draw(st.integers(0, 6))):
        cursor = add_months(cursor, draw(st.integers(0, 5)))
        kind = draw(st.sampled_from(KINDS))
        if not aligned(cursor, kind):
            kind = "month"
        p = Period.starting(cursor, kind)
        out.append((p.start, p.end))
        cursor = p.end
    return out


@given(
    kind=st.sampled_from(KINDS),
    lag=st.integers(0, 2),
    start=starts,
    length=st.one_of(st.none(), st.integers(1, 40)),
    published=ledgers(),
    today=st.dates(date(2023, 1, 1), date(2029, 12, 31)),
)
def test_planned_periods_are_closed_aligned_and_never_overlap(
    kind: str, lag: int, start: date, length: int | None, published: list[tuple[date, date]],
    today: date,
) -> None:  # fmt: skip
    end = None if length is None else add_months(start, length)
    due = due_periods(kind, "month", lag, start, end, published, today)  # type: ignore[arg-type]
    taken = list(published)
    for p in due:
        assert aligned(p.start, p.kind) and p.end == add_months(p.start, MONTHS[p.kind])
        assert p.start >= start and (end is None or p.end <= end)
        # Closed, plus the lag: the period in progress is never planned.
        assert p.end <= publishable_until(p.kind, lag, today)
        assert p.end <= date(today.year, today.month, 1)
        assert not any(s < p.end and e > p.start for s, e in taken)
        taken.append((p.start, p.end))
    # Nothing is skipped: after the plan, the next month is published, past the end, or not
    # yet publishable.
    cursor = due[-1].end if due else start
    while any(s <= cursor < e for s, e in taken):
        cursor = next(e for s, e in taken if s <= cursor < e)
    nxt = Period.starting(cursor, "month")
    assert (
        (end is not None and nxt.end > end)
        or nxt.end > publishable_until("month", lag, today)
        or (kind != "month" and aligned(cursor, kind))  # the longer period waits to close
        or any(s < nxt.end and e > nxt.start for s, e in taken)
    )
