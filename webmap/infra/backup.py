"""Backups of one database of the private cluster, and their restore (``csmap db backup`` and
``csmap db restore FILE``).

A backup is one tar file (mode 0600: it holds every record and the roles' password hashes):

- ``roles.sql``: the cluster's roles (``pg_dumpall --roles-only``);
- ``database.dump``: the database (``pg_dump`` custom format) — schema, row-level-security
  policies (ENABLED and FORCED), grants, functions and every row, the audit chain included.
  It is taken as the cluster superuser over the private socket: an owner's dump would see only
  what RLS shows the owner, and ``pg_dump`` reads one consistent snapshot;
- ``manifest.json``: when, which database, and each table's row count.

Restoring creates the roles that are missing (existing ones, and their passwords, are left as
they are), restores into a new database (or, with ``replace``, over the old one), then applies
the per-database grants again — a database created by a restore would otherwise let PUBLIC
connect — and returns the restored row counts, which the command prints beside the backup's,
after verifying the audit chain.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from webmap.infra.cluster import Cluster, ClusterError

_CREATE_ROLE = re.compile(r'^CREATE ROLE "?([^";\s]+)"?;$')


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Every table's exact row count in the public schema (as a superuser: all rows)."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    counts = {}
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        counts[table] = int(conn.execute(query).fetchone()[0])  # type: ignore[index]
    return counts


def _run(cluster: Cluster, tool: str, *args: str) -> str:
    cmd = cluster.command(tool, *args)
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{tool} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def backup(cluster: Cluster, database: str, target: Path) -> dict[str, Any]:
    """Write a backup of ``database`` to ``target``; returns its manifest."""
    if not cluster.is_running():
        raise ClusterError("The private cluster is not running: `csmap db up` first.")
    socket = str(cluster.socket_dir)
    port = str(cluster.port)
    with tempfile.TemporaryDirectory(prefix="csmap-backup-") as tmp:
        work = Path(tmp)
        cluster.own(work)
        roles = _run(cluster, "pg_dumpall", "-h", socket, "-p", port, "-U", "postgres",
                     "--roles-only")  # fmt: skip
        dump = work / "database.dump"
        _run(cluster, "pg_dump", "-h", socket, "-p", port, "-U", "postgres", "-Fc",
             "-f", str(dump), database)  # fmt: skip
        with cluster.superuser_connect(database) as conn:
            counts = row_counts(conn)
        manifest = {
            "database": database,
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "format": 1,
            "rows": counts,
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for name, data in (
                ("manifest.json", json.dumps(manifest, indent=2).encode()),
                ("roles.sql", roles.encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o600
                tar.addfile(info, fileobj=_bytes(data))
            tar.add(dump, arcname="database.dump")
        partial.chmod(0o600)
        partial.replace(target)  # never a half-written backup under the real name
    return manifest


def _bytes(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


@dataclass(frozen=True)
class Restored:
    database: str
    manifest: dict[str, Any]
    rows: dict[str, int]


def _missing_roles(cluster: Cluster, roles_sql: str) -> list[str]:
    """The statements of ``roles_sql`` that create roles this cluster lacks (and set them up):
    existing roles, the superuser and their passwords are left alone."""
    with cluster.superuser_connect() as conn:
        have = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
    statements, wanted = [], set()
    for line in roles_sql.splitlines():
        match = _CREATE_ROLE.match(line.strip())
        if match and match.group(1) not in have:
            wanted.add(match.group(1))
            statements.append(line)
        elif line.startswith("ALTER ROLE") and any(
            re.match(rf'ALTER ROLE "?{re.escape(r)}"? ', line) for r in wanted
        ):
            statements.append(line)
    return statements


def restore(
    cluster: Cluster,
    source: Path,
    roles: dict[str, Any],
    database: str | None = None,
    replace: bool = False,
) -> Restored:
    """Restore the backup ``source`` into ``database`` (default: the one it was taken of)."""
    if not cluster.is_running():
        raise ClusterError("The private cluster is not running: `csmap db up` first.")
    with tempfile.TemporaryDirectory(prefix="csmap-restore-") as tmp:
        work = Path(tmp)
        cluster.own(work)
        with tarfile.open(source) as tar:
            tar.extractall(work, filter="data")
        for path in work.iterdir():
            cluster.own(path)
        manifest = json.loads((work / "manifest.json").read_text())
        name = database or manifest["database"]
        with cluster.superuser_connect() as conn:
            for statement in _missing_roles(cluster, (work / "roles.sql").read_text()):
                # From pg_dumpall itself: statements, not values to bind.
                conn.execute(statement)
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone():
                if not replace:
                    raise ClusterError(
                        f"Database {name} exists: restore into another (--database NAME) or "
                        "pass --replace to overwrite it."
                    )
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                    sql.Identifier(name), sql.Identifier(roles["owner"]["name"])
                )
            )
        _run(cluster, "pg_restore", "-h", str(cluster.socket_dir), "-p", str(cluster.port),
             "-U", "postgres", "--exit-on-error", "-d", name,
             str(work / "database.dump"))  # fmt: skip
    with cluster.superuser_connect() as conn:
        cluster.ensure_database(conn, name, roles)  # the grants a new database lacks
    with cluster.superuser_connect(name) as conn:
        return Restored(name, manifest, row_counts(conn))
