"""The naive way: read the points into geopandas and bin them into H3 cells in Python."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from typing import Any

import geopandas as gpd
import h3
from sqlalchemy import create_engine, text

from bench.common import say, summary
from bench.database import CATEGORY, owner_url
from webmap.config import Settings

# The same rows the layer counts: the agency's live observations of the category in the month
# (calendar month in Europe/London, as cell_month's months are).
_MONTH = text(
    "SELECT id, geom FROM observation"
    " WHERE agency_id = :agency AND deleted_at IS NULL AND category = :category"
    "   AND occurred_at >= CAST(:m AS timestamp) AT TIME ZONE 'Europe/London'"
    "   AND occurred_at < (CAST(:m AS timestamp) + interval '1 month') AT TIME ZONE 'Europe/London'"
)
_ALL = text("SELECT id, geom FROM observation WHERE deleted_at IS NULL")


def _bin(frame: gpd.GeoDataFrame, res: int) -> Counter[str]:
    """One ``h3.latlng_to_cell`` call per point, as a first attempt would do it."""
    xs, ys = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    return Counter(
        str(h3.str_to_int(h3.latlng_to_cell(lat, lon, res)))
        for lon, lat in zip(xs.tolist(), ys.tolist(), strict=True)
    )


def _once(engine: Any, query: Any, params: dict[str, Any]) -> tuple[float, float, Counter[str]]:
    t0 = time.perf_counter()
    with engine.connect() as conn:
        frame = gpd.read_postgis(query, conn, geom_col="geom", params=params)
    t1 = time.perf_counter()
    counts = _bin(frame, 8)
    t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000, counts


def naive(
    settings: Settings,
    agency: uuid.UUID,
    month: dt.date,
    layer_counts: dict[str, int] | None,
    repeats: int,
    repeats_all: int,
) -> dict[str, Any]:
    engine = create_engine(owner_url(settings))
    out: dict[str, Any] = {}
    try:
        params = {"agency": agency, "category": CATEGORY, "m": month}
        say(f"naive: the layer's month in geopandas + h3, x{repeats} (+1 warm-up)")
        runs = [_once(engine, _MONTH, params) for _ in range(repeats + 1)][1:]
        counts = runs[0][2]
        out["month"] = {
            "points": sum(counts.values()),
            "cells": len(counts),
            "read": summary([r[0] for r in runs]),
            "bin": summary([r[1] for r in runs]),
            "total": summary([r[0] + r[1] for r in runs]),
        }
        if layer_counts is not None:
            diff = sum(
                abs(counts.get(c, 0) - layer_counts.get(c, 0))
                for c in set(counts) | set(layer_counts)
            )
            out["month"]["same_total_as_layer"] = sum(counts.values()) == sum(layer_counts.values())
            # The lattice's res-8 key is the parent of the point's res-9 cell (spatial/cells.py),
            # not latlng_to_cell(…, 8): a few points near cell edges land one cell over.
            out["month"]["points_in_other_cell"] = diff // 2
        say(f"naive: all observations in geopandas + h3, x{repeats_all}")
        runs = [_once(engine, _ALL, {}) for _ in range(repeats_all)]
        out["all"] = {
            "points": sum(runs[0][2].values()),
            "cells": len(runs[0][2]),
            "read": summary([r[0] for r in runs]),
            "bin": summary([r[1] for r in runs]),
            "total": summary([r[0] + r[1] for r in runs]),
        }
    finally:
        engine.dispose()
    return out
