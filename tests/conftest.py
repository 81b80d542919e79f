"""Shared fixtures: the real PostGIS cluster, a freshly migrated test database, the app.

Integration tests run against the private cluster under var/ (``make test`` starts it),
migrated with Alembic — never ``create_all``, never SQLite. When something a test needs is
missing, the test is skipped on a developer's machine but FAILS when ``CI`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from webmap import create_app, db
from webmap.cluster import Cluster, ClusterError
from webmap.config import Settings, load_settings

TEST_DB = "csmap_test"
#: Fixed so the demo data (and anything asserted about it) is the same on every run.
DEMO_END_MONTH = date(2026, 10, 1)
DEMO_SEED = 7
DEMO_SIZE = 6000


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI: a missing prerequisite must never turn CI green."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def pg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(overrides={"mode": "test"})


@pytest.fixture(scope="session")
def cluster(settings: Settings) -> Cluster:
    c = Cluster(settings)
    try:
        c.up()
    except ClusterError as exc:
        require(False, f"PostGIS cluster unavailable: {exc}")
    return c


@pytest.fixture(scope="session")
def fresh_database(cluster: Cluster, settings: Settings):  # type: ignore[no-untyped-def]
    """Factory: drop and re-create a database on the cluster; returns its owner/app URLs."""

    def make(name: str) -> tuple[str, str]:
        roles = settings.local_cluster()["roles"]  # type: ignore[index]
        with cluster.superuser_connect() as conn:
            cluster.ensure_database(conn, name, roles, recreate=True)
        return settings.owner_url(name), settings.app_url(name)

    return make


@pytest.fixture(scope="session")
def test_db(fresh_database: Any, settings: Settings) -> dict[str, str]:
    """The session's test database: re-created, migrated to head, demo town loaded."""
    from spatial.demotown import generate_town
    from webmap.demo_load import load_town

    owner_url, app_url = fresh_database(TEST_DB)
    db.upgrade(settings, "head", url=owner_url)
    town = generate_town(seed=DEMO_SEED, size=DEMO_SIZE, end_month=DEMO_END_MONTH)
    with psycopg.connect(pg_url(owner_url)) as conn:
        load_town(conn, town, settings.secret("hmac_key"))
    return {"owner": owner_url, "app": app_url}


@pytest.fixture(scope="session")
def demo_town() -> Any:
    from spatial.demotown import generate_town

    return generate_town(seed=DEMO_SEED, size=DEMO_SIZE, end_month=DEMO_END_MONTH)


@pytest.fixture()
def owner_conn(test_db: dict[str, str]) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url(test_db["owner"])) as conn:
        yield conn
        conn.rollback()


@pytest.fixture()
def app_conn(test_db: dict[str, str]) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the app role (not owner, not superuser, no BYPASSRLS)."""
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        yield conn
        conn.rollback()


@pytest.fixture(scope="session")
def app(test_db: dict[str, str]) -> Flask:
    return create_app({"mode": "test", "database_url": test_db["app"]})


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()
