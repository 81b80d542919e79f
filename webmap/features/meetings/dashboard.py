"""The partnership page's data: the panel's records read under row-level security, turned
into :mod:`~webmap.features.meetings.partnership`'s figures, the LDSM summaries a MACE panel
sees, and the geometry of the small charts (server-rendered SVG: no chart library, no
script)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.features.meetings import queries
from webmap.features.meetings.lifecycle import FOUR_P, london_day
from webmap.features.meetings.partnership import (
    ActionRec,
    AttendanceRec,
    MeetingRec,
    MemberRec,
    ReferralRec,
    figures,
)
from webmap.features.meetings.queries import PanelInfo

CHART_W: Final = 240
CHART_H: Final = 64


def records(session: Session, panel: PanelInfo) -> dict[str, list[Any]]:
    """The panel's meetings, attendance, referrals (with their stage history) and actions."""
    meetings = queries.meetings_of(session, panel.id)
    ids = [m.id for m in meetings]
    attendance = [
        AttendanceRec(m, a, s)
        for m, a, s in session.execute(
            text(
                "SELECT meeting_id, agency_id, status FROM meeting_attendance"
                " WHERE meeting_id = ANY(:m)"
            ),
            {"m": ids},
        )
    ]
    history: dict[Any, list[tuple[date, str]]] = {}
    for rid, at, stage in session.execute(
        text(
            "SELECT s.referral_id, s.changed_at, s.stage FROM referral_stage s JOIN referral r"
            " ON r.id = s.referral_id WHERE r.panel_id = :p ORDER BY s.changed_at, s.id"
        ),
        {"p": panel.id},
    ):
        history.setdefault(rid, []).append((london_day(at), stage))
    referrals = [
        ReferralRec(
            r.id, r.agency_id, london_day(r.referred_at), r.stage, tuple(history.get(r.id, ()))
        )
        for r in queries.referrals_of(session, panel.id)
    ]
    held = {m.id: m.held_on for m in meetings}
    actions = [
        ActionRec(
            a.id,
            a.meeting_id,
            held[a.meeting_id],
            a.four_p,
            a.owner_agency_id,
            a.due_on,
            a.status,
            a.closed_on,
        )
        for a in queries.actions_of_panel(session, panel.id)
    ]
    return {
        "members": [MemberRec(a, n, k) for a, n, k in panel.members],
        "meetings": [MeetingRec(m.id, m.held_on, m.status) for m in meetings],
        "attendance": attendance,
        "referrals": referrals,
        "actions": actions,
    }


def ldsm_summaries(session: Session, panel: PanelInfo, day: date) -> list[dict[str, Any]]:
    """For a MACE panel: each LDSM panel in its area, as counts (empty for an LDSM panel)."""
    if panel.kind != "mace":
        return []
    out: dict[Any, dict[str, Any]] = {}
    for pid, name, places, four_p, open_, overdue in session.execute(
        text("SELECT * FROM csmap_ldsm_summaries(:p, :d)"), {"p": panel.id, "d": day}
    ):
        entry = out.setdefault(pid, {"id": str(pid), "name": name, "places": places, "four_p": []})
        entry["four_p"].append(
            {"four_p": four_p, "label": FOUR_P[four_p], "open": open_, "overdue": overdue}
        )
    return list(out.values())


def partnership(session: Session, panel: PanelInfo, day: date) -> dict[str, Any]:
    """Every figure of the partnership page, as on ``day``."""
    body = figures(day=day, **records(session, panel))
    body["panel"] = {"id": str(panel.id), "name": panel.name, "kind": panel.kind}
    body["ldsm"] = ldsm_summaries(session, panel, day)
    return body


def bars(values: Sequence[float | int | None], ceiling: float | None = None) -> dict[str, Any]:
    """Bar geometry for one small chart: one bar per meeting, the tallest at full height
    (or at ``ceiling``, e.g. 1 for a rate); a missing value is a gap.

    >>> [b["h"] for b in bars([0, 2, 4, None])["bars"]]
    [0.0, 30.0, 60.0, 0.0]
    """
    top = ceiling or max([v for v in values if v is not None] or [0]) or 1
    n = max(len(values), 1)
    step = CHART_W / n
    out = []
    for i, v in enumerate(values):
        h = 0.0 if v is None else round((CHART_H - 4) * v / top, 1)
        out.append(
            {
                "x": round(i * step + 1, 1),
                "w": round(max(step - 2, 1), 1),
                "y": round(CHART_H - h, 1),
                "h": h,
                "value": v,
            }
        )
    return {"width": CHART_W, "height": CHART_H, "bars": out, "max": top}
