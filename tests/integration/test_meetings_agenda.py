"""The drafted agenda for a seeded history, the meeting pack, and a MACE panel's view of the
LDSM panels in its area.

The history: a police force of this module's own records in one cell of the panel's ward,
fewer before the last meeting than since; it shares tier B with the panel. The last meeting
(closed) left an action undone; a place was referred before it and is due for review; another
was referred since; a tier C share waits for a second person. Dates are relative to London's
today and the expected numbers come from the same complete-month window the agenda uses, so
the test holds on any day of the month."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import h3
import pypdfium2 as pdfium
import pytest
from flask import Flask
from sqlalchemy import text

from tests.factories import add_observations
from tests.integration import meetings_world as mw
from tests.integration.test_recording_api import Api
from webmap.features.layers.queries import add_months
from webmap.features.meetings.agenda import window
from webmap.features.meetings.lifecycle import london_day
from webmap.features.packs.inspect import is_blank, render_page_png

BEFORE_PER_MONTH, SINCE_PER_MONTH = 6, 11


def _today() -> date:
    return london_day(datetime.now(UTC))


@pytest.fixture(scope="module")
def world(make_agency: Any, make_user: Any, owner_session_factory: Any) -> mw.World:
    return mw.build(make_agency, make_user, owner_session_factory)


@pytest.fixture(scope="module")
def who(app: Flask, sign_in: Any, make_user: Any, world: mw.World) -> Any:
    made: dict[tuple[str, str], Api] = {}

    def get(key: str, role: str) -> Api:
        if (key, role) not in made:
            made[(key, role)] = mw.client(app, sign_in, mw.user(world, make_user, key, role))
        return made[(key, role)]

    return get


@pytest.fixture(scope="module")
def history(who: Any, world: mw.World, owner_session_factory: Any) -> dict[str, Any]:
    today = _today()
    previous_day = today - timedelta(days=62)
    win = window(today, previous_day, today)
    assert win is not None
    with owner_session_factory() as s:
        cell, area_name = s.execute(
            text(
                "SELECT ca.cell, a.name FROM cell_area ca JOIN area a ON a.id = ca.area_id"
                " WHERE ca.area_id = :a AND ca.res = 8 ORDER BY ca.cell LIMIT 1"
            ),
            {"a": world.area_id},
        ).one()
    lat, lon = h3.api.basic_int.cell_to_latlng(int(cell))
    rows = []
    for i in range(win.months):
        for first, n in ((win.before, BEFORE_PER_MONTH), (win.start, SINCE_PER_MONTH)):
            month = add_months(first, i)
            for k in range(n):
                when = datetime(month.year, month.month, 3 + k, 19, tzinfo=UTC)
                rows.append((round(lon, 6), round(lat, 6), when, ()))
    add_observations(owner_session_factory, world.slugs["police"], rows)
    analyst, chair = who("police", "analyst"), who("police", "panel_chair")
    share = analyst(
        "POST",
        "/api/v1/shares",
        {
            "tier": "B",
            "recipient_kind": "panel",
            "panel_id": world.panel_id,
            "areas": [world.area_id],
            "layers": ["observations", "contexts"],
            "period_from": win.before.strftime("%Y-%m"),
            "purpose": "The panel's picture of its ward",
            "lawful_basis": "Children Act 2004 s.11",
            "agreement_ref": "ISA-MEETINGS-1",
            "expires_on": (today + timedelta(days=90)).isoformat(),
        },
    )
    assert share.status_code == 201, share.get_json()
    pending = who("police", "analyst")(
        "POST",
        "/api/v1/shares",
        {
            "tier": "C",
            "recipient_kind": "external",
            "external_name": "Safeguarding lead",
            "external_organisation": f"Coastal Taxis {uuid.uuid4().hex[:6]}",
            "areas": [world.area_id],
            "layers": ["observations"],
            "period_from": "2025-01",
            "period_to": "2025-12",
            "purpose": "A briefing for a taxi firm's drivers",
            "lawful_basis": "Children Act 2004 s.11",
            "agreement_ref": "ISA-MEETINGS-2",
            "expires_on": (today + timedelta(days=60)).isoformat(),
        },
    )
    assert pending.status_code == 201 and pending.get_json()["state"] == "pending"
    previous = chair(
        "POST", f"/api/v1/panels/{world.panel_id}/meetings", {"held_on": previous_day.isoformat()}
    ).get_json()
    undone = chair(
        "POST",
        f"/api/v1/meetings/{previous['id']}/actions",
        {
            "four_p": "protect",
            "title": "Guardianship patrols by the bus station",
            "owner_agency_id": world.agency_ids["care"],
            "area_id": world.area_id,
            "due_on": (previous_day + timedelta(days=30)).isoformat(),
        },
    ).get_json()
    chair("POST", f"/api/v1/meetings/{previous['id']}/close", {"version": previous["version"]})
    old = analyst(
        "POST",
        f"/api/v1/panels/{world.panel_id}/referrals",
        {
            "context_id": world.contexts[("police", "the qzxvbolt den")],
            "summary": "Children gathering late with older males, most weekday evenings.",
            "purpose": "To agree disruption",
            "lawful_basis": "Children Act 2004 s.11",
        },
    ).get_json()
    with owner_session_factory() as s:  # referred before the last meeting, now due for review
        s.execute(
            text(
                "UPDATE referral SET referred_at = :at, stage = 'plan', next_review_on = :due"
                " WHERE id = :r"
            ),
            {
                "at": datetime.combine(previous_day - timedelta(days=5), datetime.min.time(), UTC),
                "due": today - timedelta(days=1),
                "r": old["id"],
            },
        )
        s.commit()
    new = who("care", "analyst")(
        "POST",
        f"/api/v1/panels/{world.panel_id}/referrals",
        {
            "context_id": world.contexts[("care", "Harbour Bus Station")],
            "summary": "Young people seen handing packages to drivers at the bus station.",
            "purpose": "To agree disruption",
            "lawful_basis": "Children Act 2004 s.11",
        },
    ).get_json()
    meeting = chair(
        "POST", f"/api/v1/panels/{world.panel_id}/meetings", {"held_on": today.isoformat()}
    ).get_json()
    agenda = chair("POST", f"/api/v1/meetings/{meeting['id']}/agenda/draft")
    assert agenda.status_code == 200, agenda.get_json()
    return {
        "window": win,
        "area": area_name,
        "meeting": meeting,
        "agenda": agenda.get_json()["agenda"],
        "undone": undone,
        "old": old,
        "new": new,
        "pending": pending.get_json(),
        "share": share.get_json(),
    }


def _section(agenda: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [i for i in agenda if i["section"] == name]


def test_the_agenda_for_a_seeded_history(history: dict[str, Any]) -> None:
    agenda, win = history["agenda"], history["window"]
    before, since = BEFORE_PER_MONTH * win.months, SINCE_PER_MONTH * win.months
    [change] = _section(agenda, "changes")
    assert change["title"].startswith(f"{history['area']}: up, {before} → {since}")
    assert "counts under 5 hidden, by month" in change["detail"]
    assert [i["ref"] for i in _section(agenda, "referrals")] == [f"referral:{history['new']['id']}"]
    assert [i["ref"] for i in _section(agenda, "reviews")] == [f"referral:{history['old']['id']}"]
    [carried] = _section(agenda, "actions")
    assert carried["ref"] == f"action:{history['undone']['id']}"
    assert "overdue" in carried["detail"] and carried["title"].startswith("Protect")
    assert f"share:{history['pending']['id']}" in {i["ref"] for i in _section(agenda, "approvals")}
    # The order of the sections is the agenda's.
    order = [i["section"] for i in agenda]
    assert order == sorted(
        order, key=["changes", "referrals", "reviews", "actions", "approvals", "other"].index
    )


def test_the_meeting_pack_renders_is_inspected_and_page_one_is_not_blank(
    who: Any, history: dict[str, Any], owner_session_factory: Any
) -> None:
    mid = history["meeting"]["id"]
    resp = who("school", "practitioner")("GET", f"/api/v1/meetings/{mid}/pack.pdf")
    assert resp.status_code == 200, resp.get_data()[:300]
    assert resp.mimetype == "application/pdf"
    pdf = resp.get_data()
    assert not is_blank(render_page_png(pdf, 0, scale=0.5))
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    words = " ".join(page.get_textpage().get_text_range() for page in doc)
    assert "Places under review" in words and "Protect" in words
    assert history["area"] in words and "qzxvbolt" not in words
    with owner_session_factory() as s:
        audited = s.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'meeting.pack'"
                " AND CAST(:m AS text) = ANY(object_ids::text[])"
            ),
            {"m": mid},
        ).scalar_one()
    assert audited == 1


def test_the_pack_refuses_to_carry_what_the_panel_may_not_see(
    who: Any, world: mw.World, history: dict[str, Any]
) -> None:
    """A chair who types a referred place's own (non-public) name into the minutes: the text
    check cannot know it, the pack's self-inspection does, and nothing is handed out."""
    chair = who("police", "panel_chair")
    m = chair(
        "POST", f"/api/v1/panels/{world.panel_id}/meetings", {"held_on": _today().isoformat()}
    ).get_json()
    note = chair(
        "POST",
        f"/api/v1/meetings/{m['id']}/decisions",
        {"kind": "minute", "body": "Partners described the qzxvbolt den and the lane behind it."},
    )
    assert note.status_code == 201, note.get_json()
    resp = chair("GET", f"/api/v1/meetings/{m['id']}/pack.pdf")
    assert resp.status_code == 422
    assert "inspection" in resp.get_json()["error"]["fields"]
    assert "qzxvbolt" not in resp.get_data(as_text=True)


def test_a_mace_panel_sees_the_ldsm_panels_in_its_area_as_counts(
    who: Any, world: mw.World, history: dict[str, Any], owner_session_factory: Any
) -> None:
    with owner_session_factory() as s:
        mace = s.execute(
            text("INSERT INTO panel (name, kind) VALUES (:n, 'mace') RETURNING id"),
            {"n": f"Meetings test MACE {uuid.uuid4().hex[:8]}"},
        ).scalar_one()
        s.execute(
            text("INSERT INTO panel_member (panel_id, agency_id) VALUES (:p, :a)"),
            {"p": mace, "a": world.agency_ids["outsider"]},
        )
        s.execute(
            text("INSERT INTO panel_area (panel_id, area_id) VALUES (:p, :a)"),
            {"p": mace, "a": world.area_id},
        )
        s.commit()
    strategic = who("outsider", "analyst")  # on the MACE, not on the LDSM
    body = strategic("GET", f"/api/v1/panels/{mace}/partnership").get_json()
    [ldsm] = [p for p in body["ldsm"] if p["id"] == world.panel_id]
    assert ldsm["places"] == 2
    protect = next(p for p in ldsm["four_p"] if p["four_p"] == "protect")
    assert protect["open"] >= 1 and protect["overdue"] >= 1
    # Counts only: the LDSM's own records stay closed to the MACE member.
    assert strategic("GET", f"/api/v1/panels/{world.panel_id}/referrals").status_code == 404
    assert strategic("GET", f"/api/v1/referrals/{history['new']['id']}").status_code == 404
