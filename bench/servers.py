"""The servers under test, on 127.0.0.1 only: our app under gunicorn and tipg under uvicorn.

Each runs in its own process group, started here and stopped here by its own id (SIGTERM,
then SIGKILL after a grace period), whatever happens to the run.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, ProxyHandler, build_opener

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.common import LOOPBACK, USER_AGENT, free_port, pg_url, say, wait_http
from bench.database import AGENCY, app_url, owner_url
from webmap.config import REPO_ROOT, Settings

WORKERS = 2  # both servers get two worker processes: one per core on the reference machine


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # start_new_session=True: the group id is the pid we started
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


def _clean_env() -> dict[str, str]:
    # Nothing of ours leaks in from the caller's environment (CSMAP_*, DATABASE_URL, TIPG_*).
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CSMAP_", "TIPG_", "PG")) and k != "DATABASE_URL"
    }


def _spawn(
    name: str, port: int, cmd: list[str], env: dict[str, str], cwd: Path, logdir: Path
) -> Server:
    log = logdir / f"{name}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, proc, log)


def start_app(settings: Settings, logdir: Path, worker_class: str = "gthread") -> Server:
    """Our app as `csmap serve` runs it (its gunicorn command line: 2 workers; gthread with
    its threads, or sync), in demo mode."""
    from webmap.cli.serve import gunicorn_command

    port = free_port()
    env = {
        **_clean_env(),
        "CSMAP_MODE": "demo",
        "CSMAP_DATABASE_URL": app_url(settings),
        "CSMAP_OWNER_DATABASE_URL": owner_url(settings),
        "CSMAP_VAR_DIR": str(settings.var_dir),
        "CSMAP_PG_PORT": str(settings.pg_port),
        "CSMAP_LOG_LEVEL": "WARNING",
    }
    cmd = gunicorn_command(LOOPBACK, port, WORKERS, worker_class=worker_class)
    cmd[-1:-1] = ["--log-level", "warning"]
    server = _spawn(f"gunicorn-{worker_class}", port, cmd, env, REPO_ROOT, logdir)
    if not wait_http(port, "/healthz", 60, server.alive):
        server.stop()
        raise RuntimeError(f"gunicorn did not come up:\n{server.log_tail()}")
    return server


def start_tipg(settings: Settings, logdir: Path) -> Server:
    """tipg (uvicorn, 2 workers) on the owner URL, serving only the two bench views."""
    port = free_port()
    env = {
        **_clean_env(),
        "DATABASE_URL": pg_url(owner_url(settings)),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.bench_cells_r8","public.bench_cells_r9"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_TILE_BUFFER": "64",  # our tiles use a 64-unit buffer too
        "TIPG_CATALOG_TTL": "3600",  # no catalogue refresh in the middle of a measurement
        "TIPG_DB_MAX_CONN_SIZE": "10",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "tipg.main:app",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    # cwd: an empty directory, so tipg's pydantic settings cannot pick up a stray .env file.
    workdir = Path(tempfile.mkdtemp(prefix="tipg-", dir=logdir))
    server = _spawn("tipg", port, cmd, env, workdir, logdir)
    if not wait_http(port, "/collections", 90, server.alive):
        server.stop()
        raise RuntimeError(f"tipg did not come up:\n{server.log_tail()}")
    return server


@dataclass
class BenchUser:
    id: uuid.UUID
    agency_id: uuid.UUID
    email: str
    password: str
    role: str = "analyst"


def create_user(settings: Settings) -> BenchUser:
    """A police analyst without TOTP (demo mode lets such a user in with a password)."""
    from webmap.features.admin.users import NewUser, create_user

    engine = create_engine(owner_url(settings))
    password = secrets.token_urlsafe(18)
    email = f"bench.{uuid.uuid4().hex[:8]}@police.bench.example"
    try:
        with Session(engine) as s:
            agency_id = s.execute(
                text("SELECT id FROM agency WHERE slug = :s"), {"s": AGENCY}
            ).scalar_one()
            uid = create_user(s, NewUser(agency_id, email, "Bench Analyst", "analyst", password))
            s.commit()
    finally:
        engine.dispose()
    return BenchUser(uid, agency_id, email, password)


def sign_in(port: int, user: BenchUser) -> str:
    """Sign in through the real form; return the Cookie header value for later requests."""
    jar = CookieJar()
    opener = build_opener(ProxyHandler({}), HTTPCookieProcessor(jar))  # never via a proxy
    opener.addheaders = [("User-Agent", USER_AGENT)]
    base = f"http://{LOOPBACK}:{port}"
    html = opener.open(base + "/login", timeout=30).read().decode()
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not m:
        raise RuntimeError("no CSRF token on /login")
    form = urlencode({"email": user.email, "password": user.password, "csrf_token": m.group(1)})
    resp = opener.open(base + "/login", data=form.encode(), timeout=30)
    if resp.status != 200 or resp.url.rstrip("/") != base:
        raise RuntimeError(f"sign-in did not land on the map page (status {resp.status})")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if not cookie:
        raise RuntimeError("sign-in set no cookie")
    say(f"signed in as {user.email}")
    return cookie
