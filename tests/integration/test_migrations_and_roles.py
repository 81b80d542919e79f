"""Migrations run both ways on the real cluster; the app role is as weak as designed."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.conftest import pg_url
from webmap.config import Settings
from webmap.infra import db

TABLES = {
    "agency",
    "boundary_set",
    "area",
    "agency_jurisdiction",
    "category",
    "context",
    "vehicle",
    "observation",
    "basemap_feature",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(pg_url(url)) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows} - {"spatial_ref_sys", "alembic_version"}


def test_upgrade_downgrade_upgrade(fresh_database: Any, settings: Settings) -> None:
    owner_url, _ = fresh_database("csmap_migrations")
    db.upgrade(settings, "head", url=owner_url)
    assert _tables(owner_url) >= TABLES
    db.downgrade(settings, "base", url=owner_url)
    assert _tables(owner_url) == set()
    db.upgrade(settings, "head", url=owner_url)
    assert _tables(owner_url) >= TABLES
    with psycopg.connect(pg_url(owner_url)) as conn:
        # PostGIS really is there and usable by the schema.
        assert conn.execute("SELECT ST_SRID(ST_Point(1.2, 54.6, 4326))").fetchone() == (4326,)


def test_models_match_migrations(test_db: dict[str, str], settings: Settings) -> None:
    """Autogenerate finds nothing to do: the ORM models describe the migrated schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from webmap.models import Base

    engine = create_engine(test_db["owner"])
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": _ours, "compare_type": False}
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], diff


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name in {"spatial_ref_sys", "alembic_version"}:
        return False
    # Spatial (GiST) indexes are created explicitly in migrations and implied by the models.
    return not (type_ == "index" and name is not None and name.startswith("idx_"))


def test_app_role_is_not_owner_superuser_or_rls_bypasser(app_conn: psycopg.Connection[Any]) -> None:
    row = app_conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
        "WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False, False)
    owned = app_conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
    ).fetchone()
    assert owned == (0,)


def test_app_role_cannot_create_tables(app_conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute("CREATE TABLE sneaky (id int)")


def test_app_role_cannot_delete_or_alter(app_conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute("DELETE FROM observation")
    app_conn.rollback()
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute("ALTER TABLE observation ENABLE ROW LEVEL SECURITY")
    app_conn.rollback()
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute("INSERT INTO agency (slug, name, kind) VALUES ('x', 'x', 'police')")


def test_owner_is_not_superuser(owner_conn: psycopg.Connection[Any]) -> None:
    row = owner_conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False)
