"""National scale: ``python -m bench.national`` (``make bench-national``), outside `make test`.

Ten fictional towns of a million observations each over the same 24 months — ten seeds of the
demo town, stacked over open sea (each shifted north or west, still inside the British National
Grid's area), sixty agencies — so 10,000,000 observations, about two years of England and
Wales. Town 0 is the whole demo town (boundary sets, contexts, vehicles, lattice, people);
the other towns bring their agencies and observations (their contexts and vehicles are left
out, so their observations link none). Then it measures, on town 0's police:

- the load (per town) and the sizes of every big table and its indexes;
- the filtered layer's server time, tiles (cached and uncached) and the panel page;
- one month's share publication (the ledger write for one closed month, three months);
- the full rebuild against its own GROUP BY and a bare scan;
- the observation table partitioned by month, before and after, on the queries that read
  observations (the cube's paths never do).

It writes the ``<!-- national -->`` section of bench/RESULTS.md (the rest is `make bench`'s)
and drops its database afterwards (``--keep`` keeps it). If the disk cannot hold the ten
towns, it loads as many as fit and says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import database
from bench.common import loadavg, say, summary, time_ms

HERE = Path(__file__).resolve().parent
DB = "csmap_national"
BEGIN, END = "<!-- national:begin -->", "<!-- national:end -->"
#: Bytes of disk one observation takes, measured at a million (table, indexes, versions, cube,
#: WAL headroom): used to decide how many towns fit.
BYTES_PER_OBSERVATION = 1_400
#: Towns after the first are shifted by these degrees (lat north, lon west), over open sea.
SHIFTS = [(0.0, 0.0)] + [(0.15 * (i % 5 + 1), 0.35 * (i // 5)) for i in range(9)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.national", description=__doc__.split("\n")[0])
    p.add_argument("--towns", type=int, default=10, help="towns (default 10)")
    p.add_argument("--per-town", type=int, default=1_000_000, help="observations per town")
    p.add_argument("--keep", action="store_true", help="keep the csmap_national database")
    p.add_argument("--no-browser", action="store_true", help="skip the panel in Chromium")
    p.add_argument("--no-partitions", action="store_true", help="skip the partitioning what-if")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    return p.parse_args(argv)


def fitting_towns(settings: Any, towns: int, per_town: int) -> tuple[int, int]:
    """How many towns the disk under var/ can hold (leaving 10 GB free), and the free bytes."""
    free = shutil.disk_usage(settings.var_dir).free
    usable = free - 10 * 1024**3
    return max(1, min(towns, usable // (per_town * BYTES_PER_OBSERVATION))), free


def load(settings: Any, towns: int, per_town: int) -> dict[str, Any]:
    """Town 0 as the demo loader loads it, then the others' agencies and observations."""
    from spatial.demotown import generate_town
    from webmap.demo.load import load_town, observation_frame
    from webmap.infra.cluster import Cluster
    from webmap.infra.db import upgrade

    cluster = Cluster(settings)
    roles = settings.local_cluster()["roles"]
    with cluster.superuser_connect() as conn:
        cluster.ensure_database(conn, DB, roles, recreate=True)
    upgrade(settings, "head", url=database.owner_url(settings))
    out: dict[str, Any] = {"towns": towns, "per_town": per_town, "per_town_s": []}
    t_all = time.perf_counter()
    for i in range(towns):
        t0 = time.perf_counter()
        town = generate_town(seed=1 + i, size=per_town, end_month=database.END_MONTH)
        gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        with database.connect_owner(settings, autocommit=False) as conn:
            if i == 0:
                load_town(
                    conn, town, settings.secret("hmac_key"), service_area=settings.service_area
                )
            else:
                dlat, dlon = SHIFTS[i % len(SHIFTS)]
                agencies = {a.key: a.id for a in town.agencies}
                # A handful of rows, and COPY is refused into a table with row-level security.
                conn.cursor().executemany(
                    "INSERT INTO agency (id, slug, name, kind) VALUES (%s, %s, %s, %s)",
                    [
                        (a.id, f"{a.key}-t{i}", f"{a.name} (town {i})", a.kind)
                        for a in town.agencies
                    ],
                )
                obs = town.observations.assign(
                    lat=town.observations["lat"] + dlat,
                    lon=town.observations["lon"] - dlon,
                    context_id=None,
                    vehicle_id=None,
                )
                frame = observation_frame(obs, agencies)
                _copy_observations(conn, frame)
                conn.execute(
                    "INSERT INTO record_version (object_type, object_id, agency_id, version,"
                    " action) SELECT 'observation', id, agency_id, 1, 'created' FROM observation"
                    " WHERE agency_id = ANY(%s)",
                    (list(agencies.values()),),
                )
            conn.commit()
        took = time.perf_counter() - t0
        out["per_town_s"].append({"generate": round(gen, 1), "load": round(took, 1)})
        say(f"town {i}: generated in {gen:.0f} s, loaded in {took:.0f} s")
        del town
    out["load_s"] = time.perf_counter() - t_all
    t0 = time.perf_counter()
    with database.connect_owner(settings) as conn:
        conn.execute("VACUUM ANALYZE")
    out["vacuum_analyze_s"] = time.perf_counter() - t0
    return out


def _copy_observations(conn: Any, frame: Any) -> None:
    """COPY into a staging table, then one INSERT … SELECT through the cube's trigger (the
    demo loader's path: COPY is refused into a table with row-level security)."""
    columns = ", ".join(frame.columns)
    conn.execute("CREATE TEMP TABLE stage (LIKE observation INCLUDING DEFAULTS) ON COMMIT DROP")
    with conn.cursor().copy(
        f"COPY stage ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (note))"
    ) as copy:
        for start in range(0, len(frame), 200_000):
            buf = io.StringIO()
            frame.iloc[start : start + 200_000].to_csv(buf, header=False, index=False)
            copy.write(buf.getvalue())
    conn.execute(f"INSERT INTO observation ({columns}) SELECT {columns} FROM stage")
    conn.execute("DROP TABLE stage")


SIZES = ("observation", "record_version", "cell_month", "cell_month_generation", "cell")


def sizes(settings: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with database.connect_owner(settings) as conn:
        for table in SIZES:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM " + table + "), pg_relation_size(%s),"
                " pg_indexes_size(%s), pg_total_relation_size(%s)",
                (table, table, table),
            ).fetchone()
            assert row is not None
            out[table] = dict(zip(("rows", "table", "indexes", "total"), row, strict=True))
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        out["database"] = row[0] if row else None
        agencies = conn.execute("SELECT count(*) FROM agency").fetchone()
        out["agencies"] = agencies[0] if agencies else None
    return out


def publication(settings: Any, agency: Any, months: list[dt.date]) -> dict[str, Any]:
    """The ledger write for one closed month of town 0's police (tier B), as `csmap
    publications publish` does it (owner's session), one month at a time."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from webmap.features.layers.queries import add_months
    from webmap.features.sharing.publication import publish_due

    engine = create_engine(database.owner_url(settings))
    factory = sessionmaker(engine)
    times, written = [], []
    try:
        for m in months:
            t0 = time.perf_counter()
            written += publish_due(factory, agency, "B", m, add_months(m, 1))
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        engine.dispose()
    return {"months": written, **summary(times)}


def rebuild(settings: Any, repeats: int) -> dict[str, Any]:
    from bench.cube import agg_sql

    out: dict[str, Any] = {}
    with database.connect_owner(settings) as conn:
        say(f"rebuild_cell_month() x{repeats} (+1 warm-up)")
        out["rebuild"] = summary(
            time_ms(lambda: conn.execute("SELECT rebuild_cell_month()").fetchone(), repeats)
        )
        out["seqscan"] = summary(
            time_ms(lambda: conn.execute("SELECT count(*) FROM observation").fetchone(), repeats)
        )
    wrapped = "SELECT count(*) FROM (" + agg_sql() + ") g"
    out["group_by"] = summary(database.psql_times(settings, wrapped, repeats))
    return out


def main(argv: list[str] | None = None) -> int:
    from webmap.config import load_settings

    args = parse_args(argv)
    settings = load_settings(overrides={"mode": "demo"})
    database.BENCH_DB = DB  # every bench helper now works on the national database
    results: dict[str, Any] = {"loadavg": {"start": loadavg()}, "asked_towns": args.towns}
    towns, free = fitting_towns(settings, args.towns, args.per_town)
    results["disk_free_gb"] = round(free / 1024**3, 1)
    if towns < args.towns:
        say(f"only {towns} towns fit on the disk ({free / 1024**3:.0f} GB free)")
    logdir = Path(tempfile.mkdtemp(prefix="csmap-national-"))
    servers: list[Any] = []
    status = 0
    started = time.monotonic()
    try:
        from bench import national_measure

        results["load"] = load(settings, towns, args.per_town)
        results["sizes"] = sizes(settings)
        results["machine"] = database.machine(settings)
        national_measure.measure(args, settings, results, servers, logdir)
    except KeyboardInterrupt:
        status = 130
    except Exception as exc:
        say(f"national benchmark failed: {type(exc).__name__}: {exc}")
        traceback.print_exc(file=sys.stderr)
        results.setdefault("errors", {})["run"] = f"{type(exc).__name__}: {exc}"
        status = 1
    finally:
        for s in reversed(servers):
            s.stop()
        if not args.keep:
            database.drop(settings)
            say(f"dropped {DB}")
    results["loadavg"]["end"] = loadavg()
    results["wall_s"] = round(time.monotonic() - started, 1)
    from bench import national_report

    national_report.write(args.out, results)
    (HERE / "RESULTS-national.json").write_text(json.dumps(results, indent=1, default=str))
    say(f"done in {results['wall_s']:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
