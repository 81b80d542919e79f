"""The one database session pattern: one engine per app, one session per request.

A request's session is opened lazily, committed by the view's service when it writes, and
always closed at teardown. Later work sets the agency/user context per transaction here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

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


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.app_url())
    app.extensions["csmap.engine"] = engine
    app.extensions["csmap.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's session (created on first use)."""
    if "db" not in g:
        g.db = current_app.extensions["csmap.sessionmaker"]()
    session: Session = g.db
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


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
