"""Local hot-spot statistics on the H3 lattice: Gi* weights, z-scores, FDR and Gi_Bin.

Pure numpy (no scipy): normal tail probabilities come from :func:`math.erfc`. The weights are
binary H3 ring neighbourhoods held in a small CSR structure, so one Gi* pass over 5,000 cells
and 24 periods is a few vectorised array operations.

References: Getis & Ord (1992, 1995), Ord & Getis (1995); ArcGIS Pro "How Hot Spot Analysis
(Getis-Ord Gi*) works"; Benjamini & Hochberg (1995).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import h3
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: (Gi_Bin magnitude, significance level) from the weakest to the strongest, as in ArcGIS.
CONFIDENCE_LEVELS: Final[tuple[tuple[int, float], ...]] = ((1, 0.10), (2, 0.05), (3, 0.01))

_SQRT2: Final[float] = math.sqrt(2.0)
_erfc = np.frompyfunc(math.erfc, 1, 1)


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Binary spatial weights in CSR form: row ``i`` is ``indices[indptr[i]:indptr[i + 1]]``.

    Each row lists (ascending) the positions of the cells that carry weight 1 for focal cell
    ``i``; every other weight is 0. For Gi* a row always contains ``i`` itself, so no row may be
    empty.

    Attributes
    ----------
    indptr : numpy.ndarray
        Row offsets, length ``n + 1``, starting at 0 and non-decreasing.
    indices : numpy.ndarray
        Column positions (0 .. n-1), length ``indptr[-1]``.

    Examples
    --------
    >>> nb = Neighbours(np.array([0, 2, 4]), np.array([0, 1, 0, 1]))
    >>> len(nb), nb.cardinality.tolist(), nb.row(1).tolist()
    (2, [2, 2], [0, 1])
    """

    indptr: IntArray
    indices: IntArray

    def __post_init__(self) -> None:
        indptr = np.asarray(self.indptr, dtype=np.intp)
        indices = np.asarray(self.indices, dtype=np.intp)
        n = indptr.size - 1
        if n < 0 or indptr[0] != 0 or indptr[-1] != indices.size:
            raise ValueError("indptr must start at 0 and end at len(indices)")
        if np.any(np.diff(indptr) <= 0):
            raise ValueError("every row needs at least one weight (Gi* includes the focal cell)")
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError("indices must lie in 0 .. n-1")
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices)

    def __len__(self) -> int:
        return int(self.indptr.size - 1)

    @property
    def cardinality(self) -> IntArray:
        """Number of weights per row, ``Σ_j w_ij`` (equal to ``Σ_j w_ij²`` for binary weights)."""
        return np.diff(self.indptr)

    def row(self, i: int) -> IntArray:
        """The neighbour positions of cell ``i`` (itself included)."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]


def neighbours(cells: Sequence[int] | npt.NDArray[np.int64], k: int = 1) -> Neighbours:
    """Gi* binary weights: each cell's H3 neighbours within ``k`` rings, itself included.

    Neighbours outside the study set are dropped, so a cell on the edge of the study area simply
    has fewer weights (Gi* accounts for that in its variance). **The caller must pass every cell
    of the study area, including cells with a zero count**: Gi* compares each neighbourhood
    with the mean and spread of the whole lattice, and leaving the empty cells out both inflates
    the mean and removes the quiet places a hot spot stands out against (e.g. take the area's
    cells from ``h3.polygon_to_cells`` rather than the cells that happen to hold events).

    Parameters
    ----------
    cells : sequence of int
        H3 cell keys as 64-bit integers (see :mod:`spatial.cells`), all at one resolution and
        without duplicates. Row ``i`` of the result belongs to ``cells[i]``.
    k : int, default 1
        Number of rings (``k = 1``: the six touching hexagons).

    Returns
    -------
    Neighbours
        CSR weights whose rows and column indices are positions in ``cells``.

    Examples
    --------
    >>> centre = int(h3.latlng_to_cell(54.57, -1.23, 8), 16)
    >>> patch = sorted(int(c, 16) for c in h3.grid_disk(format(centre, "x"), 1))
    >>> sorted(neighbours(patch).cardinality.tolist())  # ring cell: self, centre, 2 on the ring
    [4, 4, 4, 4, 4, 4, 7]
    >>> int(neighbours(patch, k=2).cardinality.min())  # the whole patch is within 2 rings
    7
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    keys = [int(c) for c in cells]
    position = {key: i for i, key in enumerate(keys)}
    if len(position) != len(keys):
        raise ValueError("cells contains duplicates")
    disk = h3.api.basic_int.grid_disk
    rows: list[list[int]] = []
    for key in keys:
        rows.append(sorted(j for c in disk(key, k) if (j := position.get(c)) is not None))
    lengths = np.fromiter((len(r) for r in rows), dtype=np.intp, count=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.intp)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.fromiter((j for r in rows for j in r), dtype=np.intp, count=int(indptr[-1]))
    return Neighbours(indptr, indices)


def two_sided_p(z: npt.ArrayLike) -> FloatArray:
    """Two-sided standard normal p-value, ``P(|Z| ≥ |z|) = erfc(|z| / √2)``.

    >>> two_sided_p([0.0, 1.959963984540054]).round(6).tolist()
    [1.0, 0.05]
    """
    za = np.abs(np.asarray(z, dtype=np.float64))
    return np.asarray(_erfc(za / _SQRT2), dtype=np.float64)


def getis_ord_gi_star(values: npt.ArrayLike, weights: Neighbours) -> tuple[FloatArray, FloatArray]:
    """Getis–Ord Gi* z-scores and two-sided p-values (as ArcGIS "Hot Spot Analysis").

    With ``n`` cells, ``x̄`` the mean and ``S = sqrt(Σ x_j² / n − x̄²)`` the population standard
    deviation of all ``n`` values, and ``W_i = Σ_j w_ij``::

        z_i = (Σ_j w_ij x_j − x̄ W_i) / (S · sqrt((n Σ_j w_ij² − W_i²) / (n − 1)))

    ``p_i`` is two-sided from the standard normal. Where the z-score is undefined — every value
    equal (``S = 0``), fewer than two cells, or a neighbourhood that spans the whole lattice —
    ``z = 0`` and ``p = 1``.

    Parameters
    ----------
    values : array_like, shape (n,) or (periods, n)
        Counts (or any values) per cell; a 2-D array is one independent analysis per row.
    weights : Neighbours
        From :func:`neighbours`; ``len(weights)`` must equal ``n``.

    Returns
    -------
    z, p : numpy.ndarray
        Same shape as ``values``.

    Examples
    --------
    Two cells that see each other and a third that sees only itself:

    >>> w = Neighbours(np.array([0, 2, 4, 5]), np.array([0, 1, 0, 1, 2]))
    >>> z, p = getis_ord_gi_star([4.0, 4.0, 1.0], w)
    >>> z.round(4).tolist(), p.round(4).tolist()
    ([1.4142, 1.4142, -1.4142], [0.1573, 0.1573, 0.1573])
    >>> getis_ord_gi_star([2.0, 2.0, 2.0], w)[0].tolist()
    [0.0, 0.0, 0.0]
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError("values must be 1-D (cells) or 2-D (periods × cells)")
    n = len(weights)
    if x.shape[-1] != n:
        raise ValueError(f"values has {x.shape[-1]} cells but weights has {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite")
    if n < 2:
        return np.zeros_like(x), np.ones_like(x)
    w = weights.cardinality.astype(np.float64)
    lag = np.add.reduceat(x[..., weights.indices], weights.indptr[:-1], axis=-1)
    xbar = x.mean(axis=-1, keepdims=True)
    s = x.std(axis=-1, keepdims=True)
    constant = (x.max(axis=-1, keepdims=True) == x.min(axis=-1, keepdims=True)) | (s == 0)
    spread = np.sqrt(np.maximum(n * w - w * w, 0.0) / (n - 1))
    numerator = lag - xbar * w
    denominator = np.where(constant, 0.0, s) * spread
    z = np.zeros(np.broadcast_shapes(numerator.shape, denominator.shape))
    np.divide(numerator, denominator, out=z, where=denominator > 0)
    return z, two_sided_p(z)


def fdr_significant(p: npt.ArrayLike, alpha: float = 0.05) -> BoolArray:
    """Benjamini–Hochberg false-discovery-rate test.

    Sort the ``m`` p-values ascending as ``p_(1) ≤ … ≤ p_(m)``, find the largest ``k`` with
    ``p_(k) ≤ k α / m`` and declare significant every test with ``p ≤ p_(k)`` (step-up: a test
    may pass even if it fails its own rank's threshold). NaN p-values are never significant
    but still count in ``m``. A 2-D array is one family of tests per row.

    Examples
    --------
    >>> fdr_significant([0.01, 0.04, 0.03, 0.005], alpha=0.03).tolist()
    [True, False, False, True]
    >>> fdr_significant([0.02, 0.024, 0.9]).tolist()  # 0.02 > 1·0.05/3 but passes via k = 2
    [True, True, False]
    """
    pa = np.asarray(p, dtype=np.float64)
    if pa.ndim not in (1, 2):
        raise ValueError("p must be 1-D or 2-D")
    m = pa.shape[-1]
    if m == 0:
        return np.zeros(pa.shape, dtype=np.bool_)
    ranked = np.sort(pa, axis=-1)  # NaN sorts last
    thresholds = alpha * np.arange(1, m + 1) / m
    below = ranked <= thresholds
    last = m - 1 - np.argmax(below[..., ::-1], axis=-1)
    cutoff = np.take_along_axis(ranked, np.expand_dims(last, -1), axis=-1)
    cutoff = np.where(np.expand_dims(below.any(axis=-1), -1), cutoff, -np.inf)
    return np.asarray(pa <= cutoff, dtype=np.bool_)


def confidence_bins(z: npt.ArrayLike, p: npt.ArrayLike, fdr: bool = True) -> npt.NDArray[np.int8]:
    """ArcGIS-style Gi_Bin: ±3/±2/±1 for 99/95/90 % confidence, sign of ``z``; 0 otherwise.

    With ``fdr=True`` each confidence level is its own Benjamini–Hochberg test at
    ``α = 0.01, 0.05, 0.10`` over all cells (per row for 2-D input), and a cell takes the
    highest level it passes, as ArcGIS does when "Apply False Discovery Rate Correction" is
    ticked. With ``fdr=False`` the raw ``p ≤ α`` decides.

    Examples
    --------
    >>> confidence_bins([3.0, -2.0, 1.7, 0.5], [0.0027, 0.0455, 0.0891, 0.6171], fdr=False).tolist()
    [3, -2, 1, 0]
    >>> confidence_bins([3.0, -2.0, 1.7, 0.5], [0.0027, 0.0455, 0.0891, 0.6171]).tolist()
    [2, -1, 0, 0]

    (FDR at 99 %: 0.0027 > 1 · 0.01 / 4, so the first cell only reaches 95 %.)
    """
    za = np.asarray(z, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    if za.shape != pa.shape:
        raise ValueError("z and p must have the same shape")
    level = np.zeros(pa.shape, dtype=np.int8)
    for magnitude, alpha in CONFIDENCE_LEVELS:
        significant = fdr_significant(pa, alpha) if fdr else pa <= alpha
        level = np.where(significant, np.int8(magnitude), level).astype(np.int8)
    return (level * np.sign(za).astype(np.int8)).astype(np.int8)
