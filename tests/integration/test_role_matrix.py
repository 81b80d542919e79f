"""The role matrix: every role × relation (own, panel partner, unrelated), plus a disabled
user and an anonymous client, over every route that exists — and the same cases as direct
SQL under the app role, which must agree with the policy table.

Expectations are derived from ``webmap.access.policy.POLICY``, never typed in here, and a route that
declares no policy (and is not on the short public list) fails the suite.
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
from tests.integration.test_role_matrix_meetings import BLUEPRINTS as MEETINGS
from tests.integration.test_role_matrix_meetings import PROBES as MEETING_PROBES
from webmap.access.policy import POLICY, can
from webmap.models import USER_ROLES

#: Routes anyone may reach (signing in, health, static files).
PUBLIC = {
    "static",
    "health.healthz",
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
#: Which agency plays each relation to the actors (all actors belong to police).
TARGET_AGENCY = {"own": "police", "panel_partner": "social_care", "unrelated": "bus"}
ACTOR_AGENCY = "police"
#: URL variables that name an agency-owned object, and the table that holds it.
OBJECT_VARS = {
    "observation_id": "observation",
    "context_id": "context",
    "vehicle_id": "vehicle",
    "user_id": "app_user",
    "share_id": "share",
    "pack_id": "briefing_pack",
}


@dataclass
class World:
    actors: dict[str, TestUser]
    disabled: TestUser
    objects: dict[tuple[str, str], str]  # (url variable, relation) -> value
    agency_ids: dict[str, str]


@pytest.fixture(scope="module")
def world(make_user: Any, owner_session_factory: Any) -> World:
    actors = {role: make_user(ACTOR_AGENCY, role) for role in USER_ROLES}
    disabled = make_user(ACTOR_AGENCY, "analyst")  # disabled after signing in, below
    objects: dict[tuple[str, str], str] = {}
    with owner_session_factory() as s:
        agency_ids = {slug: str(i) for slug, i in s.execute(text("SELECT slug, id FROM agency"))}
        for rel, slug in TARGET_AGENCY.items():
            for var, table in OBJECT_VARS.items():
                if table == "app_user":
                    value = str(make_user(slug, "practitioner").id)
                elif table == "share":
                    value = _matrix_share(s, agency_ids[slug], make_user(slug, "analyst").id)
                elif table == "briefing_pack":
                    makers = (make_user(slug, "trainer").id, make_user(slug, "analyst").id)
                    value = _matrix_pack(s, agency_ids[slug], *makers)
                else:
                    value = str(
                        s.execute(
                            text(
                                f"SELECT id FROM {table} WHERE agency_id = :a"
                                " AND deleted_at IS NULL ORDER BY id LIMIT 1"
                            ),
                            {"a": agency_ids[slug]},
                        ).scalar_one()
                    )
                objects[(var, rel)] = value
            objects[("agency_id", rel)] = agency_ids[slug]
            # Tiles: /tiles/<layer>/<z>/<x>/<y>.mvt over the town.
            objects.update(
                {("layer", rel): "counts", ("z", rel): "12", ("x", rel): "2061", ("y", rel): "1303"}
            )
            # The HTML record pages: /records/<kind>/<record_id>.
            objects[("kind", rel)] = "observation"
            objects[("fmt", rel)] = "csv"
            objects[("record_id", rel)] = objects[("observation_id", rel)]
            # A kept note of each agency, for the SQL probe of moderation (admins only).
            s.execute(
                text(
                    "INSERT INTO note_history (observation_id, agency_id, version, note, reason)"
                    " VALUES (:o, :a, 1, 'probe', 'edited')"
                ),
                {"o": objects[("observation_id", rel)], "a": agency_ids[slug]},
            )
            # Default pack wording of each agency, for the SQL probe of editing it.
            s.execute(
                text(
                    "INSERT INTO briefing_text (agency_id, area_id, signs, how_to_report)"
                    " VALUES (:a, (SELECT id FROM area ORDER BY id DESC LIMIT 1), 'probe',"
                    " 'probe') ON CONFLICT DO NOTHING"
                ),
                {"a": agency_ids[slug]},
            )
            # An audit entry about each agency's records, for the SQL probe of audit reads.
            s.execute(
                text(
                    "INSERT INTO audit_log (id, at, action, subject_agency_id, prev_hash, hash)"
                    " VALUES (0, now(), 'matrix.probe', :a, '', '')"
                ),
                {"a": agency_ids[slug]},
            )
        # A panel of its own, so POSTs to it cannot change who is whose panel partner.
        panel = s.execute(
            text("INSERT INTO panel (name, kind) VALUES (:n, 'ldsm') RETURNING id"),
            {"n": f"Matrix panel {uuid.uuid4().hex[:6]}"},
        ).scalar_one()
        slug_row = s.execute(
            text("SELECT slug FROM boundary_set ORDER BY slug LIMIT 1")
        ).scalar_one()
        s.commit()
    for rel in TARGET_AGENCY:
        objects[("panel_id", rel)] = str(panel)
        objects[("slug", rel)] = slug_row
    return World(actors, disabled, objects, agency_ids)


def _matrix_share(s: Any, agency_id: str, creator: uuid.UUID) -> str:
    """An active tier B share of the agency to an external recipient (so no other agency in
    the matrix is its recipient), over one ward, as the owner."""
    share_id = s.execute(
        text(
            "INSERT INTO share (from_agency_id, tier, profile, resolution, recipient_kind,"
            " external_name, layers, period_from, purpose, lawful_basis, agreement_ref,"
            " expires_at, status, created_by, approved_by, approved_at, link_nonce)"
            " VALUES (:a, 'B', '{}', 8, 'external', 'Matrix recipient', '{observations}',"
            " '2024-01-01', 'Role matrix', 'Test', 'ISA-MATRIX', now() + interval '30 days',"
            " 'active', :u, :u, now(), 'nonce') RETURNING id"
        ),
        {"a": agency_id, "u": creator},
    ).scalar_one()
    s.execute(
        text(
            "INSERT INTO share_cell (share_id, cell, res) SELECT :s, ca.cell, 8 FROM cell_area ca"
            " WHERE ca.res = 8 AND ca.area_id = (SELECT a.id FROM area a JOIN boundary_set b"
            " ON b.id = a.boundary_set_id WHERE b.slug = 'wards' ORDER BY a.code LIMIT 1)"
        ),
        {"s": share_id},
    )
    return str(share_id)


def _matrix_pack(s: Any, agency_id: str, creator: uuid.UUID, approver: uuid.UUID) -> str:
    """An approved briefing pack of the agency on an active tier C share to an external
    recipient, with a real (tiny) PDF, made as the owner."""
    from weasyprint import HTML

    share_id = s.execute(
        text(
            "INSERT INTO share (from_agency_id, tier, profile, resolution, recipient_kind,"
            " external_name, layers, period_from, period_to, purpose, lawful_basis,"
            " agreement_ref, expires_at, status, created_by, approved_by, approved_at,"
            " link_nonce) VALUES (:a, 'C', '{}', 7, 'external', 'Matrix operator',"
            " '{observations}', '2025-07-01', '2026-10-01', 'Role matrix pack', 'Test',"
            " 'ISA-MATRIX', now() + interval '30 days', 'active', :c, :u, now(), 'nonce')"
            " RETURNING id"
        ),
        {"a": agency_id, "c": creator, "u": approver},
    ).scalar_one()
    s.execute(
        text(
            "INSERT INTO share_cell (share_id, cell, res) SELECT DISTINCT :s, ca.cell, ca.res"
            " FROM cell_area ca"
            " WHERE ca.res = 7 AND ca.area_id = (SELECT a.id FROM area a JOIN boundary_set b"
            " ON b.id = a.boundary_set_id WHERE b.slug = 'wards' ORDER BY a.code LIMIT 1)"
        ),
        {"s": share_id},
    )
    pdf = HTML(string="<h1>Matrix pack</h1>").write_pdf()
    return str(
        s.execute(
            text(
                "INSERT INTO briefing_pack (share_id, agency_id, recipient_name, title, marking,"
                " signs, how_to_report, issued_on, review_on, status, created_by, decided_by,"
                " decided_at, pdf, html, pdf_sha256, html_sha256) VALUES (:s, :a,"
                " 'Matrix operator', 'Matrix pack', 'OFFICIAL', 'Signs', 'Report', current_date,"
                " current_date + 29, 'approved', :c, :u, now(), :pdf, '<p>Matrix</p>', 'x', 'x')"
                " RETURNING id"
            ),
            {"s": share_id, "a": agency_id, "c": creator, "u": approver, "pdf": pdf},
        ).scalar_one()
    )


def _routes(app: Flask) -> list[tuple[str, str, tuple[str, ...], tuple[str, str] | None]]:
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        perm = getattr(view, "csmap_permission", None)
        if rule.endpoint in PUBLIC or rule.endpoint.split(".")[0] in MEETINGS:
            continue  # (the meeting loop's routes have a matrix of their own)
        assert perm is not None, f"{rule.rule} ({rule.endpoint}) declares no policy"
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PATCH", "DELETE"}):
            routes.append((rule.rule, method, tuple(sorted(rule.arguments)), perm))
    return routes


def test_every_route_is_either_public_or_under_the_policy(app: Flask) -> None:
    routes = _routes(app)
    assert routes, "no routes found"
    covered = {perm for *_, perm in routes}
    assert ("observation", "read") in covered and ("map", "view") in covered


#: Routes that need query parameters to answer a GET at all.
QUERIES = {"/api/v1/areas": "?lon=1.2&lat=54.6"}


def _url(rule: str, args: tuple[str, ...], world: World, rel: str) -> str:
    url = rule
    for arg in args:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", world.objects[(arg, rel)], url)
    return url + QUERIES.get(rule, "")


def _request(client: FlaskClient, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    token = csrf_from(client.get("/").get_data(as_text=True)) if _is_signed_in(client) else ""
    # An empty form: enough to reach the policy, never enough to change anything.
    return client.open(
        url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
    )


def _is_signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_http_matrix(app: Flask, world: World, sign_in: Any, owner_session_factory: Any) -> None:
    from webmap.features.admin.users import set_active

    failures = []
    clients = {role: sign_in(app.test_client(), user) for role, user in world.actors.items()}
    # A user disabled while signed in: their session must stop working at once.
    disabled_client = sign_in(app.test_client(), world.disabled)
    with owner_session_factory() as s:
        set_active(s, world.disabled.id, False)
        s.commit()
    anonymous = app.test_client()
    for (rule, method, args, perm), rel in itertools.product(_routes(app), TARGET_AGENCY):
        resource, action = perm  # type: ignore[misc]
        url = _url(rule, args, world, rel)
        has_object = any(a in OBJECT_VARS or a == "record_id" for a in args)
        for who, client in [("anonymous", anonymous), ("disabled", disabled_client)]:
            resp = _request(client, method, url)
            expected = 401 if url.startswith(("/api/", "/tiles/")) else 302
            if resp.status_code != expected and not (method != "GET" and resp.status_code == 400):
                failures.append(f"{who} {method} {url}: {resp.status_code}, expected {expected}")
        for role, client in clients.items():
            resp = _request(client, method, url)
            scope = POLICY[perm].relations(role)
            allowed = can(role, resource, action, rel if has_object else "own")
            if not scope:
                expected_codes = {403}
            elif has_object and not allowed:
                expected_codes = {404}
            elif method == "GET":
                expected_codes = {200}
            else:  # a permitted write with an empty form: done, or a validation error
                expected_codes = {200, 302, 400, 422, 428}
            if resp.status_code not in expected_codes:
                failures.append(
                    f"{role} {method} {url} [{rel}]: {resp.status_code},"
                    f" expected {sorted(expected_codes)}"
                )
    assert not failures, "\n".join(failures)


def test_not_found_and_out_of_scope_are_indistinguishable(
    app: Flask, world: World, sign_in: Any
) -> None:
    client = sign_in(app.test_client(), world.actors["analyst"])
    other = client.get(f"/api/v1/observations/{world.objects[('observation_id', 'unrelated')]}")
    missing = client.get(f"/api/v1/observations/{uuid.uuid4()}")
    assert other.status_code == missing.status_code == 404
    assert other.get_json() == missing.get_json()


# -- the same cases in SQL, under the app role -------------------------------------------------

_SHARE_UPDATE = (
    "WITH u AS (UPDATE share SET purpose = purpose WHERE id = %(share_id)s RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM u)"
)
# The gate of every ledger read (csmap_share_publications and friends).
_SHARED_FACTS = "SELECT csmap_share_readable(%(share_id)s)"
_PACK_UPDATE = (
    "WITH u AS (UPDATE briefing_pack SET {} WHERE id = %(pack_id)s RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM u)"
)

#: (resource, action) -> SQL that answers "may this context do it to the target agency's
#: object?" as a boolean. Writes run inside a savepoint that is rolled back.
PROBES: dict[tuple[str, str], str] = {
    (
        "observation",
        "read",
    ): "SELECT EXISTS (SELECT 1 FROM observation WHERE id = %(observation_id)s)",
    ("context", "read"): "SELECT EXISTS (SELECT 1 FROM context WHERE id = %(context_id)s)",
    ("vehicle", "read"): "SELECT EXISTS (SELECT 1 FROM vehicle WHERE id = %(vehicle_id)s)",
    ("observation", "create"): "WITH i AS (INSERT INTO observation (agency_id, occurred_at, geom,"
    " category, cell_r7, cell_r8, cell_r9) VALUES (%(agency_id)s, now(),"
    " ST_SetSRID(ST_Point(1.2, 54.6), 4326), 'weapon_found', 1, 1, 1) RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM i)",
    ("observation", "update"): "WITH u AS (UPDATE observation SET version = version"
    " WHERE id = %(observation_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("observation", "delete"): "WITH u AS (UPDATE observation SET deleted_reason = 'x'"
    " WHERE id = %(observation_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("observation", "moderate"): "SELECT EXISTS (SELECT 1 FROM note_history"
    " WHERE agency_id = %(agency_id)s AND note = 'probe')",
    ("context", "create"): "WITH i AS (INSERT INTO context (agency_id, kind, name, geom)"
    " VALUES (%(agency_id)s, 'hotspot', 'probe', ST_SetSRID(ST_Point(1.2, 54.6), 4326))"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    ("context", "update"): "WITH u AS (UPDATE context SET version = version"
    " WHERE id = %(context_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("context", "delete"): "WITH u AS (UPDATE context SET deleted_reason = 'x'"
    " WHERE id = %(context_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("vehicle", "create"): "WITH i AS (INSERT INTO vehicle (agency_id, registration_mark,"
    " registration_normalised, mark_hmac) VALUES (%(agency_id)s, 'X', 'X', '\\x00')"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    ("user", "read"): "SELECT EXISTS (SELECT 1 FROM app_user WHERE id = %(user_id)s)",
    ("user", "manage"): "WITH u AS (UPDATE app_user SET updated_at = updated_at"
    " WHERE id = %(user_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("agency", "manage"): "WITH u AS (UPDATE agency SET name = name WHERE id = %(agency_id)s"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("panel", "manage"): "WITH u AS (UPDATE panel SET name = name WHERE id = %(panel_id)s"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("boundary_set", "manage"): "WITH u AS (UPDATE boundary_set SET name = name"
    " WHERE slug = %(slug)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("audit", "read"): "SELECT EXISTS (SELECT 1 FROM audit_log"
    " WHERE subject_agency_id = %(agency_id)s AND action = 'matrix.probe')",
    ("reference", "read"): "SELECT EXISTS (SELECT 1 FROM agency WHERE id = %(agency_id)s)",
    ("map", "view"): "SELECT EXISTS (SELECT 1 FROM boundary_set)",
    ("layer", "read"): "SELECT EXISTS (SELECT 1 FROM cell_month WHERE agency_id = %(agency_id)s)",
    ("share", "read"): "SELECT EXISTS (SELECT 1 FROM share WHERE id = %(share_id)s)",
    ("share", "create"): "WITH i AS (INSERT INTO share (from_agency_id, tier, profile,"
    " resolution, recipient_kind, external_name, layers, period_from, purpose, lawful_basis,"
    " agreement_ref, expires_at, status, created_by) VALUES (%(agency_id)s, 'B', '{}', 8,"
    " 'external', 'x', '{observations}', '2024-01-01', 'probe', 'x', 'x', now(), 'pending',"
    " csmap_user_id()) RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    ("share", "approve"): _SHARE_UPDATE,
    ("share", "revoke"): _SHARE_UPDATE,
    ("shared_layer", "read"): _SHARED_FACTS,
    ("shared_layer", "export"): _SHARED_FACTS,
    ("pack", "read"): "SELECT EXISTS (SELECT 1 FROM briefing_pack WHERE id = %(pack_id)s)",
    # On the target agency's tier B share, which has no pack (share_id is unique).
    ("pack", "create"): "WITH i AS (INSERT INTO briefing_pack (share_id, agency_id,"
    " recipient_name, title, marking, signs, how_to_report, review_on, status, created_by)"
    " VALUES (%(share_id)s, %(agency_id)s, 'x', 'x', 'OFFICIAL', 'x', 'x', current_date + 9,"
    " 'pending', csmap_user_id()) RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    # Any change but a withdrawal is the approvers' alone.
    ("pack", "approve"): _PACK_UPDATE.format("decided_at = decided_at"),
    ("pack", "withdraw"): _PACK_UPDATE.format(
        "status = 'withdrawn', withdrawn_at = now(), withdrawn_reason = 'probe'"
    ),
    ("pack_text", "edit"): "WITH u AS (UPDATE briefing_text SET updated_at = updated_at"
    " WHERE agency_id = %(agency_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    # Everyone keeps (and may end) their own sessions: a sign-in writes one as the user.
    ("session", "manage"): "WITH i AS (INSERT INTO user_session (user_id, agency_id,"
    " token_sha256, session_epoch) VALUES (csmap_user_id(), csmap_agency_id(),"
    " md5(random()::text) || md5(random()::text), 1) RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM i)",
}


def test_every_policy_rule_has_a_sql_probe() -> None:
    assert set(PROBES) | set(MEETING_PROBES) == set(POLICY)


def test_sql_matrix_agrees_with_policy(test_db: dict[str, str], world: World) -> None:
    failures = []
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        for (key, sql), rel in itertools.product(PROBES.items(), TARGET_AGENCY):
            params = {var: world.objects[(var, rel)] for var, r in world.objects if r == rel}
            # Directory-like resources are not agency-owned: their rule is the same for all.
            probe_rel = (
                rel
                if key[0]
                in {
                    "observation",
                    "context",
                    "vehicle",
                    "user",
                    "audit",
                    "layer",
                    "share",
                    "shared_layer",
                    "pack",
                    "pack_text",
                }
                else "own"
            )
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
