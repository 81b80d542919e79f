"""Row-level security is the second guard; the audit trail is append-only and tamper-evident."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors

from tests.conftest import pg_url, run_db
from webmap.cli import main as cli
from webmap.config import Settings
from webmap.infra import db
from webmap.infra.audit import verify

#: Tables that hold agency data without an ``agency_id`` column of their own.
ALSO_AGENCY_DATA = {"app_user", "audit_log", "agency", "panel"}


def _agency_tables(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        """
        SELECT DISTINCT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND a.attname IN ('agency_id', 'subject_agency_id')
        """
    ).fetchall()
    return {r[0] for r in rows} | ALSO_AGENCY_DATA


def _set_context(conn: psycopg.Connection[Any], user: str, agency: str, role: str) -> None:
    conn.execute(
        "SELECT set_config('csmap.user_id', %s, true), set_config('csmap.agency_id', %s, true),"
        " set_config('csmap.role', %s, true)",
        (user, agency, role),
    )


def test_every_agency_table_has_forced_rls(owner_conn: psycopg.Connection[Any]) -> None:
    tables = _agency_tables(owner_conn)
    assert {"observation", "context", "vehicle", "app_user", "audit_log"} <= tables
    rows = owner_conn.execute(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
        " WHERE relname = ANY(%s) AND relkind = 'r'",
        (list(tables),),
    ).fetchall()
    missing = sorted(name for name, enabled, forced in rows if not (enabled and forced))
    assert not missing, f"agency tables without ENABLED+FORCED row-level security: {missing}"
    assert len(rows) == len(tables)


def test_no_context_means_no_rows(
    app_conn: psycopg.Connection[Any], owner_conn: psycopg.Connection[Any]
) -> None:
    for table in sorted(_agency_tables(owner_conn)):
        owner_rows = owner_conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        app_rows = app_conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        assert app_rows == 0, f"{table}: {app_rows} rows visible with no context"
        if table in {"observation", "context", "agency"}:
            assert owner_rows > 0  # so the zero above means something


def test_context_is_transaction_local(
    app_conn: psycopg.Connection[Any], owner_conn: psycopg.Connection[Any]
) -> None:
    agency_id, user_id = owner_conn.execute(
        "SELECT a.id, u.id FROM agency a CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id) u"
        " WHERE a.slug = 'police'"
    ).fetchone()  # type: ignore[misc]
    _set_context(app_conn, str(user_id), str(agency_id), "analyst")
    seen = app_conn.execute(
        "SELECT count(*), count(DISTINCT agency_id) FROM observation"
    ).fetchone()
    assert seen is not None and seen[0] > 0 and seen[1] == 1
    app_conn.commit()
    # Same connection, next transaction: the context is gone, and so are the rows.
    assert app_conn.execute("SELECT current_setting('csmap.agency_id', true)").fetchone() in {
        ("",),
        (None,),
    }
    assert app_conn.execute("SELECT count(*) FROM observation").fetchone() == (0,)


def test_context_shows_only_own_agency(
    app_conn: psycopg.Connection[Any], owner_conn: psycopg.Connection[Any]
) -> None:
    police = owner_conn.execute("SELECT id FROM agency WHERE slug = 'police'").fetchone()[0]  # type: ignore[index]
    total_police = owner_conn.execute(
        "SELECT count(*) FROM observation WHERE agency_id = %s", (police,)
    ).fetchone()[0]  # type: ignore[index]
    _set_context(app_conn, "00000000-0000-0000-0000-000000000001", str(police), "practitioner")
    assert app_conn.execute("SELECT count(*) FROM observation").fetchone() == (total_police,)
    # A role the policy does not let read records sees nothing, even in its own agency.
    _set_context(app_conn, "00000000-0000-0000-0000-000000000001", str(police), "system_admin")
    assert app_conn.execute("SELECT count(*) FROM observation").fetchone() == (0,)


def test_app_role_cannot_change_or_remove_audit_rows(app_conn: psycopg.Connection[Any]) -> None:
    for statement in (
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            app_conn.execute(statement)
        app_conn.rollback()


def test_audit_chain_verifies_and_reports_tampering(
    fresh_database: Any, settings: Settings
) -> None:
    owner_url, _ = fresh_database("csmap_audit")
    db.upgrade(settings, "head", url=owner_url)
    with psycopg.connect(pg_url(owner_url)) as conn:
        for i in range(6):
            conn.execute(
                "INSERT INTO audit_log (id, at, action, object_ids, prev_hash, hash, details)"
                " VALUES (0, now(), %s, %s, 'forged', 'forged', '{\"count\": 1}')",
                (f"test.action{i}", [f"obj-{i}"]),
            )
        conn.commit()
        # The trigger overrode the forged hashes with the real chain.
        assert verify(conn).ok and verify(conn).checked == 6
        target = conn.execute("SELECT id FROM audit_log ORDER BY id OFFSET 3 LIMIT 1").fetchone()[0]  # type: ignore[index]
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "verify", "--database", run_db("csmap_audit")])
    assert result.exit_code == 0, result.output
    assert "6 entries verified" in result.output

    with psycopg.connect(pg_url(owner_url)) as conn:
        conn.execute("UPDATE audit_log SET action = 'innocent.looking' WHERE id = %s", (target,))
        conn.commit()
    result = runner.invoke(cli, ["audit", "verify", "--database", run_db("csmap_audit")])
    assert result.exit_code == 1
    assert f"BROKEN at entry {target}" in result.output

    with psycopg.connect(pg_url(owner_url)) as conn:  # deleting a row breaks the next link
        conn.execute("DELETE FROM audit_log WHERE id = %s", (target,))
        conn.commit()
        result_after_delete = verify(conn)
    assert not result_after_delete.ok and result_after_delete.first_broken == target + 1
