"""Signing in and out: passwords, the second factor, throttling, timeouts, CSRF."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import TestUser, csrf_from
from webmap import create_app


def _client(app: Flask) -> FlaskClient:
    # Each test its own client address, so the per-address throttle of one test never
    # spills into another (the address is only a value in the WSGI environ).
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return c


def _post_password(client: FlaskClient, email: str, password: str) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _post_code(client: FlaskClient, code: str) -> Any:
    token = csrf_from(client.get("/login/code").get_data(as_text=True))
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def _message(resp: Any) -> str:
    found = re.search(
        r'class="flash flash-error" role="alert">([^<]+)<', resp.get_data(as_text=True)
    )
    return found.group(1) if found else ""


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_wrong_password_and_unknown_account_read_the_same(app: Flask, make_user: Any) -> None:
    user = make_user("police", "analyst")
    client = _client(app)
    wrong = _post_password(client, user.email, "not the password at all")
    unknown = _post_password(client, "nobody@nowhere.example", "whatever it is")
    assert wrong.status_code == unknown.status_code == 401
    assert _message(wrong) == _message(unknown) == "E-mail or password not recognised."
    assert not _signed_in(client)


def test_password_then_totp_signs_in_and_logout_ends_it(app: Flask, make_user: Any) -> None:
    user = make_user("police", "practitioner")
    client = _client(app)
    resp = _post_password(client, user.email, user.password)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/code")
    assert not _signed_in(client)  # a right password alone is not enough
    assert _post_code(client, pyotp.TOTP(user.totp_secret).now()).status_code == 302
    assert _signed_in(client)
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _signed_in(client)


def test_wrong_and_replayed_totp_codes_fail(app: Flask, make_user: Any) -> None:
    user: TestUser = make_user("police", "analyst")
    totp = pyotp.TOTP(user.totp_secret)
    client = _client(app)
    _post_password(client, user.email, user.password)
    wrong = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    resp = _post_code(client, wrong)
    assert resp.status_code == 401 and "not right" in resp.get_data(as_text=True)
    code = totp.now()
    assert _post_code(client, code).status_code == 302
    # Sign out and in again: the same code must not work twice.
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    _post_password(client, user.email, user.password)
    replay = _post_code(client, code)
    assert replay.status_code == 401 and "already been used" in replay.get_data(as_text=True)
    assert not _signed_in(client)


def test_burst_of_failures_is_throttled_with_429(app: Flask, make_user: Any) -> None:
    user = make_user("health", "analyst")
    client = _client(app)
    statuses = [_post_password(client, user.email, f"wrong {i}").status_code for i in range(5)]
    assert statuses == [401] * 5
    locked = _post_password(client, user.email, user.password)  # even the right password
    assert locked.status_code == 429
    assert "Too many attempts" in locked.get_data(as_text=True)
    # The same answer for an account that does not exist: no enumeration through throttling.
    ghost = "ghost@nowhere.example"
    for i in range(5):
        _post_password(client, ghost, f"wrong {i}")
    assert _post_password(client, ghost, "wrong again").status_code == 429


def test_idle_and_absolute_timeouts(app: Flask, make_user: Any, sign_in: Any) -> None:
    for key, age in (("seen_at", 31 * 60), ("login_at", 13 * 3600)):
        client = sign_in(_client(app), make_user("police", "analyst"))
        assert _signed_in(client)
        with client.session_transaction() as sess:
            sess[key] = int(time.time()) - age
        resp = client.get("/")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        assert not _signed_in(client)
    client = sign_in(_client(app), make_user("police", "analyst"))
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 31 * 60
    api = client.get("/api/v1/observations")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "session_expired"


def test_disabling_a_user_ends_their_session(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("education", "practitioner")
    client = sign_in(_client(app), user)
    assert _signed_in(client)
    from webmap.services.users import set_active

    with owner_session_factory() as s:
        set_active(s, user.id, False)
        s.commit()
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # And they cannot sign in again: the answer is the generic one.
    again = _post_password(_client(app), user.email, user.password)
    assert again.status_code == 401 and _message(again) == "E-mail or password not recognised."


def test_post_without_csrf_token_is_400(app: Flask, make_user: Any, sign_in: Any) -> None:
    client = sign_in(_client(app), make_user("police", "analyst"))
    resp = client.post("/logout")
    assert resp.status_code == 400
    assert _signed_in(client)  # nothing happened
    no_token_login = _client(app).post("/login", data={"email": "a@b.example", "password": "x"})
    assert no_token_login.status_code == 400


def test_outside_demo_mode_a_second_factor_must_be_enrolled(app: Flask, make_user: Any) -> None:
    user = make_user("vcse", "trainer", totp=False)
    client = _client(app)
    resp = _post_password(client, user.email, user.password)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/enrol")
    assert not _signed_in(client)
    page = client.get("/login/enrol").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # QR rendered here, not by a web service
    secret = re.search(r'class="totp-key">([A-Z2-7]+)<', page).group(1)  # type: ignore[union-attr]
    token = csrf_from(page)
    resp = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert resp.status_code == 302
    codes_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", codes_page)
    assert len(codes) == 10
    assert _signed_in(client)
    # A recovery code works once.
    for expected in (302, 401):
        token = csrf_from(client.get("/").get_data(as_text=True))
        client.post("/logout", data={"csrf_token": token})
        _post_password(client, user.email, user.password)
        assert _post_code(client, codes[0]).status_code == expected


def test_demo_mode_lets_demo_users_skip_the_second_factor(
    test_db: dict[str, str], make_user: Any
) -> None:
    demo = create_app({"mode": "demo", "database_url": test_db["app"]})
    user = make_user("vcse", "practitioner", totp=False)
    client = _client(demo)
    resp = _post_password(client, user.email, user.password)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    assert _signed_in(client)


def test_login_is_audited_without_personal_data(
    app: Flask, make_user: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "analyst")
    client = _client(app)
    _post_password(client, user.email, "a wrong password")
    with owner_session_factory() as s:
        rows = s.execute(
            text(
                "SELECT action, details::text, object_ids FROM audit_log"
                " WHERE :id = ANY(object_ids) ORDER BY id"
            ),
            {"id": str(user.id)},
        ).all()
    assert rows and rows[-1][0] == "login.failed"
    dump = repr(rows)
    assert user.email not in dump and "a wrong password" not in dump
