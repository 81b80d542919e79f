"""The cube's upkeep (revision 0016): a bulk import is one statement-level pass; the rebuild
recounts and repairs whatever differs (and only that), and bumps the versions tiles are
cached under, so a repaired cube is never hidden behind a cached tile."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from tests.conftest import pg_url
from tests.factories import add_observations, scatter
from tests.integration.test_cell_month import BRUTE, STORED

SPOT = (1.2, 54.6)


def _generations(conn: psycopg.Connection[Any], slug: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT to_char(g.month, 'YYYY-MM'), g.generation FROM cell_month_generation g"
        " JOIN agency a ON a.id = g.agency_id WHERE a.slug = %s",
        (slug,),
    ).fetchall()
    return dict(rows)


def test_a_bulk_import_is_one_statement_level_pass(
    make_agency: Any, owner_session_factory: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    slug = make_agency("police", "One pass")
    rows = scatter(SPOT, datetime(2026, 5, 3, tzinfo=UTC), 2, 60, 3)  # May and June
    assert add_observations(owner_session_factory, slug, rows) == 120
    # One trigger run for the whole import: each month's counter moved once, not 120 times.
    assert _generations(owner_conn, slug) == {"2026-05": 1, "2026-06": 1}


def test_the_rebuild_repairs_only_what_differs_and_bumps_versions(
    test_db: dict[str, str], make_agency: Any, owner_session_factory: Any
) -> None:
    slug = make_agency("police", "Repair")
    add_observations(
        owner_session_factory, slug, scatter(SPOT, datetime(2026, 3, 2, tzinfo=UTC), 3, 30, 4)
    )
    with psycopg.connect(pg_url(test_db["owner"]), autocommit=True) as conn:
        before = _generations(conn, slug)
        agency = conn.execute("SELECT id FROM agency WHERE slug = %s", (slug,)).fetchone()
        assert agency is not None
        # Damage the cube behind the triggers' back: a wrong count, a lost row, a bogus row.
        conn.execute(
            "UPDATE cell_month SET n = n + 3 WHERE (res, cell, month, category, agency_id) ="
            " (SELECT res, cell, month, category, agency_id FROM cell_month"
            "  WHERE agency_id = %s AND month = '2026-03-01' LIMIT 1)",
            (agency[0],),
        )
        conn.execute(
            "DELETE FROM cell_month WHERE (res, cell, month, category, agency_id) ="
            " (SELECT res, cell, month, category, agency_id FROM cell_month"
            "  WHERE agency_id = %s AND month = '2026-04-01' LIMIT 1)",
            (agency[0],),
        )
        conn.execute(
            "INSERT INTO cell_month (res, cell, month, category, agency_id, n)"
            " SELECT 9, cell, '2026-01-01', 'weapon_found', %s, 7 FROM cell WHERE res = 9 LIMIT 1",
            (agency[0],),
        )
        assert set(conn.execute(BRUTE).fetchall()) != set(conn.execute(STORED).fetchall())
        conn.execute("SELECT rebuild_cell_month()")
        assert set(conn.execute(BRUTE).fetchall()) == set(conn.execute(STORED).fetchall())
        after = _generations(conn, slug)
    # The three repaired months changed version; May, untouched, did not.
    assert after["2026-01"] == 1 and "2026-01" not in before
    for month in ("2026-03", "2026-04"):
        assert after[month] == before[month] + 1
    assert after["2026-05"] == before["2026-05"]
