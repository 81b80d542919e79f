"""Backups (issue 16, finding 6), on the run's scratch cluster: `csmap db backup` and
`restore` round-trip a database with its grants, RLS and audit chain; `csmap db restore --to`
brings the cluster back to a point in time (A written before it is there, B after it is not),
and the restored database still refuses the app role everything without a context."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import pg_url
from tests.integration import live

CSMAP = str(Path(sys.executable).parent / "csmap")


def csmap(scratch: Any, *args: str) -> str:
    result = subprocess.run(
        [CSMAP, *args],
        env=scratch.env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _agency(scratch: Any, database: str, slug: str) -> bool:
    with psycopg.connect(pg_url(scratch.owner_url(database))) as conn:
        return conn.execute("SELECT 1 FROM agency WHERE slug = %s", (slug,)).fetchone() is not None


def _write_agency(scratch: Any, slug: str) -> None:
    with psycopg.connect(pg_url(scratch.owner_url())) as conn:
        conn.execute(
            "INSERT INTO agency (slug, name, kind) VALUES (%s, %s, 'police')", (slug, slug)
        )


def _app_role_is_refused_without_context(scratch: Any, database: str) -> None:
    with scratch.cluster.superuser_connect(database) as conn:
        agency = conn.execute("SELECT id FROM agency LIMIT 1").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(pg_url(scratch.app_url(database))) as conn:
        for table in ("observation", "context", "vehicle", "audit_log", "app_user"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        with pytest.raises(psycopg.errors.Error):
            conn.execute(
                "INSERT INTO observation (agency_id, occurred_at, geom, category, cell_r7,"
                " cell_r8, cell_r9) VALUES (%s, now(), ST_SetSRID(ST_MakePoint(1.2, 54.6), 4326),"
                " 'weapon_found', 1, 2, 3)",
                (agency,),
            )


def test_backup_and_restore_round_trip(settings: Any, tmp_path: Path) -> None:
    scratch = live.scratch_cluster(settings)
    scratch.make_account("analyst")  # a user, an agency and an audit entry or two
    file = tmp_path / "csmap.backup"
    out = csmap(scratch, "db", "backup", str(file))
    assert "backup of csmap written" in out
    assert file.stat().st_mode & 0o077 == 0  # the roles' hashes and every record: 0600
    copy = f"csmap_copy_{uuid.uuid4().hex[:6]}"
    out = csmap(scratch, "db", "restore", str(file), "--database", copy)
    assert "audit chain intact" in out and "(backup:" not in out, out
    with scratch.cluster.superuser_connect(copy) as conn:
        public = conn.execute(
            "SELECT has_database_privilege('public', current_database(), 'CONNECT')"
        ).fetchone()
        assert public == (False,)  # PUBLIC may not connect to the restored database
        forced = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity"
            " AND c.relforcerowsecurity"
        ).fetchone()
    with scratch.cluster.superuser_connect("csmap") as conn:
        expected = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity"
            " AND c.relforcerowsecurity"
        ).fetchone()
    assert forced == expected and expected[0] > 10  # type: ignore[index]
    _app_role_is_refused_without_context(scratch, copy)
    # Restoring over an existing database needs --replace.
    result = subprocess.run(
        [CSMAP, "db", "restore", str(file), "--database", copy],
        env=scratch.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "--replace" in result.stderr


def test_point_in_time_restore(settings: Any) -> None:
    scratch = live.scratch_cluster(settings)
    a, b = f"pitr-a-{uuid.uuid4().hex[:8]}", f"pitr-b-{uuid.uuid4().hex[:8]}"
    _write_agency(scratch, a)
    time.sleep(1.5)
    with scratch.cluster.superuser_connect() as conn:
        noted = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    time.sleep(1.5)
    _write_agency(scratch, b)
    out = csmap(scratch, "db", "restore", "--to", noted.isoformat())
    assert "audit chain intact" in out, out
    assert _agency(scratch, "csmap", a), "A, written before the time, is gone"
    assert not _agency(scratch, "csmap", b), "B, written after the time, is still there"
    _app_role_is_refused_without_context(scratch, "csmap")
    # The restored cluster goes on archiving: a later restore finds its base backup.
    csmap(scratch, "db", "basebackup")
