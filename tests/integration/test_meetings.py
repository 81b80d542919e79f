"""Meetings against the real database, over the API: a chair holds a meeting from agenda to
close; a member agency refers a place and the panel moves it through its stages; actions are
agreed, progressed and carried forward; every write is audited; bad input is refused naming
the field with nothing written; a closed meeting takes corrections only, keeping the
original."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from tests.integration import meetings_world as mw
from tests.integration.test_recording_api import Api
from webmap.features.meetings.lifecycle import london_day


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


def _today() -> date:
    return london_day(datetime.now(UTC))


def _meeting(who: Any, world: mw.World, held_on: date) -> dict[str, Any]:
    resp = who("police", "panel_chair")(
        "POST", f"/api/v1/panels/{world.panel_id}/meetings", {"held_on": held_on.isoformat()}
    )
    assert resp.status_code == 201, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def _action(who: Any, world: mw.World, meeting_id: str, **over: Any) -> Any:
    body = {
        "four_p": "pursue",
        "title": "Patrols at the bus station on school nights",
        "owner_agency_id": world.agency_ids["police"],
        "due_on": (_today() + timedelta(days=20)).isoformat(),
        "area_id": world.area_id,
        **over,
    }
    return who("police", "panel_chair")("POST", f"/api/v1/meetings/{meeting_id}/actions", body)


def _audited(owner_session_factory: Any, action: str, object_id: str) -> int:
    with owner_session_factory() as s:
        return int(
            s.execute(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = :a"
                    " AND CAST(:o AS text) = ANY(object_ids::text[])"
                ),
                {"a": action, "o": object_id},
            ).scalar_one()
        )


def _count(owner_session_factory: Any, table: str, where: str = "true", **params: Any) -> int:
    with owner_session_factory() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar())


def test_a_chair_holds_a_meeting_from_agenda_to_close(
    who: Any, world: mw.World, owner_session_factory: Any
) -> None:
    chair = who("police", "panel_chair")
    m = _meeting(who, world, _today())
    mid = m["id"]
    assert m["status"] == "open" and "manage" in m["may"]
    drafted = chair("POST", f"/api/v1/meetings/{mid}/agenda/draft")
    assert drafted.status_code == 200, drafted.get_json()
    agenda = drafted.get_json()["agenda"]
    assert agenda and {i["section"] for i in agenda} <= {
        "changes",
        "referrals",
        "reviews",
        "actions",
        "approvals",
        "other",
    }
    edited = [*agenda, {"section": "other", "title": "Dates of next meetings"}]
    resp = chair(
        "PUT",
        f"/api/v1/meetings/{mid}/agenda",
        {"version": drafted.get_json()["version"], "items": edited},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["agenda"][-1]["title"] == "Dates of next meetings"
    entries = [
        {"agency_id": world.agency_ids[k], "status": s}
        for k, s in (
            ("police", "attended"),
            ("care", "attended"),
            ("school", "apologies"),
            ("vcse", "attended"),
        )
    ]
    resp = chair("POST", f"/api/v1/meetings/{mid}/attendance", {"entries": entries})
    assert resp.status_code == 200, resp.get_json()
    assert len(resp.get_json()["attendance"]) == 4
    pursue = _action(who, world, mid)
    prevent = _action(
        who,
        world,
        mid,
        four_p="prevent",
        owner_agency_id=world.agency_ids["vcse"],
        title="Detached youth work sessions near the parade",
    )
    assert pursue.status_code == prevent.status_code == 201, prevent.get_json()
    decision = chair(
        "POST",
        f"/api/v1/meetings/{mid}/decisions",
        {"body": "The panel agreed a joint focus on the bus station."},
    )
    assert decision.status_code == 201
    version = decision.get_json()["version"]
    closed = chair("POST", f"/api/v1/meetings/{mid}/close", {"version": version})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    for action in (
        "meeting.created",
        "meeting.agenda_drafted",
        "meeting.agenda_changed",
        "meeting.attendance",
        "meeting.closed",
    ):
        assert _audited(owner_session_factory, action, mid) == 1, action
    assert _audited(owner_session_factory, "action.created", pursue.get_json()["id"]) == 1
    # Closed: read-only, except for corrections that keep the original.
    for method, url, body in (
        ("POST", f"/api/v1/meetings/{mid}/agenda/draft", None),
        ("POST", f"/api/v1/meetings/{mid}/attendance", {"entries": entries}),
        ("POST", f"/api/v1/meetings/{mid}/decisions", {"body": "Another decision"}),
    ):
        assert chair(method, url, body).status_code == 403, url
    assert _action(who, world, mid).status_code == 403
    original = closed.get_json()["decisions"][0]
    fix = chair(
        "POST",
        f"/api/v1/meetings/{mid}/decisions",
        {
            "body": "The panel agreed a joint focus on the bus station and the parade.",
            "corrects": original["id"],
            "reason": "The parade was agreed too.",
        },
    )
    assert fix.status_code == 201, fix.get_json()
    records = fix.get_json()["decisions"]
    assert [d["superseded"] for d in records] == [True, False]
    assert records[0]["body"] == original["body"]  # the original is kept as it was
    assert _audited(owner_session_factory, "meeting.corrected", mid) == 1


def test_only_the_meetings_chair_changes_it(who: Any, world: mw.World) -> None:
    m = _meeting(who, world, _today())
    other_chair = who("care", "panel_chair")
    resp = other_chair("POST", f"/api/v1/meetings/{m['id']}/agenda/draft")
    assert resp.status_code == 403
    assert other_chair("GET", f"/api/v1/meetings/{m['id']}").status_code == 200


def test_carry_forward(who: Any, world: mw.World) -> None:
    chair = who("police", "panel_chair")
    first = _meeting(who, world, _today() - timedelta(days=40))
    undone = _action(who, world, first["id"], title="Brief the takeaway staff on the signs")
    done = _action(who, world, first["id"], title="Lighting survey of the underpass")
    cancelled = _action(who, world, first["id"], title="Leaflets at the bus station")
    for a, status in ((done, "done"), (cancelled, "cancelled")):
        body = a.get_json()
        resp = who("police", "analyst")(
            "POST",
            f"/api/v1/actions/{body['id']}/updates",
            {"note": "Finished with the partners.", "status": status, "version": body["version"]},
        )
        assert resp.status_code == 201, resp.get_json()
    second = _meeting(who, world, _today())
    now_agreed = _action(who, world, second["id"], title="A fresh action for the parade")
    agenda = chair("POST", f"/api/v1/meetings/{second['id']}/agenda/draft").get_json()["agenda"]
    carried = {i["ref"] for i in agenda if i["section"] == "actions"}
    assert f"action:{undone.get_json()['id']}" in carried
    assert f"action:{done.get_json()['id']}" not in carried
    assert f"action:{cancelled.get_json()['id']}" not in carried
    assert f"action:{now_agreed.get_json()['id']}" not in carried


def test_overdue_is_a_london_calendar_date(who: Any, world: mw.World) -> None:
    """Due yesterday (London) is overdue today; due today is not yet."""
    m = _meeting(who, world, _today() - timedelta(days=10))
    yesterday = _action(who, world, m["id"], due_on=(_today() - timedelta(days=1)).isoformat())
    today = _action(who, world, m["id"], due_on=_today().isoformat())
    mine = {
        a["id"]: a for a in who("police", "analyst")("GET", "/api/v1/actions").get_json()["actions"]
    }
    assert mine[yesterday.get_json()["id"]]["state"] == "overdue"
    assert mine[today.get_json()["id"]]["state"] == "due_soon"


def test_progress_by_the_owner_agency_is_seen_by_every_member(
    who: Any, world: mw.World, owner_session_factory: Any
) -> None:
    m = _meeting(who, world, _today())
    a = _action(
        who,
        world,
        m["id"],
        four_p="prevent",
        owner_agency_id=world.agency_ids["vcse"],
        title="Youth work outreach at the bus station",
    ).get_json()
    assert (
        who("police", "practitioner")(
            "POST", f"/api/v1/actions/{a['id']}/updates", {"note": "We could help."}
        ).status_code
        == 403
    )  # not police's action, and a practitioner is no chair
    worker = who("vcse", "practitioner")
    resp = worker(
        "POST",
        f"/api/v1/actions/{a['id']}/updates",
        {
            "note": "Two sessions held on Friday evenings.",
            "status": "done",
            "version": a["version"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    seen = who("school", "practitioner")("GET", f"/api/v1/actions/{a['id']}").get_json()
    assert seen["status"] == "done" and seen["updates"][0]["note"].startswith("Two sessions")
    assert _audited(owner_session_factory, "action.progress", a["id"]) == 1
    stale = worker(
        "POST",
        f"/api/v1/actions/{a['id']}/updates",
        {"note": "Reopened?", "status": "open", "version": a["version"]},
    )
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"four_p": "persuade"}, "four_p"),
        ({"area_id": None}, "link"),
        ({"cell": "88194e6b0bfffff"}, "link"),  # two links
        ({"owner_agency_id": "00000000-0000-0000-0000-000000000000"}, "owner_agency_id"),
        ({"due_on": "2001-01-01"}, "due_on"),
        ({"title": "Speak to Mr Grant at 12 Harbour Road"}, "title"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_actions_are_refused_naming_the_field(
    who: Any, world: mw.World, owner_session_factory: Any, body: dict[str, Any], field: str
) -> None:
    m = _meeting(who, world, _today())
    before = _count(owner_session_factory, "panel_action", "meeting_id = :m", m=m["id"])
    resp = _action(who, world, m["id"], **body)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]
    assert _count(owner_session_factory, "panel_action", "meeting_id = :m", m=m["id"]) == before


def test_bad_meetings_and_attendance_are_refused(
    who: Any, world: mw.World, owner_session_factory: Any
) -> None:
    chair = who("police", "panel_chair")
    url = f"/api/v1/panels/{world.panel_id}/meetings"
    before = _count(owner_session_factory, "meeting", "panel_id = :p", p=world.panel_id)
    bad = (
        ({"held_on": "next week"}, "held_on"),
        ({"held_on": "1999-01-01"}, "held_on"),
        ({"held_on": _today().isoformat(), "kind": "party"}, "kind"),
    )
    for body, field in bad:
        resp = chair("POST", url, body)
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], body
    assert _count(owner_session_factory, "meeting", "panel_id = :p", p=world.panel_id) == before
    m = _meeting(who, world, _today())
    outsider = {"agency_id": world.agency_ids["outsider"], "status": "attended"}
    resp = chair("POST", f"/api/v1/meetings/{m['id']}/attendance", {"entries": [outsider]})
    assert resp.status_code == 422
    assert "entries.0.agency_id" in resp.get_json()["error"]["fields"]
    assert _count(owner_session_factory, "meeting_attendance", "meeting_id = :m", m=m["id"]) == 0


def test_a_meeting_cannot_close_before_its_day(who: Any, world: mw.World) -> None:
    m = _meeting(who, world, _today() + timedelta(days=7))
    resp = who("police", "panel_chair")(
        "POST", f"/api/v1/meetings/{m['id']}/close", {"version": m["version"]}
    )
    assert resp.status_code == 422 and "held_on" in resp.get_json()["error"]["fields"]


def test_a_system_admin_and_outsiders_see_none_of_it(who: Any, world: mw.World) -> None:
    m = _meeting(who, world, _today())
    outsider = who("outsider", "analyst")
    for url in (
        f"/api/v1/meetings/{m['id']}",
        f"/api/v1/panels/{world.panel_id}/meetings",
        f"/api/v1/panels/{world.panel_id}/partnership",
    ):
        assert outsider("GET", url).status_code == 404, url
        assert who("police", "system_admin")("GET", url).status_code == 403, url
    assert {p["id"] for p in outsider("GET", "/api/v1/panels").get_json()["panels"]}.isdisjoint(
        {world.panel_id}
    )


def test_idempotent_meeting_create(who: Any, world: mw.World, owner_session_factory: Any) -> None:
    chair = who("police", "panel_chair")
    key = str(uuid.uuid4())
    url = f"/api/v1/panels/{world.panel_id}/meetings"
    body = {"held_on": _today().isoformat()}
    first = chair("POST", url, body, Idempotency_Key=key)
    again = chair("POST", url, body, Idempotency_Key=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
