"""A real `csmap serve` (gunicorn) for tests that need one: faults, raw requests, fuzzing.

Not a fixture module: tests start a server against the database they choose (the session's
test database, or a scratch cluster of their own) and stop it themselves.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.scratch import free_port

USER_AGENT = "csmap-tests/1"


def raw_request(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send ``request`` as bytes on a fresh connection; everything the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 if there is none)."""
    parts = answer.split(b"\r\n", 1)[0].split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


@dataclass
class Served:
    """A running gunicorn: its address, its process and its (captured) log."""

    port: int
    proc: subprocess.Popen[bytes]
    log_file: IO[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        self.log_file.flush()
        return Path(self.log_file.name).read_bytes().decode(errors="replace")

    def log_bytes(self) -> bytes:
        self.log_file.flush()
        return Path(self.log_file.name).read_bytes()


def wait_until_up(port: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if status_of(raw_request(port, b"GET /login HTTP/1.0\r\n\r\n", timeout=5)) == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.2)


@contextmanager
def serve(
    database_url: str, workers: int = 2, extra_env: dict[str, str] | None = None, **settings: str
) -> Iterator[Served]:
    """`csmap serve`'s gunicorn on a free port against ``database_url`` (the app role)."""
    from webmap.cli.serve import gunicorn_command

    port = free_port()
    env = {**os.environ, "CSMAP_MODE": "test", "CSMAP_DATABASE_URL": database_url}
    env.update({"CSMAP_" + k.upper(): v for k, v in settings.items()})
    env.update(extra_env or {})
    log_file = tempfile.NamedTemporaryFile(prefix="csmap-serve-", suffix=".log")  # noqa: SIM115
    proc = subprocess.Popen(
        gunicorn_command("127.0.0.1", port, workers),
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    served = Served(port, proc, log_file, env)
    try:
        wait_until_up(port)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log_file.close()


def signed_in_session(base: str, user: Any) -> Any:
    """A `requests` session signed in as ``user`` (see bench/scratch.sign_in)."""
    from bench.scratch import sign_in

    return sign_in(base, user, USER_AGENT)


# -- one scratch cluster per test run, for the tests that stop, kill or restore one -----------

_SCRATCH: dict[str, Any] = {}


def scratch_cluster(settings: Any) -> Any:
    """The run's scratch cluster (bench/scratch.py), made on first use with continuous
    archiving on, removed when the run ends. Every test that uses it leaves it running."""
    import atexit

    from bench import scratch

    if "it" not in _SCRATCH:
        made = scratch.create(settings, "tests", archive=True)
        _SCRATCH["it"] = made
        atexit.register(made.remove)
    found: Any = _SCRATCH["it"]
    if not found.cluster.is_running():
        found.start()
    return found
