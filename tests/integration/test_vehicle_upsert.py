"""One vehicle per mark per agency (issue 16, finding 3): twenty concurrent creates of one new
mark make one row and answer the same vehicle; migration 0011 merges the duplicates the race
left behind, keeping every sighting, notice and version, and then makes them impossible."""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from spatial.cells import cell_keys
from tests.conftest import pg_url
from webmap.config import Settings
from webmap.infra import db

WRITERS = 20
ROUNDS = 5


def _new_mark() -> str:
    letters = "".join(re.findall(r"[A-Z]", uuid.uuid4().hex.upper()))[:3].ljust(3, "X")
    return f"RC{uuid.uuid4().int % 90 + 10} {letters}"


def _clients(app: Flask, make_user: Any, sign_in: Any, n: int) -> tuple[list[Any], str]:
    """``n`` test clients sharing one signed-in session (sign-in is slow; the race is not)."""
    first = sign_in(app.test_client(), make_user("police", "practitioner"))
    html = first.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    cookie = first.get_cookie("csmap")
    clients = [first]
    for _ in range(n - 1):
        other = app.test_client()
        other.set_cookie("csmap", cookie.value)
        clients.append(other)
    return clients, token


def _race(clients: list[Any], token: str, url: str, body: dict[str, Any]) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = clients[i].post(url, json=body, headers={"X-CSRFToken": token})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def _live_rows(owner_session_factory: Any, mark: str) -> int:
    with owner_session_factory() as s:
        return int(
            s.execute(
                text(
                    "SELECT count(*) FROM vehicle v JOIN agency a ON a.id = v.agency_id"
                    " WHERE a.slug = 'police' AND v.registration_mark = :m"
                    " AND v.deleted_at IS NULL"
                ),
                {"m": mark},
            ).scalar_one()
        )


def test_twenty_concurrent_creates_of_one_mark_make_one_vehicle(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    clients, token = _clients(app, make_user, sign_in, WRITERS)
    for _ in range(ROUNDS):  # a race is a matter of chance: give it several
        mark = _new_mark()
        answers = _race(clients, token, "/api/v1/vehicles", {"registration_mark": mark})
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] * WRITERS, statuses
        assert len({a.get_json()["id"] for a in answers}) == 1
        assert _live_rows(owner_session_factory, mark) == 1
    # The mark keeps working afterwards (before the fix it answered 500 for ever).
    again = clients[0].post(
        "/api/v1/vehicles", json={"registration_mark": mark}, headers={"X-CSRFToken": token}
    )
    assert again.status_code == 201 and again.get_json()["id"] == answers[0].get_json()["id"]


def test_concurrent_sightings_of_one_new_mark_share_one_vehicle(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> None:
    clients, token = _clients(app, make_user, sign_in, 6)
    mark = _new_mark()
    body = {
        "occurred_at": "2026-10-20T18:30:00Z",
        "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
        "vehicle": {"registration_mark": mark},
    }
    answers = _race(clients, token, "/api/v1/sightings", body)
    assert sorted(a.status_code for a in answers) == [201] * 6
    assert len({a.get_json()["properties"]["vehicle_id"] for a in answers}) == 1
    assert _live_rows(owner_session_factory, mark) == 1


# -- migration 0011 merges what the race left behind ------------------------------------------


def _duplicates_at_0010(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Two agencies; the first holds three live rows of one mark (with sightings, versions and
    match rows on each), one deleted row of it, and another mark once."""
    agencies = [
        conn.execute(
            "INSERT INTO agency (slug, name, kind) VALUES (%s, %s, 'police') RETURNING id",
            (f"ag-{i}-{uuid.uuid4().hex[:6]}", f"Agency {i} {uuid.uuid4().hex[:6]}"),
        ).fetchone()[0]  # type: ignore[index]
        for i in range(2)
    ]
    user = conn.execute(
        "INSERT INTO app_user (agency_id, email, display_name, role, password_hash)"
        " VALUES (%s, %s, 'U', 'practitioner', 'x') RETURNING id",
        (agencies[1], f"u{uuid.uuid4().hex[:8]}@example.test"),
    ).fetchone()[0]  # type: ignore[index]
    dup = b"d" * 32
    ids = []
    for n, (mark_hmac, deleted) in enumerate(
        [(dup, False), (dup, False), (dup, False), (dup, True), (b"o" * 32, False)]
    ):
        vid = conn.execute(
            "INSERT INTO vehicle (agency_id, registration_mark, registration_normalised,"
            " mark_hmac, make, created_at, deleted_at) VALUES (%s, 'WR12 ABC', 'WR12ABC', %s,"
            " %s, now() - make_interval(days => %s), CASE WHEN %s THEN now() END) RETURNING id",
            (agencies[0], mark_hmac, f"make{n}", 10 - n, deleted),
        ).fetchone()[0]  # type: ignore[index]
        ids.append(vid)
        conn.execute(
            "INSERT INTO record_version (object_type, object_id, agency_id, version, action)"
            " VALUES ('vehicle', %s, %s, 1, 'created')",
            (vid, agencies[0]),
        )
        for _ in range(2):
            conn.execute(
                "INSERT INTO observation (agency_id, occurred_at, geom, category, vehicle_id,"
                " cell_r7, cell_r8, cell_r9) VALUES (%s, now(),"
                " ST_SetSRID(ST_MakePoint(1.2, 54.6), 4326), 'vehicle_of_interest', %s,"
                " %s, %s, %s)",
                (
                    agencies[0],
                    vid,
                    *(int(k[0]) for _, k in sorted(cell_keys([1.2], [54.6]).items())),
                ),
            )
        conn.execute(
            "INSERT INTO vehicle_match_notice (agency_id, vehicle_id, from_agency_id,"
            " from_user_id, from_agency_name, from_user_name, from_role)"
            " VALUES (%s, %s, %s, %s, 'B', 'U', 'practitioner')",
            (agencies[0], vid, agencies[1], user),
        )
    return {"agency": agencies[0], "ids": ids}


def test_migration_0011_merges_duplicates_keeping_sightings_and_history(
    fresh_database: Any, settings: Settings
) -> None:
    owner_url, _ = fresh_database("csmap_vehicle_merge")
    db.upgrade(settings, "0010", url=owner_url)
    with psycopg.connect(pg_url(owner_url)) as conn:
        made = _duplicates_at_0010(conn)
        conn.commit()
    db.upgrade(settings, "0011", url=owner_url)
    keep, merged, deleted, other = made["ids"][0], made["ids"][1:3], made["ids"][3], made["ids"][4]
    with psycopg.connect(pg_url(owner_url)) as conn:
        live = conn.execute(
            "SELECT id FROM vehicle WHERE agency_id = %s AND mark_hmac = %s AND deleted_at IS NULL",
            (made["agency"], b"d" * 32),
        ).fetchall()
        assert [r[0] for r in live] == [keep]  # the oldest record is kept
        sightings = dict(
            conn.execute(
                "SELECT vehicle_id, count(*) FROM observation GROUP BY vehicle_id"
            ).fetchall()
        )
        assert sightings == {keep: 6, deleted: 2, other: 2}  # none lost, none moved wrongly
        notices = dict(
            conn.execute(
                "SELECT vehicle_id, count(*) FROM vehicle_match_notice GROUP BY vehicle_id"
            ).fetchall()
        )
        assert notices == {keep: 3, deleted: 1, other: 1}
        for vid in merged:  # kept, soft-deleted, saying where they went, history intact
            row = conn.execute(
                "SELECT deleted_at IS NOT NULL, deleted_reason FROM vehicle WHERE id = %s", (vid,)
            ).fetchone()
            assert row is not None and row[0] and str(keep) in row[1]
            versions = conn.execute(
                "SELECT action FROM record_version WHERE object_id = %s ORDER BY version", (vid,)
            ).fetchall()
            assert [v[0] for v in versions] == ["created", "merged"]
        kept = conn.execute(
            "SELECT action FROM record_version WHERE object_id = %s ORDER BY version", (keep,)
        ).fetchall()
        assert [v[0] for v in kept] == ["created", "merged"]
        assert conn.execute("SELECT version FROM vehicle WHERE id = %s", (keep,)).fetchone() == (2,)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO vehicle (agency_id, registration_mark, registration_normalised,"
                " mark_hmac) VALUES (%s, 'WR12 ABC', 'WR12ABC', %s)",
                (made["agency"], b"d" * 32),
            )
    db.downgrade(settings, "0010", url=owner_url)
    db.upgrade(settings, "head", url=owner_url)
