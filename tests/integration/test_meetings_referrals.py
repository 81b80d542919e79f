"""Referring a place to a panel and moving it through its stages, over the API: the summary
check refuses young people's references, names and the place's own name; the panel sees only
the tier B position; the referral is a recorded, audited disclosure; stage changes follow the
policy table, role by role."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import h3
import pytest
from flask import Flask
from sqlalchemy import text

from spatial.cells import cell_key, cell_keys
from tests.integration import meetings_world as mw
from tests.integration.test_recording_api import Api
from webmap.access.policy import can
from webmap.features.meetings.lifecycle import london_day
from webmap.models import USER_ROLES

SUMMARY = "Older males seen meeting children by the shelter after school, most weekdays."


def _cells(lon: float, lat: float) -> dict[str, int]:
    # As the app keys a point: its res-9 cell and that cell's parents.
    return {f"r{res}": int(keys[0]) for res, keys in cell_keys([lon], [lat]).items()}


@pytest.fixture(scope="module")
def world(make_agency: Any, make_user: Any, owner_session_factory: Any) -> mw.World:
    w = mw.build(make_agency, make_user, owner_session_factory)
    # Records at the non-public place, with a young person's reference the police hold.
    with owner_session_factory() as s:
        s.execute(
            text(
                "INSERT INTO observation (agency_id, occurred_at, geom, category, note,"
                " young_person_refs, context_id, cell_r7, cell_r8, cell_r9)"
                " SELECT c.agency_id, now() - interval '3 days', c.geom, 'older_males_approaching',"
                " 'seen by the den', ARRAY['WX-7731'], c.id, :r7, :r8, :r9 FROM context c"
                " WHERE c.id = :c"
            ),
            # The den's own cells: the cube rolls res 9 up, so they must be the real ones.
            {
                "c": w.contexts[("police", "the qzxvbolt den")],
                **_cells(w.spot[0] + 0.002, w.spot[1]),
            },
        )
        s.commit()
    return w


@pytest.fixture(scope="module")
def who(app: Flask, sign_in: Any, make_user: Any, world: mw.World) -> Any:
    made: dict[tuple[str, str], Api] = {}

    def get(key: str, role: str) -> Api:
        if (key, role) not in made:
            made[(key, role)] = mw.client(app, sign_in, mw.user(world, make_user, key, role))
        return made[(key, role)]

    return get


def _refer(who: Any, world: mw.World, place: str, key: str = "police", **over: Any) -> Any:
    body = {
        "context_id": world.contexts[(key, place)],
        "summary": SUMMARY,
        "purpose": "To agree disruption with partners",
        "lawful_basis": "Children Act 2004 s.11",
        **over,
    }
    return who(key, "analyst")("POST", f"/api/v1/panels/{world.panel_id}/referrals", body)


def _referrals(owner_session_factory: Any, world: mw.World) -> int:
    with owner_session_factory() as s:
        return int(
            s.execute(
                text("SELECT count(*) FROM referral WHERE panel_id = :p"), {"p": world.panel_id}
            ).scalar_one()
        )


@pytest.mark.parametrize(
    ("summary", "why"),
    [
        ("Concerns about WX-7731 being collected here late at night by a car.", "reference"),
        ("Concerns about wx 7731 being collected here late at night by a car.", "reference"),
        ("Jordan Hale has been seen collecting children here late at night.", "name"),
        ("Children seen going into the qzxvbolt den with older males at night.", "not public"),
        ("Children are taken to 14 Marsh Lane from here by older males at night.", "address"),
        ("A car, WR19 XKZ, collects children here late at night, most weekdays.", "registration"),
    ],
)
def test_the_summary_check_refuses_and_nothing_is_written(
    who: Any, world: mw.World, owner_session_factory: Any, summary: str, why: str
) -> None:
    before = _referrals(owner_session_factory, world)
    resp = _refer(who, world, "the qzxvbolt den", summary=summary)
    assert resp.status_code == 422, resp.get_json()
    assert why in resp.get_json()["error"]["fields"].get("summary", ""), resp.get_json()
    assert _referrals(owner_session_factory, world) == before


def test_a_referral_is_a_recorded_disclosure_at_tier_b(
    who: Any, world: mw.World, owner_session_factory: Any
) -> None:
    hidden = _refer(who, world, "the qzxvbolt den")
    public = _refer(who, world, "Harbour Bus Station")
    assert hidden.status_code == public.status_code == 201, hidden.get_json()
    h, p = hidden.get_json(), public.get_json()
    lon, lat = world.spot
    # The public place at its true position; the other only as its kind, at its cell's centre.
    assert p["label"] == "Harbour Bus Station" and p["precise"]
    assert p["geometry"]["coordinates"] == [round(lon, 6), round(lat, 6)]
    assert h["label"] == "Place of concern" and not h["precise"]
    # The lattice's cell: the res-8 parent of the place's res-9 cell (as everything is keyed).
    cell = h3.api.basic_int.cell_to_parent(cell_key(lon + 0.002, lat, 9), 8)
    assert h["cell"] == format(cell, "x")
    assert h["geometry"]["coordinates"] != [round(lon + 0.002, 6), round(lat, 6)]
    assert h["stage"] == "referred" and [s["stage"] for s in h["history"]] == ["referred"]
    # Another member sees it, without the context's own id or name; an outsider does not.
    seen = who("school", "practitioner")("GET", f"/api/v1/referrals/{h['id']}").get_json()
    assert "context_id" not in seen and "qzxvbolt" not in str(seen)
    assert who("outsider", "analyst")("GET", f"/api/v1/referrals/{h['id']}").status_code == 404
    with owner_session_factory() as s:
        row = s.execute(
            text(
                "SELECT justification, subject_agency_id FROM audit_log"
                " WHERE action = 'referral.created' AND CAST(:r AS text) = ANY(object_ids::text[])"
            ),
            {"r": h["id"]},
        ).one()
    assert "lawful basis: Children Act 2004 s.11" in row[0]
    assert str(row[1]) == world.agency_ids["police"]
    again = _refer(who, world, "the qzxvbolt den")
    assert again.status_code == 422 and "context_id" in again.get_json()["error"]["fields"]
    theirs = _refer(
        who,
        world,
        "back of the parade",
        key="police",
        context_id=world.contexts[("care", "back of the parade")],
    )
    assert theirs.status_code == 422 and "context_id" in theirs.get_json()["error"]["fields"]


def _today() -> date:
    return london_day(datetime.now(UTC))


def _move(client: Api, referral: dict[str, Any], stage: str, **over: Any) -> Any:
    body = {
        "version": referral["version"],
        "stage": stage,
        "reasons": "Agreed at the panel after hearing from partners.",
        "next_review_on": (_today() + timedelta(days=28)).isoformat(),
        **over,
    }
    return client("POST", f"/api/v1/referrals/{referral['id']}/stage", body)


def test_stage_changes_follow_the_policy_role_by_role(
    who: Any, world: mw.World, owner_session_factory: Any
) -> None:
    """Each role of the referring agency, of another member and of an outsider tries to move a
    fresh referral: exactly those the policy table allows succeed; an outsider gets 404."""
    failures = []
    for (key, rel), role in itertools.product(
        (("police", "own"), ("care", "panel_member"), ("outsider", "unrelated")), USER_ROLES
    ):
        with owner_session_factory() as s:  # a fresh place under review each time
            s.execute(
                text(
                    "UPDATE referral SET stage = 'closed' WHERE panel_id = :p AND context_id = :c"
                ),
                {"p": world.panel_id, "c": world.contexts[("police", "back of the parade")]},
            )
            s.commit()
        made = _refer(who, world, "back of the parade")
        assert made.status_code == 201, made.get_json()
        resp = _move(who(key, role), made.get_json(), "assessment")
        allowed = can(role, "referral", "stage", rel)
        if not any(can(role, "referral", "stage", r) for r in ("own", "panel_member")):
            expected = 403  # the role may never move a place
        elif rel == "unrelated":
            expected = 404
        else:
            expected = 200 if allowed else 403
        if resp.status_code != expected:
            failures.append(f"{role} [{rel}]: {resp.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_the_life_cycle_and_its_history(who: Any, world: mw.World) -> None:
    made = _refer(who, world, "Harbour Bus Station", key="care")
    assert made.status_code == 201, made.get_json()
    r = made.get_json()
    chair = who("police", "panel_chair")  # a panel chair of another member agency
    bad = _move(chair, r, "plan")
    assert bad.status_code == 422 and "stage" in bad.get_json()["error"]["fields"]
    r = _move(chair, r, "assessment").get_json()
    no_level = _move(chair, r, "weighting")
    assert no_level.status_code == 422 and "weighting" in no_level.get_json()["error"]["fields"]
    past = _move(chair, r, "weighting", weighting="high", next_review_on="2020-01-01")
    assert "next_review_on" in past.get_json()["error"]["fields"]
    r = _move(chair, r, "weighting", weighting="high").get_json()
    assert r["weighting"] == "high"
    stale = _move(chair, {**r, "version": r["version"] - 1}, "plan")
    assert stale.status_code == 409
    r = _move(who("care", "analyst"), r, "plan").get_json()
    r = _move(chair, r, "closed", next_review_on=None, reasons="Disrupted; no further reports.")
    body = r.get_json()
    assert body["stage"] == "closed" and body["next_review_on"] is None
    assert [h["stage"] for h in body["history"]] == [
        "referred",
        "assessment",
        "weighting",
        "plan",
        "closed",
    ]
    assert body["history"][2]["weighting"] == "high"
    assert _move(chair, body, "plan").status_code == 422  # closed is closed
