"""The meeting loop's vocabulary and its rules of time and stage, pure (no database, no Flask).

Due dates are calendar dates in Europe/London: an action due on 31 October is overdue from
1 November in London, whatever the server's clock or zone, across month ends and the clock
changes alike. Every function takes its "now" or "day" as an argument, so tests pass fixed
values and the answer never depends on the day the test runs.

Examples
--------
>>> from datetime import datetime, timezone
>>> late_evening = datetime(2026, 10, 31, 23, 30, tzinfo=timezone.utc)  # 23:30 GMT
>>> london_day(late_evening), london_day(datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc))
(datetime.date(2026, 10, 31), datetime.date(2026, 7, 1))
>>> action_state("open", date(2026, 10, 31), None, date(2026, 11, 1))
'overdue'
>>> action_state("in_progress", date(2026, 11, 10), None, date(2026, 11, 1))
'due_soon'
>>> next_stages("review")
('plan', 'weighting', 'closed')
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

LONDON: Final = ZoneInfo("Europe/London")

#: The Home Office's Four Ps, in their usual order, value → label.
FOUR_P: Final[dict[str, str]] = {
    "prevent": "Prevent",
    "prepare": "Prepare",
    "pursue": "Pursue",
    "protect": "Protect",
}
#: The Contextual Safeguarding life cycle of a place under review, in order.
STAGES: Final[dict[str, str]] = {
    "referred": "Referred",
    "assessment": "Assessment",
    "weighting": "Context weighting",
    "plan": "Plan",
    "review": "Review",
    "closed": "Closed",
}
WEIGHTINGS: Final[dict[str, str]] = {"low": "Low", "medium": "Medium", "high": "High"}
ACTION_STATUSES: Final[dict[str, str]] = {
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "cancelled": "Cancelled",
}
ATTENDANCE: Final[dict[str, str]] = {
    "attended": "Attended",
    "apologies": "Sent apologies",
    "absent": "Did not attend",
}
MEETING_KINDS: Final[dict[str, str]] = {
    "regular": "Regular meeting",
    "extraordinary": "Extraordinary meeting",
}
#: The agenda's sections, in order, value → heading.
AGENDA_SECTIONS: Final[dict[str, str]] = {
    "changes": "What changed in the panel's area since the last meeting",
    "referrals": "New referrals",
    "reviews": "Places due for review",
    "actions": "Actions carried forward",
    "approvals": "Waiting for the chair's approval",
    "other": "Any other business",
}
#: An open action due within this many days is "due soon".
DUE_SOON_DAYS: Final = 14
#: Where a referral may go from each stage (never back to "referred": only referring does).
_NEXT: Final[dict[str, tuple[str, ...]]] = {
    "referred": ("assessment", "closed"),
    "assessment": ("weighting", "closed"),
    "weighting": ("plan", "closed"),
    "plan": ("review", "closed"),
    "review": ("plan", "weighting", "closed"),
    "closed": (),
}


def london_day(now: datetime) -> date:
    """The calendar day in London at ``now`` (which must carry its zone)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now: a time zone is required")
    return now.astimezone(LONDON).date()


def overdue_on(due_on: date, closed_on: date | None, day: date) -> bool:
    """Whether an action due on ``due_on`` and done or cancelled on ``closed_on`` (None while
    it is open) was overdue on ``day``: past its due date and not yet closed that day.

    >>> overdue_on(date(2026, 3, 31), None, date(2026, 4, 1))
    True
    >>> overdue_on(date(2026, 3, 31), date(2026, 4, 2), date(2026, 4, 1))
    True
    >>> overdue_on(date(2026, 3, 31), date(2026, 3, 31), date(2026, 4, 1))
    False
    """
    return due_on < day and (closed_on is None or closed_on > day)


def action_state(status: str, due_on: date, closed_on: date | None, day: date) -> str:
    """``done``, ``cancelled``, ``overdue``, ``due_soon`` or ``open`` (in progress too) on
    ``day``."""
    if status in ("done", "cancelled"):
        return status
    if overdue_on(due_on, closed_on, day):
        return "overdue"
    if due_on <= day + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "open"


def done_on_time(status: str, due_on: date, closed_on: date | None) -> bool:
    """Done no later than its due date.

    >>> done_on_time("done", date(2026, 5, 1), date(2026, 5, 1)), done_on_time(
    ...     "cancelled", date(2026, 5, 1), date(2026, 4, 1))
    (True, False)
    """
    return status == "done" and closed_on is not None and closed_on <= due_on


def next_stages(stage: str) -> tuple[str, ...]:
    """The stages a referral may move to from ``stage``."""
    return _NEXT[stage]


def stage_problems(
    current: str, new: str, weighting: str | None, next_review_on: date | None, today: date
) -> dict[str, str]:
    """What is wrong with moving a referral from ``current`` to ``new`` today, by field.

    >>> stage_problems("referred", "weighting", None, None, date(2026, 5, 1))
    {'stage': 'A referral at Referred can move to Assessment or Closed.'}
    >>> stage_problems("assessment", "weighting", None, date(2026, 4, 1), date(2026, 5, 1))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'weighting': 'Choose the weighting: low, medium or high.',
     'next_review_on': 'The next review must be today or later.'}
    """
    problems: dict[str, str] = {}
    allowed = _NEXT.get(current, ())
    if new not in allowed:
        names = " or ".join(STAGES[s] for s in allowed) or "nowhere: it is closed"
        problems["stage"] = f"A referral at {STAGES.get(current, current)} can move to {names}."
        return problems
    if new == "weighting" and weighting not in WEIGHTINGS:
        problems["weighting"] = "Choose the weighting: low, medium or high."
    if new != "weighting" and weighting is not None:
        problems["weighting"] = "Give a weighting only when the stage is context weighting."
    if new != "closed":
        if next_review_on is None:
            problems["next_review_on"] = "Give the date of the next review."
        elif next_review_on < today:
            problems["next_review_on"] = "The next review must be today or later."
    return problems
