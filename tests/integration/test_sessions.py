"""Server-side sessions: signing out, ending a session elsewhere, an admin ending a user's
sessions, and account changes all end sessions in the database, whatever a client kept."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import TestUser, csrf_from
from tests.factories import client_address

COOKIE = "csmap"  # the session cookie's name outside production


def _client(app: Flask) -> FlaskClient:
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = client_address(11)
    return c


def _token(client: FlaskClient, page: str = "/") -> str:
    return csrf_from(client.get(page).get_data(as_text=True))


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str, address: str) -> FlaskClient:
    """A fresh client presenting a copy of a captured session cookie (an attacker keeps the
    copy, whatever a server answer asks the browser to store instead), from the victim's
    address and browser (say a shared computer), so Flask-Login's "strong" session
    protection, which is keyed on those, does not stop it on its own."""
    thief = app.test_client()
    thief.environ_base["REMOTE_ADDR"] = address
    thief.set_cookie(COOKIE, cookie)
    return thief


def _last_ended(owner_session_factory: Any, object_id: str) -> Any:
    """The newest ``session.ended`` audit entry naming ``object_id``."""
    with owner_session_factory() as s:
        return s.execute(
            text(
                "SELECT user_id, details FROM audit_log WHERE action = 'session.ended'"
                " AND :o = ANY(object_ids) ORDER BY id DESC LIMIT 1"
            ),
            {"o": object_id},
        ).one()


def _live_rows(owner_session_factory: Any, user_id: uuid.UUID) -> int:
    with owner_session_factory() as s:
        return int(
            s.execute(
                text("SELECT count(*) FROM user_session WHERE user_id = :u AND revoked_at IS NULL"),
                {"u": user_id},
            ).scalar_one()
        )


def _end_all(admin: FlaskClient, user_id: uuid.UUID) -> int:
    """An admin presses "End all sessions" for ``user_id``; the answer's status."""
    resp = admin.post(f"/admin/users/{user_id}/end-sessions", data={"csrf_token": _token(admin)})
    return resp.status_code


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def _sessions_page(client: FlaskClient) -> tuple[str, list[str], str | None]:
    page = client.get("/account/sessions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ids = re.findall(r'<tr data-session="([0-9a-f-]{36})"', html)
    current = re.findall(r'<tr data-session="([0-9a-f-]{36})" data-this-device', html)
    return html, ids, current[0] if current else None


def test_a_cookie_copied_before_sign_out_is_dead_after_it(
    app: Flask, make_user: Any, sign_in: Any
) -> None:
    user = make_user("police", "practitioner")
    client = sign_in(_client(app), user)
    token = _token(client)
    captured = _cookie(client)
    assert (
        _replay(app, captured, client.environ_base["REMOTE_ADDR"])
        .get("/api/v1/observations")
        .status_code
        == 200
    )  # for now
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    # Reads: 401 on the API, back to the sign-in page on pages.
    assert (
        _replay(app, captured, client.environ_base["REMOTE_ADDR"])
        .get("/api/v1/observations")
        .status_code
        == 401
    )
    page = _replay(app, captured, client.environ_base["REMOTE_ADDR"]).get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    # Writes: refused too, CSRF token and all (the copy carries the CSRF secret).
    body = {
        "occurred_at": "2026-10-20T18:30:00Z",
        "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
        "category": "weapon_found",
    }
    write = _replay(app, captured, client.environ_base["REMOTE_ADDR"]).post(
        "/api/v1/observations", json=body, headers={"X-CSRFToken": token}
    )
    assert write.status_code == 401


def test_the_session_row_holds_a_hash_of_the_token_never_the_token(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "analyst")
    client = sign_in(_client(app), user)
    with client.session_transaction() as sess:
        token = sess["_user_id"]
    assert str(user.id) not in token  # the cookie names a session, not a user
    with owner_session_factory() as s:
        rows = (
            s.execute(text("SELECT * FROM user_session WHERE user_id = :u"), {"u": user.id})
            .mappings()
            .all()
        )
    assert len(rows) == 1
    assert rows[0]["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(dict(rows[0]))
    assert rows[0]["revoked_at"] is None


def test_ending_a_session_from_the_sessions_page_ends_the_other_client(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("health", "analyst")
    laptop = sign_in(_client(app), user)
    phone = sign_in(_client(app), user)
    html, ids, current = _sessions_page(laptop)
    assert "Your sessions" in html
    assert len(ids) == 2 and current is not None
    other = next(i for i in ids if i != current)
    resp = laptop.post(
        "/account/sessions/end",
        data={"session_id": other, "csrf_token": _token(laptop, "/account/sessions")},
    )
    assert resp.status_code == 302
    assert phone.get("/api/v1/observations").status_code == 401
    assert laptop.get("/api/v1/observations").status_code == 200
    _, ids_after, _ = _sessions_page(laptop)
    assert ids_after == [current]
    entry = _last_ended(owner_session_factory, other)
    assert entry.user_id == user.id and entry.details["via"] == "account"


def test_a_user_cannot_end_someone_elses_session(app: Flask, make_user: Any, sign_in: Any) -> None:
    victim = sign_in(_client(app), make_user("police", "analyst"))
    _, victim_ids, _ = _sessions_page(victim)
    attacker = sign_in(_client(app), make_user("police", "analyst"))
    for session_id in (victim_ids[0], str(uuid.uuid4()), "not-a-uuid"):
        resp = attacker.post(
            "/account/sessions/end",
            data={"session_id": session_id, "csrf_token": _token(attacker, "/account/sessions")},
        )
        assert resp.status_code in {400, 404}, session_id
    assert victim.get("/api/v1/observations").status_code == 200


def test_ending_this_device_signs_out(app: Flask, make_user: Any, sign_in: Any) -> None:
    client = sign_in(_client(app), make_user("police", "analyst"))
    _, _, current = _sessions_page(client)
    resp = client.post(
        "/account/sessions/end",
        data={"session_id": current, "csrf_token": _token(client, "/account/sessions")},
    )
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert not _signed_in(client)


def test_an_agency_admin_ends_all_sessions_of_a_user(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "practitioner")
    first, second = sign_in(_client(app), user), sign_in(_client(app), user)
    admin = sign_in(_client(app), make_user("police", "agency_admin"))
    assert "End all sessions" in admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert _end_all(admin, user.id) == 302
    for client in (first, second):
        assert client.get("/api/v1/observations").status_code == 401
    assert admin.get("/admin/users").status_code == 200  # the admin's own session lives on
    entry = _last_ended(owner_session_factory, str(user.id))
    assert entry.details == {"count": 2, "via": "admin"}
    assert _live_rows(owner_session_factory, user.id) == 0


def test_a_system_admin_ends_sessions_but_another_agencys_admin_cannot(
    app: Flask, make_user: Any, sign_in: Any
) -> None:
    user = make_user("social_care", "analyst")
    client = sign_in(_client(app), user)
    outsider = sign_in(_client(app), make_user("police", "agency_admin"))
    assert _end_all(outsider, user.id) == 404
    assert client.get("/api/v1/observations").status_code == 200
    sysadmin = sign_in(_client(app), make_user("police", "system_admin"))
    assert _end_all(sysadmin, user.id) == 302
    assert client.get("/api/v1/observations").status_code == 401


def test_password_and_second_factor_resets_end_every_session(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    from webmap.features.admin.users import reset_second_factor, set_password

    for change in (
        lambda s, u: set_password(s, u.id, "a brand new password " + uuid.uuid4().hex[:6]),
        lambda s, u: reset_second_factor(s, u.id),
    ):
        user: TestUser = make_user("police", "analyst")
        client = sign_in(_client(app), user)
        with owner_session_factory() as s:
            change(s, user)
            s.commit()
        assert client.get("/api/v1/observations").status_code == 401
        assert _live_rows(owner_session_factory, user.id) == 0


def test_sessions_are_private_to_their_user_under_rls(
    app: Flask, make_user: Any, sign_in: Any, app_conn: Any
) -> None:
    user = make_user("police", "analyst")
    sign_in(_client(app), user)
    other = make_user("police", "analyst")
    for who, expected in ((user, 1), (other, 0)):
        with app_conn.transaction(force_rollback=True):
            app_conn.execute(
                "SELECT set_config('csmap.user_id', %s, true),"
                " set_config('csmap.agency_id', %s, true),"
                " set_config('csmap.role', 'analyst', true)",
                (str(who.id), str(who.agency_id)),
            )
            seen = app_conn.execute(
                "SELECT count(*) FROM user_session WHERE user_id = %s", (str(user.id),)
            ).fetchone()[0]
        assert seen == expected
