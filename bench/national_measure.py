"""What the national benchmark measures once its towns are loaded (see bench/national.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from bench import database
from bench.common import say, summary, time_ms


def measure(
    args: argparse.Namespace,
    settings: Any,
    results: dict[str, Any],
    servers: list[Any],
    logdir: Path,
) -> None:
    from bench import browser, national, tiles, web
    from bench import servers as srv

    agency, month = database.police_and_month(settings)
    results["month"] = month.strftime("%Y-%m")
    user = srv.create_user(settings)
    say("filtered layer: server time")
    results["layer"] = web.layer_server_time(settings, user, month, 30)
    say("one month's share publication (three closed months)")
    months = [_add(month, -2), _add(month, -1), month]
    results["publication"] = national.publication(settings, agency, months)
    say("full rebuild against its own GROUP BY")
    results["rebuild"] = national.rebuild(settings, args.repeats)
    app = srv.start_app(settings, logdir, "gthread")
    servers.append(app)
    cookie = srv.sign_in(app.port, user)
    time.sleep(3)
    say("tiles: cached and uncached, z12 and z14")
    out: dict[str, Any] = {}
    for z in tiles.ZOOMS:
        covering = tiles.tiles_covering(tiles.TOWN_BBOX, z)
        cached = [tiles.our_tile(month)(t) for t in covering]
        targets = {
            "cached": tiles.Target(app.port, cookie, cached),
            "uncached": tiles.Target(
                app.port, cookie, cached, fresh=tiles.uncached_paths(covering, month)
            ),
        }
        out[f"z{z}"] = tiles.tile_runs(targets, rounds=3, threads=4, min_requests=200)
    results["tiles"] = out
    if not args.no_browser:
        say("panel page in headless Chromium")
        results["browser"] = browser.page_ready(app.port, cookie, user, args.repeats)
    if not args.no_partitions:
        results["partitions"] = partitions(settings, agency, month, args.repeats)


def _add(month: dt.date, n: int) -> dt.date:
    total = month.year * 12 + month.month - 1 + n
    return dt.date(total // 12, total % 12 + 1, 1)


#: The queries that read observations (the cube's paths never do), on the table as it is and
#: on a copy partitioned by month. {t} is the table; every one filters on the local month, so
#: the partitioned copy can prune.
QUERIES = {
    "publication facts (one agency, one month)": (
        "SELECT count(*), count(DISTINCT cell_r8) FROM {t} WHERE agency_id = %(a)s"
        " AND local_month = %(m)s AND deleted_at IS NULL"
    ),
    "top contexts (one agency, two months)": (
        "SELECT context_id, count(*) FROM {t} WHERE agency_id = %(a)s AND context_id IS NOT NULL"
        " AND local_month BETWEEN %(p)s AND %(m)s AND deleted_at IS NULL GROUP BY 1"
    ),
    "recount of one month (every agency)": (
        "SELECT count(*) FROM (SELECT cell_r9, category_key, agency_id, count(*) FROM {t}"
        " WHERE local_month = %(m)s AND deleted_at IS NULL GROUP BY 1, 2, 3) g"
    ),
    "full recount at res 9 (every month)": (
        "SELECT count(*) FROM (SELECT cell_r9, local_month, category_key, agency_id, count(*)"
        " FROM {t} WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4) g"
    ),
}


def partitions(settings: Any, agency: Any, month: dt.date, repeats: int) -> dict[str, Any]:
    """A copy of observation partitioned by local month (24 months and a default), with the
    same (agency, time) index, against the table itself on :data:`QUERIES`; then dropped."""
    out: dict[str, Any] = {"queries": {}}
    params = {"a": agency, "m": month, "p": _add(month, -1)}
    with database.connect_owner(settings) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_obs_by_month")
        conn.execute(
            "CREATE TABLE bench_obs_by_month (LIKE observation) PARTITION BY RANGE (local_month)"
        )
        first = _add(month, -23)
        for k in range(24):
            lo, hi = _add(first, k), _add(first, k + 1)
            conn.execute(
                f"CREATE TABLE bench_obs_m{k:02d} PARTITION OF bench_obs_by_month"
                f" FOR VALUES FROM ('{lo}') TO ('{hi}')"
            )
        conn.execute("CREATE TABLE bench_obs_rest PARTITION OF bench_obs_by_month DEFAULT")
        say("partitioning what-if: copying every observation into 25 partitions")
        t0 = time.perf_counter()
        conn.execute("INSERT INTO bench_obs_by_month SELECT * FROM observation")
        conn.execute("CREATE INDEX ON bench_obs_by_month (agency_id, occurred_at)")
        conn.execute("VACUUM ANALYZE bench_obs_by_month")
        out["copy_s"] = time.perf_counter() - t0
        for name, q in QUERIES.items():
            say(f"partitioning what-if: {name}")
            row = {}
            for label, table in (("before", "observation"), ("after", "bench_obs_by_month")):
                stmt = q.format(t=table)
                row[label] = summary(
                    time_ms(lambda s=stmt: conn.execute(s, params).fetchall(), repeats)
                )
            out["queries"][name] = row
        conn.execute("DROP TABLE bench_obs_by_month")
    return out
