"""The one database session pattern: one engine per app, one session per request.

A request's session is opened lazily, committed by the service when it writes, and always
closed at teardown. Every transaction it begins first sets the row-level-security context
(user, agency, role) with ``set_config(..., true)``: transaction-local, so a pooled connection
can never carry one request's identity into the next. No signed-in user means an empty
context, and the policies then return no rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import NullPool

from webmap.config import REPO_ROOT, Settings


def make_engine(url: str, **kwargs: Any) -> Engine:
    # pool_pre_ping: a restarted cluster must not leave the app holding dead connections.
    # connect_timeout: /healthz must answer promptly when the database is down.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": 3, "application_name": "csmap"},
        **kwargs,
    )


@dataclass(frozen=True)
class DbContext:
    """Who the database should think is asking, for row-level security."""

    user_id: str = ""
    agency_id: str = ""
    role: str = ""
    #: A share whose signed external link the app has verified (see services/sharing.py).
    link_share: str = ""


EMPTY_CONTEXT = DbContext()

SET_CONTEXT = text(
    "SELECT set_config('csmap.user_id', :user_id, true),"
    " set_config('csmap.agency_id', :agency_id, true),"
    " set_config('csmap.role', :role, true),"
    " set_config('csmap.link_share', :link_share, true)"
)


def apply_context(conn: Connection | Session, ctx: DbContext) -> None:
    """Set the RLS context for the current transaction only."""
    conn.execute(
        SET_CONTEXT,
        {
            "user_id": ctx.user_id,
            "agency_id": ctx.agency_id,
            "role": ctx.role,
            "link_share": ctx.link_share,
        },
    )


def set_request_context(ctx: DbContext) -> None:
    """Make ``ctx`` the context of this request's current and future transactions."""
    g.db_context = ctx
    if "db" in g:
        apply_context(g.db, ctx)


def _on_begin(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    ctx = g.get("db_context", EMPTY_CONTEXT) if has_app_context() else EMPTY_CONTEXT
    apply_context(connection, ctx)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose every transaction begins with the request's RLS context."""
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_begin", _on_begin)
    return factory


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.app_url())
    app.extensions["csmap.engine"] = engine
    app.extensions["csmap.sessionmaker"] = session_factory(engine)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's session (created on first use)."""
    if "db" not in g:
        g.db = current_app.extensions["csmap.sessionmaker"]()
    session: Session = g.db
    return session


F = TypeVar("F", bound=Callable[..., Any])


def unit_of_work(view: F) -> F:
    """The one place a request's work is committed: when ``view`` returns, whatever it
    returns; when it raises, everything it wrote is rolled back (the error adapter then
    answers). A view that catches a domain error to re-show a form rolls back first, so what
    it commits is only what it means to keep (an audit entry of the refusal, say)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            result = view(*args, **kwargs)
        except BaseException:
            if "db" in g:
                g.db.rollback()
            raise
        if "db" in g:
            g.db.commit()
        return result

    wrapped.csmap_unit_of_work = True  # type: ignore[attr-defined]
    return cast(F, wrapped)


def side_sessions() -> sessionmaker[Session]:
    """Sessions of their own, with the request's database context, for work that must be
    committed before the request's answer is built (writing a publication to the ledger)."""
    factory: sessionmaker[Session] = current_app.extensions["csmap.sessionmaker"]
    return factory


def _close_session(_exc: BaseException | None) -> None:
    for name in ("db", "read_db"):  # read_db: a standby's session (infra/reads.py)
        session = g.pop(name, None)
        if session is not None:
            session.close()


# -- the schema owner's session (CLI, demo loader, migrations) --------------------------------


@contextmanager
def owner_session(settings: Settings, database: str | None = None) -> Iterator[Session]:
    """A session as the schema owner, the CLI's and the demo loader's administrative rights.

    One connection, no pool: the engine is disposed when the block ends, so a command never
    leaves a connection behind. The caller commits. COPY and other driver-level work use
    :func:`driver_connection` on the same session.
    """
    engine = create_engine(settings.owner_url(database), poolclass=NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under ``session`` (same transaction), for COPY."""
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


# -- migrations ---------------------------------------------------------------------------


def migrations_dir() -> Path:
    """``migrations/`` beside the package (editable install) or in the working directory."""
    for candidate in (REPO_ROOT / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("migrations/ not found beside the package or in the working directory")


def alembic_config(settings: Settings, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["url"] = url or settings.owner_url()
    cfg.attributes["app_role"] = settings.app_role
    return cfg


def upgrade(settings: Settings, revision: str = "head", url: str | None = None) -> None:
    command.upgrade(alembic_config(settings, url), revision)


def downgrade(settings: Settings, revision: str, url: str | None = None) -> None:
    command.downgrade(alembic_config(settings, url), revision)
