"""Single statements, and reads from a standby.

A hot path (the session check, a tile) sends ONE statement outside any transaction block: no
BEGIN, no ``set_config`` round trip, no COMMIT, no pre-ping. Such statements are reads or
idempotent, so one that finds its pooled connection dead (the database restarted) is retried
once on a fresh connection; the caller passes any RLS context the statement needs.

With ``CSMAP_READ_DATABASE_URL`` set, layers, tiles and lists read from a hot standby, as the
same app role under the same row-level security. Writes, audit entries and anything else go
to the primary. Read-your-writes: after a request that wrote, the writer's reads stay on the
primary until the standby has replayed that write (the primary's WAL position after the
commit is kept in the signed session cookie). A standby that cannot be reached is left alone
for a few seconds, with one log line, and reads go to the primary: never a 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask, Response, current_app, g, has_request_context, request
from flask import session as cookie_session
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from webmap.config import Settings
from webmap.infra.db import get_session, make_engine, session_factory

log = logging.getLogger("webmap.infra.reads")

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: How long reads stay on the primary after the standby could not be reached.
RETRY_SECONDS = 10.0
#: The signed session cookie's key for the primary's WAL position after this client's write.
LSN_KEY = "csmap_lsn"

_WAL_LSN = "SELECT pg_current_wal_lsn()::text"
_REPLAYED = "SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(%(lsn)s AS pg_lsn), false)"


def statement_engine(url: str) -> Engine:
    """An engine whose connections run each statement as its own transaction."""
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": 3, "application_name": "csmap"},
    )


@dataclass
class Replica:
    """The standby's engines, and until when it is treated as down."""

    statements: Engine
    sessions: sessionmaker[Session]
    down_until: float = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        if self.usable():  # one line per outage, not one per request
            log.warning(
                "read replica unreachable (%s); reading from the primary for %.0f s",
                type(exc).__name__,
                RETRY_SECONDS,
            )
        self.down_until = time.monotonic() + RETRY_SECONDS


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["csmap.statements"] = statement_engine(settings.app_url())
    app.extensions["csmap.replica"] = None
    read_url = settings.read_url()
    if not read_url:
        return
    app.extensions["csmap.replica"] = Replica(
        statement_engine(read_url), session_factory(make_engine(read_url))
    )

    @app.after_request
    def _remember_write(resp: Response) -> Response:
        if request.method in WRITES and resp.status_code < 400:
            lsn = run(current_app.extensions["csmap.statements"], _WAL_LSN, {})
            cookie_session[LSN_KEY] = lsn[0][0]
        return resp


def run(engine: Engine, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """``sql`` (psycopg's ``%(name)s`` parameters) on a pooled connection of ``engine``,
    straight through the driver: a hot path pays for no ORM or Core layer. Retried once if
    that connection was dead; any other database error is raised as SQLAlchemy's, as
    everywhere else in the app."""
    for attempt in (1, 2):
        try:
            raw = engine.raw_connection()
        except psycopg.Error as exc:
            # The pool hands out the driver's own error when it cannot connect: raised as
            # SQLAlchemy's, so a standby that is down is caught (and falls back) as such.
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
        conn: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        try:
            return conn.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            if conn.broken:
                raw.invalidate()
                if attempt == 1:
                    continue
            raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
        finally:
            raw.close()  # back to the pool (or gone, if invalidated)
    raise AssertionError("unreachable")  # pragma: no cover


def _replica() -> Replica | None:
    """The standby, if there is one, it answers, and this client's own writes are on it."""
    replica: Replica | None = current_app.extensions.get("csmap.replica")
    if replica is None or not replica.usable():
        return None
    lsn = cookie_session.get(LSN_KEY) if has_request_context() else None
    if lsn:
        try:
            caught_up = run(replica.statements, _REPLAYED, {"lsn": lsn})[0][0]
        except OperationalError as exc:
            replica.failed(exc)
            return None
        if not caught_up:
            return None
        cookie_session.pop(LSN_KEY, None)
    return replica


def statement(sql: str, params: Mapping[str, Any], read: bool = False) -> list[tuple[Any, ...]]:
    """One statement outside a transaction block on the primary or, with ``read``, on the
    standby when there is one and it answers."""
    replica = _replica() if read else None
    if replica is not None:
        try:
            return run(replica.statements, sql, params)
        except OperationalError as exc:
            replica.failed(exc)
    return run(current_app.extensions["csmap.statements"], sql, params)


def read_session() -> Session:
    """The session for reads that may come from the standby (layers, lists): a session of
    its own there, with the request's RLS context; else the request's own. Anything written
    (an audit entry) still goes through :func:`webmap.infra.db.get_session`."""
    replica = _replica()
    if replica is None:
        return get_session()
    if "read_db" not in g:
        session = replica.sessions()
        try:
            session.connection()  # begin now, so an unreachable standby falls back here
        except OperationalError as exc:
            session.close()
            replica.failed(exc)
            return get_session()
        g.read_db = session
    read: Session = g.read_db
    return read
