"""Signing in and out: passwords, the second factor, throttling, timeouts, CSRF."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import TestUser, csrf_from
from tests.factories import client_address
from webmap import create_app


def _client(app: Flask) -> FlaskClient:
    # Each test its own client address, so the per-address throttle of one test never
    # spills into another (the address is only a value in the WSGI environ).
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = client_address(10)
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


def _age_session(owner_session_factory: Any, user: TestUser, column: str, age: str) -> None:
    with owner_session_factory() as s:
        s.execute(
            text(
                f"UPDATE user_session SET {column} = now() - CAST(:age AS interval)"
                " WHERE user_id = :u"
            ),
            {"age": age, "u": user.id},
        )
        s.commit()


def test_idle_and_absolute_timeouts_are_enforced_on_the_server(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    for column, age in (("last_seen_at", "31 minutes"), ("created_at", "13 hours")):
        user = make_user("police", "analyst")
        client = sign_in(_client(app), user)
        assert _signed_in(client)
        _age_session(owner_session_factory, user, column, age)
        resp = client.get("/")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        assert not _signed_in(client)
    user = make_user("police", "analyst")
    client = sign_in(_client(app), user)
    _age_session(owner_session_factory, user, "last_seen_at", "31 minutes")
    api = client.get("/api/v1/observations")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "session_expired"


def test_the_cookie_cannot_extend_a_session(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    """Timeouts live in the database: whatever a client puts in its cookie changes nothing."""
    user = make_user("police", "analyst")
    client = sign_in(_client(app), user)
    _age_session(owner_session_factory, user, "last_seen_at", "31 minutes")
    with client.session_transaction() as sess:
        sess["seen_at"] = sess["login_at"] = int(time.time())
    assert client.get("/api/v1/observations").status_code == 401


def test_disabling_a_user_ends_their_session(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("education", "practitioner")
    client = sign_in(_client(app), user)
    assert _signed_in(client)
    from webmap.features.admin.users import set_active

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


# -- the second factor cannot be replaced by enrolling again (issue 11, finding 1) ----------


def _attacker_enrols(client: FlaskClient) -> tuple[str, Any]:
    """Try to enrol an authenticator of the attacker's choosing; returns (secret, answer)."""
    secret = pyotp.random_base32()
    with client.session_transaction() as sess:
        sess["enrol_secret"] = secret  # whatever the page would offer, the attacker's own
    page = client.get("/login")
    if page.status_code == 302:  # signed in: take the token from a signed-in page
        page = client.get("/")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    return secret, resp


def _stored_secret(owner_session_factory: Any, user: TestUser) -> str | None:
    with owner_session_factory() as s:
        return s.execute(
            text("SELECT totp_secret FROM app_user WHERE id = :id"), {"id": user.id}
        ).scalar_one()  # type: ignore[no-any-return]


def test_enrolment_after_the_password_alone_cannot_replace_a_factor(
    app: Flask, make_user: Any, owner_session_factory: Any
) -> None:
    user: TestUser = make_user("police", "analyst")
    client = _client(app)
    assert _post_password(client, user.email, user.password).status_code == 302
    assert client.get("/login/enrol").status_code == 403  # no new secret is even offered
    _, resp = _attacker_enrols(client)
    assert resp.status_code == 403
    assert not _signed_in(client)
    assert _stored_secret(owner_session_factory, user) == user.totp_secret
    # The real factor still works.
    assert _post_password(client, user.email, user.password).status_code == 302
    assert _post_code(client, pyotp.TOTP(user.totp_secret).now()).status_code == 302
    assert _signed_in(client)


def test_a_signed_in_user_cannot_replace_their_factor_by_enrolling(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user: TestUser = make_user("police", "practitioner")
    client = sign_in(_client(app), user)
    _, resp = _attacker_enrols(client)
    assert resp.status_code == 403
    assert _stored_secret(owner_session_factory, user) == user.totp_secret
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, user)  # the old secret still signs in
    assert _signed_in(client)


def test_the_database_refuses_to_replace_a_factor(
    app_conn: Any, make_user: Any, owner_session_factory: Any
) -> None:
    import psycopg

    user: TestUser = make_user("police", "analyst")
    app_conn.execute("SELECT set_config('csmap.user_id', %s, true)", (str(user.id),))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_conn.execute("SELECT csmap_self_set_totp(%s, %s)", ("A" * 32, []))
    app_conn.rollback()
    assert _stored_secret(owner_session_factory, user) == user.totp_secret


# -- next= takes a same-origin path only (issue 11, finding 5) -------------------------------

BAD_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/foo\nSet-Cookie: x=1",
    "/\\evil.example",
    "\\\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "/%09/evil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "evil.example",
]


@pytest.fixture(scope="module")
def demo_app(test_db: dict[str, str]) -> Flask:
    # Demo mode signs in after the password alone: each case is one request.
    return create_app({"mode": "demo", "database_url": test_db["app"]})


def _sign_in_with_next(app: Flask, user: TestUser, next_value: str) -> Any:
    client = _client(app)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={
            "email": user.email,
            "password": user.password,
            "next": next_value,
            "csrf_token": token,
        },
    )


@pytest.mark.parametrize("bad", BAD_NEXT)
def test_next_never_leaves_the_site(demo_app: Flask, make_user: Any, bad: str) -> None:
    user = make_user("vcse", "practitioner", totp=False)
    resp = _sign_in_with_next(demo_app, user, bad)
    assert resp.status_code == 302, resp.status_code
    assert resp.headers["Location"] == "/", resp.headers["Location"]


def test_next_keeps_a_same_site_path(demo_app: Flask, make_user: Any) -> None:
    user = make_user("vcse", "practitioner", totp=False)
    resp = _sign_in_with_next(demo_app, user, "/records?kind=observation")
    assert resp.status_code == 302 and resp.headers["Location"] == "/records?kind=observation"


def test_next_with_a_newline_in_the_query_string_is_not_a_500(demo_app: Flask) -> None:
    resp = _client(demo_app).get("/login?next=/%0d%0aSet-Cookie:%20x=1")
    assert resp.status_code == 200
