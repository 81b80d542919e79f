"""The role matrix of the meeting loop (issue 14), as tests/integration/test_role_matrix.py
does for the rest: every meetings route over HTTP for every role and relation, a disabled user
and an anonymous client; and one SQL probe per new policy rule under the app role. Every
expectation is derived from ``webmap.access.policy.POLICY``.

Relations, for actors who all belong to agency A (a member of panel P, not of panel Q):

- ``own``: a referral or action of A, in P (for a panel or meeting: P);
- ``panel_member``: a referral or action of B, another member of P (a panel or meeting: P);
- ``unrelated``: a referral or action of C, in Q (a panel or meeting: Q).
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import TestUser, csrf_from, pg_url
from webmap.access.policy import POLICY, can
from webmap.models import USER_ROLES

#: The blueprints of the meeting loop: the main matrix leaves their routes to this file.
BLUEPRINTS = frozenset({"meetings", "meetings_api"})
RELATIONS = ("own", "panel_member", "unrelated")
#: The URL variables of the meeting routes, and what kind of object each names.
OBJECT_VARS = {
    "panel_id": "panel",
    "meeting_id": "panel",
    "referral_id": "owned",
    "action_id": "owned",
}


@dataclass
class World:
    actors: dict[str, TestUser]
    disabled: TestUser
    objects: dict[tuple[str, str], str]
    agency: dict[str, str]


def _agency(s: Any, kind: str) -> str:
    key = uuid.uuid4().hex[:8]
    return str(
        s.execute(
            text("INSERT INTO agency (slug, name, kind) VALUES (:s, :n, :k) RETURNING id"),
            {"s": f"matrix-{key}", "n": f"Meetings matrix {kind} {key}", "k": kind},
        ).scalar_one()
    )


def _panel(s: Any, members: list[str], area: Any) -> str:
    pid = s.execute(
        text("INSERT INTO panel (name, kind) VALUES (:n, 'ldsm') RETURNING id"),
        {"n": f"Meetings matrix panel {uuid.uuid4().hex[:8]}"},
    ).scalar_one()
    for a in members:
        s.execute(text("INSERT INTO panel_member VALUES (:p, :a)"), {"p": pid, "a": a})
    s.execute(text("INSERT INTO panel_area VALUES (:p, :a)"), {"p": pid, "a": area})
    return str(pid)


def _meeting(s: Any, panel: str, chair: TestUser) -> str:
    return str(
        s.execute(
            text(
                "INSERT INTO meeting (panel_id, held_on, kind, chair_id, chair_name,"
                " chair_agency_id) VALUES (:p, current_date, 'regular', :u, 'Chair', :a)"
                " RETURNING id"
            ),
            {"p": panel, "u": chair.id, "a": chair.agency_id},
        ).scalar_one()
    )


def _referral(s: Any, panel: str, agency: str, person: TestUser) -> str:
    context = s.execute(
        text(
            "INSERT INTO context (agency_id, kind, name, geom) VALUES (:a, 'hotspot', 'zq place',"
            " ST_SetSRID(ST_Point(1.2, 54.6), 4326)) RETURNING id"
        ),
        {"a": agency},
    ).scalar_one()
    return str(
        s.execute(
            text(
                "INSERT INTO referral (panel_id, context_id, agency_id, summary, purpose,"
                " lawful_basis, referred_by, referred_by_name, kind, label, precise, cell, res,"
                " lon, lat) VALUES (:p, :c, :a, 'Matrix summary', 'Matrix', 'Matrix', :u, 'M',"
                " 'hotspot', 'Hotspot', false, (SELECT min(cell) FROM cell WHERE res = 8), 8, 1.2,"
                " 54.6) RETURNING id"
            ),
            {"p": panel, "c": context, "a": agency, "u": person.id},
        ).scalar_one()
    )


def _action(s: Any, panel: str, meeting: str, owner: str, person: TestUser) -> str:
    return str(
        s.execute(
            text(
                "INSERT INTO panel_action (panel_id, meeting_id, four_p, title, owner_agency_id,"
                " due_on, cell, created_by) VALUES (:p, :m, 'pursue', 'Matrix', :o,"
                " current_date + 7, (SELECT min(cell) FROM cell WHERE res = 8), :u) RETURNING id"
            ),
            {"p": panel, "m": meeting, "o": owner, "u": person.id},
        ).scalar_one()
    )


@pytest.fixture(scope="module")
def world(make_user: Any, owner_session_factory: Any) -> World:
    with owner_session_factory() as s:
        agency = {
            k: _agency(s, kind)
            for k, kind in (("A", "police"), ("B", "vcse"), ("C", "education"), ("D", "health"))
        }
        area = s.execute(text("SELECT id FROM area ORDER BY id LIMIT 1")).scalar_one()
        p = _panel(s, [agency["A"], agency["B"]], area)
        q = _panel(s, [agency["C"], agency["D"]], area)
        s.commit()
    slugs = {}
    with owner_session_factory() as s:
        for k, a in agency.items():
            slugs[k] = s.execute(text("SELECT slug FROM agency WHERE id = :a"), {"a": a}).scalar()
    actors = {role: make_user(slugs["A"], role) for role in USER_ROLES}
    disabled = make_user(slugs["A"], "analyst")
    chair_b, chair_c = make_user(slugs["B"], "panel_chair"), make_user(slugs["C"], "panel_chair")
    with owner_session_factory() as s:
        mp, mq = _meeting(s, p, chair_b), _meeting(s, q, chair_c)
        spare = str(
            s.execute(
                text(
                    "INSERT INTO context (agency_id, kind, name, geom) VALUES (:a, 'hotspot',"
                    " 'Spare', ST_SetSRID(ST_Point(1.2, 54.6), 4326)) RETURNING id"
                ),
                {"a": agency["A"]},
            ).scalar_one()
        )
        objects = {}
        for rel, (panel, meeting, owner, person) in {
            "own": (p, mp, agency["A"], actors["analyst"]),
            "panel_member": (p, mp, agency["B"], chair_b),
            "unrelated": (q, mq, agency["C"], chair_c),
        }.items():
            objects[("panel_id", rel)] = panel
            objects[("meeting_id", rel)] = meeting
            objects[("referral_id", rel)] = _referral(s, panel, owner, person)
            objects[("action_id", rel)] = _action(s, panel, meeting, owner, person)
            objects[("what", rel)] = "attendance"
            objects[("spare_context", rel)] = spare
            objects[("agency_id", rel)] = owner
            objects[("context_id", rel)] = str(
                s.execute(
                    text("SELECT context_id FROM referral WHERE id = :r"),
                    {"r": objects[("referral_id", rel)]},
                ).scalar_one()
            )
        s.commit()
    return World(actors, disabled, objects, agency)


def routes(app: Flask) -> list[tuple[str, str, tuple[str, ...], tuple[str, str]]]:
    """Every route of the meeting loop: (rule, method, URL variables, policy)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in BLUEPRINTS:
            continue
        perm = getattr(app.view_functions[rule.endpoint], "csmap_permission", None)
        assert perm is not None, f"{rule.rule} ({rule.endpoint}) declares no policy"
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            out.append((rule.rule, method, tuple(sorted(rule.arguments)), perm))
    return out


def _object_relation(args: tuple[str, ...], rel: str) -> str | None:
    """The relation of the route's object to the actor, or None for a route without one."""
    kinds = {OBJECT_VARS[a] for a in args if a in OBJECT_VARS}
    if "owned" in kinds:
        return rel
    if "panel" in kinds:
        return "panel_member" if rel != "unrelated" else "unrelated"
    return None


def _url(rule: str, args: tuple[str, ...], world: World, rel: str) -> str:
    for arg in args:
        rule = re.sub(rf"<[^>]*\b{arg}>", world.objects[(arg, rel)], rule)
    return rule


def _send(client: FlaskClient, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    page = client.get("/")
    token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else ""
    return client.open(
        url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
    )


def _expected(role: str, method: str, perm: tuple[str, str], obj_rel: str | None) -> set[int]:
    resource, action = perm
    scope = POLICY[perm].relations(role)
    if not scope:
        return {403}
    if obj_rel is None or resource == "panel":  # no object, or a system admin's "any"
        rel = "own" if obj_rel is None or resource == "panel" else obj_rel
        allowed = can(role, resource, action, rel)
    else:
        allowed = can(role, resource, action, obj_rel)
    visible = obj_rel is None or can(role, "meeting", "read", obj_rel)
    if resource == "referral" and action == "create":
        allowed = obj_rel != "unrelated" and can(role, resource, action, "own")
        visible = allowed
    if not allowed:
        return {403} if visible and obj_rel != "unrelated" else {404}
    if method == "GET":
        return {200}
    # A permitted write with an empty form: done, refused by the object's own rules (not the
    # meeting's chair), or a validation error naming a field.
    return {200, 201, 302, 400, 403, 409, 422, 428}


def test_every_meetings_route_is_under_the_policy(app: Flask) -> None:
    found = routes(app)
    assert len(found) >= 30
    assert {perm for *_, perm in found} == {
        ("meeting", "read"),
        ("meeting", "manage"),
        ("referral", "create"),
        ("referral", "stage"),
        ("action", "update"),
        ("panel", "manage"),
    }


def test_http_matrix_of_the_meeting_loop(
    app: Flask, world: World, sign_in: Any, owner_session_factory: Any
) -> None:
    from webmap.features.admin.users import set_active

    failures = []
    clients = {role: sign_in(app.test_client(), user) for role, user in world.actors.items()}
    disabled = sign_in(app.test_client(), world.disabled)
    with owner_session_factory() as s:
        set_active(s, world.disabled.id, False)
        s.commit()
    anonymous = app.test_client()
    for (rule, method, args, perm), rel in itertools.product(routes(app), RELATIONS):
        url = _url(rule, args, world, rel)
        for who, client in (("anonymous", anonymous), ("disabled", disabled)):
            resp = _send(client, method, url)
            expected = 401 if url.startswith("/api/") else 302
            if resp.status_code != expected and not (method != "GET" and resp.status_code == 400):
                failures.append(f"{who} {method} {url}: {resp.status_code}, expected {expected}")
        for role, client in clients.items():
            resp = _send(client, method, url)
            want = _expected(role, method, perm, _object_relation(args, rel))
            if resp.status_code not in want:
                failures.append(
                    f"{role} {method} {rule} [{rel}]: {resp.status_code}, expected {sorted(want)}"
                )
    assert not failures, "\n".join(failures)


# -- the same rules in SQL, under the app role ----------------------------------------------------

PROBES: dict[tuple[str, str], str] = {
    ("meeting", "read"): "SELECT EXISTS (SELECT 1 FROM meeting WHERE id = %(meeting_id)s)",
    ("meeting", "manage"): "WITH i AS (INSERT INTO meeting (panel_id, held_on, kind, chair_id,"
    " chair_name, chair_agency_id) VALUES (%(panel_id)s, current_date, 'regular',"
    " csmap_user_id(), 'probe', csmap_agency_id()) RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    # A place of the actor's own agency (not yet under review), referred to the target's panel.
    ("referral", "create"): "WITH i AS (INSERT INTO referral (panel_id, context_id, agency_id,"
    " summary, purpose, lawful_basis, referred_by, referred_by_name, kind, label, precise, cell,"
    " res, lon, lat) VALUES (%(panel_id)s, %(spare_context)s, csmap_agency_id(), 'probe', 'p',"
    " 'p', csmap_user_id(), 'p', 'hotspot', 'Hotspot', false, 1, 8, 1.2, 54.6) RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM i)",
    ("referral", "stage"): "WITH u AS (UPDATE referral SET version = version"
    " WHERE id = %(referral_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("action", "update"): "WITH u AS (UPDATE panel_action SET version = version"
    " WHERE id = %(action_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
}
#: The relation each probe's target stands in, per matrix relation (see the module docstring):
#: a meeting or panel of P is a panel_member's; a referral is created as the actor's own.
PROBE_RELATION = {
    ("meeting", "read"): {"own": "panel_member", "panel_member": "panel_member"},
    ("meeting", "manage"): {"own": "panel_member", "panel_member": "panel_member"},
    ("referral", "create"): {"own": "own", "panel_member": "own"},
}


def test_sql_matrix_of_the_meeting_loop(test_db: dict[str, str], world: World) -> None:
    failures = []
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        for (key, sql), rel in itertools.product(PROBES.items(), RELATIONS):
            params = {var: world.objects[(var, r)] for var, r in world.objects if r == rel}
            probe_rel = PROBE_RELATION.get(key, {}).get(rel, rel)
            for role, user in world.actors.items():
                with conn.transaction(force_rollback=True):
                    conn.execute(
                        "SELECT set_config('csmap.user_id', %s, true),"
                        " set_config('csmap.agency_id', %s, true),"
                        " set_config('csmap.role', %s, true)",
                        (str(user.id), str(user.agency_id), role),
                    )
                    try:
                        got = conn.execute(sql, params).fetchone()[0]  # type: ignore[index]
                    except psycopg.errors.InsufficientPrivilege:  # RLS refused the new row
                        got = False
                want = can(role, *key, probe_rel)
                if got != want:
                    failures.append(f"{key} {role} -> {rel}: SQL says {got}, policy says {want}")
    assert not failures, "\n".join(failures)


def test_every_new_rule_has_a_probe() -> None:
    new = {k for k in POLICY if k[0] in {"meeting", "referral", "action"}}
    assert set(PROBES) == new
