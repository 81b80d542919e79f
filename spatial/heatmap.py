"""Server-side kernel density heatmaps from cell counts.

The heatmap is computed on the server from the lattice's cell counts (each cell's count placed
at its centre), never from raw points in the browser: the same code can then serve partner
tiers from published cells only. Work is in a projected CRS (metres).

Examples
--------
>>> import numpy as np
>>> grid = kernel_density(np.array([500.0]), np.array([500.0]), np.array([10.0]),
...                       (0.0, 0.0, 1000.0, 1000.0), cell_m=100.0, bandwidth_m=300.0)
>>> grid.shape, bool(grid.argmax() == 55)
((10, 10), True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, box
from shapely.geometry.base import BaseGeometry

DEFAULT_CELL_M: Final = 100.0
DEFAULT_BANDWIDTH_M: Final = 400.0


def quartic_kernel(bandwidth_m: float, cell_m: float) -> npt.NDArray[np.float64]:
    """The quartic (biweight) kernel ArcGIS's Kernel Density uses, on a grid, summing to 1.

    >>> k = quartic_kernel(300.0, 100.0)
    >>> k.shape, round(float(k.sum()), 6)
    ((7, 7), 1.0)
    """
    r = int(np.ceil(bandwidth_m / cell_m))
    offsets = np.arange(-r, r + 1) * cell_m
    dx, dy = np.meshgrid(offsets, offsets)
    d2 = (dx**2 + dy**2) / bandwidth_m**2
    k = np.where(d2 < 1, (1 - d2) ** 2, 0.0)
    return np.asarray(k / k.sum(), dtype=np.float64)


def kernel_density(
    x_m: npt.NDArray[np.float64],
    y_m: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    bbox_m: tuple[float, float, float, float],
    cell_m: float = DEFAULT_CELL_M,
    bandwidth_m: float = DEFAULT_BANDWIDTH_M,
) -> npt.NDArray[np.float64]:
    """Density per grid cell (rows from the bottom, y up) in events per km².

    Weighted points are binned into the grid, then smoothed with the kernel; the kernel sums
    to one, so the grid's total is the total weight inside the box.
    """
    min_x, min_y, max_x, max_y = bbox_m
    nx = max(1, int(np.ceil((max_x - min_x) / cell_m)))
    ny = max(1, int(np.ceil((max_y - min_y) / cell_m)))
    counts, _, _ = np.histogram2d(
        y_m,
        x_m,
        bins=(ny, nx),
        range=((min_y, min_y + ny * cell_m), (min_x, min_x + nx * cell_m)),
        weights=weights,
    )
    kernel = quartic_kernel(bandwidth_m, cell_m)
    smoothed = _convolve(counts, kernel)
    per_km2 = 1e6 / (cell_m * cell_m)
    return np.asarray(smoothed * per_km2, dtype=np.float64)


def _convolve(
    grid: npt.NDArray[np.float64], kernel: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Same-size 2-D convolution by FFT (no scipy needed)."""
    ky, kx = kernel.shape
    shape = (grid.shape[0] + ky - 1, grid.shape[1] + kx - 1)
    out = np.fft.irfft2(np.fft.rfft2(grid, shape) * np.fft.rfft2(kernel, shape), shape)
    top, left = ky // 2, kx // 2
    cropped = out[top : top + grid.shape[0], left : left + grid.shape[1]]
    return np.asarray(np.clip(cropped, 0, None), dtype=np.float64)


def class_breaks(
    grid: npt.NDArray[np.float64], classes: int = 5, floor_share: float = 0.05
) -> list[float]:
    """Equal-interval breaks from ``floor_share`` of the maximum up to the maximum.

    >>> class_breaks(np.array([[0.0, 10.0]]), classes=2, floor_share=0.0)
    [0.0, 5.0, 10.0]
    """
    top = float(grid.max()) if grid.size else 0.0
    low = top * floor_share
    return [round(low + (top - low) * i / classes, 6) for i in range(classes + 1)]


def class_polygons(
    grid: npt.NDArray[np.float64],
    breaks: list[float],
    origin_m: tuple[float, float],
    cell_m: float,
    to_wgs84: Callable[[BaseGeometry], BaseGeometry],
) -> list[tuple[int, BaseGeometry]]:
    """One (multi)polygon per class (1 = lowest shown), merged from the grid squares."""
    out = []
    for cls in range(1, len(breaks)):
        lo, hi = breaks[cls - 1], breaks[cls]
        mask = (grid > lo) & (grid <= hi)
        rows, cols = np.nonzero(mask)
        if len(rows) == 0:
            continue
        squares = [
            box(
                origin_m[0] + c * cell_m,
                origin_m[1] + r * cell_m,
                origin_m[0] + (c + 1) * cell_m,
                origin_m[1] + (r + 1) * cell_m,
            )
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        ]
        merged = shapely.union_all(squares)
        if not isinstance(merged, MultiPolygon) and merged.geom_type != "Polygon":
            continue
        out.append((cls, to_wgs84(merged.simplify(cell_m / 4))))
    return out
