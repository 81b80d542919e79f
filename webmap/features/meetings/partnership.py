"""How the partnership is working: the figures of the partnership page, pure.

Research on multi-agency safeguarding finds that partnership working lasts where there is
continuity after meetings, clear accountability for each agreed action and regular audit of
progress — and where education and voluntary organisations are visibly valued contributors.
So the page counts, per agency and per kind of agency: referrals made, actions owned, done
on time, overdue, the median days to close, and attendance; and by Four P, places by stage,
and each of these over the panel's last 12 meetings.

Definitions (the tests recount them by brute force):

- **attendance rate**: of the panel's *closed* meetings, the share an agency attended;
- **overdue**: not done or cancelled by the day after its due date (London calendar days);
- **done on time**: done on or before its due date;
- **days to close**: from the meeting that agreed it to the day it was done;
- **at a meeting**: as things stood on the meeting's day — actions agreed at or before it,
  referrals made on or before it, each referral at the last stage it had reached that day.

Examples
--------
>>> m = [MeetingRec("m1", date(2026, 9, 1), "closed")]
>>> members = [MemberRec("a", "Wrenmouth Police", "police"), MemberRec("b", "Youth", "vcse")]
>>> acts = [ActionRec("x", "m1", date(2026, 9, 1), "pursue", "a", date(2026, 9, 30), "done",
...                   date(2026, 9, 20))]
>>> f = figures(members, m, [AttendanceRec("m1", "a", "attended")], [], acts, date(2026, 10, 1))
>>> [(r["name"], r["actions"], r["done_on_time"], r["attendance_rate"]) for r in f["agencies"]]
[('Wrenmouth Police', 1, 1, 1.0), ('Youth', 0, 0, 0.0)]
>>> f["agencies"][0]["median_days_to_close"]
19
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from spatial.vocabulary import AGENCY_KINDS
from webmap.features.meetings.lifecycle import FOUR_P, STAGES, done_on_time, overdue_on

#: How many of the latest meetings the small charts show.
SERIES_MEETINGS: Final = 12


@dataclass(frozen=True)
class MeetingRec:
    id: Any
    held_on: date
    status: str


@dataclass(frozen=True)
class MemberRec:
    agency_id: Any
    name: str
    kind: str


@dataclass(frozen=True)
class AttendanceRec:
    meeting_id: Any
    agency_id: Any
    status: str


@dataclass(frozen=True)
class ReferralRec:
    id: Any
    agency_id: Any
    referred_on: date
    stage: str
    #: (day, stage) of every stage change, in order, the referral itself first.
    history: tuple[tuple[date, str], ...] = ()


@dataclass(frozen=True)
class ActionRec:
    id: Any
    meeting_id: Any
    agreed_on: date
    four_p: str
    owner_agency_id: Any
    due_on: date
    status: str
    closed_on: date | None


def _median(values: list[int]) -> float | int | None:
    return statistics.median(values) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _counts(actions: Sequence[ActionRec], day: date) -> dict[str, Any]:
    done = [a for a in actions if a.status == "done"]
    return {
        "actions": len(actions),
        "open": sum(1 for a in actions if a.status in ("open", "in_progress")),
        "done": len(done),
        "done_on_time": sum(1 for a in actions if done_on_time(a.status, a.due_on, a.closed_on)),
        "overdue": sum(1 for a in actions if overdue_on(a.due_on, a.closed_on, day)),
        "cancelled": sum(1 for a in actions if a.status == "cancelled"),
        "median_days_to_close": _median(
            [(a.closed_on - a.agreed_on).days for a in done if a.closed_on is not None]
        ),
    }


def stage_on(referral: ReferralRec, day: date) -> str | None:
    """The stage a referral had reached on ``day`` (None if not yet referred)."""
    if referral.referred_on > day:
        return None
    reached = [stage for when, stage in referral.history if when <= day]
    return reached[-1] if reached else "referred"


def _series(
    members: Sequence[MemberRec],
    meetings: Sequence[MeetingRec],
    attendance: Sequence[AttendanceRec],
    referrals: Sequence[ReferralRec],
    actions: Sequence[ActionRec],
) -> dict[str, Any]:
    kinds = sorted({m.kind for m in members}, key=list(AGENCY_KINDS).index)
    kind_of = {m.agency_id: m.kind for m in members}
    attended = {(a.meeting_id, a.agency_id) for a in attendance if a.status == "attended"}
    out: dict[str, Any] = {
        "meetings": [m.held_on.isoformat() for m in meetings],
        "kinds": {
            k: {"attendance_rate": [], "actions": [], "overdue": [], "referrals": []} for k in kinds
        },
        "four_p": {p: [] for p in FOUR_P},
        "stages": {s: [] for s in STAGES},
    }
    previous: date | None = None
    for m in meetings:
        day = m.held_on
        for k in kinds:
            agencies = [x.agency_id for x in members if x.kind == k]
            series = out["kinds"][k]
            series["attendance_rate"].append(
                _rate(sum(1 for a in agencies if (m.id, a) in attended), len(agencies))
                if m.status == "closed"
                else None
            )
            series["actions"].append(
                sum(
                    1
                    for a in actions
                    if a.meeting_id == m.id and kind_of.get(a.owner_agency_id) == k
                )
            )
            series["overdue"].append(
                sum(
                    1
                    for a in actions
                    if kind_of.get(a.owner_agency_id) == k
                    and a.agreed_on <= day
                    and overdue_on(a.due_on, a.closed_on, day)
                )
            )
            series["referrals"].append(
                sum(
                    1
                    for r in referrals
                    if kind_of.get(r.agency_id) == k
                    and r.referred_on <= day
                    and (previous is None or r.referred_on > previous)
                )
            )
        for p in FOUR_P:
            agreed = [a for a in actions if a.meeting_id == m.id and a.four_p == p]
            out["four_p"][p].append(len(agreed))
        stages = [stage_on(r, day) for r in referrals]
        for s in STAGES:
            out["stages"][s].append(stages.count(s))
        previous = day
    return out


def figures(
    members: Iterable[MemberRec],
    meetings: Iterable[MeetingRec],
    attendance: Iterable[AttendanceRec],
    referrals: Iterable[ReferralRec],
    actions: Iterable[ActionRec],
    day: date,
) -> dict[str, Any]:
    """Every figure of the partnership page as on ``day`` (see the module's docstring)."""
    members = list(members)
    meetings = sorted(meetings, key=lambda m: (m.held_on, str(m.id)))
    attendance, referrals, actions = list(attendance), list(referrals), list(actions)
    closed = [m for m in meetings if m.status == "closed"]
    closed_ids = {m.id for m in closed}
    attended = {
        (a.meeting_id, a.agency_id)
        for a in attendance
        if a.status == "attended" and a.meeting_id in closed_ids
    }
    agencies = []
    for m in members:
        owned = [a for a in actions if a.owner_agency_id == m.agency_id]
        came = sum(1 for c in closed if (c.id, m.agency_id) in attended)
        agencies.append(
            {
                "agency_id": str(m.agency_id),
                "name": m.name,
                "kind": m.kind,
                "referrals": sum(1 for r in referrals if r.agency_id == m.agency_id),
                **_counts(owned, day),
                "attended": came,
                "meetings": len(closed),
                "attendance_rate": _rate(came, len(closed)),
            }
        )
    kinds = []
    for kind in sorted({m.kind for m in members}, key=list(AGENCY_KINDS).index):
        ids = {m.agency_id for m in members if m.kind == kind}
        came = sum(1 for c in closed for a in ids if (c.id, a) in attended)
        kinds.append(
            {
                "kind": kind,
                "label": AGENCY_KINDS[kind],
                "agencies": len(ids),
                "referrals": sum(1 for r in referrals if r.agency_id in ids),
                **_counts([a for a in actions if a.owner_agency_id in ids], day),
                "attendance_rate": _rate(came, len(closed) * len(ids)),
            }
        )
    recent = [m for m in meetings if m.held_on <= day][-SERIES_MEETINGS:]
    return {
        "day": day.isoformat(),
        "meetings_held": len(closed),
        "agencies": agencies,
        "kinds": kinds,
        "four_p": [
            {"four_p": p, "label": label, **_counts([a for a in actions if a.four_p == p], day)}
            for p, label in FOUR_P.items()
        ],
        "stages": [
            {"stage": s, "label": label, "count": sum(1 for r in referrals if r.stage == s)}
            for s, label in STAGES.items()
        ],
        "series": _series(members, recent, attendance, referrals, actions),
    }
