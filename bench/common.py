"""Small shared helpers: statistics, timing, logging, loopback HTTP."""

from __future__ import annotations

import http.client
import math
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

#: Every HTTP request the benchmark makes goes here, and nowhere else.
LOOPBACK = "127.0.0.1"
#: Sent on every request: Flask-Login's "strong" session protection ties a session to the
#: client's address and User-Agent, so sign-in and later requests must agree on it.
USER_AGENT = "csmap-bench/1"

_T0 = time.monotonic()


def say(msg: str) -> None:
    """Progress line on stderr, with seconds since start."""
    print(f"[bench {time.monotonic() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages: anything else running skews every number."""
    try:
        with open("/proc/loadavg") as fh:
            return " / ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else math.nan


def p95(xs: list[float]) -> float:
    """95th percentile, linear interpolation between closest ranks (numpy's default)."""
    if not xs:
        return math.nan
    s = sorted(xs)
    pos = 0.95 * (len(s) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


def summary(xs: list[float]) -> dict[str, Any]:
    """Median, p95, min, max and count of samples in milliseconds."""
    return {
        "median_ms": median(xs),
        "p95_ms": p95(xs),
        "min_ms": min(xs) if xs else math.nan,
        "max_ms": max(xs) if xs else math.nan,
        "n": len(xs),
        "samples_ms": [round(x, 3) for x in xs],
    }


def time_ms(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock milliseconds of ``repeats`` calls of ``fn`` after ``warmup`` discarded calls."""
    out = []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            out.append(elapsed)
    return out


def pg_url(sqlalchemy_url: str) -> str:
    """libpq URL from a SQLAlchemy one."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(sqlalchemy_url: str, database: str) -> str:
    """The same server and role, another database (whatever the URL came from)."""
    return make_url(sqlalchemy_url).set(database=database).render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Reply:
    status: int
    body: bytes
    ms: float
    headers: dict[str, str]


def get(port: int, path: str, cookie: str | None = None, timeout: float = 60.0) -> Reply:
    """One GET to 127.0.0.1:``port`` on a fresh connection; time to the last body byte."""
    headers = {"Accept": "*/*", "User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        ms = (time.perf_counter() - t0) * 1000
        return Reply(resp.status, body, ms, {k.lower(): v for k, v in resp.getheaders()})
    finally:
        conn.close()


def wait_http(port: int, path: str, seconds: float, alive: Callable[[], bool]) -> bool:
    """True once GET ``path`` answers (any status below 500) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            if get(port, path, timeout=5).status < 500:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def replace_section(results: Path, begin: str, end: str, section: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) into the results
    file in place of the one there, or at its end: each tool rewrites only its own part."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    if begin in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)
