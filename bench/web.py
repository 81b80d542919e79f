"""Over HTTP: one filtered layer request, and vector tiles from our app and from tipg."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.common import Reply, get, median, summary
from bench.database import CATEGORY, app_url, owner_url
from bench.servers import BenchUser
from webmap.config import Settings

#: The demo town's service area (Settings.service_area's default): tiles covering it.
TOWN_BBOX = (1.10, 54.54, 1.30, 54.66)
ZOOMS = (12, 14)


def layer_path(month: dt.date) -> str:
    return f"/api/v1/layers/counts?res=8&month={month:%Y-%m}&category={CATEGORY}"


def layer_http(port: int, cookie: str, month: dt.date, repeats: int) -> dict[str, Any]:
    """The counts layer end to end over HTTP, one request at a time on a fresh connection."""
    path = layer_path(month)
    first = get(port, path, cookie)
    if first.status != 200:
        raise RuntimeError(f"{path} answered {first.status}: {first.body[:300]!r}")
    fc = json.loads(first.body)
    times = []
    for _ in range(repeats):
        r = get(port, path, cookie)
        if r.status != 200:
            raise RuntimeError(f"{path} answered {r.status}")
        times.append(r.ms)
    return {
        "path": path,
        "features": len(fc["features"]),
        "total": sum(f["properties"]["n"] for f in fc["features"]),
        "bytes": len(first.body),
        "http": summary(times),
        "counts": {f["properties"]["cell"]: f["properties"]["n"] for f in fc["features"]},
    }


def layer_server_time(
    settings: Settings, user: BenchUser, month: dt.date, repeats: int
) -> dict[str, Any]:
    """Server time without any timing header: (a) the service function
    ``cell_counts_geojson`` called directly in a request context as the same user (the
    transaction, with its row-level-security context, is begun before the clock starts), and
    (b) PostgreSQL's EXPLAIN ANALYZE execution time of the exact SQL it sends."""
    from webmap import create_app
    from webmap.features.layers import queries as layers
    from webmap.infra.db import DbContext, get_session, set_request_context

    app = create_app(
        {
            "mode": "demo",
            "database_url": app_url(settings),
            "owner_database_url": owner_url(settings),
        }
    )
    engine = app.extensions["csmap.engine"]
    q = layers.LayerQuery(8, month, month, (CATEGORY,))
    ctx = DbContext(str(user.id), str(user.agency_id), user.role)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        if "FeatureCollection" in statement:
            captured.append((statement, params))

    def once() -> float:
        with app.test_request_context():
            set_request_context(ctx)
            session = get_session()
            session.connection()  # begin now: pool checkout and set_config are not timed
            t0 = time.perf_counter()
            layers.cell_counts_geojson(session, user.agency_id, q)
            elapsed = (time.perf_counter() - t0) * 1000
            session.rollback()
        return elapsed

    event.listen(engine, "before_cursor_execute", capture)
    once()  # warm-up, and captures the statement
    event.remove(engine, "before_cursor_execute", capture)
    fn_times = [once() for _ in range(repeats)]
    statement, params = captured[0]
    exec_ms, plan_ms = [], []
    with app.test_request_context():
        set_request_context(ctx)
        conn = get_session().connection()
        for i in range(repeats + 1):
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params
            ).scalar_one()
            if i:
                exec_ms.append(float(plan[0]["Execution Time"]))
                plan_ms.append(float(plan[0]["Planning Time"]))
        get_session().rollback()
    engine.dispose()
    return {
        "function": summary(fn_times),
        "explain_execution": summary(exec_ms),
        "explain_planning": summary(plan_ms),
    }


def tile_sql_time(settings: Settings, user: BenchUser, month: dt.date) -> dict[str, Any]:
    """PostgreSQL's EXPLAIN ANALYZE execution time of our tile SQL
    (webmap.features.layers.tiles._MVT) for every tile of each zoom, as the same user under
    row-level security: how much of a tile's end-to-end time is the database."""
    from sqlalchemy import text

    from webmap import create_app
    from webmap.features.layers.tiles import _MVT, resolution_for_zoom
    from webmap.infra.db import DbContext, get_session, set_request_context

    app = create_app(
        {
            "mode": "demo",
            "database_url": app_url(settings),
            "owner_database_url": owner_url(settings),
        }
    )
    out: dict[str, Any] = {}
    with app.test_request_context():
        set_request_context(DbContext(str(user.id), str(user.agency_id), user.role))
        session = get_session()
        for z in ZOOMS:
            times = []
            for _, x, y in tiles_covering(TOWN_BBOX, z):
                params = {
                    "agency": user.agency_id,
                    "res": resolution_for_zoom(z),
                    "m_from": month,
                    "m_to": month,
                    "cats": [CATEGORY],
                    "z": z,
                    "x": x,
                    "y": y,
                }
                plan = session.execute(
                    text("EXPLAIN (ANALYZE, FORMAT JSON) " + _MVT), params
                ).scalar_one()
                times.append(float(plan[0]["Execution Time"]))
            out[f"z{z}"] = summary(times)
        session.rollback()
    app.extensions["csmap.engine"].dispose()
    return out


# -- tiles ----------------------------------------------------------------------------------


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_covering(bbox: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every z/x/y tile touching ``bbox`` (west, south, east, north)."""
    x0, y0 = tile_xy(bbox[0], bbox[3], z)  # north-west corner: smallest x and y
    x1, y1 = tile_xy(bbox[2], bbox[1], z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def our_tile(month: dt.date) -> Callable[[tuple[int, int, int]], str]:
    def path(t: tuple[int, int, int]) -> str:
        z, x, y = t
        return f"/tiles/counts/{z}/{x}/{y}.mvt?month={month:%Y-%m}&category={CATEGORY}"

    return path


def tipg_tile(t: tuple[int, int, int]) -> str:
    z, x, y = t
    res = 9 if z >= 14 else 8  # the resolution our tiles use at that zoom
    return f"/collections/public.bench_cells_r{res}/tiles/WebMercatorQuad/{z}/{x}/{y}"


def _fetch_all(
    pool: ThreadPoolExecutor, port: int, paths: list[str], cookie: str | None
) -> tuple[list[Reply], float]:
    t0 = time.perf_counter()
    replies = list(pool.map(lambda p: get(port, p, cookie), paths))
    return replies, time.perf_counter() - t0


@dataclass
class Target:
    """One tile server to fetch the tile set from."""

    port: int
    cookie: str | None
    paths: list[str]
    sequential: list[float] = field(default_factory=list)
    pooled: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    errors: int = 0
    size: int = 0


def tile_runs(
    targets: dict[str, Target], rounds: int, threads: int, min_requests: int
) -> dict[str, dict[str, Any]]:
    """Latency one request at a time, and throughput with a pool of client threads.

    The servers take turns round by round (alternating who goes first), so both see the same
    background load. Each round, per server: one pass over the tile set one request at a time,
    then the tile set repeated up to ``min_requests`` requests through the pool (a round of 9
    tiles would be over before it began)."""
    with ThreadPoolExecutor(max_workers=1) as one, ThreadPoolExecutor(threads) as pool:
        for t in targets.values():  # warm-up, and every tile must answer 200
            replies, _ = _fetch_all(one, t.port, t.paths, t.cookie)
            bad = sorted({r.status for r in replies if r.status != 200})
            if bad:
                raise RuntimeError(
                    f"tiles answered {bad} on port {t.port}: {replies[0].body[:200]!r}"
                )
            _fetch_all(pool, t.port, t.paths, t.cookie)
        names = list(targets)
        for rnd in range(rounds):
            for name in names if rnd % 2 == 0 else names[::-1]:
                t = targets[name]
                batch = t.paths * max(1, math.ceil(min_requests / len(t.paths)))
                replies, _ = _fetch_all(one, t.port, t.paths, t.cookie)
                t.sequential.extend(r.ms for r in replies)
                t.errors += sum(r.status != 200 for r in replies)
                replies, wall = _fetch_all(pool, t.port, batch, t.cookie)
                t.pooled.extend(r.ms for r in replies)
                t.rates.append(len(batch) / wall)
                t.errors += sum(r.status != 200 for r in replies)
                t.size = sum(len(r.body) for r in replies[: len(t.paths)])
    return {
        name: {
            "tiles": len(t.paths),
            "requests_per_round": len(t.paths) * max(1, math.ceil(min_requests / len(t.paths))),
            "rounds": rounds,
            "threads": threads,
            "sequential": summary(t.sequential),
            "pooled": summary(t.pooled),
            "tiles_per_s": {"median": median(t.rates), "all": [round(x, 1) for x in t.rates]},
            "bytes_per_tile_set": t.size,
            "errors": t.errors,
        }
        for name, t in targets.items()
    }


def _decode(body: bytes) -> list[dict[str, Any]]:
    import mapbox_vector_tile

    layers = mapbox_vector_tile.decode(body) if body else {}
    return [f["properties"] for layer in layers.values() for f in layer["features"]]


def same_data(
    app_port: int, cookie: str, tipg_port: int, tiles: list[tuple[int, int, int]], month: dt.date
) -> dict[str, Any]:
    """Fairness check: decode every tile from both servers and compare cells and counts."""
    try:
        import mapbox_vector_tile  # noqa: F401 - the dev extra has it
    except ImportError:
        return {"checked": False, "why": "mapbox-vector-tile not installed"}
    ours: dict[str, int] = {}
    theirs: dict[str, int] = {}
    per_tile_diff = 0
    for t in tiles:
        ra, rb = get(app_port, our_tile(month)(t), cookie), get(tipg_port, tipg_tile(t))
        if ra.status != 200 or rb.status != 200:
            raise RuntimeError(f"tile {t}: csmap answered {ra.status}, tipg {rb.status}")
        a, b = _decode(ra.body), _decode(rb.body)
        ours.update({str(p["cell"]): int(p["n"]) for p in a})
        theirs.update({str(p["cell"]): int(p["n"]) for p in b})
        if sorted(str(p["cell"]) for p in a) != sorted(str(p["cell"]) for p in b):
            per_tile_diff += 1
    return {
        "checked": True,
        "cells_ours": len(ours),
        "cells_tipg": len(theirs),
        "total_ours": sum(ours.values()),
        "total_tipg": sum(theirs.values()),
        "identical": ours == theirs,
        "tiles_with_different_cells": per_tile_diff,
    }


def tiles_bench(
    app_port: int,
    cookie: str,
    tipg_port: int | None,
    month: dt.date,
    rounds: int,
    threads: int,
    min_requests: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {"bbox": TOWN_BBOX}
    for z in ZOOMS:
        tiles = tiles_covering(TOWN_BBOX, z)
        zr: dict[str, Any] = {"tiles": len(tiles), "range": [tiles[0][1:], tiles[-1][1:]]}
        targets = {"ours": Target(app_port, cookie, [our_tile(month)(t) for t in tiles])}
        if tipg_port is not None:
            targets["tipg"] = Target(tipg_port, None, [tipg_tile(t) for t in tiles])
        zr.update(tile_runs(targets, rounds, threads, min_requests))
        if tipg_port is not None:
            zr["same_data"] = same_data(app_port, cookie, tipg_port, tiles, month)
        out[f"z{z}"] = zr
    return out
