"""Vector tiles over HTTP: our app under each gunicorn worker class, cached and not, against
tipg on the same data, taking turns round by round."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.common import Reply, get, median, summary
from bench.database import CATEGORY, app_url
from bench.servers import BenchUser
from webmap.config import Settings

#: The demo town's service area (Settings.service_area's default): tiles covering it.
TOWN_BBOX = (1.10, 54.54, 1.30, 54.66)
ZOOMS = (12, 14)
CATEGORIES = (
    "suspected_drug_running",
    "older_males_approaching",
    "child_out_late",
    "weapon_found",
    "",
)


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


def our_tile(month: dt.date, category: str = CATEGORY) -> Callable[[tuple[int, int, int]], str]:
    def path(t: tuple[int, int, int]) -> str:
        z, x, y = t
        cat = f"&category={category}" if category else ""
        return f"/tiles/counts/{z}/{x}/{y}.mvt?from={month:%Y-%m}&to={month:%Y-%m}{cat}"

    return path


def tipg_tile(t: tuple[int, int, int]) -> str:
    z, x, y = t
    res = 9 if z >= 14 else 8  # the resolution our tiles use at that zoom
    return f"/collections/public.bench_cells_r{res}/tiles/WebMercatorQuad/{z}/{x}/{y}"


def uncached_paths(tiles: list[tuple[int, int, int]], month: dt.date) -> Iterator[str]:
    """Paths never asked before in the run: every tile under each (month, category) filter in
    turn, so each request misses every cache and the database builds the tile."""
    months = [month]
    for _ in range(23):
        prev = months[-1]
        months.append((prev.replace(day=1) - dt.timedelta(days=1)).replace(day=1))
    for m, cat in itertools.product(months, CATEGORIES):
        for t in tiles:
            yield our_tile(m, cat)(t)


def _fetch_all(
    pool: ThreadPoolExecutor, port: int, paths: list[str], cookie: str | None
) -> tuple[list[Reply], float]:
    t0 = time.perf_counter()
    replies = list(pool.map(lambda p: get(port, p, cookie), paths))
    return replies, time.perf_counter() - t0


@dataclass
class Target:
    """One tile server (and way of asking) to measure."""

    port: int
    cookie: str | None
    paths: list[str]
    #: For the uncached target: an endless supply of paths nobody asked before.
    fresh: Iterator[str] | None = None
    sequential: list[float] = field(default_factory=list)
    pooled: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    errors: int = 0
    size: int = 0
    requests: int = 0

    def batch(self, n: int) -> list[str]:
        if self.fresh is None:
            return (self.paths * math.ceil(n / len(self.paths)))[:n]
        return list(itertools.islice(self.fresh, n))


def tile_runs(
    targets: dict[str, Target], rounds: int, threads: int, min_requests: int
) -> dict[str, dict[str, Any]]:
    """Latency one request at a time, and throughput with a pool of client threads.

    The targets take turns round by round (rotating who goes first), so all see the same
    background load. Each round, per target: one pass over the tile set one request at a
    time, then the tile set repeated up to ``min_requests`` requests through the pool."""
    per_batch = max(min_requests, 1)
    with ThreadPoolExecutor(max_workers=1) as one, ThreadPoolExecutor(threads) as pool:
        for t in targets.values():  # warm-up, and every tile must answer 200
            replies, _ = _fetch_all(one, t.port, t.batch(len(t.paths)), t.cookie)
            bad = sorted({r.status for r in replies if r.status != 200})
            if bad:
                raise RuntimeError(
                    f"tiles answered {bad} on port {t.port}: {replies[0].body[:200]!r}"
                )
        names = list(targets)
        for rnd in range(rounds):
            order = names[rnd % len(names) :] + names[: rnd % len(names)]
            for name in order:
                t = targets[name]
                replies, _ = _fetch_all(one, t.port, t.batch(len(t.paths)), t.cookie)
                t.sequential.extend(r.ms for r in replies)
                t.errors += sum(r.status != 200 for r in replies)
                batch = t.batch(per_batch)
                replies, wall = _fetch_all(pool, t.port, batch, t.cookie)
                t.pooled.extend(r.ms for r in replies)
                t.rates.append(len(batch) / wall)
                t.errors += sum(r.status != 200 for r in replies)
                t.size = sum(len(r.body) for r in replies[: len(t.paths)])
                t.requests += len(batch) + len(t.paths)
    return {
        name: {
            "tiles": len(t.paths),
            "requests_per_round": per_batch,
            "requests": t.requests,
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
    apps: dict[str, int],
    cookies: dict[str, str],
    tipg_port: int | None,
    month: dt.date,
    rounds: int,
    threads: int,
    min_requests: int,
) -> dict[str, Any]:
    """``apps``: our app's port per worker class (the first is the one `csmap serve` runs);
    its uncached target is measured on the first one."""
    out: dict[str, Any] = {"bbox": TOWN_BBOX, "worker_classes": list(apps)}
    first = next(iter(apps))
    for z in ZOOMS:
        tiles = tiles_covering(TOWN_BBOX, z)
        zr: dict[str, Any] = {"tiles": len(tiles), "range": [tiles[0][1:], tiles[-1][1:]]}
        cached = [our_tile(month)(t) for t in tiles]
        targets = {f"ours_{k}": Target(port, cookies[k], cached) for k, port in apps.items()}
        targets["ours_uncached"] = Target(
            apps[first], cookies[first], cached, fresh=uncached_paths(tiles, month)
        )
        if tipg_port is not None:
            targets["tipg"] = Target(tipg_port, None, [tipg_tile(t) for t in tiles])
        zr.update(tile_runs(targets, rounds, threads, min_requests))
        zr["ours"] = zr[f"ours_{first}"]
        if tipg_port is not None:
            zr["same_data"] = same_data(apps[first], cookies[first], tipg_port, tiles, month)
        out[f"z{z}"] = zr
    return out


def tile_sql_time(settings: Settings, user: BenchUser, month: dt.date) -> dict[str, Any]:
    """PostgreSQL's EXPLAIN ANALYZE execution time of ``csmap_counts_tile`` building every
    tile of each zoom (nothing held), as the same user under row-level security: how much of
    a tile's end-to-end time is the database."""
    import psycopg

    from bench.common import pg_url
    from webmap.features.layers.tiles import MAX_TILE_BYTES, resolution_for_zoom

    out: dict[str, Any] = {}
    with psycopg.connect(pg_url(app_url(settings)), autocommit=True) as conn:
        for z in ZOOMS:
            times = []
            for _, x, y in tiles_covering(TOWN_BBOX, z):
                plan = conn.execute(
                    "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM csmap_counts_tile("
                    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', %s)",
                    (
                        str(user.id),
                        str(user.agency_id),
                        user.role,
                        resolution_for_zoom(z),
                        month,
                        month,
                        [CATEGORY],
                        z,
                        x,
                        y,
                        MAX_TILE_BYTES,
                    ),
                ).fetchone()
                assert plan is not None
                times.append(float(plan[0][0]["Execution Time"]))
            out[f"z{z}"] = summary(times)
    return out
