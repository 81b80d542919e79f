"""A share's downloads read back by real GIS software (issue 15): GDAL through pyogrio (3.12)
and Debian's GDAL 3.6 (as in many QGIS installs), which must also pass GDAL's own
validate_gpkg.py. Every feature carries its provenance; contexts are a file or layer of their
own; the CSV has positions; a re-fetch is the same bytes."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from flask import Flask

from tests.conftest import TestUser, require
from tests.integration.test_recording_api import Api

PROVENANCE = {"share_id", "source", "tier", "period", "precision", "expires_at"}
DEBIAN_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def health(app: Flask, make_user: Any, sign_in: Any) -> Api:
    user: TestUser = make_user("health", "analyst")
    return Api(sign_in(app.test_client(), user), user)


@pytest.fixture(scope="module")
def share_id(health: Api) -> str:
    """The demo's standing police → health share: cells, contexts and marks."""
    received = health("GET", "/api/v1/shares").get_json()["received"]
    return next(
        s["id"]
        for s in received
        if s["state"] == "active" and s["source"] == "Wrenmouth Police"
        and s["recipient_kind"] == "agencies"
    )  # fmt: skip


def _fetch(health: Api, share_id: str, fmt: str) -> bytes:
    resp = health("GET", f"/api/v1/shares/{share_id}/export.{fmt}")
    assert resp.status_code == 200, (fmt, resp.data[:300])
    assert resp.headers["Cache-Control"] == "no-store"
    return bytes(resp.data)


def _saved(tmp: Path, name: str, body: bytes) -> Path:
    path = tmp / name
    path.write_bytes(body)
    return path


def _debian_gdal(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    require(Path(DEBIAN_PYTHON).exists(), "Debian's python3-gdal (make test installs it)")
    return subprocess.run(
        [DEBIAN_PYTHON, "-c", script, *args], capture_output=True, text=True, timeout=120
    )


def test_geojson_cells_and_contexts_carry_their_provenance(health: Api, share_id: str) -> None:
    layer = health("GET", f"/api/v1/shares/{share_id}/layer").get_json()
    with tempfile.TemporaryDirectory() as tmp:
        cells = pyogrio.read_dataframe(
            _saved(Path(tmp), "c.geojson", _fetch(health, share_id, "geojson"))
        )
        places = pyogrio.read_dataframe(
            _saved(Path(tmp), "p.geojson", _fetch(health, share_id, "contexts.geojson"))
        )
    assert len(cells) == len(layer["features"]) > 0
    assert set(cells.columns) >= PROVENANCE and cells["published_at"].notna().all()
    assert set(cells["share_id"]) == {share_id} and (cells["count"] >= 5).all()
    assert len(places) == len(layer["contexts"]["features"]) > 0
    assert set(places.columns) >= PROVENANCE and {"kind", "name", "precise"} <= set(places.columns)


def test_csv_has_the_cells_position_and_outline(health: Api, share_id: str) -> None:
    rows = list(csv.DictReader(io.StringIO(_fetch(health, share_id, "csv").decode())))
    assert rows and set(rows[0]) >= PROVENANCE
    for row in rows[:50]:
        assert 1.0 < float(row["lon"]) < 1.4 and 54.4 < float(row["lat"]) < 54.8
        assert row["wkt"].startswith("POLYGON ((")
    with tempfile.TemporaryDirectory() as tmp:  # and GDAL reads it as geometry
        path = _saved(Path(tmp), "s.csv", _fetch(health, share_id, "csv"))
        df = pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    assert len(df) == len(rows) and df.geometry.notna().all()


def test_geopackage_validates_and_opens_in_gdal_3_6(health: Api, share_id: str) -> None:
    body = _fetch(health, share_id, "gpkg")
    assert _fetch(health, share_id, "gpkg") == body  # a re-fetch is the same bytes
    with tempfile.TemporaryDirectory() as tmp:
        path = _saved(Path(tmp), "share.gpkg", body)
        validated = _debian_gdal(
            "import sys; from osgeo_utils.samples import validate_gpkg as v;"
            " v.check(sys.argv[1], warning_as_error=True)",
            str(path),
        )
        assert validated.returncode == 0, validated.stderr[-2000:]
        opened = _debian_gdal(
            "import sys, json; from osgeo import gdal, ogr; gdal.UseExceptions();"
            " ds = ogr.Open(sys.argv[1]);"
            " print(json.dumps({ds.GetLayer(i).GetName(): ds.GetLayer(i).GetFeatureCount()"
            " for i in range(ds.GetLayerCount())}))",
            str(path),
        )
        assert opened.returncode == 0, opened.stderr[-2000:]
        counts = json.loads(opened.stdout)
        assert counts["cells"] > 0 and counts["contexts"] > 0
        assert "partially supported" not in opened.stderr
        cells = pyogrio.read_dataframe(path, layer="cells")
        assert len(cells) == counts["cells"] and set(cells.columns) >= PROVENANCE
        assert str(cells["published_at"].dtype).startswith("datetime64")
        with sqlite3.connect(path) as db:
            version = db.execute("PRAGMA application_id").fetchone()[0]
            assert version == 0x47504B47  # "GPKG"
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10300  # 1.3
            metadata = " ".join(m for (m,) in db.execute("SELECT metadata FROM gpkg_metadata"))
            assert share_id in metadata and "tier" in metadata
            described = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
            assert all(described[layer] for layer in ("cells", "contexts"))
            types = {c[1]: c[2] for c in db.execute("PRAGMA table_info(cells)")}
            assert types["published_at"] == "DATETIME" and types["expires_at"] == "DATETIME"


def test_flatgeobuf_opens_in_both_gdals(health: Api, share_id: str) -> None:
    body = _fetch(health, share_id, "fgb")
    with tempfile.TemporaryDirectory() as tmp:
        path = _saved(Path(tmp), "share.fgb", body)
        df = pyogrio.read_dataframe(path)
        opened = _debian_gdal(
            "import sys; from osgeo import gdal, ogr; gdal.UseExceptions();"
            " ds = ogr.Open(sys.argv[1]); print(ds.GetLayer(0).GetFeatureCount())",
            str(path),
        )
    assert opened.returncode == 0, opened.stderr[-2000:]
    assert int(opened.stdout) == len(df) > 0 and set(df.columns) >= PROVENANCE


def test_unknown_formats_are_404(health: Api, share_id: str) -> None:
    assert health("GET", f"/api/v1/shares/{share_id}/export.shp").status_code == 404
