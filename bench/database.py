"""The scratch database: create, migrate, load, describe, drop; and the pure-SQL timings."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.common import pg_url, say, with_database
from webmap.config import Settings
from webmap.infra.cluster import Cluster

BENCH_DB = "csmap_bench"
SEED = 1
#: Fixed, so every run (and every machine) benchmarks the same town.
END_MONTH = dt.date(2026, 10, 1)
CATEGORY = "suspected_drug_running"
AGENCY = "police"


def owner_url(settings: Settings) -> str:
    return with_database(settings.owner_url(), BENCH_DB)


def app_url(settings: Settings) -> str:
    return with_database(settings.app_url(), BENCH_DB)


def connect_owner(settings: Settings, autocommit: bool = True) -> psycopg.Connection[Any]:
    return psycopg.connect(pg_url(owner_url(settings)), autocommit=autocommit)


def create_and_load(settings: Settings, size: int) -> dict[str, Any]:
    """Re-create ``csmap_bench``, migrate it, load the demo town, VACUUM ANALYZE."""
    from spatial.demotown import generate_town
    from webmap.demo.load import load_town
    from webmap.infra.db import upgrade

    cluster = Cluster(settings)
    cluster.up()
    roles = settings.local_cluster()["roles"]  # type: ignore[index]
    out: dict[str, Any] = {"database": BENCH_DB, "size": size, "seed": SEED}
    t0 = time.perf_counter()
    with cluster.superuser_connect() as conn:
        cluster.ensure_database(conn, BENCH_DB, roles, recreate=True)
    upgrade(settings, "head", url=owner_url(settings))
    out["create_migrate_s"] = time.perf_counter() - t0
    say(f"generating the demo town with {size:,} observations")
    t0 = time.perf_counter()
    town = generate_town(seed=SEED, size=size, end_month=END_MONTH)
    out["generate_s"] = time.perf_counter() - t0
    say("loading it (COPY; statement triggers fill cell_month)")
    t0 = time.perf_counter()
    with connect_owner(settings, autocommit=False) as conn:
        counts = load_town(
            conn, town, settings.secret("hmac_key"), service_area=settings.service_area
        )
        conn.commit()
    out["load_s"] = time.perf_counter() - t0
    out["counts"] = counts
    say("VACUUM ANALYZE")
    t0 = time.perf_counter()
    with connect_owner(settings) as conn:
        conn.execute("VACUUM ANALYZE")
        out["vacuum_analyze_s"] = time.perf_counter() - t0
        row = conn.execute(
            "SELECT (SELECT count(*) FROM observation), (SELECT count(*) FROM cell_month),"
            " (SELECT count(*) FROM cell), pg_size_pretty(pg_total_relation_size('observation')),"
            " pg_size_pretty(pg_total_relation_size('cell_month')),"
            " min(occurred_at)::date, max(occurred_at)::date FROM observation"
        ).fetchone()
    assert row is not None
    keys = ("observations", "cell_month_rows", "cells", "observation_size", "cell_month_size")
    out.update(dict(zip(keys, row[:5], strict=True)))
    out["first_day"], out["last_day"] = str(row[5]), str(row[6])
    out["end_month"] = END_MONTH.strftime("%Y-%m")
    return out


def drop(settings: Settings) -> None:
    with Cluster(settings).superuser_connect() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB))
        )


def police_and_month(settings: Settings) -> tuple[uuid.UUID, dt.date]:
    """The benchmarked agency and its latest month with data."""
    with connect_owner(settings) as conn:
        row = conn.execute(
            "SELECT a.id, (SELECT max(month) FROM cell_month WHERE agency_id = a.id)"
            " FROM agency a WHERE a.slug = %s",
            (AGENCY,),
        ).fetchone()
    assert row is not None and row[1] is not None
    return row[0], row[1]


def machine(settings: Settings) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    with connect_owner(settings) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
        postgis = conn.execute("SELECT postgis_full_version()").fetchone()
        gucs = {
            name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
            for name in (
                "shared_buffers",
                "work_mem",
                "max_parallel_workers_per_gather",
                "max_parallel_workers",
                "jit",
            )
        }
    full = str(postgis[0]) if postgis else ""
    m = re.search(r'POSTGIS="([^"]+)"', full)
    versions = {}
    for mod in ("tipg", "uvicorn", "gunicorn", "flask", "geopandas", "h3", "psycopg", "playwright"):
        try:
            from importlib.metadata import version

            versions[mod] = version(mod)
        except Exception:
            versions[mod] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "postgresql": pg[0] if pg else "?",
        "postgis": m.group(1) if m else full[:40],
        "pg_settings": gucs,
        "python": platform.python_version(),
        "packages": versions,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def psql_times(settings: Settings, statement: str, repeats: int, prelude: str = "") -> list[float]:
    """Run ``statement`` 1 + ``repeats`` times in one psql session with \\timing; the
    times psql prints (client-side, round trip included), warm-up dropped."""
    cluster = Cluster(settings)
    psql = cluster.bindir() / "psql"
    exe = str(psql) if psql.exists() else (shutil.which("psql") or "psql")
    url = make_url(owner_url(settings))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": BENCH_DB,
    }
    one = " ".join(statement.split())
    script = prelude + "\\timing on\n" + f"{one};\n" * (repeats + 1)
    proc = subprocess.run(
        [exe, "-X", "-v", "ON_ERROR_STOP=1", "-f", "-"],
        input=script,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()[:500]}")
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", proc.stdout, re.M)]
    if len(times) != repeats + 1:
        raise RuntimeError(f"psql printed {len(times)} timings, expected {repeats + 1}")
    return times[1:]


def planned_workers(plan: Any) -> int:
    def walk(node: dict[str, Any]) -> int:
        n = int(node.get("Workers Planned", 0))
        return max([n, *(walk(c) for c in node.get("Plans", []))])

    return walk(plan[0]["Plan"]) if plan else 0


def create_tipg_views(settings: Settings, agency: uuid.UUID, month: dt.date) -> dict[str, Any]:
    """Materialized views tipg can serve: the SAME cells and counts as our counts tiles for
    (agency, month, category), at res 8 (our z12 tiles) and res 9 (our z14 tiles)."""
    out = {}
    with connect_owner(settings) as conn:
        for res in (8, 9):
            name = sql.Identifier(f"bench_cells_r{res}")
            conn.execute(sql.SQL("DROP MATERIALIZED VIEW IF EXISTS {}").format(name))
            conn.execute(
                sql.SQL(
                    "CREATE MATERIALIZED VIEW {} AS"
                    " SELECT t.cell::text AS cell, t.n, c.geom"
                    " FROM (SELECT cm.cell, sum(cm.n)::int AS n FROM cell_month cm"
                    "       WHERE cm.agency_id = {a} AND cm.res = {r} AND cm.month = {m}"
                    "         AND cm.category = {c} GROUP BY cm.cell) t"
                    " JOIN cell c ON c.res = {r} AND c.cell = t.cell"
                ).format(
                    name,
                    a=sql.Literal(str(agency)),
                    r=sql.Literal(res),
                    m=sql.Literal(month),
                    c=sql.Literal(CATEGORY),
                )
            )
            conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(name))
            conn.execute(sql.SQL("ANALYZE {}").format(name))
            row = conn.execute(sql.SQL("SELECT count(*), sum(n) FROM {}").format(name)).fetchone()
            out[f"r{res}"] = {"cells": row[0], "total": row[1]} if row else {}
    return out
