"""A hot standby of the private cluster (issue 17): PostgreSQL's own streaming replication.

A write on the primary is visible on the standby once it has caught up; row-level security
holds there exactly as on the primary; the app reads layers, tiles and lists from it (proved
by pausing replay: the app then shows what the standby has, except to the client that wrote,
whose reads stay on the primary until the standby has replayed its write); and a stopped
standby sends reads to the primary with one log line, never a 500.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from flask import Flask

from tests.conftest import RUN_ID, TestUser, pg_url, require
from tests.integration.test_recording_api import Api
from webmap import create_app
from webmap.config import Settings
from webmap.infra.cluster import Cluster
from webmap.infra.replica import Standby

SPOT = (1.2, 54.6)


@pytest.fixture(scope="module")
def standby(cluster: Cluster, settings: Settings, test_db: dict[str, str]) -> Iterator[Standby]:
    require((cluster.bindir() / "pg_basebackup").exists(), "pg_basebackup is not installed")
    s = Standby(
        settings, root=settings.var_dir / f"test-standby-{RUN_ID}", slot=f"csmap_test_{RUN_ID}"
    )
    s.up()
    yield s
    s.down(remove=True)
    shutil.rmtree(s.home, ignore_errors=True)


def _lsn(owner_url: str) -> str:
    with psycopg.connect(pg_url(owner_url), autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def _context(conn: psycopg.Connection[Any], agency: str, role: str = "analyst") -> None:
    conn.execute(
        "SELECT set_config('csmap.user_id', gen_random_uuid()::text, true),"
        " set_config('csmap.agency_id', %s, true), set_config('csmap.role', %s, true)",
        (agency, role),
    )


def test_a_write_on_the_primary_is_on_the_standby_after_catch_up(
    standby: Standby, test_db: dict[str, str]
) -> None:
    marker = f"replica-{RUN_ID}-{datetime.now(UTC).timestamp()}"
    with psycopg.connect(pg_url(test_db["owner"]), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO agency (slug, name, kind) VALUES (%s, %s, 'police')", (marker, marker)
        )
    assert standby.wait_for(_lsn(test_db["owner"]))
    with psycopg.connect(pg_url(standby.url(_dbname(test_db)))) as conn:
        _context(conn, "00000000-0000-0000-0000-000000000000")
        assert conn.execute("SELECT name FROM agency WHERE slug = %s", (marker,)).fetchone() == (
            marker,
        )
        # Read-only: nothing can be written there, whoever asks.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO agency (slug, name, kind) VALUES ('x', 'x', 'police')")


def _dbname(test_db: dict[str, str]) -> str:
    return test_db["app"].rsplit("/", 1)[1]


def test_row_level_security_holds_on_the_standby(standby: Standby, test_db: dict[str, str]) -> None:
    assert standby.wait_for(_lsn(test_db["owner"]))
    with psycopg.connect(pg_url(test_db["owner"])) as conn:
        police = conn.execute("SELECT id::text FROM agency WHERE slug = 'police'").fetchone()
    assert police is not None
    with psycopg.connect(pg_url(standby.url(_dbname(test_db)))) as conn:
        # No context, no rows.
        assert conn.execute("SELECT count(*) FROM observation").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM cell_month").fetchone() == (0,)
        conn.rollback()
        # A police analyst's context: police rows only, as on the primary.
        _context(conn, police[0])
        agencies = conn.execute("SELECT DISTINCT agency_id::text FROM observation").fetchall()
        assert agencies == [(police[0],)]
        conn.rollback()
        # A trainer may not read observations at all.
        _context(conn, police[0], "trainer")
        assert conn.execute("SELECT count(*) FROM observation").fetchone() == (0,)


@pytest.fixture
def read_app(standby: Standby, test_db: dict[str, str]) -> Flask:
    # One per test: an app that found the standby down keeps reading from the primary for a
    # while (by design), which must not carry over into the next test.
    return create_app(
        {
            "mode": "test",
            "database_url": test_db["app"],
            "read_database_url": standby.url(_dbname(test_db)),
        }
    )


def _api(app: Flask, make_user: Any, sign_in: Any, agency: str) -> Api:
    user: TestUser = make_user(agency, "analyst")
    return Api(sign_in(app.test_client(), user), user)


def _count(api: Api, month: str) -> int:
    doc = api("GET", f"/api/v1/layers/counts?res=8&from={month}&to={month}").get_json()
    return sum(f["properties"]["n"] for f in doc["features"])


def _observation(day: int) -> dict[str, Any]:
    return {
        "occurred_at": datetime(2026, 6, day, 20, tzinfo=UTC).isoformat(),
        "geometry": {"type": "Point", "coordinates": list(SPOT)},
        "category": "weapon_found",
    }


def test_layers_and_lists_read_from_the_standby_and_a_writer_reads_its_writes(
    standby: Standby,
    read_app: Flask,
    test_db: dict[str, str],
    make_agency: Any,
    make_user: Any,
    sign_in: Any,
) -> None:
    slug = make_agency("police", "Replica reads")
    writer = _api(read_app, make_user, sign_in, slug)
    reader = _api(read_app, make_user, sign_in, slug)
    assert _count(reader, "2026-06") == 0
    with standby.cluster().superuser_connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        made = writer("POST", "/api/v1/observations", _observation(3))
        assert made.status_code == 201, made.get_json()
        # The standby has not replayed it: the other reader (on the standby) does not see it
        # yet, in the layer, the tile or the list ...
        assert _count(reader, "2026-06") == 0
        listed = reader("GET", "/api/v1/observations?from=2026-06-01&to=2026-06-30")
        assert made.get_json()["id"] not in {f["id"] for f in listed.get_json()["features"]}
        # ... but the writer does: its reads stay on the primary until the standby has it.
        assert _count(writer, "2026-06") == 1
    finally:
        with standby.cluster().superuser_connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
    assert standby.wait_for(_lsn(test_db["owner"]))
    assert _count(reader, "2026-06") == 1


def test_a_stopped_standby_sends_reads_to_the_primary_never_a_500(
    standby: Standby,
    read_app: Flask,
    make_user: Any,
    sign_in: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = _api(read_app, make_user, sign_in, "police")
    standby.cluster().stop()
    try:
        with caplog.at_level(logging.WARNING, logger="webmap.infra.reads"):
            for path in (
                "/api/v1/layers/counts?res=8",
                "/api/v1/observations",
                "/tiles/counts/12/2061/1303.mvt",
            ):
                resp = api("GET", path)
                assert resp.status_code == 200, (path, resp.status_code)
        lines = [r.getMessage() for r in caplog.records if r.name == "webmap.infra.reads"]
        assert len(lines) == 1 and "read replica unreachable" in lines[0]
    finally:
        standby.cluster().start()
