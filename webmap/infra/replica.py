"""A hot standby of the private cluster, by PostgreSQL's own streaming replication.

``csmap db replica up`` copies the running cluster with ``pg_basebackup`` (a physical
replication slot keeps the WAL the standby still needs, so it catches up after being stopped),
writes ``standby.signal`` and the primary's connection (``-R``), and starts it read-only on a
port of its own, under ``var/replica/``. It holds the same databases, roles and row-level
security as the primary — physical replication copies the cluster byte for byte — so the app
role reads it under exactly the same policies. Nothing can write to it.

The app reads from it when ``CSMAP_READ_DATABASE_URL`` names it, or, with neither that nor
``CSMAP_DATABASE_URL`` set, when the private standby is up (``var/replica/standby.json`` says
so): see :meth:`webmap.config.Settings.read_url` and :mod:`webmap.infra.reads`.

Replication uses the cluster superuser over the primary's private socket (local trust, as
``csmap db up`` sets it), so no password crosses any network.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webmap.config import Settings
from webmap.infra.cluster import SUPERUSER, Cluster, ClusterError

SLOT = "csmap_standby"
STATE_FILE = "standby.json"
#: How far above the primary's port a standby looks for a free one.
PORT_RANGE = 20


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


@dataclass(frozen=True)
class Standby:
    """The standby of the private cluster under ``root`` (default ``var/replica``)."""

    settings: Settings
    root: Path | None = None
    slot: str = SLOT

    @property
    def home(self) -> Path:
        return self.root or self.settings.var_dir / "replica"

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    @property
    def primary(self) -> Cluster:
        return Cluster(self.settings)

    def state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data

    def cluster(self, port: int | None = None) -> Cluster:
        """The standby as a :class:`Cluster` of its own: same layout (pgdata, run, log) under
        :attr:`home`, its own port, so starting, stopping and status work the same way."""
        chosen = port or int(self.state().get("port") or 0) or self.settings.pg_port + 1
        return Cluster(self.settings.model_copy(update={"var_dir": self.home, "pg_port": chosen}))

    # -- life cycle -------------------------------------------------------------------------

    def up(self) -> dict[str, Any]:
        """Create (first time: a base backup of the running primary) and start the standby.
        Idempotent."""
        primary = self.primary
        if not primary.is_running():
            raise ClusterError("The primary cluster is not running: run `csmap db up` first.")
        port = int(self.state().get("port") or 0) or self._choose_port()
        standby = self.cluster(port)
        if not standby.is_initialised():
            self._base_backup(primary, standby)
        self._write_state({"port": port, "slot": self.slot, "enabled": True})
        standby.start()
        return self.status()

    def down(self, remove: bool = False) -> None:
        """Stop the standby; the app stops reading from it. ``remove`` also deletes its data
        and drops its replication slot, so the primary keeps no WAL for it."""
        standby = self.cluster()
        standby.stop()
        if remove:
            if self.primary.is_running():
                with self.primary.superuser_connect() as conn:
                    conn.execute(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        " WHERE slot_name = %s AND NOT active",
                        (self.slot,),
                    )
            shutil.rmtree(self.home, ignore_errors=True)
        elif self.state():
            self._write_state({**self.state(), "enabled": False})

    def status(self) -> dict[str, Any]:
        """Running or not, its port, and how far behind the primary it is."""
        state = self.state()
        standby = self.cluster()
        out: dict[str, Any] = {
            "port": standby.port,
            "running": standby.is_running(),
            "enabled": bool(state.get("enabled")),
        }
        if out["running"]:
            with standby.superuser_connect() as conn:
                row = conn.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                    " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
                ).fetchone()
            assert row is not None
            out.update(in_recovery=row[0], replay_lsn=row[1], replay_age_s=row[2])
        if self.primary.is_running():
            with self.primary.superuser_connect() as conn:
                row = conn.execute(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint"
                    " FROM pg_replication_slots WHERE slot_name = %s",
                    (self.slot,),
                ).fetchone()
            out["slot_behind_bytes"] = row[0] if row else None
        return out

    def url(self, database: str | None = None) -> str:
        """The app role's URL on the standby (the value for ``CSMAP_READ_DATABASE_URL``)."""
        return standby_url(self.settings, self.cluster().port, database)

    def wait_for(self, lsn: str, seconds: float = 30.0) -> bool:
        """True once the standby has replayed the primary's WAL up to ``lsn``."""
        deadline = time.monotonic() + seconds
        with self.cluster().superuser_connect() as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)
                ).fetchone()
                if row and row[0]:
                    return True
                time.sleep(0.05)
        return False

    # -- inside -------------------------------------------------------------------------------

    def _choose_port(self) -> int:
        base = self.settings.pg_port
        for port in range(base + 1, base + 1 + PORT_RANGE):
            if _free(port):
                return port
        raise ClusterError(f"No free port for the standby in {base + 1}–{base + PORT_RANGE}.")

    def _write_state(self, state: dict[str, Any]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(state, indent=2))

    def _base_backup(self, primary: Cluster, standby: Cluster) -> None:
        for d in (standby.root, standby.socket_dir, standby.log_file.parent):
            d.mkdir(parents=True, exist_ok=True)
        for d in (standby.socket_dir, standby.log_file.parent, standby.root):
            primary.own(d)
        standby.socket_dir.chmod(0o700)
        with primary.superuser_connect() as conn:
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                " WHERE slot_name = %s AND NOT active",
                (self.slot,),
            )
        result = primary.run_tool(
            "pg_basebackup",
            "--pgdata",
            str(standby.data_dir),
            "--host",
            str(primary.socket_dir),
            "--port",
            str(primary.port),
            "--username",
            SUPERUSER,
            "--wal-method=stream",
            "--checkpoint=fast",
            "--create-slot",
            "--slot",
            self.slot,
            "--write-recovery-conf",
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(standby.data_dir, ignore_errors=True)
            raise ClusterError(f"pg_basebackup failed: {result.stderr.strip()}")
        # The copied postgresql.conf names the primary's socket directory; the standby keeps
        # its own, and answers read-only queries while it replays (a hot standby).
        overrides = (
            "\n# csmap standby (webmap/infra/replica.py)\n"
            f"unix_socket_directories = '{standby.socket_dir}'\n"
            "hot_standby = on\n"
            "hot_standby_feedback = on\n"
            "cluster_name = 'csmap-standby'\n"
        )
        conf = standby.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(overrides)


def standby_url(settings: Settings, port: int, database: str | None = None) -> str:
    """The app role's URL on a standby of the private cluster listening on ``port``."""
    cluster = settings.local_cluster()
    if cluster is None:
        raise ClusterError("No private cluster: run `csmap db up` first.")
    role = cluster["roles"]["app"]
    return (
        f"postgresql+psycopg://{role['name']}:{role['password']}"
        f"@127.0.0.1:{port}/{database or cluster['database']}"
    )
