"""The administration pages over HTTP, signed in through the real forms (password + TOTP).

Agency A (a police force) and agency B (a transport operator) are this module's own, and never
panel partners. What a test changes of the shared reference data (a boundary set's name) is
put back afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from webmap.features.admin.users import NewUser, create_user

#: The module's own agencies, by these names (see ``agencies``).
AGENCY_A, AGENCY_B = "A", "B"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    agency_id: uuid.UUID
    email: str
    password: str
    totp_secret: str
    display_name: str


@pytest.fixture(scope="module")
def owner_sessions(test_db: dict[str, str]) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(test_db["owner"])
    yield sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def agencies(make_agency: Any) -> dict[str, str]:
    """``AGENCY_A`` and ``AGENCY_B`` → the slugs of the module's own agencies."""
    return {
        AGENCY_A: make_agency("police", "Admin test A"),
        AGENCY_B: make_agency("transport_operator", "Admin test B"),
    }


@pytest.fixture()
def account(owner_sessions: sessionmaker[Session], agencies: dict[str, str]) -> Any:
    """Factory: a new account (second factor enrolled) in the agency with ``slug``
    (``AGENCY_A`` and ``AGENCY_B`` name the module's own)."""

    def make(slug: str, role: str) -> Account:
        slug = agencies.get(slug, slug)
        tag = uuid.uuid4().hex[:10]
        email = f"{role}.{tag}@{slug.replace('_', '-')}.admin-test.example"
        password = f"long enough password {tag}"
        name = f"Admin test {role} {tag}"
        secret = pyotp.random_base32()
        with owner_sessions() as s:
            agency_id = s.execute(
                text("SELECT id FROM agency WHERE slug = :s"), {"s": slug}
            ).scalar_one()
            user_id = create_user(s, NewUser(agency_id, email, name, role, password))
            s.execute(
                text("UPDATE app_user SET totp_secret = :t WHERE id = :id"),
                {"t": secret, "id": user_id},
            )
            s.commit()
        return Account(user_id, agency_id, email, password, secret, name)

    return make


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(app: Flask, who: Account) -> FlaskClient:
    """A new client signed in as ``who`` through the real forms: password, then TOTP."""
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login", data={"email": who.email, "password": who.password, "csrf_token": token}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    token = csrf_token(client.get("/login/code").get_data(as_text=True))  # session renewed
    resp = client.post(
        "/login/code", data={"code": pyotp.TOTP(who.totp_secret).now(), "csrf_token": token}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def token_for(client: FlaskClient) -> str:
    return csrf_token(client.get("/").get_data(as_text=True))


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data={**(data or {}), "csrf_token": token_for(client)})


def field_error(html: str, name: str) -> str | None:
    """The error text shown beside field ``name`` (id f-<name>-error), if any."""
    match = re.search(rf'id="f-{re.escape(name)}-error">([^<]*)<', html)
    return match.group(1) if match else None


def user_row(owner_conn: psycopg.Connection[Any], email: str) -> Any:
    return owner_conn.execute(
        "SELECT id, agency_id, role::text, is_active FROM app_user WHERE lower(email) = lower(%s)",
        (email,),
    ).fetchone()


def last_audit(owner_conn: psycopg.Connection[Any], user_id: uuid.UUID, action: str) -> Any:
    return owner_conn.execute(
        "SELECT object_ids, subject_agency_id, details, coalesce(justification, '')"
        " FROM audit_log WHERE user_id = %s AND action = %s ORDER BY id DESC LIMIT 1",
        (user_id, action),
    ).fetchone()


def new_user_form(**overrides: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    form = {
        "display_name": f"New person {tag}",
        "email": f"new.{tag}@admin-test.example",
        "role": "practitioner",
        "password": "a sufficiently long one",
    }
    form.update(overrides)
    return form


# -- users: agency admin -------------------------------------------------------------------


def test_agency_admin_sees_only_own_agency(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin = account(AGENCY_A, "agency_admin")
    mine, theirs = account(AGENCY_A, "practitioner"), account(AGENCY_B, "practitioner")
    client = sign_in(app, admin)
    resp = client.get("/admin/users")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert mine.email in html and admin.email in html
    assert theirs.email not in html
    assert 'name="agency"' not in html  # no agency filter for a one-agency admin
    assert 'value="system_admin"' not in html  # the role list never offers it
    object_ids, subject, details, _ = last_audit(owner_conn, admin.id, "user.list")
    assert str(mine.id) in object_ids and str(theirs.id) not in object_ids
    assert subject == admin.agency_id and details["count"] == len(object_ids)


def test_other_agency_user_is_404_like_a_missing_one(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin, theirs = account(AGENCY_A, "agency_admin"), account(AGENCY_B, "practitioner")
    client = sign_in(app, admin)
    other = client.get(f"/admin/users/{theirs.id}")
    missing = client.get(f"/admin/users/{uuid.uuid4()}")
    malformed = client.get("/admin/users/not-a-uuid")
    assert other.status_code == missing.status_code == malformed.status_code == 404
    assert other.get_data() == missing.get_data() == malformed.get_data()
    for action in ("disable", "enable", "reset-second-factor"):
        other = post(client, f"/admin/users/{theirs.id}/{action}")
        missing = post(client, f"/admin/users/{uuid.uuid4()}/{action}")
        assert other.status_code == missing.status_code == 404, action
        assert other.get_data() == missing.get_data()
    assert user_row(owner_conn, theirs.email)[3] is True  # still active


def test_agency_admin_cannot_create_a_system_admin(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    client = sign_in(app, account(AGENCY_A, "agency_admin"))
    form = new_user_form(role="system_admin")
    resp = post(client, "/admin/users", form)
    assert resp.status_code == 400
    assert field_error(resp.get_data(as_text=True), "role")
    assert user_row(owner_conn, form["email"]) is None


def test_agency_admin_cannot_create_in_another_agency(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    client = sign_in(app, account(AGENCY_A, "agency_admin"))
    bus = account(AGENCY_B, "practitioner").agency_id
    form = new_user_form(agency_id=str(bus))
    resp = post(client, "/admin/users", form)
    assert resp.status_code == 400
    assert field_error(resp.get_data(as_text=True), "agency_id")
    assert user_row(owner_conn, form["email"]) is None


def test_agency_admin_creates_a_user_in_own_agency(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin = account(AGENCY_A, "agency_admin")
    client = sign_in(app, admin)
    form = new_user_form(role="analyst")
    resp = post(client, "/admin/users", form)
    assert resp.status_code == 302
    user_id, agency_id, role, active = user_row(owner_conn, form["email"])
    assert (agency_id, role, active) == (admin.agency_id, "analyst", True)
    assert resp.headers["Location"].endswith(f"/admin/users/{user_id}")
    object_ids, subject, details, justification = last_audit(owner_conn, admin.id, "user.created")
    assert object_ids == [str(user_id)] and subject == admin.agency_id
    entry = f"{object_ids} {details} {justification}"
    assert form["email"] not in entry and form["password"] not in entry
    detail = client.get(f"/admin/users/{user_id}")
    assert detail.status_code == 200 and form["email"] in detail.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"email": "not an address"}, "email"),
        ({"password": "short"}, "password"),
        ({"role": "emperor"}, "role"),
        ({"role": ""}, "role"),
    ],
)
def test_bad_input_is_400_beside_the_field_and_writes_nothing(
    app: Flask,
    account: Any,
    owner_conn: psycopg.Connection[Any],
    overrides: dict[str, str],
    field: str,
) -> None:
    admin = account(AGENCY_A, "agency_admin")
    client = sign_in(app, admin)
    form = new_user_form(**overrides)
    count = "SELECT count(*) FROM app_user WHERE agency_id = %s"
    before = owner_conn.execute(count, (admin.agency_id,)).fetchone()[0]
    resp = post(client, "/admin/users", form)
    assert resp.status_code == 400
    assert field_error(resp.get_data(as_text=True), field), resp.get_data(as_text=True)[-2000:]
    if "@" in form["email"]:
        assert user_row(owner_conn, form["email"]) is None
    owner_conn.rollback()
    assert owner_conn.execute(count, (admin.agency_id,)).fetchone()[0] == before


def test_duplicate_email_is_400_beside_the_field(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    existing = account(AGENCY_B, "practitioner")  # another agency's: still a duplicate
    client = sign_in(app, account(AGENCY_A, "agency_admin"))
    resp = post(client, "/admin/users", new_user_form(email=existing.email.upper()))
    assert resp.status_code == 400
    assert field_error(resp.get_data(as_text=True), "email")
    count = owner_conn.execute(
        "SELECT count(*) FROM app_user WHERE lower(email) = lower(%s)", (existing.email,)
    ).fetchone()[0]
    assert count == 1


# -- disable, enable, reset ----------------------------------------------------------------


def test_disabling_ends_the_users_session(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin, worker = account(AGENCY_A, "agency_admin"), account(AGENCY_A, "practitioner")
    admin_client, worker_client = sign_in(app, admin), sign_in(app, worker)
    assert worker_client.get("/").status_code == 200
    resp = post(admin_client, f"/admin/users/{worker.id}/disable")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/users/{worker.id}")
    assert "disabled" in admin_client.get(resp.headers["Location"]).get_data(as_text=True)
    after = worker_client.get("/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert user_row(owner_conn, worker.email)[3] is False
    object_ids, subject, _, _ = last_audit(owner_conn, admin.id, "user.disabled")
    assert object_ids == [str(worker.id)] and subject == worker.agency_id
    assert post(admin_client, f"/admin/users/{worker.id}/enable").status_code == 302
    owner_conn.rollback()
    assert user_row(owner_conn, worker.email)[3] is True
    assert last_audit(owner_conn, admin.id, "user.enabled")[0] == [str(worker.id)]


def test_admin_cannot_disable_themselves(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin = account(AGENCY_A, "agency_admin")
    client = sign_in(app, admin)
    resp = post(client, f"/admin/users/{admin.id}/disable")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200  # still signed in
    assert "cannot disable your own account" in page.get_data(as_text=True)
    assert user_row(owner_conn, admin.email)[3] is True


def test_reset_second_factor(app: Flask, account: Any, owner_conn: psycopg.Connection[Any]) -> None:
    admin, worker = account(AGENCY_A, "agency_admin"), account(AGENCY_A, "analyst")
    client = sign_in(app, admin)
    assert post(client, f"/admin/users/{worker.id}/reset-second-factor").status_code == 302
    secret = owner_conn.execute(
        "SELECT totp_secret FROM app_user WHERE id = %s", (worker.id,)
    ).fetchone()[0]
    assert secret is None
    assert last_audit(owner_conn, admin.id, "user.second_factor_reset")[0] == [str(worker.id)]


def test_agency_admin_cannot_change_a_system_admin_of_their_agency(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin, boss = account(AGENCY_A, "agency_admin"), account(AGENCY_A, "system_admin")
    client = sign_in(app, admin)
    resp = post(client, f"/admin/users/{boss.id}/disable")
    assert resp.status_code == 302
    assert "Only a system admin" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert user_row(owner_conn, boss.email)[3] is True


# -- system admin --------------------------------------------------------------------------


@pytest.fixture()
def cleanup(owner_sessions: sessionmaker[Session]) -> Iterator[dict[str, list[str]]]:
    """Agencies (by slug) and panels (by name) to delete afterwards; other tests count them."""
    made: dict[str, list[str]] = {"agencies": [], "panels": []}
    yield made
    with owner_sessions() as s:
        s.execute(text("DELETE FROM panel WHERE name = ANY(:n)"), {"n": made["panels"]})
        s.execute(text("DELETE FROM agency WHERE slug = ANY(:s)"), {"s": made["agencies"]})
        s.commit()


def test_system_admin_sees_every_agency_and_filters(app: Flask, account: Any) -> None:
    a, b = account(AGENCY_A, "practitioner"), account(AGENCY_B, "practitioner")
    client = sign_in(app, account("social_care", "system_admin"))
    html = client.get("/admin/users").get_data(as_text=True)
    assert a.email in html and b.email in html and 'name="agency"' in html
    filtered = client.get(f"/admin/users?agency={b.agency_id}")
    assert filtered.status_code == 200
    assert b.email in filtered.get_data(as_text=True)
    assert a.email not in filtered.get_data(as_text=True)
    bad = client.get("/admin/users?agency=nonsense")
    assert bad.status_code == 400
    assert 'id="filter-agency-error"' in bad.get_data(as_text=True)
    assert client.get(f"/admin/users/{b.id}").status_code == 200


def test_system_admin_creates_a_user_in_any_agency(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    client = sign_in(app, account("social_care", "system_admin"))
    bus = account(AGENCY_B, "practitioner").agency_id
    form = new_user_form(agency_id=str(bus), role="agency_admin")
    assert post(client, "/admin/users", form).status_code == 302
    assert user_row(owner_conn, form["email"])[1:3] == (bus, "agency_admin")
    missing_agency = new_user_form()
    resp = post(client, "/admin/users", missing_agency)
    assert resp.status_code == 400
    assert field_error(resp.get_data(as_text=True), "agency_id")
    assert user_row(owner_conn, missing_agency["email"]) is None


def test_system_admin_creates_an_agency(
    app: Flask,
    account: Any,
    owner_conn: psycopg.Connection[Any],
    cleanup: dict[str, list[str]],
) -> None:
    admin = account("social_care", "system_admin")
    client = sign_in(app, admin)
    slug = f"test-{uuid.uuid4().hex[:8]}"
    cleanup["agencies"].append(slug)
    form = {"name": f"Test agency {slug}", "slug": slug, "kind": "vcse"}
    resp = post(client, "/admin/agencies", form)
    assert resp.status_code == 302
    agency_id = owner_conn.execute("SELECT id FROM agency WHERE slug = %s", (slug,)).fetchone()[0]
    assert last_audit(owner_conn, admin.id, "agency.created")[:2] == ([str(agency_id)], agency_id)
    assert form["name"] in client.get("/admin/agencies").get_data(as_text=True)
    again = post(client, "/admin/agencies", {**form, "name": form["name"].upper()})
    html = again.get_data(as_text=True)
    assert again.status_code == 400
    assert field_error(html, "name") and field_error(html, "slug")
    bad = post(client, "/admin/agencies", {"name": "", "slug": "Bad Slug!", "kind": "castle"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert field_error(html, "name") and field_error(html, "slug") and field_error(html, "kind")


def test_agency_admin_cannot_manage_agencies_or_panels(app: Flask, account: Any) -> None:
    client = sign_in(app, account(AGENCY_A, "agency_admin"))
    for url in ("/admin/agencies", "/admin/panels", "/admin/boundary-sets"):
        assert client.get(url).status_code == 403, url
    assert client.get("/admin/audit").status_code == 200


def test_system_admin_creates_a_panel_and_sets_members(
    app: Flask,
    account: Any,
    owner_conn: psycopg.Connection[Any],
    cleanup: dict[str, list[str]],
) -> None:
    """Only agencies made for this test join the panel: panel partners stay as they were."""
    admin = account("social_care", "system_admin")
    client = sign_in(app, admin)
    ids = []
    for n in range(3):
        slug = f"panel-test-{n}-{uuid.uuid4().hex[:6]}"
        cleanup["agencies"].append(slug)
        post(client, "/admin/agencies", {"name": slug, "slug": slug, "kind": "business"})
        ids.append(
            str(owner_conn.execute("SELECT id FROM agency WHERE slug = %s", (slug,)).fetchone()[0])
        )
    name = f"Test panel {uuid.uuid4().hex[:6]}"
    cleanup["panels"].append(name)
    resp = post(client, "/admin/panels", {"name": name, "kind": "ldsm", "members": ids[:2]})
    assert resp.status_code == 302
    panel_id = owner_conn.execute("SELECT id FROM panel WHERE name = %s", (name,)).fetchone()[0]

    def members() -> set[str]:
        owner_conn.rollback()
        rows = owner_conn.execute(
            "SELECT agency_id::text FROM panel_member WHERE panel_id = %s", (panel_id,)
        )
        return {r[0] for r in rows}

    assert members() == set(ids[:2])
    assert last_audit(owner_conn, admin.id, "panel.created")[0] == [str(panel_id)]
    resp = post(client, f"/admin/panels/{panel_id}", {"members": ids[1:]})
    assert resp.status_code == 302
    assert members() == set(ids[1:])
    assert last_audit(owner_conn, admin.id, "panel.members_changed")[2]["changed"] == 2
    bad = post(client, f"/admin/panels/{panel_id}", {"members": ["not-a-uuid"]})
    assert bad.status_code == 400 and members() == set(ids[1:])
    assert post(client, f"/admin/panels/{uuid.uuid4()}", {"members": ids}).status_code == 404
    dup = post(client, "/admin/panels", {"name": name, "kind": "mace"})
    assert dup.status_code == 400 and field_error(dup.get_data(as_text=True), "name")


def test_system_admin_renames_a_boundary_set(
    app: Flask, account: Any, owner_sessions: sessionmaker[Session]
) -> None:
    client = sign_in(app, account("social_care", "system_admin"))
    with owner_sessions() as s:
        slug, old = s.execute(
            text("SELECT slug, name FROM boundary_set WHERE slug = 'wards' AND is_current")
        ).one()
    try:
        page = client.get("/admin/boundary-sets").get_data(as_text=True)
        assert old in page and 'action="/admin/boundary-sets/upload"' in page
        resp = post(client, f"/admin/boundary-sets/{slug}", {"name": "Renamed by a test"})
        assert resp.status_code == 302
        assert "Renamed by a test" in client.get("/admin/boundary-sets").get_data(as_text=True)
        assert post(client, f"/admin/boundary-sets/{slug}", {"name": ""}).status_code == 400
        assert post(client, "/admin/boundary-sets/no-such-set", {"name": "x"}).status_code == 404
    finally:
        with owner_sessions() as s:
            s.execute(
                text("UPDATE boundary_set SET name = :n WHERE slug = :s"), {"n": old, "s": slug}
            )
            s.commit()


# -- audit page ----------------------------------------------------------------------------


def test_audit_page_is_scoped_to_the_agency(
    app: Flask, account: Any, agencies: dict[str, str], owner_sessions: sessionmaker[Session]
) -> None:
    admin_a, admin_b = account(AGENCY_A, "agency_admin"), account(AGENCY_B, "agency_admin")
    user_b = account(AGENCY_B, "practitioner")
    client_b = sign_in(app, admin_b)
    assert client_b.get(f"/admin/users/{user_b.id}").status_code == 200  # audited: user.read
    client_a = sign_in(app, admin_a)
    page_a = client_a.get(f"/admin/audit?object={user_b.id}")
    assert page_a.status_code == 200
    html_a = page_a.get_data(as_text=True)
    assert "No entries match" in html_a and "user.read" not in html_a.split("<tbody>")[1]
    unfiltered = client_a.get("/admin/audit").get_data(as_text=True).split("<tbody>")[1]
    with owner_sessions() as s:
        name_b = s.execute(
            text("SELECT name FROM agency WHERE slug = :s"), {"s": agencies[AGENCY_B]}
        ).scalar_one()
    assert name_b not in unfiltered and admin_b.display_name not in unfiltered
    html_b = client_b.get(f"/admin/audit?object={user_b.id}").get_data(as_text=True)
    assert "user.read" in html_b.split("<tbody>")[1]
    system = sign_in(app, account("social_care", "system_admin"))
    html_s = system.get(f"/admin/audit?object={user_b.id}").get_data(as_text=True)
    assert "user.read" in html_s.split("<tbody>")[1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-45", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-02&to=2026-02-01", "to"),
        ("object=not-a-uuid", "object"),
        ("user=42", "user"),
        ("action=DROP TABLE", "action"),
    ],
)
def test_audit_bad_filters_are_400_beside_the_filter(
    app: Flask, account: Any, query: str, field: str
) -> None:
    client = sign_in(app, account(AGENCY_A, "agency_admin"))
    resp = client.get(f"/admin/audit?{query}")
    assert resp.status_code == 400
    assert field_error(resp.get_data(as_text=True), field)


def test_audit_filters_work_and_reading_is_audited_without_values(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin, worker = account(AGENCY_A, "agency_admin"), account(AGENCY_A, "practitioner")
    client = sign_in(app, admin)
    client.get(f"/admin/users/{worker.id}")
    resp = client.get(
        f"/admin/audit?user={admin.id}&action=user.read&from=2000-01-01&to=2999-12-31"
        f"&object={worker.id}"
    )
    assert resp.status_code == 200
    rows = resp.get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1 and "user.read" in rows and str(worker.id)[:8] in rows
    object_ids, subject, details, _ = last_audit(owner_conn, admin.id, "audit.read")
    assert details["filters"] == ["user", "action", "from", "to", "object"]
    assert details["page"] == 1 and subject == admin.agency_id
    assert str(worker.id) not in str(details) and "2000-01-01" not in str(details)
    assert len(object_ids) == 1
    none = client.get("/admin/audit?from=1999-01-01&to=1999-01-02")
    assert "No entries match" in none.get_data(as_text=True)


def test_audit_pages(app: Flask, account: Any) -> None:
    admin = account("social_care", "system_admin")
    client = sign_in(app, admin)
    target = account(AGENCY_A, "practitioner")
    for _ in range(51):  # more entries of the admin's own than a page holds
        assert client.get(f"/admin/users/{target.id}").status_code == 200
    own = f"/admin/audit?user={admin.id}"
    first = client.get(own).get_data(as_text=True)
    assert first.split("<tbody>")[1].count("<tr>") == 50
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get(f"{own}&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and second.split("<tbody>")[1].count("<tr>") >= 1
    assert client.get("/admin/audit?page=0").status_code == 400


# -- who may reach the pages at all --------------------------------------------------------

ADMIN_GETS = ["/admin/users", "/admin/agencies", "/admin/panels", "/admin/boundary-sets",
              "/admin/audit"]  # fmt: skip


def test_practitioner_gets_403_on_every_admin_page(app: Flask, account: Any) -> None:
    target = account(AGENCY_A, "analyst")
    client = sign_in(app, account(AGENCY_A, "practitioner"))
    gets = [*ADMIN_GETS, f"/admin/users/{target.id}"]
    posts = [
        "/admin/users",
        "/admin/agencies",
        "/admin/panels",
        f"/admin/panels/{uuid.uuid4()}",
        "/admin/boundary-sets/wards",
        f"/admin/users/{target.id}/disable",
        f"/admin/users/{target.id}/enable",
        f"/admin/users/{target.id}/reset-second-factor",
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert post(client, url, {"name": "x"}).status_code == 403, url


def test_signed_out_is_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ADMIN_GETS:
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_post_without_csrf_token_is_400(
    app: Flask, account: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    admin, worker = account(AGENCY_A, "agency_admin"), account(AGENCY_A, "practitioner")
    client = sign_in(app, admin)
    form = new_user_form()
    assert client.post("/admin/users", data=form).status_code == 400
    assert user_row(owner_conn, form["email"]) is None
    assert client.post(f"/admin/users/{worker.id}/disable").status_code == 400
    assert user_row(owner_conn, worker.email)[3] is True


def test_pages_have_no_inline_script_or_style(app: Flask, account: Any) -> None:
    client = sign_in(app, account("social_care", "system_admin"))
    for url in ADMIN_GETS:
        html = client.get(url).get_data(as_text=True)
        assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert re.search(r'class="table-wrap" tabindex="0"[^>]*aria-label=', html), url
