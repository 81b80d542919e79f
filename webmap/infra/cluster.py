"""The private PostGIS cluster under ``var/``: create, start, stop, provision roles.

Why a private cluster: the demo and the tests must not depend on, or disturb, a system
PostgreSQL. It listens on 127.0.0.1 at ``CSMAP_PG_PORT`` (55432 by default, away from 5432)
and on a unix socket in ``var/run`` that only the cluster's OS user (and root) can reach.

Two database roles are provisioned, with random passwords kept in ``var/cluster.json``
(mode 0600): the *owner*, which owns the schema and runs migrations, and the *app* role the
web app connects as — not owner, not superuser, no BYPASSRLS, cannot create anything.

PostgreSQL refuses to run as root, so when csmap is run as root the cluster runs as the
``postgres`` OS user that the Debian package creates.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from webmap.config import Settings

OWNER_ROLE = "csmap_owner"
SUPERUSER = "postgres"
DATABASES = ("csmap", "csmap_test")


class ClusterError(RuntimeError):
    """The cluster could not be created, started or reached; the message says what to do."""


@dataclass(frozen=True)
class Cluster:
    """Paths and facts of the private cluster."""

    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.var_dir

    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "postgres.log"

    @property
    def port(self) -> int:
        return self.settings.pg_port

    # -- binaries and OS user -------------------------------------------------------------

    def bindir(self) -> Path:
        """Newest installed PostgreSQL server that also has PostGIS."""
        candidates = []
        for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
            version = bindir.parent.name
            control = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
            if (bindir / "postgres").exists() and control.exists():
                candidates.append((float(version), bindir))
        if not candidates:
            raise ClusterError(
                "No PostgreSQL server with PostGIS found. Install the OS packages "
                "'postgresql' and 'postgresql-<version>-postgis-3' (make bootstrap does this "
                "with apt on Debian/Ubuntu)."
            )
        return max(candidates)[1]

    def _run_as(self) -> str | None:
        """OS user to run the server as: None (ourselves) unless we are root."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise ClusterError("Running as root but no 'postgres' OS user exists.") from exc
        return SUPERUSER

    def _cmd(self, args: Sequence[str]) -> list[str]:
        user = self._run_as()
        return ["runuser", "-u", user, "--", *args] if user else list(args)

    def as_server_user(self, args: Sequence[str]) -> list[str]:
        """``args`` as a command run as the cluster's OS user (backups, archives, restores)."""
        return self._cmd(args)

    def command(self, tool: str, *args: str) -> list[str]:
        """The command line of one of the server's tools (pg_dump, pg_basebackup, …)."""
        return self._cmd([str(self.bindir() / tool), *args])

    def own(self, path: Path, reach: bool = True) -> None:
        """Give ``path`` to the cluster's OS user (when running as root); with ``reach``, let
        it walk down to ``path`` too (never for files inside the data directory, whose mode
        PostgreSQL checks)."""
        user = self._run_as()
        if user and not reach:
            shutil.chown(path, user, user)
        elif user:
            self._own(path)

    def _pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = self._cmd([str(self.bindir() / tool), *args])
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def _own(self, path: Path) -> None:
        user = self._run_as()
        if user:
            shutil.chown(path, user, user)
            # The server user must be able to walk down to var/: give parents o+x only.
            for parent in path.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)

    # -- hooks for a standby of this cluster (webmap/infra/replica.py) ----------------------

    def run_tool(
        self, tool: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool (pg_basebackup, psql, …) as the cluster's OS user."""
        return self._pg(tool, *args, check=check)

    # -- lifecycle ------------------------------------------------------------------------

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def init(self) -> None:
        """initdb with local trust (socket dir is 0700) and scram on 127.0.0.1."""
        for d in (self.root, self.data_dir, self.socket_dir, self.log_file.parent):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.data_dir, self.socket_dir, self.log_file.parent):
            self._own(d)
        self.data_dir.chmod(0o700)
        self.socket_dir.chmod(0o700)
        result = self._pg(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip()}")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                "\n# csmap private cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "shared_buffers = '256MB'\n"
                "work_mem = '32MB'\n"
                "maintenance_work_mem = '256MB'\n"
                # Failed statements would otherwise be logged with their text, which can hold
                # coordinates and notes: logs must never carry those.
                "log_min_error_statement = 'panic'\n"
                "log_statement = 'none'\n"
            )

    def start(self) -> None:
        if self.is_running():
            return
        if _port_in_use(self.port):
            raise ClusterError(
                f"Port {self.port} on 127.0.0.1 is taken by another server; set CSMAP_PG_PORT "
                "to a free port."
            )
        result = self._pg(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            f"-p {self.port}",
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise ClusterError(f"pg_ctl start failed: {result.stderr.strip()}\n{tail}")

    def stop(self) -> None:
        if self.is_running():
            self._pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))

    # -- provisioning ---------------------------------------------------------------------

    def superuser_connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """Connect over the private socket as the cluster superuser (provisioning only)."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
        )

    def provision(self) -> dict[str, Any]:
        """Create roles and databases if missing; return (and save) the connection facts."""
        state = self.settings.local_cluster() or {}
        roles = state.get("roles") or {
            "owner": {"name": OWNER_ROLE, "password": secrets.token_urlsafe(24)},
            "app": {"name": self.settings.app_role, "password": secrets.token_urlsafe(24)},
        }
        with self.superuser_connect() as conn:
            for key, role in roles.items():
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role["name"],)
                ).fetchone()
                verb = "ALTER" if exists else "CREATE"
                # The app role gets nothing beyond LOGIN; rights come from migrations' GRANTs.
                extra = "CREATEDB" if key == "owner" else "NOCREATEDB"
                conn.execute(
                    sql.SQL(
                        "{} ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEROLE NOBYPASSRLS " + extra
                    ).format(
                        sql.SQL(verb), sql.Identifier(role["name"]), sql.Literal(role["password"])
                    )
                )
            for db in DATABASES:
                self.ensure_database(conn, db, roles)
        state = {"port": self.port, "database": DATABASES[0], "roles": roles}
        self.settings.cluster_file.write_text(json.dumps(state, indent=2))
        self.settings.cluster_file.chmod(0o600)
        return state

    def ensure_database(
        self, conn: psycopg.Connection[Any], db: str, roles: dict[str, Any], recreate: bool = False
    ) -> None:
        owner = roles["owner"]["name"]
        app = roles["app"]["name"]
        if recreate:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db))
            )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(db), sql.Identifier(owner)
                )
            )
        with self.superuser_connect(db) as dbconn:
            # PostGIS is not a trusted extension, so the superuser installs it here; the first
            # migration's CREATE EXTENSION IF NOT EXISTS is then a no-op on this cluster.
            dbconn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            dbconn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
            dbconn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            dbconn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(db))
            )
            dbconn.execute(
                sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(db), sql.Identifier(app)
                )
            )
            dbconn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app))
            )

    def up(self) -> dict[str, Any]:
        """Idempotent: create if missing, start if stopped, provision if needed."""
        if not self.is_initialised():
            self.init()
        self.start()
        return self.provision()


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(port: int, seconds: float = 10.0) -> bool:
    """True once something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_in_use(port):
            return True
        time.sleep(0.1)
    return False
