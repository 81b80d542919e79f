"""Load the fictional demo town into the database, as the schema owner, in one transaction.

Bulk rows go in with ``COPY`` (observations as hex EWKB built by shapely in one vectorised
call), so ``--size 1000000`` loads in tens of seconds rather than an hour of INSERTs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.cells import cell_keys
from spatial.demotown import DemoTown
from spatial.vehicles import display_mark, mark_hmac, normalise_mark
from webmap.features.reference.lattice import build_cells

log = logging.getLogger("webmap.demo")

#: Every table the demo writes, children first (the order TRUNCATE and reload need).
DEMO_TABLES = (
    "cell_month",
    "record_version",
    "note_history",
    "idempotency_key",
    "login_attempt",
    "panel_member",
    "panel",
    "app_user",
    "observation",
    "vehicle",
    "context",
    "agency_jurisdiction",
    "area",
    "boundary_set",
    "agency",
    "basemap_feature",
)


def town_bbox(town: DemoTown) -> tuple[float, float, float, float]:
    min_x, min_y, max_x, max_y = town.service_area.bounds
    return (min_x, min_y, max_x, max_y)


def _ewkb(geom: BaseGeometry) -> str:
    return str(shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True))


def has_data(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM agency)").fetchone()
    return bool(row and row[0])


def load_town(
    conn: psycopg.Connection[Any],
    town: DemoTown,
    hmac_key: str,
    progress: Callable[[str], None] = lambda _msg: None,
    service_area: tuple[float, float, float, float] | None = None,
) -> dict[str, int]:
    """Replace all demo tables' contents with ``town``. Caller commits."""
    # The publication ledger is append-only; replacing the whole demo town is the one time it
    # may be emptied (it cascades from the agencies), and the loader says so.
    conn.execute("SELECT set_config('csmap.demo_reset', 'on', true)")
    conn.execute("TRUNCATE " + ", ".join(DEMO_TABLES) + " CASCADE")
    progress("base map")
    _copy(
        conn,
        "basemap_feature (layer, name, kind, geom)",
        ((f.layer, f.name, f.kind, _ewkb(f.geom)) for f in town.basemap),
    )
    progress("agencies and boundary sets")
    agency_ids = {a.key: a.id for a in town.agencies}
    _copy(
        conn,
        "agency (id, slug, name, kind)",
        ((a.id, a.key, a.name, a.kind) for a in town.agencies),
    )
    _copy(
        conn,
        "boundary_set (id, slug, name, kind, map_default)",
        # The map opens on the council wards, as a council's partnership would expect.
        ((s.id, s.slug, s.name, s.kind, s.kind == "council_ward") for s in town.boundary_sets),
    )
    _copy(
        conn,
        "area (id, boundary_set_id, code, name, geom)",
        ((a.id, s.id, a.code, a.name, _ewkb(a.geom)) for s in town.boundary_sets for a in s.areas),
    )
    area_ids = {(s.slug, a.code): a.id for s in town.boundary_sets for a in s.areas}
    _copy(
        conn,
        "agency_jurisdiction (agency_id, area_id)",
        ((a.id, area_ids[ref]) for a in town.agencies for ref in a.jurisdiction),
    )
    progress("contexts and vehicles")
    _copy(
        conn,
        "context (id, agency_id, kind, name, geom, public_place, features, status, operator,"
        " route_name)",
        (
            (
                c.id,
                agency_ids[c.agency_key],
                c.kind,
                c.name,
                _ewkb(c.geom),
                c.public_place,
                list(c.features),
                c.status,
                c.operator,
                c.route_name,
            )
            for c in town.contexts
        ),
    )
    _copy(
        conn,
        "vehicle (id, agency_id, registration_mark, registration_normalised, mark_hmac, make,"
        " model, colour)",
        (
            (
                v.id,
                agency_ids[v.agency_key],
                display_mark(v.registration_mark),
                normalise_mark(v.registration_mark),
                mark_hmac(v.registration_mark, hmac_key),
                v.make,
                v.model,
                v.colour,
            )
            for v in town.vehicles
        ),
    )
    progress("cell lattice")
    build_cells(conn, service_area or town_bbox(town))
    progress(f"{len(town.observations):,} observations")
    _copy_observations(conn, town.observations, agency_ids)
    # Every record starts its history with a 'created' version, loaded ones too.
    for table in ("context", "observation", "vehicle"):
        conn.execute(
            "INSERT INTO record_version (object_type, object_id, agency_id, version, action)"  # noqa: S608
            f" SELECT '{table}', id, agency_id, 1, 'created' FROM {table}"
        )
    return {
        "agencies": len(town.agencies),
        "boundary_sets": len(town.boundary_sets),
        "contexts": len(town.contexts),
        "vehicles": len(town.vehicles),
        "observations": len(town.observations),
    }


@contextmanager
def _staged(conn: psycopg.Connection[Any], target: str) -> Iterator[str]:
    """COPY into a temporary table, then INSERT … SELECT into ``target``.

    PostgreSQL refuses COPY FROM into a table with row-level security, and our tables force
    it even on their owner; the INSERT goes through the owner's explicit policy instead.
    Yields the COPY target to use (``stage (cols)``).
    """
    table, _, columns = target.partition(" ")
    conn.execute(f"CREATE TEMP TABLE stage (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
    yield f"stage {columns}"
    # Table and column names are this module's constants, never input.
    conn.execute(f"INSERT INTO {table} {columns} SELECT {columns.strip('()')} FROM stage")  # noqa: S608
    conn.execute("DROP TABLE stage")


def _copy(conn: psycopg.Connection[Any], target: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with _staged(conn, target) as stage, conn.cursor().copy(f"COPY {stage} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _pg_array(refs: tuple[str, ...]) -> str:
    # Pseudonyms are generated as [A-Z0-9-]; quote anyway so the literal is always well-formed.
    return "{" + ",".join('"' + r.replace('"', "") + '"' for r in refs) + "}"


def observation_frame(obs: pd.DataFrame, agency_ids: dict[str, Any]) -> pd.DataFrame:
    """The observation rows as COPY-ready columns (vectorised)."""
    points = shapely.points(obs["lon"].to_numpy(), obs["lat"].to_numpy())
    cells = cell_keys(obs["lon"].to_numpy(), obs["lat"].to_numpy())
    return pd.DataFrame(
        {
            "id": obs["id"],
            "agency_id": obs["agency_key"].map(lambda k: str(agency_ids[k])),
            "occurred_at": obs["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "geom": shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True),
            "category": obs["category"],
            "note": obs["note"],
            "context_id": obs["context_id"],
            "young_person_refs": obs["young_person_refs"].map(_pg_array),
            "source_grade": obs["source_grade"],
            "info_grade": obs["info_grade"].astype(np.int64),
            "vehicle_id": obs["vehicle_id"],
            "cell_r7": cells[7],
            "cell_r8": cells[8],
            "cell_r9": cells[9],
        }
    )


def _copy_observations(
    conn: psycopg.Connection[Any], obs: pd.DataFrame, agency_ids: dict[str, Any]
) -> None:
    frame = observation_frame(obs, agency_ids)
    columns = ", ".join(frame.columns)
    chunk = 100_000
    with (
        _staged(conn, f"observation ({columns})") as stage,
        conn.cursor().copy(
            f"COPY {stage} FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (note))"
        ) as copy,
    ):
        for start in range(0, len(frame), chunk):
            buf = io.StringIO()
            frame.iloc[start : start + chunk].to_csv(buf, header=False, index=False)
            copy.write(buf.getvalue())
