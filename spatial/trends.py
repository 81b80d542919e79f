"""Change over time: percent change, Mann–Kendall trend and emerging hot-spot classes.

The panel's trend layers ask two questions of the lattice (:mod:`spatial.cells`): how much did
a count change between two periods, and where is harm *clustering* and how is that clustering
moving. The second follows ArcGIS Pro's Emerging Hot Spot Analysis: Gi* per period on the
spatial neighbourhood (:mod:`spatial.hotspots`), a Mann–Kendall test on each cell's series of
Gi* z-scores, and a rule-based class per cell (:func:`emerging_hotspot_class`).

Pure numpy; normal tail probabilities come from :func:`math.erfc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from spatial.hotspots import confidence_bins, getis_ord_gi_star, neighbours, two_sided_p

Trend = Literal["increasing", "decreasing", "none"]

_TRENDS: Final[frozenset[str]] = frozenset(("increasing", "decreasing", "none"))
_CLASSES: Final[tuple[str, ...]] = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
#: Every name :func:`emerging_hotspot_class` can return: 8 hot, 8 "cold …" and "no pattern".
PATTERNS: Final[tuple[str, ...]] = (
    *_CLASSES,
    *(f"cold {c}" for c in _CLASSES),
    "no pattern",
)


def percent_change(current: float, previous: float) -> float | None:
    """ArcGIS "summarize percent change": ``(current − previous) / previous × 100``.

    Returns ``None`` when ``previous`` is 0 (growth from nothing has no percentage).

    Examples
    --------
    >>> percent_change(15, 10), percent_change(5, 20), percent_change(3, 0)
    (50.0, -75.0, None)
    """
    if previous == 0:
        return None
    return (current - previous) / previous * 100.0


def percent_change_array(
    current: npt.ArrayLike, previous: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Vectorised :func:`percent_change`, NaN where ``previous`` is 0.

    Examples
    --------
    >>> percent_change_array([15, 5, 3], [10, 20, 0]).tolist()
    [50.0, -75.0, nan]
    """
    cur = np.asarray(current, dtype=np.float64)
    prev = np.asarray(previous, dtype=np.float64)
    out = np.full(np.broadcast_shapes(cur.shape, prev.shape), np.nan)
    np.divide((cur - prev) * 100.0, prev, out=out, where=prev != 0)
    return out


class MKResult(NamedTuple):
    """Mann–Kendall test of one series against time.

    ``tau`` is Kendall's tau-b between the series and time (equal to ``S / (n(n−1)/2)`` when
    the series has no ties); ``s`` the statistic ``S``; ``z`` its continuity-corrected
    normal score; ``p`` two-sided; ``trend`` the direction when ``p < alpha``.
    """

    tau: float
    s: int
    z: float
    p: float
    trend: Trend


def _mk_columns(x: npt.NDArray[np.float64], alpha: float) -> tuple[npt.NDArray[np.float64], ...]:
    """Mann–Kendall for every column of ``x`` (time × series): tau, S, z, p, sign of trend."""
    t, m = x.shape
    s = np.zeros(m)
    for i in range(t - 1):
        s += np.sign(x[i + 1 :] - x[i]).sum(axis=0)
    # Tie groups per column: run lengths of equal values in each sorted column.
    ordered = np.sort(x, axis=0)
    starts = np.ones_like(ordered, dtype=np.bool_)
    starts[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(starts, axis=0) - 1 + t * np.arange(m)
    sizes = np.bincount(group.ravel(), minlength=t * m).astype(np.float64).reshape(m, t)
    tie_var = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    var = (t * (t - 1) * (2 * t + 5) - tie_var) / 18.0
    pairs = t * (t - 1) / 2.0
    tied_pairs = (sizes * (sizes - 1) / 2.0).sum(axis=1)
    tau_den = np.sqrt(pairs * (pairs - tied_pairs))
    tau = np.zeros(m)
    np.divide(s, tau_den, out=tau, where=tau_den > 0)
    sd = np.sqrt(np.maximum(var, 0.0))
    z = np.zeros(m)
    np.divide(s - np.sign(s), sd, out=z, where=(sd > 0) & (t >= 3))
    p = two_sided_p(z)
    direction = np.where(p < alpha, np.sign(s), 0.0)
    return tau, s, z, p, direction


def _mk_result(tau: float, s: float, z: float, p: float, direction: float) -> MKResult:
    trend: Trend = "increasing" if direction > 0 else "decreasing" if direction < 0 else "none"
    return MKResult(float(tau), round(s), float(z), float(p), trend)


def mann_kendall(series: Sequence[float] | npt.ArrayLike, alpha: float = 0.05) -> MKResult:
    """Mann–Kendall monotonic trend test (two-sided, tie-corrected, continuity-corrected).

    ``S = Σ_{i<j} sign(x_j − x_i)``;
    ``Var S = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18`` over groups of ``t_g`` tied
    values; ``z = (S − 1)/√Var`` if ``S > 0``, ``(S + 1)/√Var`` if ``S < 0``, else 0;
    ``p = 2(1 − Φ(|z|))``. The trend is "increasing"/"decreasing" when ``p < alpha``. A series
    shorter than 3, or one with zero variance (all values tied), gets ``z = 0``, ``p = 1``,
    trend "none".

    Examples
    --------
    >>> r = mann_kendall([1, 2, 3, 4, 5])
    >>> r.s, round(r.z, 4), round(r.p, 4), r.trend
    (10, 2.2045, 0.0275, 'increasing')
    >>> mann_kendall([2, 2, 2]).trend, mann_kendall([1.0, 2.0]).p
    ('none', 1.0)
    """
    x = np.asarray(series, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise ValueError("series must be finite")
    if x.size < 2:
        return MKResult(0.0, 0, 0.0, 1.0, "none")
    cols = _mk_columns(x[:, None], alpha)
    return _mk_result(*(float(c[0]) for c in cols))


def _fraction_at_least_90(count: int, n: int) -> bool:
    return 10 * count >= 9 * n  # integer form of count / n ≥ 0.9


def _final_state_class(on: list[bool], opposite: list[bool], towards: bool, away: bool) -> str:
    """Class of a series whose final step is significant on the side ``on`` (see caller)."""
    n, count = len(on), sum(on)
    earlier_opposite = any(opposite[:-1])
    if count == 1 and not earlier_opposite:
        return "new"
    if _fraction_at_least_90(count, n):
        return "intensifying" if towards else "diminishing" if away else "persistent"
    if earlier_opposite:
        return "oscillating"
    first = on.index(True)
    if all(on[first:]):  # one uninterrupted run (length ≥ 2, as count ≥ 2) ending now
        return "consecutive"
    return "sporadic"


def emerging_hotspot_class(bins: Sequence[int], trend: str) -> str:
    """Emerging hot-spot class of one cell, after ArcGIS Pro's definitions.

    Parameters
    ----------
    bins : sequence of int
        The cell's Gi_Bin per period, oldest first (−3..3). Significant hot means ``bin ≥ 1``
        (90 % confidence, as ArcGIS), significant cold ``bin ≤ −1``.
    trend : {"increasing", "decreasing", "none"}
        Mann–Kendall trend of the cell's Gi* z-scores over the same periods.

    Returns
    -------
    str
        One of :data:`PATTERNS`.

    Notes
    -----
    ``n`` periods, ``H`` of them hot; "≥ 90 %" means ``H / n ≥ 0.9``. Rules, first match wins:

    1. **Final step hot.**
       a. ``H = 1`` and no earlier cold step → *new*.
       b. ``H / n ≥ 0.9`` → *intensifying* (trend increasing), *diminishing* (decreasing),
          otherwise *persistent*.
       c. a cold step earlier → *oscillating*.
       d. the hot steps form one uninterrupted run ending at the final step → *consecutive*
          (the run has ≥ 2 steps because of a, and fewer than 90 % by b).
       e. otherwise (on-again off-again, never cold) → *sporadic*.
    2. **Final step cold:** the same rules with hot and cold swapped and the trend reversed
       (a falling z means cold clustering is *intensifying*), prefixed "cold ".
    3. **Final step not significant:** *historical* if ``H / n ≥ 0.9``, *cold historical* if
       the cold steps reach 90 %, else *no pattern*.

    Settled edge cases: the class describing the final step wins, so a cell hot in ≥ 90 % of
    steps but cold at the end is "cold oscillating", not "historical". A cell cold earlier
    and hot only at the end is "oscillating", not "new"/"consecutive" (the flip is the news;
    this is also how sfdep reads the ArcGIS rules). With ``n = 1`` a hot step is "new" (there
    is no history to persist). With ``n = 2``, ``[0, 1]`` is "new" and ``[1, 1]`` is
    "persistent" (100 % hot; Mann–Kendall never finds a trend below 3 steps), so
    "consecutive" needs ``n ≥ 3``; "historical" needs ``n ≥ 10``, since a non-hot final step
    leaves at most ``(n − 1) / n`` hot.

    Examples
    --------
    >>> emerging_hotspot_class([0, 0, 0, 2], "none")
    'new'
    >>> emerging_hotspot_class([1, 2, 2, 3, 3, 3, 3, 3, 3, 3], "increasing")
    'intensifying'
    >>> emerging_hotspot_class([-1, -1, 0, -2], "none")
    'cold sporadic'
    >>> emerging_hotspot_class([0, 1, 0, 0], "none")
    'no pattern'
    """
    if trend not in _TRENDS:
        raise ValueError(f"trend must be one of {sorted(_TRENDS)}, not {trend!r}")
    hot = [int(b) >= 1 for b in bins]
    cold = [int(b) <= -1 for b in bins]
    if not hot:
        return "no pattern"
    rising, falling = trend == "increasing", trend == "decreasing"
    if hot[-1]:
        return _final_state_class(hot, cold, towards=rising, away=falling)
    if cold[-1]:
        return "cold " + _final_state_class(cold, hot, towards=falling, away=rising)
    if _fraction_at_least_90(sum(hot), len(hot)):
        return "historical"
    if _fraction_at_least_90(sum(cold), len(cold)):
        return "cold historical"
    return "no pattern"


@dataclass(frozen=True)
class CellTrend:
    """Emerging hot-spot result for one cell.

    Attributes
    ----------
    cell : int
        H3 cell key.
    pattern : str
        One of :data:`PATTERNS`.
    bins : tuple of int
        Gi_Bin per period, oldest first.
    z_final : float
        Gi* z-score in the final period.
    mk : MKResult
        Mann–Kendall test of the cell's Gi* z-scores over the periods.
    """

    cell: int
    pattern: str
    bins: tuple[int, ...]
    z_final: float
    mk: MKResult


def emerging_hotspots(
    counts: npt.ArrayLike,
    cells: Sequence[int] | npt.NDArray[np.int64],
    k: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
) -> list[CellTrend]:
    """Emerging hot-spot analysis over a space–time grid of counts.

    For each period, Gi* over the ``k``-ring neighbourhood (spatial only, no time-lag
    neighbours) gives z, p and a Gi_Bin (with Benjamini–Hochberg FDR per period and per
    confidence level when ``fdr``); then a Mann–Kendall test of each cell's z-series at
    ``alpha``, and :func:`emerging_hotspot_class`.

    Parameters
    ----------
    counts : array_like, shape (periods, cells)
        Counts per period (oldest first) and cell; zero cells of the study area included
        (see :func:`spatial.hotspots.neighbours`).
    cells : sequence of int
        H3 keys of the columns of ``counts``.
    k : int, default 1
        Neighbourhood rings for Gi*.
    alpha : float, default 0.05
        Significance of the Mann–Kendall trend.
    fdr : bool, default True
        Apply the FDR correction to the Gi_Bin.

    Returns
    -------
    list of CellTrend
        One per cell, in the order of ``cells``.

    Examples
    --------
    >>> import h3
    >>> centre = int(h3.latlng_to_cell(54.57, -1.23, 8), 16)
    >>> cells = sorted(int(c, 16) for c in h3.grid_disk(format(centre, "x"), 4))
    >>> counts = np.ones((3, len(cells)))
    >>> counts[-1, cells.index(centre)] = 40
    >>> result = emerging_hotspots(counts, cells)
    >>> [r.pattern for r in result if r.cell == centre], result[0].bins
    (['new'], (0, 0, 0))
    """
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != len(cells):
        raise ValueError("counts must be (periods ≥ 1, cells) with one column per cell")
    z, p = getis_ord_gi_star(x, neighbours(cells, k))
    bins = confidence_bins(z, p, fdr=fdr)
    if x.shape[0] >= 2:
        tau, s, mz, mp, direction = _mk_columns(z, alpha)
    else:
        tau = s = mz = direction = np.zeros(x.shape[1])
        mp = np.ones(x.shape[1])
    bin_rows = bins.T.tolist()
    out = []
    for i, key in enumerate(cells):
        mk = _mk_result(tau[i], s[i], mz[i], mp[i], direction[i])
        series = tuple(bin_rows[i])
        out.append(
            CellTrend(
                cell=int(key),
                pattern=emerging_hotspot_class(series, mk.trend),
                bins=series,
                z_final=float(z[-1, i]),
                mk=mk,
            )
        )
    return out
