"""Drawing points for the demo town: around centres, along lines, within areas, mixtures,
and redrawing whatever lands in the sea. Every sampler returns (x, y, aux) in local BNG metres,
``aux`` saying which centre, line or part each point came from.

Examples
--------
>>> rng = np.random.default_rng(1)
>>> x, y, which = around([Point(0, 0), Point(100, 0)], 5.0)(rng, 4)
>>> len(x), set(which.tolist()) <= {0, 1}
(4, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Sampler = Callable[[np.random.Generator, int], tuple[FloatArray, FloatArray, IntArray]]


def choice(
    rng: np.random.Generator, weights: dict[str, float], keys: Sequence[str], n: int
) -> IntArray:
    codes = np.array([keys.index(k) for k in weights], dtype=np.int64)
    p = np.array(list(weights.values()))
    return codes[rng.choice(len(codes), n, p=p / p.sum())]


def around(centres: Sequence[Point], sigma: float) -> Sampler:
    cx = np.array([c.x for c in centres])
    cy = np.array([c.y for c in centres])

    def sample(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
        i = rng.integers(0, len(centres), n)
        return cx[i] + rng.normal(0, sigma, n), cy[i] + rng.normal(0, sigma, n), i

    return sample


def along(lines: Sequence[LineString], jitter: float) -> Sampler:
    lengths = np.array([line.length for line in lines])
    geoms = np.array(lines, dtype=object)

    def sample(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
        i = rng.choice(len(lines), n, p=lengths / lengths.sum())
        pts = shapely.line_interpolate_point(geoms[i], rng.random(n) * lengths[i])
        xy = shapely.get_coordinates(pts)
        return xy[:, 0] + rng.normal(0, jitter, n), xy[:, 1] + rng.normal(0, jitter, n), i

    return sample


def within(geom: BaseGeometry) -> Sampler:
    shapely.prepare(geom)
    x0, y0, x1, y1 = geom.bounds

    def sample(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
        x, y = np.empty(n), np.empty(n)
        todo = np.arange(n)
        while todo.size:  # rejection from the bounding box; the polygons fill a good share
            px = rng.uniform(x0, x1, todo.size)
            py = rng.uniform(y0, y1, todo.size)
            ok = shapely.contains_xy(geom, px, py)
            x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
            todo = todo[~ok]
        return x, y, np.zeros(n, dtype=np.int64)

    return sample


def mixture(parts: Sequence[tuple[float, Sampler]]) -> Sampler:
    # The auxiliary index says which part each point came from.
    p = np.array([w for w, _ in parts])

    def sample(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
        which = rng.choice(len(parts), n, p=p / p.sum())
        x, y = np.empty(n), np.empty(n)
        for j, (_, sub) in enumerate(parts):
            mask = which == j
            x[mask], y[mask], _ = sub(rng, int(mask.sum()))
        return x, y, which.astype(np.int64)

    return sample


def draw(
    rng: np.random.Generator, sampler: Sampler, n: int, region: BaseGeometry
) -> tuple[FloatArray, FloatArray, IntArray]:
    # Redraw whatever lands in the sea (or too near a single-child cluster) until none do.
    x, y, aux = sampler(rng, n)
    for _ in range(200):
        bad = ~shapely.contains_xy(region, x, y)
        if not bad.any():
            return x, y, aux
        x[bad], y[bad], aux[bad] = sampler(rng, int(bad.sum()))
    raise RuntimeError("sampler keeps missing the land")
