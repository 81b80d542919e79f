"""Overdue across month ends, leap days and the clock changes: due dates are calendar dates in
Europe/London, every "now" is fixed here, and the answers never depend on today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from webmap.features.meetings.agenda import window
from webmap.features.meetings.lifecycle import action_state, london_day, overdue_on


@pytest.mark.parametrize(
    ("due", "now", "state"),
    [
        # Month ends: overdue from the first of the next month, not before.
        (date(2026, 1, 31), datetime(2026, 1, 31, 23, 59, tzinfo=UTC), "due_soon"),
        (date(2026, 1, 31), datetime(2026, 2, 1, 0, 0, tzinfo=UTC), "overdue"),
        (date(2028, 2, 29), datetime(2028, 2, 29, 12, tzinfo=UTC), "due_soon"),  # leap day
        (date(2028, 2, 29), datetime(2028, 3, 1, 0, 1, tzinfo=UTC), "overdue"),
        (date(2026, 12, 31), datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "overdue"),
        # Clocks go forward (29 March 2026, 01:00 UTC): 23:30 UTC on the 29th is already the
        # 30th in London, so an action due on the 29th is overdue; the night before it is not.
        (date(2026, 3, 29), datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "due_soon"),
        (date(2026, 3, 29), datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "overdue"),
        # Clocks go back (25 October 2026, 01:00 UTC): 23:30 UTC on the 24th is 00:30 on the
        # 25th in London (BST); on the 25th at 23:30 UTC it is still the 25th (GMT).
        (date(2026, 10, 24), datetime(2026, 10, 24, 23, 30, tzinfo=UTC), "overdue"),
        (date(2026, 10, 25), datetime(2026, 10, 25, 23, 30, tzinfo=UTC), "due_soon"),
        (date(2026, 10, 25), datetime(2026, 10, 26, 0, 30, tzinfo=UTC), "overdue"),
        # The day itself, both sides of midnight in summer time.
        (date(2026, 6, 30), datetime(2026, 6, 30, 22, 59, tzinfo=UTC), "due_soon"),
        (date(2026, 6, 30), datetime(2026, 6, 30, 23, 0, tzinfo=UTC), "overdue"),
        # Far off, and done or cancelled whatever the date.
        (date(2026, 9, 1), datetime(2026, 6, 1, 12, tzinfo=UTC), "open"),
    ],
)
def test_overdue_is_a_london_calendar_date(due: date, now: datetime, state: str) -> None:
    assert action_state("open", due, None, london_day(now)) == state
    assert action_state("in_progress", due, None, london_day(now)) == state
    assert action_state("done", due, due + timedelta(days=40), london_day(now)) == "done"


def test_an_action_closed_late_was_overdue_until_then() -> None:
    due, closed = date(2026, 2, 27), date(2026, 3, 3)
    assert [overdue_on(due, closed, date(2026, 2, d)) for d in (27, 28)] == [False, True]
    assert [overdue_on(due, closed, date(2026, 3, d)) for d in (2, 3, 4)] == [True, False, False]


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        london_day(datetime(2026, 3, 29, 12))


@pytest.mark.parametrize(
    ("meeting", "previous", "today", "months"),
    [
        (date(2026, 11, 12), date(2026, 9, 10), date(2026, 11, 12), ("2026-09", "2026-10")),
        (date(2027, 1, 5), date(2026, 12, 1), date(2027, 1, 5), ("2026-12",)),
        (date(2026, 3, 1), date(2026, 1, 31), date(2026, 3, 1), ("2026-01", "2026-02")),
        # A meeting dated ahead: never the month in progress.
        (date(2026, 12, 20), date(2026, 10, 2), date(2026, 11, 14), ("2026-10",)),
        (date(2026, 11, 30), date(2026, 11, 1), date(2026, 11, 30), None),
    ],
)
def test_what_changed_compares_complete_months_only(
    meeting: date, previous: date, today: date, months: tuple[str, ...] | None
) -> None:
    win = window(meeting, previous, today)
    if months is None:
        assert win is None
        return
    assert win is not None
    assert sorted(win.keys(True)) == list(months)
    assert len(win.keys(False)) == len(months) and not win.keys(False) & win.keys(True)
