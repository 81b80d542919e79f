"""The meeting pages: each renders for a member; a refused form re-renders with the error
summary and the message beside the field (422), writing nothing; user text goes in as text;
and every new table holds its rows behind forced row-level security."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import csrf_from, pg_url
from tests.integration import meetings_world as mw
from webmap.features.meetings.lifecycle import london_day

TABLES = ("panel_area", "meeting", "meeting_attendance", "meeting_decision", "referral",
          "referral_stage", "panel_action", "action_update")  # fmt: skip


@pytest.fixture(scope="module")
def world(make_agency: Any, make_user: Any, owner_session_factory: Any) -> mw.World:
    return mw.build(make_agency, make_user, owner_session_factory)


@pytest.fixture(scope="module")
def browsers(app: Flask, sign_in: Any, make_user: Any, world: mw.World) -> dict[str, FlaskClient]:
    return {
        who: sign_in(app.test_client(), mw.user(world, make_user, key, role))
        for who, (key, role) in {
            "chair": ("police", "panel_chair"),
            "analyst": ("police", "analyst"),
            "youth": ("vcse", "practitioner"),
        }.items()
    }


def _post(client: FlaskClient, page: str, url: str, data: dict[str, str]) -> Any:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _id(resp: Any, kind: str) -> str:
    found = re.search(rf"/meetings/{kind}([0-9a-f-]{{36}})", resp.headers["Location"])
    assert found, resp.headers["Location"]
    return found.group(1)


def test_the_loop_by_its_pages(browsers: dict[str, FlaskClient], world: mw.World) -> None:
    chair, youth = browsers["chair"], browsers["youth"]
    today = london_day(datetime.now(UTC))
    home = chair.get("/meetings")
    assert home.status_code == 200 and b'href="/meetings"' in home.data  # the nav link
    panel_url = f"/meetings/panels/{world.panel_id}"
    bad = _post(chair, panel_url, panel_url, {"held_on": "soon"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'class="error-summary"' in page and 'href="#f-meeting-held_on"' in page
    assert "Enter a date, for example" in page
    made = _post(chair, panel_url, panel_url, {"held_on": today.isoformat(), "kind": "regular"})
    assert made.status_code == 302
    mid = _id(made, "")
    meeting_url = f"/meetings/{mid}"
    assert _post(chair, meeting_url, f"{meeting_url}/draft", {}).status_code == 302
    action = {
        "four_p": "pursue",
        "title": "<script>alert(1)</script> patrols at the bus station",
        "owner_agency_id": world.agency_ids["vcse"],
        "due_on": (today + timedelta(days=14)).isoformat(),
        "link": f"area:{world.area_id}",
    }
    refused = _post(chair, meeting_url, f"{meeting_url}/action", {**action, "link": ""})
    assert refused.status_code == 422
    assert 'id="f-action-link-error"' in refused.get_data(as_text=True)
    agreed = _post(chair, meeting_url, f"{meeting_url}/action", action)
    assert agreed.status_code == 302, agreed.get_data(as_text=True)[:800]
    page = chair.get(meeting_url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    mine = youth.get("/meetings/actions").get_data(as_text=True)
    [aid] = re.findall(r'href="/meetings/actions/([0-9a-f-]{36})"', mine)
    action_url = f"/meetings/actions/{aid}"
    version = re.search(
        r'name="version" value="(\d+)"', youth.get(action_url).get_data(as_text=True)
    )
    assert version
    posted = _post(youth, action_url, action_url,
                   {"note": "Sessions run on two evenings.", "status": "done",
                    "version": version.group(1)})  # fmt: skip
    assert posted.status_code == 302
    assert "Sessions run on two evenings." in chair.get(action_url).get_data(as_text=True)
    places_url = f"/meetings/panels/{world.panel_id}/places"
    analyst = browsers["analyst"]
    refused = _post(analyst, places_url, places_url, {
        "context_id": world.contexts[("police", "the qzxvbolt den")],
        "summary": "Mr Grant meets children here most evenings after school.",
        "purpose": "Disruption", "lawful_basis": "Children Act 2004 s.11"})  # fmt: skip
    assert refused.status_code == 422 and "looks like a name" in refused.get_data(as_text=True)
    referred = _post(analyst, places_url, places_url, {
        "context_id": world.contexts[("police", "the qzxvbolt den")],
        "summary": "Older males meet children here most evenings after school.",
        "purpose": "Disruption", "lawful_basis": "Children Act 2004 s.11"})  # fmt: skip
    assert referred.status_code == 302
    rid = _id(referred, "referrals/")
    for url in (places_url, f"/meetings/referrals/{rid}",
                f"/meetings/panels/{world.panel_id}/partnership", "/meetings/actions"):  # fmt: skip
        resp = youth.get(url)
        assert resp.status_code == 200, url
        assert "qzxvbolt" not in resp.get_data(as_text=True), url
    closed = _post(chair, meeting_url, f"{meeting_url}/close", {"version": "999"})
    assert closed.status_code == 409


def test_every_new_table_has_forced_rls_and_shows_nothing_without_a_member(
    owner_conn: psycopg.Connection[Any], test_db: dict[str, str], world: mw.World
) -> None:
    rows = owner_conn.execute(
        "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relrowsecurity"
        " AND relforcerowsecurity",
        (list(TABLES),),
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(TABLES)
    with owner_conn.cursor() as cur:
        sysadmin = cur.execute(
            "SELECT u.id, u.agency_id FROM app_user u WHERE u.role = 'system_admin' LIMIT 1"
        ).fetchone()
    assert sysadmin is not None
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        for table in TABLES:  # no context, no rows
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        conn.execute(
            "SELECT set_config('csmap.user_id', %s, true), set_config('csmap.agency_id', %s,"
            " true), set_config('csmap.role', 'system_admin', true)",
            (str(sysadmin[0]), str(sysadmin[1])),
        )
        for table in TABLES[1:]:  # a system admin reads none of it (panel_area is directory)
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        conn.rollback()


def test_the_withheld_strings_answer_only_a_member(
    test_db: dict[str, str], world: mw.World, owner_session_factory: Any, make_user: Any
) -> None:
    """``csmap_meeting_withheld`` (SECURITY DEFINER) gives the pack's inspection the names of
    referred places that are not public — to a reader of a member agency, and nobody else."""
    chair = mw.user(world, make_user, "police", "panel_chair")
    with owner_session_factory() as s:
        mid = s.execute(
            text(
                "INSERT INTO meeting (panel_id, held_on, kind, chair_id, chair_name,"
                " chair_agency_id) VALUES (:p, current_date, 'regular', :u, 'C', :a)"
                " RETURNING id"
            ),
            {"p": world.panel_id, "u": chair.id, "a": chair.agency_id},
        ).scalar_one()
        s.execute(
            text(
                "INSERT INTO referral (panel_id, context_id, agency_id, summary, purpose,"
                " lawful_basis, referred_by, referred_by_name, kind, label, precise, cell, res,"
                " lon, lat) VALUES (:p, :c, :a, 's', 'p', 'l', :u, 'C', 'place_of_concern',"
                " 'Place of concern', false, 1, 8, 1.2, 54.6)"
            ),
            {"p": world.panel_id, "c": world.contexts[("care", "back of the parade")],
             "a": world.agency_ids["care"], "u": chair.id},
        )  # fmt: skip
        s.commit()
    cases = (("outsider", "analyst", False), ("school", "trainer", False),
             ("school", "system_admin", False), ("school", "practitioner", True))  # fmt: skip
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        for key, role, sees in cases:
            with conn.transaction(force_rollback=True):
                conn.execute(
                    "SELECT set_config('csmap.user_id', gen_random_uuid()::text, true),"
                    " set_config('csmap.agency_id', %s, true), set_config('csmap.role', %s, true)",
                    (world.agency_ids[key], role),
                )
                got = {
                    r[0] for r in conn.execute("SELECT * FROM csmap_meeting_withheld(%s)", (mid,))
                }
                assert ("back of the parade" in got) == sees, (key, role)
