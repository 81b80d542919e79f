"""A scratch PostGIS cluster of its own, for drills and tests that stop, kill or restore one.

Stopping or killing the private cluster under `var/pgdata` would break everyone else using it
(the rest of a test run, a demo): so fault drills run on a cluster of their own, under
``var/scratch/<name>-<pid>``, on a free port, migrated to head, removed afterwards. A scratch
cluster left behind by a run that was killed is stopped and removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webmap.config import Settings, load_settings
from webmap.infra import db
from webmap.infra.cluster import Cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Account:
    """A user made on a scratch cluster, with what signing in needs."""

    id: uuid.UUID
    agency_id: uuid.UUID
    email: str
    password: str
    totp_secret: str


@dataclass
class Scratch:
    """A running scratch cluster: its settings (var_dir, port) and the Cluster under them."""

    settings: Settings
    cluster: Cluster

    @property
    def root(self) -> Path:
        return self.settings.var_dir

    def owner_url(self, database: str = "csmap") -> str:
        return self.settings.owner_url(database)

    def app_url(self, database: str = "csmap") -> str:
        return self.settings.app_url(database)

    def env(self) -> dict[str, str]:
        """Environment for a `csmap` command or server on this cluster."""
        return {
            **os.environ,
            "CSMAP_MODE": "test",
            "CSMAP_VAR_DIR": str(self.root),
            "CSMAP_PG_PORT": str(self.settings.pg_port),
        }

    def session(self, database: str = "csmap") -> Session:
        """An owner session (the caller closes it; its engine has no pool)."""
        from sqlalchemy.pool import NullPool

        return Session(create_engine(self.owner_url(database), poolclass=NullPool))

    def make_account(self, role: str = "practitioner", kind: str = "police") -> Account:
        """A new agency of ``kind`` and a user of it with ``role`` and a second factor."""
        import pyotp

        from webmap.features.admin.users import NewUser, create_user

        key = uuid.uuid4().hex[:8]
        password = "correct horse battery " + key
        secret = pyotp.random_base32()
        with self.session() as s:
            agency_id = s.execute(
                text("INSERT INTO agency (slug, name, kind) VALUES (:s, :n, :k) RETURNING id"),
                {"s": f"scratch-{key}", "n": f"Scratch agency {key}", "k": kind},
            ).scalar_one()
            email = f"{role}.{key}@scratch.test.example"
            user_id = create_user(s, NewUser(agency_id, email, f"Scratch {role}", role, password))
            s.execute(
                text("UPDATE app_user SET totp_secret = :t WHERE id = :id"),
                {"t": secret, "id": user_id},
            )
            s.commit()
        return Account(user_id, agency_id, email, password, secret)

    # -- faults ------------------------------------------------------------------------

    def stop(self) -> None:
        self.cluster.stop()

    def start(self) -> None:
        self.cluster.start()

    def postmaster_pid(self) -> int:
        first = (self.cluster.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)

    def kill_postmaster(self) -> None:
        """``kill -9`` the postmaster, wait for its backends to notice and exit, start it
        again: PostgreSQL's crash recovery replays the WAL."""
        pid = self.postmaster_pid()
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in [pid, *children]) and time.monotonic() < deadline:
            time.sleep(0.1)
        # Where nothing reaps orphans (a container's init), the dead postmaster stays a
        # zombie whose pid still "exists": pg_ctl would think it running and refuse to start.
        (self.cluster.data_dir / "postmaster.pid").unlink(missing_ok=True)
        sock = self.cluster.socket_dir / f".s.PGSQL.{self.cluster.port}"
        for stale in (sock, sock.with_name(sock.name + ".lock")):
            stale.unlink(missing_ok=True)
        self.cluster.start()

    def remove(self) -> None:
        try:
            self.cluster.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def sign_in(base: str, user: Any, user_agent: str = "csmap-bench/1") -> Any:
    """A `requests` session signed in as ``user`` (email, password, totp_secret) through the
    real forms; its CSRF token is in ``session.headers["X-CSRFToken"]``. Sessions are bound to
    the client's User-Agent: a tool reusing this session's cookie must send the same one."""
    import re

    import pyotp
    import requests

    def token(html: str) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    s = requests.Session()
    s.headers["User-Agent"] = user_agent
    page = s.get(base + "/login", timeout=30).text
    form = {"email": user.email, "password": user.password, "csrf_token": token(page)}
    resp = s.post(base + "/login", data=form, allow_redirects=False, timeout=30)
    assert resp.status_code == 302, resp.text[:300]
    if user.totp_secret:
        page = s.get(base + "/login/code", timeout=30).text
        form = {"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": token(page)}
        resp = s.post(base + "/login/code", data=form, allow_redirects=False, timeout=30)
        assert resp.status_code == 302, resp.text[:300]
    html = s.get(base + "/", timeout=30).text
    meta = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert meta, "no CSRF meta tag on the map page"
    s.headers["X-CSRFToken"] = meta.group(1)
    return s


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _sweep(parent: Path) -> None:
    """Stop and remove scratch clusters whose creating process is gone."""
    for path in parent.glob("*-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            settings = load_settings(overrides={"mode": "test", "var_dir": path})
            with contextlib.suppress(Exception):  # a half-made cluster goes all the same
                Cluster(settings).stop()
            shutil.rmtree(path, ignore_errors=True)


def create(base: Settings, name: str, archive: bool = False) -> Scratch:
    """A new scratch cluster under ``base.var_dir/scratch``, up, provisioned and migrated
    (its ``csmap`` database); with ``archive``, continuous archiving is on from the start."""
    parent = base.var_dir / "scratch"
    parent.mkdir(parents=True, exist_ok=True)
    _sweep(parent)
    root = parent / f"{name}-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    settings = load_settings(overrides={"mode": "test", "var_dir": root, "pg_port": free_port()})
    cluster = Cluster(settings)
    cluster.up()
    if archive:
        from webmap.infra.archive import archive_on

        archive_on(cluster)
    db.upgrade(settings, "head", url=settings.owner_url("csmap"))
    return Scratch(settings, cluster)
