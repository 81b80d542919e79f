"""The role matrix: every role × relation (own, panel partner, unrelated), plus a disabled
user and an anonymous client, over every route that exists — and the same cases as direct
SQL under the app role, which must agree with the policy table.

Expectations are derived from ``webmap.access.policy.POLICY``, never typed in here, and a route
that declares no policy (and is not on the short public list) fails the suite. Each case is a
test of its own (who-METHOD-/path/:variable-relation), so one can be run alone::

    pytest tests/integration/test_role_matrix.py \
        -k "analyst-GET-/api/v1/observations/:observation_id-own"

The agencies, people and objects are the module's own, made through the services: the actors'
agency, a panel partner of it (on a panel of their own) and an unrelated agency.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import factories
from tests.conftest import TestUser, csrf_from, pg_url
from tests.integration.role_matrix_probes import AGENCY_OWNED, PROBES
from tests.integration.test_role_matrix_meetings import BLUEPRINTS as MEETINGS
from tests.integration.test_role_matrix_meetings import PROBES as MEETING_PROBES
from webmap import create_app
from webmap.access.policy import POLICY, can
from webmap.models import USER_ROLES

#: Routes anyone may reach (signing in, health, static files).
PUBLIC = {
    "static",
    "health.healthz",
    # The accessibility statement: for everyone, signed in or not (test_statement.py).
    "accessibility.statement",
    # Prometheus metrics: loopback or a bearer token (test_metrics.py).
    "metrics.metrics",
    "auth.login",
    "auth.second_factor",
    "auth.enrol",
    "auth.recovery_codes",
    "auth.logout",
    # An external recipient's signed link: the token is the credential (test_sharing.py).
    "share_link.page",
    "share_link.layer",
    "share_link.export",
    "share_link.basemap",
    # A briefing pack's files by the same signed link (test_packs.py).
    "pack_link.pdf",
    "pack_link.html",
}
RELATIONS = ("own", "panel_partner", "unrelated")
#: Who asks: every role (signed in, of the actors' agency), a user disabled while signed in,
#: and nobody.
WHO = (*USER_ROLES, "disabled", "anonymous")
#: URL variables that name an agency-owned object, and the table that holds it.
OBJECT_VARS = {
    "observation_id": "observation",
    "context_id": "context",
    "vehicle_id": "vehicle",
    "user_id": "app_user",
    "share_id": "share",
    "pack_id": "briefing_pack",
    "token_id": "access_token",
}
#: URL variables whose value depends on the relation (the rest are the same for all three).
RELATIONAL_VARS = {*OBJECT_VARS, "record_id", "agency_id"}
#: Routes that retire a boundary-set generation (each is given one of its own).
RETIRE_ROUTES = (
    "/admin/boundary-sets/generations/<set_id>/retire",
    "/api/v1/boundary-sets/generations/<set_id>/retire",
)
#: Routes that need query parameters to answer a GET at all.
QUERIES = {
    "/api/v1/areas": "?lon=1.2&lat=54.6",
    "/api/v1/boundary-sets/<slug>/compare": "?from=1&to=1",
    "/admin/boundary-sets/<slug>/compare": "?from=1&to=1",
}


class Route(NamedTuple):
    rule: str
    method: str
    args: tuple[str, ...]
    perm: tuple[str, str]


def _routes(app: Flask) -> list[Route]:
    """Every (rule, method) under a policy; a route with none is left for
    :func:`test_every_route_is_either_public_or_under_the_policy` to name."""
    routes = []
    for rule in app.url_map.iter_rules():
        perm = getattr(app.view_functions[rule.endpoint], "csmap_permission", None)
        if rule.endpoint in PUBLIC or perm is None:
            continue
        if rule.endpoint.split(".")[0] in MEETINGS:
            continue  # the meeting loop's routes have a matrix of their own
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PATCH", "DELETE"}):
            routes.append(Route(rule.rule, method, tuple(sorted(rule.arguments)), perm))
    return routes


#: The routes, listed at collection time from an app that never connects (its database URL
#: leads nowhere), so that each case is a test id; checked against the real app below.
ROUTES = _routes(
    create_app({"mode": "test", "database_url": "postgresql+psycopg://x@127.0.0.1:9/x"})
)


def _relations(route: Route) -> tuple[str, ...]:
    return RELATIONS if RELATIONAL_VARS & set(route.args) else ("own",)


def _case_id(who: str, route: Route, rel: str) -> str:
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r":\1", route.rule)
    return f"{who}-{route.method}-{path}" + (f"-{rel}" if len(_relations(route)) > 1 else "")


HTTP_CASES = [(who, r, rel) for r in ROUTES for rel in _relations(r) for who in WHO]


# -- the world: three agencies, their people and objects -----------------------------------


@dataclass
class World:
    actors: dict[str, TestUser]
    disabled: TestUser
    objects: dict[tuple[str, str], str]  # (url variable, relation) -> value


def _objects(app: Flask, slug: str, make_user: Any, owner_session_factory: Any) -> dict[str, str]:
    """One of each object of the agency ``slug``, made by its own people through the services,
    and a quarter's records in one cell, so that its briefing pack has cells to publish."""
    analyst = make_user(slug, "analyst")
    start, _ = factories.pack_quarter()
    when = datetime.combine(start, time(20), UTC)
    spot = factories.cell_centre(app, analyst)
    factories.add_observations(
        owner_session_factory, slug, [(*spot, when + timedelta(days=i), ()) for i in range(12)]
    )
    return {
        "agency_id": str(analyst.agency_id),
        "observation_id": factories.make_observation(app, analyst),
        "context_id": factories.make_context(app, analyst),
        "vehicle_id": factories.make_vehicle(app, analyst),
        "user_id": str(make_user(slug, "practitioner").id),
        # An active tier B share to an external recipient, so no agency of the matrix
        # receives it, over one ward.
        "share_id": factories.make_share(app, analyst),
        # An approved pack (a tier C share to another external recipient).
        "pack_id": factories.make_pack(app, make_user(slug, "trainer"), analyst),
    }


def _probe_rows(owner_session_factory: Any, objects: dict[str, str]) -> None:
    """What the SQL probes look for and no service makes (as the owner): a kept note, the
    default pack wording and an audit entry about the agency's records."""
    params = {"o": objects["observation_id"], "a": objects["agency_id"]}
    with owner_session_factory() as s:
        s.execute(
            text(
                "INSERT INTO note_history (observation_id, agency_id, version, note, reason)"
                " VALUES (:o, :a, 1, 'probe', 'edited')"
            ),
            params,
        )
        s.execute(
            text(
                "INSERT INTO briefing_text (agency_id, area_id, signs, how_to_report)"
                " VALUES (:a, (SELECT id FROM area ORDER BY id DESC LIMIT 1), 'probe',"
                " 'probe') ON CONFLICT DO NOTHING"
            ),
            params,
        )
        s.execute(
            text(
                "INSERT INTO audit_log (id, at, action, subject_agency_id, prev_hash, hash)"
                " VALUES (0, now(), 'matrix.probe', :a, '', '')"
            ),
            params,
        )
        s.commit()


def _token(app: Flask, make_user: Any, slug: str) -> str:
    """A token of a colleague of the askers (an analyst of ``slug`` who asks nothing)."""
    from webmap.access import tokens

    owner = make_user(slug, "analyst")
    with factories.acting_as(app, owner) as s:
        return str(tokens.create(s, factories.actor(owner), "Matrix", 30).id)


@pytest.fixture(scope="module")
def world(
    app: Flask, make_agency: Any, make_user: Any, owner_session_factory: Any, settings: Any
) -> World:
    targets = {
        "own": make_agency("police", "Matrix own"),
        "panel_partner": make_agency("childrens_social_care", "Matrix partner"),
        "unrelated": make_agency("transport_operator", "Matrix unrelated"),
    }
    factories.make_panel(owner_session_factory, [targets["own"], targets["panel_partner"]])
    actors = {role: make_user(targets["own"], role) for role in USER_ROLES}
    disabled = make_user(targets["own"], "analyst")  # disabled after signing in: see clients
    # A panel of no one, so that POSTs to it cannot change who is whose panel partner.
    panel = str(factories.make_panel(owner_session_factory, []))
    with owner_session_factory() as s:
        ward = s.execute(
            text(
                "SELECT min(a.code) FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
                " WHERE b.slug = 'wards' AND b.is_current"
            )
        ).scalar_one()
    objects: dict[tuple[str, str], str] = {}
    for rel, slug in targets.items():
        made = _objects(app, slug, make_user, owner_session_factory)
        _probe_rows(owner_session_factory, made)
        objects.update({(var, rel): value for var, value in made.items()})
        objects.update(
            {
                # Tiles: /tiles/<layer>/<z>/<x>/<y>.mvt over the town.
                ("layer", rel): "counts",
                ("z", rel): "12",
                ("x", rel): "2061",
                ("y", rel): "1303",
                # The HTML record pages: /records/<kind>/<record_id>.
                ("kind", rel): "observation",
                ("record_id", rel): made["observation_id"],
                ("fmt", rel): "csv",
                ("panel_id", rel): panel,
                ("slug", rel): "wards",
                ("token_id", rel): _token(app, make_user, slug),
                # The OGC API: a collection everyone sees, and one of its features.
                ("collection_id", rel): "boundaries-wards",
                ("feature_id", rel): ward,
                ("code", rel): ward,
            }
        )
    # Retiring a generation changes it for good: each retire route has a throwaway set.
    for rule in RETIRE_ROUTES:
        objects[(rule, "set_id")] = factories.make_boundary_generation(
            owner_session_factory, settings
        )
    return World(actors, disabled, objects)


@dataclass
class Asker:
    client: FlaskClient
    token: str  # the page's CSRF token ("" when not signed in)


@pytest.fixture(scope="module")
def askers(app: Flask, world: World, sign_in: Any, owner_session_factory: Any) -> dict[str, Asker]:
    """A signed-in client per role; one whose user is disabled while signed in (the session
    must stop working at once); an anonymous one."""
    from webmap.features.admin.users import set_active

    out = {}
    for role, user in world.actors.items():
        client = sign_in(app.test_client(), user)
        out[role] = Asker(client, csrf_from(client.get("/").get_data(as_text=True)))
    out["disabled"] = Asker(sign_in(app.test_client(), world.disabled), "")
    with owner_session_factory() as s:
        set_active(s, world.disabled.id, False)
        s.commit()
    out["anonymous"] = Asker(app.test_client(), "")
    return out


# -- over HTTP -------------------------------------------------------------------------------


def test_every_route_is_either_public_or_under_the_policy(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        assert rule.endpoint in PUBLIC or getattr(view, "csmap_permission", None), (
            f"{rule.rule} ({rule.endpoint}) declares no policy"
        )
    assert _routes(app) == ROUTES, "the routes listed at collection are not the app's"
    covered = {r.perm for r in ROUTES}
    assert ("observation", "read") in covered and ("map", "view") in covered


def _url(route: Route, world: World, rel: str) -> str:
    url = route.rule
    for arg in route.args:
        value = world.objects.get((route.rule, arg)) or world.objects[(arg, rel)]
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", value, url)
    return url + QUERIES.get(route.rule, "")


def _expected(who: str, route: Route, rel: str, url: str) -> set[int]:
    if who in {"anonymous", "disabled"}:
        # A write may be refused for its missing CSRF token first.
        # A GIS client is told 401 with WWW-Authenticate; a browser is sent to sign in.
        signed_out = 401 if url.startswith(("/api/", "/tiles/", "/ogc")) else 302
        return {signed_out} if route.method == "GET" else {signed_out, 400}
    resource, action = route.perm
    has_object = any(a in OBJECT_VARS or a == "record_id" for a in route.args)
    if not POLICY[route.perm].relations(who):
        return {403}
    if has_object and not can(who, resource, action, rel):
        return {404}
    if "token_id" in route.args:
        # A token is its user's: the askers hold none of these, so only the agency's admin
        # may revoke one (of their own agency); to anyone else it does not exist.
        return {302} if who == "agency_admin" and rel == "own" else {404}
    if route.method == "GET":
        return {200}
    return {200, 302, 400, 422, 428}  # a permitted write with an empty form: done, or refused


@pytest.mark.parametrize(
    ("who", "route", "rel"), HTTP_CASES, ids=[_case_id(*case) for case in HTTP_CASES]
)
def test_http(world: World, askers: dict[str, Asker], who: str, route: Route, rel: str) -> None:
    url = _url(route, world, rel)
    asker = askers[who]
    if route.method == "GET":
        resp = asker.client.get(url)
    else:  # an empty form: enough to reach the policy, never enough to change anything
        data, headers = {"csrf_token": asker.token}, {"X-CSRFToken": asker.token}
        resp = asker.client.open(url, method=route.method, data=data, headers=headers)
    expected = _expected(who, route, rel, url)
    assert resp.status_code in expected, f"{who} {route.method} {url} [{rel}]"


def test_not_found_and_out_of_scope_are_indistinguishable(
    world: World, askers: dict[str, Asker]
) -> None:
    client = askers["analyst"].client
    other = client.get(f"/api/v1/observations/{world.objects[('observation_id', 'unrelated')]}")
    missing = client.get(f"/api/v1/observations/{uuid.uuid4()}")
    assert other.status_code == missing.status_code == 404
    assert other.get_json() == missing.get_json()


# -- the same cases in SQL, under the app role ---------------------------------------------

SQL_CASES = [(key, rel, role) for key in PROBES for rel in RELATIONS for role in USER_ROLES]


def test_every_policy_rule_has_a_sql_probe() -> None:
    assert set(PROBES) | set(MEETING_PROBES) == set(POLICY)


@pytest.fixture(scope="module")
def app_role(test_db: dict[str, str]) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        yield conn


@pytest.mark.parametrize(
    ("key", "rel", "role"),
    SQL_CASES,
    ids=[f"{resource}.{action}-{role}-{rel}" for (resource, action), rel, role in SQL_CASES],
)
def test_sql_agrees_with_policy(
    world: World,
    app_role: psycopg.Connection[Any],
    key: tuple[str, str],
    rel: str,
    role: str,
) -> None:
    params = {var: value for (var, r), value in world.objects.items() if r == rel}
    user = world.actors[role]
    with app_role.transaction(force_rollback=True):
        app_role.execute(
            "SELECT set_config('csmap.user_id', %s, true),"
            " set_config('csmap.agency_id', %s, true),"
            " set_config('csmap.role', %s, true)",
            (str(user.id), str(user.agency_id), role),
        )
        try:
            got = app_role.execute(PROBES[key], params).fetchone()[0]  # type: ignore[index]
        except psycopg.errors.InsufficientPrivilege:  # RLS refused the new row
            got = False
    # Directory-like resources are not agency-owned: their rule is the same for all.
    want = can(role, *key, rel if key[0] in AGENCY_OWNED else "own")
    assert got == want, f"{key} {role} -> {rel}: SQL says {got}, policy says {want}"
