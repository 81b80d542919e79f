"""The partnership page's figures equal a brute-force recount over random histories: random
meetings, attendance, referrals with their stage histories and actions with their outcomes are
written to the database, read back through the page's own path (RLS, queries, figures) as a
panel chair, and recounted here one record at a time, as a person with the list would."""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.meetings import dashboard, queries
from webmap.features.meetings.lifecycle import LONDON
from webmap.infra.db import DbContext, apply_context

DAY = date(2026, 6, 30)  # "today" for the figures: fixed, so no test depends on the date
START = date(2025, 5, 1)
KINDS = ("police", "childrens_social_care", "education", "vcse")
STAGE_ORDER = ("referred", "assessment", "weighting", "plan", "review", "closed")
FOUR_P = ("prevent", "prepare", "pursue", "protect")


@dataclass
class Fixed:
    agencies: list[tuple[str, str]]  # (id, kind)
    contexts: dict[str, list[str]]  # agency id -> context ids
    chair: Actor


@pytest.fixture(scope="module")
def fixed(make_agency: Any, make_user: Any, owner_session_factory: Any) -> Fixed:
    slugs = [make_agency(kind, "Partnership") for kind in KINDS]
    chair_user = make_user(slugs[0], "panel_chair")
    agencies, contexts = [], {}
    with owner_session_factory() as s:
        for slug, kind in zip(slugs, KINDS, strict=True):
            aid = str(
                s.execute(text("SELECT id FROM agency WHERE slug = :s"), {"s": slug}).scalar()
            )
            agencies.append((aid, kind))
            contexts[aid] = [
                str(
                    s.execute(
                        text(
                            "INSERT INTO context (agency_id, kind, name, geom) VALUES (:a,"
                            " 'hotspot', 'p', ST_SetSRID(ST_Point(1.2, 54.6), 4326)) RETURNING id"
                        ),
                        {"a": aid},
                    ).scalar_one()
                )
                for _ in range(8)
            ]
        s.commit()
    chair = Actor(chair_user.id, chair_user.agency_id, "panel_chair")
    return Fixed(agencies, contexts, chair)


def _days(lo: date, hi: date) -> st.SearchStrategy[date]:
    return st.integers(0, (hi - lo).days).map(lambda n: lo + timedelta(days=n))


@st.composite
def histories(draw: Any) -> dict[str, Any]:
    n_meetings = draw(st.integers(0, 7))
    held = sorted(
        draw(
            st.sets(
                _days(START, DAY + timedelta(days=20)), min_size=n_meetings, max_size=n_meetings
            )
        )
    )
    meetings = [{"held_on": d, "closed": d <= DAY and draw(st.booleans())} for d in held]
    attendance = [
        (m, a, draw(st.sampled_from(["attended", "apologies", "absent"])))
        for m in range(len(meetings))
        if meetings[m]["closed"]
        for a in range(4)
        if draw(st.booleans())
    ]
    referrals = []
    for agency in draw(st.lists(st.integers(0, 3), max_size=10)):
        first = draw(_days(START, DAY))
        steps = draw(st.integers(0, 5))
        history = [(first, "referred")]
        when = first
        for stage in STAGE_ORDER[1 : 1 + steps]:
            when = when + timedelta(days=draw(st.integers(0, 40)))
            if when > DAY:
                break
            history.append((when, stage))
        referrals.append({"agency": agency, "history": history})
    past = [i for i, m in enumerate(meetings) if m["held_on"] <= DAY]
    actions = []
    for _ in range(draw(st.integers(0, 14)) if past else 0):
        m = draw(st.sampled_from(past))
        agreed = meetings[m]["held_on"]
        due = agreed + timedelta(days=draw(st.integers(0, 90)))
        status = draw(st.sampled_from(["open", "in_progress", "done", "cancelled"]))
        closed = draw(_days(agreed, DAY)) if status in ("done", "cancelled") else None
        actions.append(
            {
                "meeting": m,
                "owner": draw(st.integers(0, 3)),
                "four_p": draw(st.sampled_from(FOUR_P)),
                "due": due,
                "status": status,
                "closed": closed,
            }
        )
    return {
        "meetings": meetings,
        "attendance": attendance,
        "referrals": referrals,
        "actions": actions,
    }


def _noon(d: date) -> datetime:
    return datetime.combine(d, time(12), LONDON)


def _write(s: Session, fixed: Fixed, h: dict[str, Any]) -> tuple[str, list[str]]:
    panel = s.execute(
        text("INSERT INTO panel (name, kind) VALUES (:n, 'ldsm') RETURNING id"),
        {"n": f"Partnership property {uuid.uuid4().hex[:10]}"},
    ).scalar_one()
    for aid, _ in fixed.agencies:
        s.execute(text("INSERT INTO panel_member VALUES (:p, :a)"), {"p": panel, "a": aid})
    ids = []
    for m in h["meetings"]:
        ids.append(
            str(
                s.execute(
                    text(
                        "INSERT INTO meeting (panel_id, held_on, kind, chair_id, chair_name,"
                        " chair_agency_id, status, closed_at) VALUES (:p, :d, 'regular', :u, 'C',"
                        " :a, :s, :c) RETURNING id"
                    ),
                    {
                        "p": panel,
                        "d": m["held_on"],
                        "u": fixed.chair.id,
                        "a": fixed.chair.agency_id,
                        "s": "closed" if m["closed"] else "open",
                        "c": _noon(m["held_on"]) if m["closed"] else None,
                    },
                ).scalar_one()
            )
        )
    for m, a, status in h["attendance"]:
        s.execute(
            text(
                "INSERT INTO meeting_attendance (meeting_id, agency_id, status, recorded_by)"
                " VALUES (:m, :a, :s, :u)"
            ),
            {"m": ids[m], "a": fixed.agencies[a][0], "s": status, "u": fixed.chair.id},
        )
    used: dict[int, int] = {}
    for r in h["referrals"]:
        aid = fixed.agencies[r["agency"]][0]
        context = fixed.contexts[aid][used.setdefault(r["agency"], 0)]
        used[r["agency"]] += 1
        rid = s.execute(
            text(
                "INSERT INTO referral (panel_id, context_id, agency_id, summary, purpose,"
                " lawful_basis, referred_by, referred_by_name, referred_at, kind, label, precise,"
                " cell, res, lon, lat, stage) VALUES (:p, :c, :a, 's', 'p', 'l', :u, 'C', :at,"
                " 'hotspot', 'Hotspot', false, 1, 8, 1.2, 54.6, :stage) RETURNING id"
            ),
            {
                "p": panel,
                "c": context,
                "a": aid,
                "u": fixed.chair.id,
                "at": _noon(r["history"][0][0]),
                "stage": r["history"][-1][1],
            },
        ).scalar_one()
        for k, (when, stage) in enumerate(r["history"]):  # one a minute, in order
            s.execute(
                text(
                    "INSERT INTO referral_stage (referral_id, stage, reasons, changed_by,"
                    " changed_by_name, agency_id, changed_at) VALUES (:r, :s, 'r', :u, 'C', :a,"
                    " :at)"
                ),
                {
                    "r": rid,
                    "s": stage,
                    "u": fixed.chair.id,
                    "a": aid,
                    "at": _noon(when) + timedelta(minutes=k),
                },
            )
    for a in h["actions"]:
        s.execute(
            text(
                "INSERT INTO panel_action (panel_id, meeting_id, four_p, title, owner_agency_id,"
                " due_on, cell, status, closed_on, created_by) VALUES (:p, :m, :f, 't', :o, :d,"
                " 1, :s, :c, :u)"
            ),
            {
                "p": panel,
                "m": ids[a["meeting"]],
                "f": a["four_p"],
                "o": fixed.agencies[a["owner"]][0],
                "d": a["due"],
                "s": a["status"],
                "c": a["closed"],
                "u": fixed.chair.id,
            },
        )
    return str(panel), ids


def _recount(fixed: Fixed, h: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The figures, one record at a time (see webmap/features/meetings/partnership.py)."""
    meetings, actions = h["meetings"], h["actions"]
    closed = [i for i, m in enumerate(meetings) if m["closed"]]
    attended = {(m, a) for m, a, s in h["attendance"] if s == "attended"}

    def counts(owned: list[dict[str, Any]]) -> dict[str, Any]:
        done = [a for a in owned if a["status"] == "done"]
        days = [(a["closed"] - meetings[a["meeting"]]["held_on"]).days for a in done]
        return {
            "actions": len(owned),
            "done_on_time": sum(1 for a in done if a["closed"] <= a["due"]),
            "overdue": sum(
                1 for a in owned if a["status"] in ("open", "in_progress") and a["due"] < DAY
            ),
            "median_days_to_close": statistics.median(days) if days else None,
        }

    agencies = []
    for n, (aid, kind) in enumerate(fixed.agencies):
        came = sum(1 for m in closed if (m, n) in attended)
        agencies.append(
            {
                "agency_id": aid,
                "kind": kind,
                "referrals": sum(1 for r in h["referrals"] if r["agency"] == n),
                **counts([a for a in actions if a["owner"] == n]),
                "attended": came,
                "attendance_rate": round(came / len(closed), 4) if closed else None,
            }
        )
    order = sorted(range(len(meetings)), key=lambda i: (meetings[i]["held_on"], ids[i]))
    recent = [i for i in order if meetings[i]["held_on"] <= DAY][-12:]
    series_overdue: dict[str, list[int]] = {k: [] for k in KINDS}
    series_referrals: dict[str, list[int]] = {k: [] for k in KINDS}
    stages: dict[str, list[int]] = {s: [] for s in STAGE_ORDER}
    previous = None
    for i in recent:
        d = meetings[i]["held_on"]
        for n, (_, kind) in enumerate(fixed.agencies):
            series_overdue[kind].append(
                sum(
                    1
                    for a in actions
                    if a["owner"] == n
                    and meetings[a["meeting"]]["held_on"] <= d
                    and a["due"] < d
                    and (a["closed"] is None or a["closed"] > d)
                )
            )
            series_referrals[kind].append(
                sum(
                    1
                    for r in h["referrals"]
                    if r["agency"] == n
                    and r["history"][0][0] <= d
                    and (previous is None or r["history"][0][0] > previous)
                )
            )
        for stage in STAGE_ORDER:
            stages[stage].append(
                sum(
                    1
                    for r in h["referrals"]
                    if r["history"][0][0] <= d
                    and [s for w, s in r["history"] if w <= d][-1] == stage
                )
            )
        previous = d
    return {
        "agencies": agencies,
        "overdue": series_overdue,
        "referrals": series_referrals,
        "stages": stages,
        "meetings": [meetings[i]["held_on"].isoformat() for i in recent],
        "four_p": {p: counts([a for a in actions if a["four_p"] == p]) for p in FOUR_P},
    }


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(h=histories())
def test_the_dashboards_figures_equal_a_brute_force_recount(
    h: dict[str, Any], fixed: Fixed, owner_session_factory: Any, test_db: dict[str, str]
) -> None:
    with owner_session_factory() as s:
        panel_id, ids = _write(s, fixed, h)
        s.commit()
    engine = create_engine(test_db["app"])
    try:
        with Session(engine) as session, session.begin():
            apply_context(
                session, DbContext(str(fixed.chair.id), str(fixed.chair.agency_id), "panel_chair")
            )
            panel = queries.panel_info(session, fixed.chair, panel_id)
            got = dashboard.partnership(session, panel, DAY)
    finally:
        engine.dispose()
    want = _recount(fixed, h, ids)
    keys = (
        "agency_id",
        "kind",
        "referrals",
        "actions",
        "done_on_time",
        "overdue",
        "median_days_to_close",
        "attended",
        "attendance_rate",
    )
    by_id = sorted(({k: a[k] for k in keys} for a in got["agencies"]), key=lambda a: a["agency_id"])
    assert by_id == sorted(want["agencies"], key=lambda a: a["agency_id"])
    for p in got["four_p"]:
        assert {k: p[k] for k in want["four_p"][p["four_p"]]} == want["four_p"][p["four_p"]]
    assert got["series"]["meetings"] == want["meetings"]
    for kind in KINDS:
        assert got["series"]["kinds"][kind]["overdue"] == want["overdue"][kind]
        assert got["series"]["kinds"][kind]["referrals"] == want["referrals"][kind]
    assert got["series"]["stages"] == want["stages"]
    assert sum(s["count"] for s in got["stages"]) == len(h["referrals"])
    for k in got["kinds"]:
        members = [a for a in want["agencies"] if a["kind"] == k["kind"]]
        assert k["actions"] == sum(a["actions"] for a in members)
        assert k["overdue"] == sum(a["overdue"] for a in members)
