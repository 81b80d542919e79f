"""Refused access (401, 403, 404 on object routes) is audited, with a cap per actor and
minute kept in the database, so probing is visible but cannot flood the trail."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.factories import client_address
from webmap.infra.audit import REFUSALS_PER_MINUTE


def _client(app: Flask) -> FlaskClient:
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = client_address(12)  # the anonymous cap is per address
    return c


def _refusals(owner_session_factory: Any, where: str, params: dict[str, Any]) -> list[Any]:
    with owner_session_factory() as s:
        return list(
            s.execute(
                text(
                    "SELECT action, user_id, agency_id, object_ids, details FROM audit_log"
                    f" WHERE action LIKE 'access.refused%%' AND {where} ORDER BY id"
                ),
                params,
            ).all()
        )


def _newest_entry(owner_session_factory: Any) -> int:
    with owner_session_factory() as s:
        return int(s.execute(text("SELECT max(id) FROM audit_log")).scalar_one())


def _anonymous_refusal(owner_session_factory: Any, after: int, route: str) -> Any:
    """The one anonymous refusal on ``route`` audited since entry ``after``."""
    with owner_session_factory() as s:
        return s.execute(
            text(
                "SELECT user_id, details, details::text AS text, object_ids FROM audit_log"
                " WHERE action = 'access.refused' AND id > :after AND user_id IS NULL"
                " AND details->>'route' = :route"
            ),
            {"after": after, "route": route},
        ).one()


def _wait_for_a_fresh_minute() -> None:
    """The cap is per clock minute: start a burst early in one, so it stays inside it."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_a_404_on_an_object_route_is_audited_with_the_route_pattern(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "analyst")
    client = sign_in(_client(app), user)
    missing = uuid.uuid4()
    assert client.get(f"/api/v1/observations/{missing}").status_code == 404
    rows = _refusals(owner_session_factory, "user_id = :u", {"u": user.id})
    assert len(rows) == 1
    action, user_id, agency_id, _ids, details = rows[0]
    assert action == "access.refused" and user_id == user.id and agency_id == user.agency_id
    assert details == {"route": "/api/v1/observations/<observation_id>", "status": 404}
    assert str(missing) not in repr(rows)  # the pattern, never the path


def test_403_and_anonymous_401_are_audited(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    trainer = make_user("police", "trainer")
    client = sign_in(_client(app), trainer)
    assert client.get("/api/v1/observations").status_code == 403  # no observation.read
    rows = _refusals(owner_session_factory, "user_id = :u", {"u": trainer.id})
    assert [r.details for r in rows] == [{"route": "/api/v1/observations", "status": 403}]
    marker = str(uuid.uuid4())
    anonymous = _client(app)
    after = _newest_entry(owner_session_factory)
    assert anonymous.get(f"/api/v1/observations/{marker}").status_code == 401
    route = "/api/v1/observations/<observation_id>"
    entry = _anonymous_refusal(owner_session_factory, after, route)
    assert entry.details == {"route": route, "status": 401}
    assert marker not in entry.text


def test_a_bad_signed_link_is_audited_without_its_token(
    app: Flask, owner_session_factory: Any
) -> None:
    token = "SENTINEL-LINK-" + uuid.uuid4().hex
    client = _client(app)
    after = _newest_entry(owner_session_factory)
    assert client.get(f"/s/{token}").status_code == 404
    entry = _anonymous_refusal(owner_session_factory, after, "/s/<token>")
    assert entry.details == {"route": "/s/<token>", "status": 404}
    assert token not in repr(entry)


def test_a_burst_of_refusals_writes_at_most_the_cap_plus_one(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "practitioner")
    client = sign_in(_client(app), user)
    _wait_for_a_fresh_minute()
    for _ in range(200):
        assert client.get(f"/api/v1/observations/{uuid.uuid4()}").status_code == 404
    rows = _refusals(owner_session_factory, "user_id = :u", {"u": user.id})
    assert len(rows) == REFUSALS_PER_MINUTE + 1
    assert [r.action for r in rows].count("access.refused.capped") == 1
    assert rows[-1].action == "access.refused.capped"
    assert rows[-1].details["count"] == REFUSALS_PER_MINUTE + 1


def test_the_anonymous_cap_is_per_client_address(app: Flask, owner_session_factory: Any) -> None:
    _wait_for_a_fresh_minute()
    before = _newest_entry(owner_session_factory)
    prober = _client(app)
    for _ in range(REFUSALS_PER_MINUTE * 3):
        assert prober.get(f"/api/v1/contexts/{uuid.uuid4()}").status_code == 401
    rows = _refusals(
        owner_session_factory,
        "id > :before AND user_id IS NULL AND details->>'route' = '/api/v1/contexts/<context_id>'",
        {"before": before},
    )
    # Another test may refuse an anonymous client meanwhile, but never on this route.
    assert len(rows) == REFUSALS_PER_MINUTE + 1
    # A different address is counted on its own.
    assert _client(app).get(f"/api/v1/contexts/{uuid.uuid4()}").status_code == 401
    rows = _refusals(
        owner_session_factory,
        "id > :before AND user_id IS NULL AND details->>'route' = '/api/v1/contexts/<context_id>'",
        {"before": before},
    )
    assert len(rows) == REFUSALS_PER_MINUTE + 2


def test_the_cap_state_lives_in_the_database(app_conn: Any) -> None:
    """Counted by a SECURITY DEFINER function, so every worker shares one count."""
    actor = "test:" + uuid.uuid4().hex
    counts = [
        app_conn.execute("SELECT csmap_note_refusal(%s)", (actor,)).fetchone()[0] for _ in range(3)
    ]
    assert counts == [1, 2, 3]
    app_conn.rollback()
