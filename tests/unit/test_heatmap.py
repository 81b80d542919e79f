"""Kernel density: mass is conserved, the peak sits on the points, classes cover the range."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.heatmap import class_breaks, kernel_density, quartic_kernel


@given(st.floats(min_value=150, max_value=1500), st.sampled_from([50.0, 100.0, 200.0]))
def test_kernel_sums_to_one_and_is_symmetric(bandwidth: float, cell: float) -> None:
    k = quartic_kernel(bandwidth, cell)
    assert abs(k.sum() - 1) < 1e-9
    assert np.allclose(k, k.T) and np.allclose(k, k[::-1, ::-1])


@settings(max_examples=30)
@given(
    st.lists(
        st.tuples(st.floats(2000, 8000), st.floats(2000, 8000), st.integers(1, 20)),
        min_size=1,
        max_size=40,
    )
)
def test_total_mass_is_conserved_away_from_the_edges(
    points: list[tuple[float, float, int]],
) -> None:
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    w = np.array([float(p[2]) for p in points])
    grid = kernel_density(x, y, w, (0.0, 0.0, 10_000.0, 10_000.0), cell_m=100.0, bandwidth_m=400.0)
    per_cell_km2 = (100.0 * 100.0) / 1e6
    assert abs(grid.sum() * per_cell_km2 - w.sum()) < 1e-6 * w.sum() + 1e-9


def test_peak_is_where_the_events_are() -> None:
    grid = kernel_density(
        np.array([2550.0, 7550.0]),
        np.array([2550.0, 7550.0]),
        np.array([1.0, 9.0]),
        (0.0, 0.0, 10_000.0, 10_000.0),
    )
    row, col = np.unravel_index(grid.argmax(), grid.shape)
    assert (row, col) == (75, 75)
    assert grid[25, 25] < grid[75, 75]


def test_breaks_span_from_the_floor_to_the_maximum() -> None:
    breaks = class_breaks(np.array([[0.0, 50.0, 100.0]]), classes=5, floor_share=0.1)
    assert breaks[0] == 10.0 and breaks[-1] == 100.0 and len(breaks) == 6
