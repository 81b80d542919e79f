"""Percent change, Gi*, Benjamini–Hochberg, Mann–Kendall and emerging hot-spot classes."""

from __future__ import annotations

import math
import time

import h3
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spatial.hotspots import (
    Neighbours,
    confidence_bins,
    fdr_significant,
    getis_ord_gi_star,
    neighbours,
    two_sided_p,
)
from spatial.trends import (
    PATTERNS,
    emerging_hotspot_class,
    emerging_hotspots,
    mann_kendall,
    percent_change,
    percent_change_array,
)

CENTRE = h3.latlng_to_cell(54.57, -1.23, 8)  # Middlesbrough, far from any H3 pentagon
TRENDS = ("increasing", "decreasing", "none")


def disk(centre: str, k: int) -> list[int]:
    return sorted(int(c, 16) for c in h3.grid_disk(centre, k))


# --- percent change ------------------------------------------------------------------------


def test_percent_change() -> None:
    assert percent_change(15, 10) == 50.0
    assert percent_change(5, 20) == -75.0  # a fall is negative
    assert percent_change(0, 8) == -100.0
    assert percent_change(10, 10) == 0.0
    assert percent_change(3, 0) is None  # from nothing: undefined, not infinite
    assert percent_change(0, 0) is None


def test_percent_change_array() -> None:
    out = percent_change_array([15, 5, 3, 0], [10, 20, 0, 0])
    assert out[:2].tolist() == [50.0, -75.0]
    assert np.isnan(out[2:]).all()


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=20))
def test_percent_change_array_matches_scalar(pairs: list[tuple[int, int]]) -> None:
    cur, prev = zip(*pairs, strict=True)
    out = percent_change_array(cur, prev)
    for value, (c, p) in zip(out.tolist(), pairs, strict=True):
        expected = percent_change(c, p)
        assert math.isnan(value) if expected is None else value == pytest.approx(expected)


# --- neighbours and Gi* --------------------------------------------------------------------


def test_neighbours_include_self_and_stay_in_the_study_set() -> None:
    cells = disk(CENTRE, 2)
    nb = neighbours(cells)
    assert len(nb) == 19
    for i in range(19):
        row = nb.row(i).tolist()
        assert i in row
        for j in row:
            assert i in nb.row(j).tolist()  # symmetric
    # Centre and first ring: all 7 within the patch; second ring: 4 (corner) or 5 (edge).
    assert sorted(nb.cardinality.tolist()) == [4] * 6 + [5] * 6 + [7] * 7
    assert neighbours(cells, k=0).cardinality.tolist() == [1] * 19
    with pytest.raises(ValueError, match="duplicates"):
        neighbours([cells[0], cells[0]])


def test_gi_star_hand_checked() -> None:
    # 19-cell patch (centre, ring 1, ring 2) is the whole study area; k = 1 weights.
    cells = disk(CENTRE, 2)
    ring1 = {int(c, 16) for c in h3.grid_ring(CENTRE, 1)}
    centre = int(CENTRE, 16)
    values = np.array([10.0 if c == centre else 5.0 if c in ring1 else 0.0 for c in cells])
    nb = neighbours(cells)
    z, p = getis_ord_gi_star(values, nb)

    # n = 19; Σx = 10 + 6·5 = 40, x̄ = 40/19; Σx² = 100 + 6·25 = 250
    # S = sqrt(250/19 − (40/19)²) = sqrt(250·19 − 1600)/19 = sqrt(3150)/19
    # Centre: W = 7 (itself + 6), Σ w x = 10 + 30 = 40
    #   numerator   = 40 − (40/19)·7 = 480/19
    #   denominator = S · sqrt((19·7 − 7²)/18) = (sqrt(3150)/19) · sqrt(14/3)
    #   z = 480 / sqrt(3150 · 14/3) = 480 / sqrt(14700) = 480 / (70·√3) = 16√3/7 ≈ 3.9590
    i = cells.index(centre)
    assert z[i] == pytest.approx(16 * math.sqrt(3) / 7, abs=1e-9)
    assert p[i] == pytest.approx(math.erfc(z[i] / math.sqrt(2)), abs=1e-12)
    # Ring-1 cell: W = 7, Σ w x = 5 + 10 + 5 + 5 + 0 + 0 + 0 = 25
    #   numerator = 25 − 7·40/19 = 195/19  →  z = 195 / (70·√3) ≈ 1.6083
    for c in ring1:
        assert z[cells.index(c)] == pytest.approx(195 / (70 * math.sqrt(3)), abs=1e-9)
    # Ring-2 "edge" cell (touches two ring-1 cells): W = 5, Σ w x = 5 + 5 = 10
    #   numerator = 10 − 5·40/19 = −10/19; denominator = (sqrt(3150)/19)·sqrt((95 − 25)/18)
    #   z = −10 / sqrt(3150 · 70/18) = −30 / sqrt(110250) = −2/(7·√10) ≈ −0.09035
    # Ring-2 "corner" cell (touches one): W = 4, Σ w x = 5
    #   numerator = 5 − 4·40/19 = −65/19; sqrt((76 − 16)/18) = sqrt(10/3)
    #   z = −65 / sqrt(3150 · 10/3) = −65 / sqrt(10500) ≈ −0.63434
    card = nb.cardinality
    assert np.allclose(z[card == 5], -2 / (7 * math.sqrt(10)), rtol=0, atol=1e-9)
    assert np.allclose(z[card == 4], -65 / math.sqrt(10500), rtol=0, atol=1e-9)


def test_gi_star_constant_values() -> None:
    nb = neighbours(disk(CENTRE, 2))
    for value in (0.0, 3.0, 0.1):
        z, p = getis_ord_gi_star(np.full(19, value), nb)
        assert (z == 0).all()
        assert (p == 1).all()


def dense_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Textbook Gi* with a dense weight matrix, for comparison."""
    n = x.size
    xbar, s = x.mean(), math.sqrt((x**2).sum() / n - x.mean() ** 2)
    out = np.empty(n)
    for i in range(n):
        wi = w[i]
        num = (wi * x).sum() - xbar * wi.sum()
        out[i] = num / (s * math.sqrt((n * (wi**2).sum() - wi.sum() ** 2) / (n - 1)))
    return out


def test_gi_star_matches_dense_formula_and_rows_are_independent() -> None:
    cells = disk(CENTRE, 4)
    nb = neighbours(cells, k=2)
    w = np.zeros((len(cells), len(cells)))
    for i in range(len(cells)):
        w[i, nb.row(i)] = 1.0
    rng = np.random.default_rng(5)
    x = rng.poisson(2.0, (3, len(cells))).astype(float)
    z, p = getis_ord_gi_star(x, nb)
    for t in range(3):
        assert np.allclose(z[t], dense_gi_star(x[t], w), rtol=0, atol=1e-9)
        assert np.array_equal(z[t], getis_ord_gi_star(x[t], nb)[0])
    assert np.allclose(p, [[math.erfc(abs(v) / math.sqrt(2)) for v in row] for row in z])


def test_gi_star_rejects_bad_input() -> None:
    nb = Neighbours(np.array([0, 1, 2]), np.array([0, 1]))
    with pytest.raises(ValueError):
        getis_ord_gi_star([1.0, 2.0, 3.0], nb)
    with pytest.raises(ValueError):
        getis_ord_gi_star([1.0, float("nan")], nb)
    with pytest.raises(ValueError):
        Neighbours(np.array([0, 0, 1]), np.array([1]))  # an empty row


def test_two_sided_p() -> None:
    assert two_sided_p([1.959963984540054])[0] == pytest.approx(0.05, abs=1e-12)
    assert two_sided_p([-2.5758293035489])[0] == pytest.approx(0.01, abs=1e-12)


# --- Benjamini–Hochberg and Gi_Bin ---------------------------------------------------------


def test_fdr_hand_worked() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 against k·0.05/4 = 0.0125, 0.025, 0.0375, 0.05:
    # every one passes, so the largest k is 4 and all four are significant.
    assert fdr_significant(p, 0.05).tolist() == [True, True, True, True]
    # at α = 0.03 the thresholds are 0.0075, 0.015, 0.0225, 0.03: 0.005 and 0.01 pass,
    # 0.03 > 0.0225 and 0.04 > 0.03 fail → k = 2, only p ≤ 0.01 significant.
    assert fdr_significant(p, 0.03).tolist() == [True, False, False, True]
    # step-up: 0.02 > 1·0.05/3 fails its own rank, but 0.024 ≤ 2·0.05/3 carries it.
    assert fdr_significant([0.02, 0.024, 0.9]).tolist() == [True, True, False]
    assert fdr_significant([0.2, 0.5]).tolist() == [False, False]
    assert fdr_significant(np.array([])).tolist() == []


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.sampled_from([0.01, 0.05, 0.1]))
def test_fdr_matches_definition(p: list[float], alpha: float) -> None:
    m = len(p)
    ranked = sorted(p)
    passing = [k for k in range(1, m + 1) if ranked[k - 1] <= k * alpha / m]
    cutoff = ranked[max(passing) - 1] if passing else -1.0
    assert fdr_significant(p, alpha).tolist() == [v <= cutoff for v in p]
    assert (fdr_significant(p, alpha) <= (np.array(p) <= alpha)).all()  # never looser


def test_confidence_bins() -> None:
    z = np.array([3.0, -3.0, 2.2, -2.0, 1.7, -1.7, 0.3])
    p = two_sided_p(z)
    assert confidence_bins(z, p, fdr=False).tolist() == [3, -3, 2, -2, 1, -1, 0]
    # FDR per level, m = 7. 99 %: 0.0027 ≤ 2·0.01/7 ≈ 0.00286 → both |z| = 3 keep 3.
    # 95 %: 0.0278 (z 2.2) > 3·0.05/7 ≈ 0.0214 and later ranks fail too → 2.2 drops to 90 %.
    # 90 %: 0.0455 ≤ 4·0.1/7 ≈ 0.057 → |z| ≥ 2 are 90 %; 0.0891 > 6·0.1/7 ≈ 0.0857 → 1.7 out.
    assert confidence_bins(z, p).tolist() == [3, -3, 1, -1, 0, 0, 0]


# --- Mann–Kendall --------------------------------------------------------------------------


def test_mann_kendall_increasing() -> None:
    r = mann_kendall([1, 2, 3, 4, 5])
    # S = 10 (all 10 pairs rise); Var = 5·4·15/18 = 16.667; z = (10 − 1)/sqrt(16.667)
    assert r.s == 10
    assert r.tau == 1.0
    assert r.z == pytest.approx(9 / math.sqrt(300 / 18), abs=1e-12)
    assert r.z == pytest.approx(2.2045, abs=1e-4)
    assert r.p == pytest.approx(0.0275, abs=1e-4)
    assert r.trend == "increasing"


def test_mann_kendall_decreasing() -> None:
    r = mann_kendall([5, 4, 3, 2, 1])
    assert (r.s, r.tau, r.trend) == (-10, -1.0, "decreasing")
    assert r.z == pytest.approx(-2.2045, abs=1e-4)
    assert mann_kendall([5, 4, 3, 2, 1], alpha=0.01).trend == "none"


def test_mann_kendall_ties() -> None:
    r = mann_kendall([1, 2, 2, 3, 3, 3])
    # S: from 1 → +5; from each 2 → 0 (the other 2) + 3 (the 3s) → +3, +3; 3s → 0. S = 11.
    # Var = [6·5·17 − (2·1·9 + 3·2·11)] / 18 = (510 − 84)/18 = 426/18 = 23.667
    # z = (11 − 1)/sqrt(23.667) = 2.0556; tau-b = 11 / sqrt(15 · (15 − 1 − 3)) = 0.8563
    assert r.s == 11
    assert r.z == pytest.approx(10 / math.sqrt(426 / 18), abs=1e-12)
    assert r.z == pytest.approx(2.0556, abs=1e-4)
    assert r.p == pytest.approx(math.erfc(r.z / math.sqrt(2)), abs=1e-12)
    assert r.tau == pytest.approx(11 / math.sqrt(15 * 11), abs=1e-12)
    assert r.trend == "increasing"


def test_mann_kendall_flat_and_short() -> None:
    flat = mann_kendall([3, 3, 3, 3])  # Var = (4·3·13 − 4·3·13)/18 = 0
    assert (flat.s, flat.z, flat.p, flat.trend, flat.tau) == (0, 0.0, 1.0, "none", 0.0)
    for short in ([], [1.0], [1.0, 9.0]):
        r = mann_kendall(short)
        assert (r.z, r.p, r.trend) == (0.0, 1.0, "none")
    assert mann_kendall([1, 3, 2, 4, 3, 5, 4]).trend == "none"  # zig-zag: S = 13, p ≈ 0.065


@given(st.lists(st.integers(-5, 5), min_size=0, max_size=30))
def test_mann_kendall_reversal_is_symmetric(series: list[int]) -> None:
    a, b = mann_kendall(series), mann_kendall(series[::-1])
    assert a.s == -b.s
    assert a.p == pytest.approx(b.p)
    assert 0.0 <= a.p <= 1.0 and -1.0 <= a.tau <= 1.0


# --- emerging hot-spot classes -------------------------------------------------------------

CASES = [
    ("new", [0, 0, 0, 0, 0, 2], "none"),
    ("consecutive", [0, 0, 0, 1, 2, 3], "increasing"),
    ("intensifying", [0, 1, 1, 2, 2, 2, 3, 3, 3, 3], "increasing"),  # 9 of 10 hot = 90 %
    ("persistent", [2] * 12, "none"),
    ("diminishing", [3, 3, 3, 3, 3, 2, 2, 2, 1, 1], "decreasing"),
    ("sporadic", [1, 0, 1, 0, 0, 2], "none"),
    ("oscillating", [-2, 0, 1, 1], "none"),
    ("historical", [3, 3, 3, 2, 2, 2, 1, 1, 1, 0], "decreasing"),
    ("no pattern", [0, 1, 0, 0], "none"),
    ("cold new", [0, 0, 0, -3], "none"),
    ("cold consecutive", [0, 0, 0, -1, -1], "none"),
    ("cold intensifying", [-1] * 10, "decreasing"),
    ("cold persistent", [-3] * 12, "none"),
    ("cold diminishing", [-3, -3, -2, -2, -1, -1, -1, -1, -1, -1], "increasing"),
    ("cold sporadic", [-1, -1, 0, -2], "none"),
    ("cold oscillating", [2, 0, -1], "none"),
    ("cold historical", [-1] * 9 + [0], "increasing"),
]


@pytest.mark.parametrize(("expected", "bins", "trend"), CASES, ids=[c[0] for c in CASES])
def test_emerging_class(expected: str, bins: list[int], trend: str) -> None:
    assert emerging_hotspot_class(bins, trend) == expected


@pytest.mark.parametrize(
    ("bins", "trend", "expected"),
    [
        ([2], "none", "new"),  # one step: nothing to persist
        ([0, 1], "none", "new"),
        ([1, 1], "none", "persistent"),  # 100 % hot, so not "consecutive"
        ([0, 1, 1], "none", "consecutive"),  # the shortest consecutive
        ([-1, 1], "none", "oscillating"),  # cold before beats "new"
        ([-1, 0, 1, 1], "none", "oscillating"),  # ... and "consecutive"
        ([0, 1, 1, 0, 1], "none", "sporadic"),  # two runs
        ([1] * 9 + [-1], "decreasing", "cold oscillating"),  # the final step's state wins
        ([1] * 8 + [0, 0], "none", "no pattern"),  # 80 % hot, not historical
        ([1] * 9 + [0], "increasing", "historical"),
        ([-1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "none", "persistent"),  # 90 % hot beats oscillating
        ([], "none", "no pattern"),
    ],
)
def test_emerging_class_edge_cases(bins: list[int], trend: str, expected: str) -> None:
    assert emerging_hotspot_class(bins, trend) == expected


def test_emerging_class_rejects_unknown_trend() -> None:
    with pytest.raises(ValueError, match="trend"):
        emerging_hotspot_class([1, 1], "up")


@given(st.lists(st.integers(-3, 3), min_size=1, max_size=30), st.sampled_from(TRENDS))
def test_emerging_class_is_total_and_mirror_symmetric(bins: list[int], trend: str) -> None:
    name = emerging_hotspot_class(bins, trend)
    assert name in PATTERNS
    mirrored_trend = {"increasing": "decreasing", "decreasing": "increasing"}.get(trend, "none")
    mirror = emerging_hotspot_class([-b for b in bins], mirrored_trend)
    if name == "no pattern":
        assert mirror == "no pattern"
    elif name.startswith("cold "):
        assert mirror == name.removeprefix("cold ")
    else:
        assert mirror == "cold " + name


def test_patterns_are_the_documented_names() -> None:
    hot = ["new", "consecutive", "intensifying", "persistent", "diminishing"]
    hot += ["sporadic", "oscillating", "historical"]
    assert sorted(PATTERNS) == sorted([*hot, *(f"cold {c}" for c in hot), "no pattern"])


# --- the whole space–time grid -------------------------------------------------------------


def test_emerging_hotspots_synthetic_grid() -> None:
    cells = disk(CENTRE, 10)  # 331 cells
    pos = {c: i for i, c in enumerate(cells)}
    ring = h3.grid_ring(CENTRE, 5)
    new, rising, falling = ring[0], ring[10], ring[20]  # 10 steps apart: disjoint patches

    def patch(c: str) -> list[int]:
        return [pos[int(x, 16)] for x in h3.grid_disk(c, 1)]

    periods = 12
    t = np.arange(periods)
    rng = np.random.default_rng(2026)
    counts = rng.poisson(1.0, (periods, len(cells))).astype(float)
    counts[-1, patch(new)] += 12  # appears only in the last period
    counts[:, patch(rising)] += (8 + 2 * t)[:, None]  # strong and rising: 8 → 30
    counts[:, patch(falling)] += (40 - 2 * t)[:, None]  # strong, falling to 18 ≫ background

    result = emerging_hotspots(counts, cells)
    assert [r.cell for r in result] == cells
    by_cell = {r.cell: r for r in result}
    assert by_cell[int(new, 16)].pattern == "new"
    assert by_cell[int(rising, 16)].pattern == "intensifying"
    assert by_cell[int(rising, 16)].mk.trend == "increasing"
    assert by_cell[int(falling, 16)].pattern == "diminishing"
    assert by_cell[int(falling, 16)].bins[-1] >= 1
    assert all(len(r.bins) == periods and r.pattern in PATTERNS for r in result)
    # Background far from the clusters: nothing to report.
    quiet = [r for r in result if h3.grid_distance(CENTRE, format(r.cell, "x")) <= 1]
    assert {r.pattern for r in quiet} == {"no pattern"}

    # The per-cell Mann–Kendall is the scalar test on that cell's Gi* z-series.
    z, _ = getis_ord_gi_star(counts, neighbours(cells))
    for i in (pos[int(rising, 16)], pos[int(falling, 16)], 0, 100):
        assert result[i].mk == mann_kendall(z[:, i])
        assert result[i].z_final == z[-1, i]


def test_emerging_hotspots_is_fast() -> None:
    cells = disk(CENTRE, 41)[:5000]
    counts = np.random.default_rng(1).poisson(1.0, (24, len(cells))).astype(float)
    start = time.perf_counter()
    result = emerging_hotspots(counts, cells)
    elapsed = time.perf_counter() - start
    assert len(result) == 5000
    assert elapsed < 1.5, f"24 × 5,000 took {elapsed:.2f} s"  # ≈ 0.15 s on a laptop


def test_emerging_hotspots_shapes() -> None:
    cells = disk(CENTRE, 1)
    with pytest.raises(ValueError):
        emerging_hotspots(np.zeros((3, 6)), cells)
    with pytest.raises(ValueError):
        emerging_hotspots(np.zeros((0, 7)), cells)
    one = emerging_hotspots(np.zeros((1, 7)), cells)
    assert {r.pattern for r in one} == {"no pattern"}
