"""Prometheus metrics every layer may count (the web edge serves them at /metrics).

Labels carry route *patterns*, methods and statuses only — never a path, a value or an id —
so the metrics can be shown to an operator as freely as the log. Under `csmap serve`
(gunicorn, several workers) prometheus-client runs in its multiprocess mode:
``PROMETHEUS_MULTIPROC_DIR`` is set before any worker starts, each worker writes its own
files there, and /metrics adds them up (gauges of live workers only).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

REQUESTS = Counter(
    "csmap_http_requests_total", "Requests answered, by route pattern and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "csmap_http_request_duration_seconds", "Time to answer a request, by route pattern.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
DB_UNAVAILABLE = Counter(
    "csmap_db_unavailable_total", "Requests answered 503 because the database was unreachable."
)
POOL_IN_USE = Gauge(
    "csmap_db_pool_checked_out", "Database connections in use by requests now.",
    multiprocess_mode="livesum",
)  # fmt: skip
POOL_OPEN = Gauge(
    "csmap_db_pool_connections", "Database connections open (in use or idle in the pool).",
    multiprocess_mode="livesum",
)  # fmt: skip
LOGIN_THROTTLED = Counter(
    "csmap_login_throttled_total", "Sign-in steps refused with 429 (too many failures)."
)
AUDIT_ENTRIES = Counter(
    "csmap_audit_entries_total", "Audit entries written (counted when their transaction commits)."
)

_PENDING = "csmap.audit_pending"


def audit_entry_recorded(session: Session) -> None:
    """One more audit entry in ``session``'s transaction (counted if it commits)."""
    session.info[_PENDING] = session.info.get(_PENDING, 0) + 1


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, 0)
    if pending:
        AUDIT_ENTRIES.inc(pending)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def watch_pool(engine: Engine) -> None:
    """Count the engine's pooled connections: open, and checked out by a request."""

    def connected(*_: Any) -> None:
        POOL_OPEN.inc()

    def closed(*_: Any) -> None:
        POOL_OPEN.dec()

    def checked_out(*_: Any) -> None:
        POOL_IN_USE.inc()

    def checked_in(*_: Any) -> None:
        POOL_IN_USE.dec()

    event.listen(engine, "connect", connected)
    event.listen(engine, "close", closed)
    event.listen(engine, "close_detached", closed)
    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
