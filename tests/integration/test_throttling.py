"""Throttling slows a guesser but never locks the real user out: failures count per
(account, client address) pair with growing delays, plus a limit per address across accounts
(issue 11, finding 9)."""

from __future__ import annotations

import uuid
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.integration.test_login import _client, _post_code, _post_password, _signed_in


def _keys_for(app: Flask, email: str, client: FlaskClient) -> Any:
    from webmap.access import login as steps

    return steps.keys(app.extensions["csmap.settings"], email, client.environ_base["REMOTE_ADDR"])


def _plant_failures(
    owner_session_factory: Any, keys: Any, ages_seconds: list[float], client_key: str = ""
) -> None:
    """Failed attempts of (account, address), ``ages_seconds`` ago (as the owner: a test
    needs many failures without waiting out the real delays between them)."""
    with owner_session_factory() as s:
        for age in ages_seconds:
            s.execute(
                text(
                    "INSERT INTO login_attempt (account_key, client_key, at, succeeded)"
                    " VALUES (:a, :c, now() - make_interval(secs => :age), false)"
                ),
                {"a": keys.account, "c": client_key or keys.client, "age": age},
            )
        s.commit()


def test_a_guesser_is_slowed_but_the_real_user_elsewhere_is_not_locked_out(
    app: Flask, make_user: Any, owner_session_factory: Any
) -> None:
    user = make_user("health", "analyst")
    guesser = _client(app)
    # The first failures answer at once; then the pair (account, address) must wait.
    statuses = [_post_password(guesser, user.email, f"wrong {i}").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    # Many more failures from the guesser's address (planted: the delays are real time).
    _plant_failures(owner_session_factory, _keys_for(app, user.email, guesser), [1.0] * 10)
    locked = _post_password(guesser, user.email, user.password)  # even the right password
    assert locked.status_code == 429
    assert "Too many attempts" in locked.get_data(as_text=True)
    assert 1 <= int(locked.headers["Retry-After"]) <= 300
    # The real user, from another address, signs in at once with the right password.
    real = _client(app)
    resp = _post_password(real, user.email, user.password)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/code")
    assert _post_code(real, pyotp.TOTP(user.totp_secret).now()).status_code == 302
    assert _signed_in(real)


def test_the_delay_grows_with_each_failure_and_is_measured_from_the_last(
    app: Flask, make_user: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "practitioner")
    client = _client(app)
    keys = _keys_for(app, user.email, client)
    retry_after = []
    for failures in (3, 4, 6, 12):
        with owner_session_factory() as s:  # start each case from a clean slate
            s.execute(text("DELETE FROM login_attempt WHERE account_key = :a"), {"a": keys.account})
            s.commit()
        # The last failure just now, the earlier ones long ago (within the look-back).
        _plant_failures(owner_session_factory, keys, [3600.0] * (failures - 1) + [0.0])
        resp = _post_password(client, user.email, user.password)
        assert resp.status_code == 429, failures
        retry_after.append(int(resp.headers["Retry-After"]))
    assert retry_after == [1, 2, 8, 300]  # 1 s after 3 failures, doubling, at most 5 minutes
    # Once the delay since the last failure has passed, the right password works again.
    with owner_session_factory() as s:
        s.execute(
            text(
                "UPDATE login_attempt SET at = at - interval '301 seconds' WHERE account_key = :a"
            ),
            {"a": keys.account},
        )
        s.commit()
    assert _post_password(client, user.email, user.password).status_code == 302


def test_throttling_reads_the_same_for_an_account_that_does_not_exist(
    app: Flask, owner_session_factory: Any
) -> None:
    client = _client(app)
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@nowhere.example"
    statuses = [_post_password(client, ghost, f"wrong {i}").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    _plant_failures(owner_session_factory, _keys_for(app, ghost, client), [0.0])
    resp = _post_password(client, ghost, "wrong again")
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    assert "Too many attempts" in resp.get_data(as_text=True)


def test_one_address_guessing_many_accounts_is_limited(
    app: Flask, make_user: Any, owner_session_factory: Any
) -> None:
    from webmap.access import login as steps

    client = _client(app)
    keys = _keys_for(app, "someone@else.example", client)
    limit = steps.address_limit(app.extensions["csmap.settings"])
    # Failures against many different accounts from one address, none of them repeated.
    with owner_session_factory() as s:
        for i in range(limit):
            s.execute(
                text(
                    "INSERT INTO login_attempt (account_key, client_key, succeeded)"
                    " VALUES (:a, :c, false)"
                ),
                {"a": f"{i:064x}", "c": keys.client},
            )
        s.commit()
    user = make_user("police", "analyst")
    resp = _post_password(client, user.email, user.password)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    # The same account from another address is not affected.
    assert _post_password(_client(app), user.email, user.password).status_code == 302


def test_second_factor_guessing_is_throttled_too(app: Flask, make_user: Any) -> None:
    user = make_user("police", "analyst")
    client = _client(app)
    assert _post_password(client, user.email, user.password).status_code == 302
    statuses = []
    for _ in range(4):
        statuses.append(_post_code(client, "000000").status_code)
        if statuses[-1] == 429:
            break
        # A right password again does not wipe the failed codes from the record.
        _post_password(client, user.email, user.password)
    assert statuses == [401, 401, 401, 429]
