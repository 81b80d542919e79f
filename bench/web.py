"""Over HTTP: one filtered layer request, and its server time (tiles: bench/tiles.py)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import event

from bench.common import get, summary
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
