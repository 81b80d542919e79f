"""The monthly cell aggregates stay equal to a brute-force recount through every kind of
write: API inserts, edits (moving a point, changing its category or date), soft deletes,
bulk import, and a full rebuild."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from flask import Flask

from tests.conftest import TEST_DB, pg_url

BRUTE = """
SELECT r.res, CASE r.res WHEN 7 THEN o.cell_r7 WHEN 8 THEN o.cell_r8 ELSE o.cell_r9 END,
       date_trunc('month', o.occurred_at AT TIME ZONE 'Europe/London')::date,
       o.category, o.agency_id, count(*)::int
FROM observation o CROSS JOIN (VALUES (7), (8), (9)) AS r(res)
WHERE o.deleted_at IS NULL
GROUP BY 1, 2, 3, 4, 5
"""
STORED = "SELECT res, cell, month, category, agency_id, n FROM cell_month"


def _agree(owner_url: str) -> None:
    with psycopg.connect(pg_url(owner_url)) as conn:
        brute = set(conn.execute(BRUTE).fetchall())
        stored = set(conn.execute(STORED).fetchall())
    assert brute == stored, (
        f"{len(brute - stored)} counts missing, {len(stored - brute)} wrong or extra"
    )


def test_aggregates_match_a_recount_through_every_write(
    app: Flask,
    test_db: dict[str, str],
    make_agency: Any,
    make_user: Any,
    sign_in: Any,
    tmp_path: Path,
) -> None:
    _agree(test_db["owner"])  # as loaded, and as other tests left it
    agency = make_agency("police", "Cell month test")  # the writes below are its alone
    user = make_user(agency, "practitioner")
    client = sign_in(app.test_client(), user)
    token = re.search(  # type: ignore[union-attr]
        r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)
    ).group(1)
    h = {"X-CSRFToken": token}
    base = {
        "occurred_at": "2026-09-30T23:30:00Z",  # 00:30 on 1 October in London
        "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
        "category": "weapon_found",
    }
    ids = [
        client.post("/api/v1/observations", json=base, headers=h).get_json()["id"] for _ in range(3)
    ]
    _agree(test_db["owner"])
    client.patch(
        f"/api/v1/observations/{ids[0]}",
        headers={**h, "If-Match": "1"},
        json={
            "geometry": {"type": "Point", "coordinates": [1.25, 54.62]},
            "category": "child_out_late",
            "occurred_at": "2026-08-01T12:00:00Z",
        },
    )
    _agree(test_db["owner"])
    client.delete(
        f"/api/v1/observations/{ids[1]}",
        headers={**h, "If-Match": "1"},
        json={"reason": "recorded twice"},
    )
    _agree(test_db["owner"])

    from webmap.cli import main

    path = tmp_path / "obs.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["occurred_at", "category", "note", "lon", "lat"])
        for i in range(40):
            w.writerow(
                [
                    f"2026-07-{i % 28 + 1:02d}T10:00:00Z",
                    "suspected_drug_running",
                    "imported",
                    1.15 + i * 0.002,
                    54.58 + i * 0.001,
                ]
            )
    result = CliRunner().invoke(
        main, ["import", "observations", str(path), "--agency", agency, "--database", TEST_DB]
    )
    assert result.exit_code == 0, result.output
    _agree(test_db["owner"])

    with psycopg.connect(pg_url(test_db["owner"])) as conn:
        before = set(conn.execute(STORED).fetchall())
        conn.execute("SELECT rebuild_cell_month()")
        assert set(conn.execute(STORED).fetchall()) == before
        conn.rollback()


def test_app_role_reads_only_its_agencys_counts(
    app_conn: psycopg.Connection[Any], owner_conn: psycopg.Connection[Any]
) -> None:
    police = owner_conn.execute("SELECT id FROM agency WHERE slug = 'police'").fetchone()[0]  # type: ignore[index]
    app_conn.execute(
        "SELECT set_config('csmap.user_id', gen_random_uuid()::text, true),"
        " set_config('csmap.agency_id', %s, true), set_config('csmap.role', 'analyst', true)",
        (str(police),),
    )
    agencies = app_conn.execute("SELECT DISTINCT agency_id FROM cell_month").fetchall()
    assert agencies == [(police,)]
    app_conn.rollback()
    assert app_conn.execute("SELECT count(*) FROM cell_month").fetchone() == (0,)
