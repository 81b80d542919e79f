"""The cell lattice: H3 cells at fixed resolutions, keyed as 64-bit integers.

Every number shared outside the recording agency is computed on this one fixed grid (DESIGN.md
§5), so every observation stores its cell keys at insert time. Resolutions:

====  ==================  ===========================================
res   mean cell area      used for
====  ==================  ===========================================
7     ≈ 5.2 km²           tier C (briefing) and zoomed-out tiles
8     ≈ 0.74 km²          tier B (partner) and the panel's trend layers
9     ≈ 0.11 km²          the recording agency's own fine view
====  ==================  ===========================================

The coarser keys of a point are the H3 *parents* of its finest cell, not the coarse hexagon the
point happens to fall in (H3 children do not tile their parent exactly). That makes the lattice
a strict hierarchy: a coarse cell's count is always the sum of its children's counts, so
publishing two resolutions can never be differenced into a small number.

H3 indexes fit a signed ``bigint``: the top bit is always 0.
"""

from __future__ import annotations

from typing import Final

import h3
import numpy as np
import numpy.typing as npt

RESOLUTIONS: Final[tuple[int, ...]] = (7, 8, 9)
FINEST: Final[int] = max(RESOLUTIONS)

_RES_SHIFT: Final[int] = 52
_RES_MASK: Final[int] = 0xF << _RES_SHIFT
_DIGIT_BITS: Final[int] = 3


def cell_area_km2(resolution: int) -> float:
    """Mean H3 cell area at ``resolution``, in km².

    >>> round(cell_area_km2(8), 2)
    0.74
    """
    return float(h3.average_hexagon_area(resolution, unit="km^2"))


def cell_key(lon: float, lat: float, resolution: int = FINEST) -> int:
    """The integer H3 key of the cell holding (lon, lat).

    >>> cell_key(1.2, 54.6, 8) == int(h3.latlng_to_cell(54.6, 1.2, 8), 16)
    True
    """
    return int(h3.latlng_to_cell(lat, lon, resolution), 16)


def parent_keys(keys: npt.NDArray[np.int64], resolution: int) -> npt.NDArray[np.int64]:
    """Vectorised H3 parent: set the resolution field and blank the finer digits.

    Bit layout (H3 v4): resolution in bits 52–55; digit for resolution ``r`` in the three bits
    starting at ``45 - 3 r``; unused digits are all ones (7). Equivalent to
    ``h3.cell_to_parent`` for every valid cell at a finer resolution, but runs on arrays.

    >>> k = np.array([cell_key(1.2, 54.6, 9)], dtype=np.int64)
    >>> int(parent_keys(k, 8)[0]) == cell_key(1.2, 54.6, 8)
    True
    """
    out = keys.astype(np.int64, copy=True)
    out &= ~np.int64(_RES_MASK)
    out |= np.int64(resolution << _RES_SHIFT)
    for r in range(resolution + 1, 16):
        out |= np.int64(0b111 << (45 - _DIGIT_BITS * r))
    return out


def cell_keys(
    lon: npt.ArrayLike, lat: npt.ArrayLike, resolutions: tuple[int, ...] = RESOLUTIONS
) -> dict[int, npt.NDArray[np.int64]]:
    """Cell keys of many points at each resolution, for bulk inserts.

    One H3 lookup per point at the finest resolution; the coarser keys are derived with
    :func:`parent_keys`, so a million points take a couple of seconds.

    >>> keys = cell_keys([1.2, 1.21], [54.6, 54.61])
    >>> sorted(keys), keys[8].dtype
    ([7, 8, 9], dtype('int64'))
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    finest = max(resolutions)
    to_cell = h3.api.basic_int.latlng_to_cell
    fine = np.fromiter(
        (to_cell(la, lo, finest) for lo, la in zip(lon_a.tolist(), lat_a.tolist(), strict=True)),
        dtype=np.int64,
        count=lon_a.size,
    )
    return {r: fine if r == finest else parent_keys(fine, r) for r in resolutions}


def cell_boundary(key: int) -> list[tuple[float, float]]:
    """The cell's outline as (lon, lat) pairs, closed.

    >>> ring = cell_boundary(cell_key(1.2, 54.6, 8))
    >>> ring[0] == ring[-1], len(ring)
    (True, 7)
    """
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(format(key, "x"))]
    return [*ring, ring[0]]


def cells_in_bbox(bbox: tuple[float, float, float, float], resolution: int) -> list[int]:
    """Every cell at ``resolution`` touching the box (lon/lat), as integer keys, sorted.

    Cells whose centre is inside, plus one ring around them, so that edge cells which only
    partly overlap the box are included too.

    >>> cells = cells_in_bbox((1.19, 54.59, 1.21, 54.61), 8)
    >>> cell_key(1.2, 54.6, 8) in cells
    True
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    ring = [(min_lat, min_lon), (min_lat, max_lon), (max_lat, max_lon), (max_lat, min_lon)]
    inside = h3.h3shape_to_cells(h3.LatLngPoly(ring), resolution)
    if not inside:  # a box smaller than one cell
        inside = [h3.latlng_to_cell((min_lat + max_lat) / 2, (min_lon + max_lon) / 2, resolution)]
    covering = {n for c in inside for n in h3.grid_disk(c, 1)}
    return sorted(int(c, 16) for c in covering)


def cell_precision(resolution: int, period: str, hidden_under: int | None) -> str:
    """The opening of every map's precision statement: cell size, what is hidden, period.
    Tier A (an agency's own records) hides nothing; shared tiers say their k.

    >>> cell_precision(8, "month", 5)
    'Cells of about 0.74 km², counts under 5 hidden, by month'
    >>> cell_precision(7, "month", None)
    "Cells of about 5.2 km², exact counts (your agency's own records), by month"
    """
    area = cell_area_km2(resolution)
    size = f"{area:.1f} km²" if area >= 1 else f"{area:.2f} km²"
    hidden = (
        f"counts under {hidden_under} hidden"
        if hidden_under
        else ("exact counts (your agency's own records)")
    )
    return f"Cells of about {size}, {hidden}, by {period}"
