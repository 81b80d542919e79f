"""Drafting a meeting's agenda for its chair to edit.

The draft lists, in the order of :data:`~webmap.features.meetings.lifecycle.AGENDA_SECTIONS`:

- what changed in the panel's area since the previous meeting, over **complete months
  only**, read from the publication ledger through the panel's tier B shares (the one way
  another agency's numbers leave it) and summed by the panel's areas — sums of published
  cells, each 0 or at least k, as every shared boundary total is;
- referrals made since the previous meeting;
- places due for review by the meeting's day;
- every action agreed at an earlier meeting and not yet done or cancelled (carried forward),
  marked overdue or due soon as on the meeting's day;
- shares and briefing packs of the chair's agency waiting for the chair's approval.

Nothing here decides what the chair keeps: the draft replaces the agenda, and the chair then
edits it like any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.layers.queries import add_months
from webmap.features.meetings import queries
from webmap.features.meetings.lifecycle import FOUR_P, STAGES, action_state, london_day
from webmap.features.meetings.queries import PanelInfo
from webmap.features.meetings.service import require
from webmap.features.sharing import output as share_output
from webmap.infra import audit
from webmap.models.meetings import Meeting, PanelAction
from webmap.models.sharing import Share

SessionFactory = Callable[[], AbstractContextManager[Session]]
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
#: At most this many areas are listed per source (the biggest changes first).
MAX_AREAS = 8


@dataclass(frozen=True)
class Window:
    """The complete months since the previous meeting, and as many months before them."""

    start: date  # first month since the previous meeting
    end: date  # first month not included (the meeting's own month, or the month in progress)
    before: date  # first month of the comparison window

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def keys(self, since: bool) -> set[str]:
        first = self.start if since else self.before
        return {add_months(first, i).strftime("%Y-%m") for i in range(self.months)}


def month_words(first: date, end: date) -> str:
    """Words for whole months from ``first`` to the month before ``end``.

    >>> month_words(date(2026, 9, 1), date(2026, 11, 1))
    'September to October 2026'
    >>> month_words(date(2026, 12, 1), date(2027, 1, 1))
    'December 2026'
    """
    last = add_months(end, -1)
    tail = f"{_MONTHS[last.month - 1]} {last.year}"
    if first == last:
        return tail
    head = _MONTHS[first.month - 1] + ("" if first.year == last.year else f" {first.year}")
    return f"{head} to {tail}"


def window(meeting_day: date, previous_day: date | None, today: date) -> Window | None:
    """The complete months to compare for a meeting on ``meeting_day``, or None if none.

    >>> w = window(date(2026, 11, 12), date(2026, 9, 10), date(2026, 11, 12))
    >>> w.start, w.end, w.before
    (datetime.date(2026, 9, 1), datetime.date(2026, 11, 1), datetime.date(2026, 7, 1))
    >>> window(date(2026, 11, 12), date(2026, 11, 2), date(2026, 11, 12)) is None
    True
    """
    end = min(meeting_day.replace(day=1), today.replace(day=1))  # never the month in progress
    start = previous_day.replace(day=1) if previous_day else add_months(end, -1)
    if start >= end:
        return None
    span = (end.year - start.year) * 12 + end.month - start.month
    return Window(start, end, add_months(start, -span))


def panel_shares(session: Session, panel: PanelInfo) -> list[Share]:
    now = datetime.now(UTC)
    return list(
        session.scalars(
            select(Share)
            .where(
                Share.panel_id == panel.id,
                Share.tier == "B",
                Share.status == "active",
                Share.revoked_at.is_(None),
                Share.expires_at > now,
            )
            .order_by(Share.created_at)
        )
    )


def _area_of_cells(session: Session, panel: PanelInfo, res: list[int]) -> dict[int, str]:
    """Each lattice cell of the panel's area (at these resolutions) → its area's name."""
    if not panel.areas:
        return {}
    rows = session.execute(
        text(
            "SELECT ca.cell, a.name FROM cell_area ca JOIN area a ON a.id = ca.area_id"
            " WHERE ca.area_id = ANY(:a) AND ca.res = ANY(:r)"
        ),
        {"a": [a for a, _, _ in panel.areas], "r": res},
    ).all()
    return {int(cell): name for cell, name in rows}


def what_changed(
    session: Session, panel: PanelInfo, win: Window, session_factory: SessionFactory | None
) -> list[dict[str, Any]]:
    """One item per source and area whose published total changed between the windows."""
    items: list[dict[str, Any]] = []
    shares = panel_shares(session, panel)
    if not shares:
        return [
            {
                "section": "changes",
                "title": "No agency shares its layers with this panel yet",
                "detail": "What changed is read from tier B shares addressed to the panel.",
                "ref": None,
            }
        ]
    for share in shares:
        if session_factory is not None:
            share_output.publish_due(share, session_factory)
        pub = share_output.publish(session, share)
        res = sorted({r.profile.resolution for r in pub.releases} or {pub.profile.resolution})
        areas = _area_of_cells(session, panel, res)
        since_keys, before_keys = win.keys(True), win.keys(False)
        totals: dict[str, list[int]] = {}
        for c in pub.cells:
            if isinstance(c.count, str) or (panel.areas and c.cell not in areas):
                continue
            name = areas.get(c.cell, "The panel's whole shared area")
            pair = totals.setdefault(name, [0, 0])
            if c.period in before_keys:
                pair[0] += c.count
            elif c.period in since_keys:
                pair[1] += c.count
        changed = sorted(
            ((n, b, s) for n, (b, s) in totals.items() if b != s),
            key=lambda t: (-abs(t[2] - t[1]), t[0]),
        )[:MAX_AREAS]
        before_words = month_words(win.before, win.start)
        since_words = month_words(win.start, win.end)
        for name, before, since in changed:
            verb = "up" if since > before else "down"
            verb = "new" if before == 0 else "gone" if since == 0 else verb
            items.append(
                {
                    "section": "changes",
                    "title": f"{name}: {verb}, {before} → {since} ({pub.source})",
                    "detail": f"{since_words} against {before_words}. {pub.precision}",
                    "ref": None,
                }
            )
        if not changed:
            items.append(
                {
                    "section": "changes",
                    "title": f"No change in the published numbers ({pub.source})",
                    "detail": f"{since_words} against {before_words}. {pub.precision}",
                    "ref": None,
                }
            )
    return items


def _day(at: datetime) -> date:
    return london_day(at)


def draft_items(
    session: Session,
    user: Actor,
    panel: PanelInfo,
    meeting: Meeting,
    session_factory: SessionFactory | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The automatic agenda for ``meeting``, as of ``now``."""
    today = london_day(now)
    previous = queries.previous_meeting(session, meeting)
    names = {a: n for a, n, _ in panel.members}
    items: list[dict[str, Any]] = []
    win = window(meeting.held_on, previous.held_on if previous else None, today)
    if win is None:
        items.append(
            {
                "section": "changes",
                "title": "No complete month has closed since the last meeting",
                "detail": "What changed is compared over complete months only.",
                "ref": None,
            }
        )
    else:
        items += what_changed(session, panel, win, session_factory)
    for r in queries.referrals_of(session, panel.id):
        made = _day(r.referred_at)
        new = (previous is None or made > previous.held_on) and made <= meeting.held_on
        if new:
            items.append(
                {
                    "section": "referrals",
                    "title": f"{r.label} ({names.get(r.agency_id, 'former member')})",
                    "detail": r.summary[:600],
                    "ref": f"referral:{r.id}",
                }
            )
        elif r.stage != "closed" and r.next_review_on and r.next_review_on <= meeting.held_on:
            items.append(
                {
                    "section": "reviews",
                    "title": f"{r.label}: {STAGES[r.stage].lower()}, review due"
                    f" {r.next_review_on.isoformat()}",
                    "detail": r.summary[:300],
                    "ref": f"referral:{r.id}",
                }
            )
    undone = _undone(session, panel.id)
    agreed = queries.held_on_of(session, {a.meeting_id for a in undone})
    for a in undone:
        if agreed.get(a.meeting_id, meeting.held_on) >= meeting.held_on:
            continue  # agreed at this meeting (or a later one): nothing to carry forward
        state = action_state(a.status, a.due_on, a.closed_on, meeting.held_on)
        flag = {"overdue": "overdue", "due_soon": "due soon"}.get(state, a.status.replace("_", " "))
        items.append(
            {
                "section": "actions",
                "title": f"{FOUR_P[a.four_p]} · {names.get(a.owner_agency_id, 'former member')}:"
                f" {a.title}",
                "detail": f"Carried forward: due {a.due_on.isoformat()}, {flag}.",
                "ref": f"action:{a.id}",
            }
        )
    items += _approvals(session, user)
    return items


def _undone(session: Session, panel_id: uuid.UUID) -> list[PanelAction]:
    actions = queries.actions_of_panel(session, panel_id)
    return [a for a in actions if a.status in ("open", "in_progress")]


def _approvals(session: Session, user: Actor) -> list[dict[str, Any]]:
    """Shares and packs of the chair's agency that wait for a second person: the chair."""
    params = {"a": user.agency_id, "u": user.id}
    shares = session.execute(
        text(
            "SELECT s.id, s.tier, s.created_at FROM share s WHERE s.from_agency_id = :a"
            " AND s.status = 'pending' AND s.revoked_at IS NULL AND s.created_by <> :u"
            " AND NOT EXISTS (SELECT 1 FROM briefing_pack p WHERE p.share_id = s.id)"
            " ORDER BY s.created_at"
        ),
        params,
    ).all()
    packs = session.execute(
        text(
            "SELECT id, created_at FROM briefing_pack WHERE agency_id = :a AND status = 'pending'"
            " AND created_by <> :u ORDER BY created_at"
        ),
        params,
    ).all()
    items = [
        {
            "section": "approvals",
            "title": f"A tier {tier} share made {_day(at).isoformat()} needs your approval",
            "detail": "",
            "ref": f"share:{sid}",
        }
        for sid, tier, at in shares
    ]
    items += [
        {
            "section": "approvals",
            "title": f"A briefing pack made {_day(at).isoformat()} needs your approval",
            "detail": "",
            "ref": f"pack:{pid}",
        }
        for pid, at in packs
    ]
    return items


def draft(
    session: Session,
    user: Actor,
    panel: PanelInfo,
    meeting: Meeting,
    session_factory: SessionFactory | None,
    now: datetime,
) -> Meeting:
    """Replace the agenda with a fresh draft (the chair of an open meeting only)."""
    require(meeting, user)
    items = draft_items(session, user, panel, meeting, session_factory, now)
    meeting.agenda = items
    meeting.agenda_drafted_at = now
    meeting.version += 1
    meeting.updated_at = now
    audit.record(
        session, "meeting.agenda_drafted", object_type="meeting", object_ids=[meeting.id],
        details={"count": len(items)},
    )  # fmt: skip
    return meeting
