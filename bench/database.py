"""The scratch database: create, migrate, load, describe, drop; and the pure-SQL timings."""

from __future__ import annotations

import datetime as dt
import importlib.util
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

from bench.common import pg_url, say, summary, time_ms, with_database
from webmap.config import REPO_ROOT, Settings
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


def _agg_sql() -> str:
    """The AGG SELECT from the migration that defines ``rebuild_cell_month`` (not a copy)."""
    path = REPO_ROOT / "migrations" / "versions" / "0005_cell_lattice.py"
    spec = importlib.util.spec_from_file_location("bench_mig_0005", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    agg: str = module.AGG
    return agg.format(source="observation")


#: What-if for the rebuild (not in the app): aggregate the observations once, at res 9, and
#: roll res 8 and 7 up from those rows. Lattice keys are exact H3 parents (spatial/cells.py:
#: set the resolution field, fill the finer digits with 7s), so the rows are the same as AGG's
#: — checked with EXCEPT ALL both ways on every run.
ROLLUP = """
WITH r9 AS MATERIALIZED (
  SELECT o.cell_r9 AS cell,
         date_trunc('month', o.occurred_at AT TIME ZONE 'Europe/London')::date AS month,
         o.category, o.agency_id, count(*)::int AS n
  FROM observation o WHERE o.deleted_at IS NULL GROUP BY 1, 2, 3, 4),
r8 AS MATERIALIZED (
  SELECT (cell & ~(15::bigint << 52)) | (8::bigint << 52) | (7::bigint << 18) AS cell,
         month, category, agency_id, sum(n)::int AS n
  FROM r9 GROUP BY 1, 2, 3, 4)
SELECT 9::smallint, cell, month, category, agency_id, n FROM r9
UNION ALL SELECT 8::smallint, cell, month, category, agency_id, n FROM r8
UNION ALL
SELECT 7::smallint, (cell & ~(15::bigint << 52)) | (7::bigint << 52) | (7::bigint << 21),
       month, category, agency_id, sum(n)::int
FROM r8 GROUP BY 2, 3, 4, 5
"""


def _psql_times(settings: Settings, statement: str, repeats: int, prelude: str = "") -> list[float]:
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


def sql_timings(settings: Settings, repeats: int) -> dict[str, Any]:
    """Full rebuild of cell_month against the floor of a bare scan, and the raw GROUP BY."""
    out: dict[str, Any] = {}
    with connect_owner(settings) as conn:
        say(f"rebuild_cell_month() x{repeats} (+1 warm-up)")
        rows = conn.execute("SELECT rebuild_cell_month()").fetchone()
        out["rebuild_rows"] = rows[0] if rows else None
        out["rebuild"] = summary(
            time_ms(lambda: conn.execute("SELECT rebuild_cell_month()").fetchone(), repeats)
        )
        say("bare sequential scans of observation")
        out["seqscan_parallel"] = summary(
            time_ms(lambda: conn.execute("SELECT count(*) FROM observation").fetchone(), repeats)
        )
        plan = conn.execute("EXPLAIN (FORMAT JSON) SELECT count(*) FROM observation").fetchone()
        out["seqscan_parallel_workers"] = _planned_workers(plan[0] if plan else None)
        conn.execute("SET max_parallel_workers_per_gather = 0")
        out["seqscan_serial"] = summary(
            time_ms(lambda: conn.execute("SELECT count(*) FROM observation").fetchone(), repeats)
        )
        conn.execute("RESET max_parallel_workers_per_gather")
        # The INSERT inside the function: EXPLAIN ANALYZE in a rolled-back transaction.
        conn.execute("BEGIN")
        conn.execute("TRUNCATE cell_month")
        plan = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO cell_month"
            " (res, cell, month, category, agency_id, n) " + _agg_sql()
        ).fetchone()
        conn.execute("ROLLBACK")
        if plan:
            out["rebuild_insert_explain_ms"] = plan[0][0]["Execution Time"]
            out["rebuild_insert_jit"] = bool(plan[0][0].get("JIT"))
    agg = "SELECT count(*) FROM (" + _agg_sql() + ") g"
    say(f"the same GROUP BY in psql x{repeats} (+1 warm-up), parallel as configured and serial")
    out["psql_group_by"] = summary(_psql_times(settings, agg, repeats))
    out["psql_group_by_serial"] = summary(
        _psql_times(settings, agg, repeats, prelude="SET max_parallel_workers_per_gather = 0;\n")
    )
    out["psql_group_by_nojit"] = summary(
        _psql_times(settings, agg, repeats, prelude="SET jit = off;\n")
    )
    say("what-if: res-9 GROUP BY + roll-up (checked against AGG), in psql")
    with connect_owner(settings) as conn:
        a = conn.execute(f"SELECT count(*) FROM (({_agg_sql()}) EXCEPT ALL ({ROLLUP})) d")
        b = conn.execute(f"SELECT count(*) FROM (({ROLLUP}) EXCEPT ALL ({_agg_sql()})) d")
        out["rollup_same_rows"] = a.fetchone() == (0,) and b.fetchone() == (0,)
    out["psql_rollup"] = summary(
        _psql_times(settings, "SELECT count(*) FROM (" + ROLLUP + ") g", repeats)
    )
    return out


def _planned_workers(plan: Any) -> int:
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
