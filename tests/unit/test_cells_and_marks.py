"""The cell lattice keys and registration-mark helpers."""

from __future__ import annotations

import h3
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spatial.cells import cell_boundary, cell_key, cell_keys, parent_keys
from spatial.vehicles import display_mark, mark_hmac, mask_mark, normalise_mark

lons = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)
lats = st.floats(min_value=-84.9, max_value=84.9, allow_nan=False)


@given(lon=lons, lat=lats, res=st.integers(min_value=0, max_value=8))
def test_vectorised_parent_matches_h3(lon: float, lat: float, res: int) -> None:
    fine = np.array([cell_key(lon, lat, 9)], dtype=np.int64)
    expected = int(h3.cell_to_parent(format(int(fine[0]), "x"), res), 16)
    assert int(parent_keys(fine, res)[0]) == expected


def test_bulk_keys_match_single_lookups() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(1.1, 1.3, 500), rng.uniform(54.5, 54.7, 500)
    keys = cell_keys(lon, lat)
    for i in range(0, 500, 37):
        fine = cell_key(float(lon[i]), float(lat[i]), 9)
        assert int(keys[9][i]) == fine
        for res in (7, 8):
            assert int(keys[res][i]) == int(h3.cell_to_parent(format(fine, "x"), res), 16)
    assert (keys[8] > 0).all()  # fits a signed bigint


def test_cell_boundary_contains_its_point() -> None:
    from shapely.geometry import Point, Polygon

    ring = cell_boundary(cell_key(1.2, 54.6, 8))
    assert Polygon(ring).contains(Point(1.2, 54.6))


def test_marks() -> None:
    assert normalise_mark("wr19 xkz") == normalise_mark("WR19-XKZ") == "WR19XKZ"
    assert display_mark("wr19xkz") == "WR19 XKZ"
    assert display_mark("F-AB 123") == "F-AB 123"  # foreign plates kept as entered
    assert mask_mark("WR19 XKZ") == "WR** ***"
    assert "XKZ" not in mask_mark("WR19 XKZ")
    assert mark_hmac("WR19 XKZ", "a" * 32) != mark_hmac("WR19 XKZ", "b" * 32)
    assert len(mark_hmac("WR19 XKZ", "a" * 32)) == 32


marks = st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789 -", max_size=20)


@given(mark=marks)
def test_mask_shows_at_most_the_first_two_characters(mark: str) -> None:
    """Issue 11: a five-character mark lost only one character to the old four-character mask."""
    masked = mask_mark(mark)
    shown = masked.replace("*", "").replace(" ", "")
    assert len(shown) <= 2
    assert normalise_mark(mark).startswith(shown)
    assert len(masked) == len("WR** ***")


ALNUM = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


@given(
    prefix=st.text(alphabet=ALNUM, min_size=2, max_size=2),
    a=st.text(alphabet=ALNUM, min_size=1, max_size=18),
    b=st.text(alphabet=ALNUM, min_size=1, max_size=18),
)
def test_mask_never_reveals_the_length(prefix: str, a: str, b: str) -> None:
    """Two marks with the same first two characters mask alike, whatever their lengths."""
    assert mask_mark(prefix + a) == mask_mark(prefix + b) == f"{prefix}** ***"
    assert mask_mark(prefix) == mask_mark(prefix[0]) == "**** ***"


def test_mask_examples() -> None:
    assert mask_mark("AB1") == mask_mark("AB12CDE") == mask_mark("AB 123 456 789") == "AB** ***"
    assert mask_mark("X9") == "**** ***"
