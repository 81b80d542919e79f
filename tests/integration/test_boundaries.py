"""Boundary sets from files in any CRS: repaired or rejected per feature, generations kept,
the lattice re-assigned; and MapIt-style 'which areas contain this point'."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
from click.testing import CliRunner
from flask.testing import FlaskClient
from shapely.geometry import LineString, Polygon, box

from tests.conftest import TEST_DB
from webmap.cli import main
from webmap.features.reference.boundaries import slugify

# Two halves of the town and two broken features, in British National Grid metres.
WEST = box(600_000, 520_000, 606_800, 535_000)
EAST = box(606_800, 520_000, 614_000, 535_000)
BOWTIE = Polygon(
    [
        (600_000, 536_000),
        (602_000, 538_000),
        (602_000, 536_000),
        (600_000, 538_000),
        (600_000, 536_000),
    ]
)


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"AREA_CD": ["HW", "HE", "BT", "LN"], "AREA_NM": ["West", "East", "Bow tie", "A line"]},
        geometry=[WEST, EAST, BOWTIE, LineString([(600_000, 520_000), (601_000, 521_000)])],
        crs="EPSG:27700",
    )


def _import(path: Path, name: str) -> Any:
    return CliRunner().invoke(
        main,
        [
            "import",
            "boundaries",
            str(path),
            "--set",
            name,
            "--kind",
            "health_area",
            "--database",
            TEST_DB,
        ],
    )


def test_geojson_gpkg_and_zipped_shapefile_in_any_crs(
    tmp_path: Path, owner_conn: psycopg.Connection[Any]
) -> None:
    name = f"Test health split {uuid.uuid4().hex[:8]}"  # a set of this test's own
    slug = slugify(name)
    frame = _frame()
    geojson = tmp_path / "areas.geojson"
    frame.to_crs(3857).to_file(geojson, driver="GeoJSON")  # another CRS again
    gpkg = tmp_path / "areas.gpkg"
    frame.to_file(gpkg, driver="GPKG")
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    frame[frame.geometry.geom_type == "Polygon"].to_file(shp_dir / "areas.shp")  # polygons only
    zipped = tmp_path / "areas.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for f in shp_dir.iterdir():
            z.write(f, f.name)
    # The shapefile cannot hold the line, so it has one feature fewer to reject.
    for n, (path, rejected) in enumerate(((geojson, 1), (gpkg, 1), (zipped, 0)), start=1):
        result = _import(path, name)
        assert result.exit_code == 0, result.output
        summary = f"generation {n}: 3 areas imported, 1 repaired, {rejected} rejected"
        assert summary in result.output
        assert "repaired BT: repaired (self-intersection at " in result.output
        assert ("rejected LN: is a LineString, not an area" in result.output) == bool(rejected)
    rows = owner_conn.execute(
        "SELECT generation, is_current, count(a.id) FROM boundary_set s"
        " JOIN area a ON a.boundary_set_id = s.id WHERE s.slug = %s"
        " GROUP BY 1, 2 ORDER BY 1",
        (slug,),
    ).fetchall()
    assert rows == [(1, False, 3), (2, False, 3), (3, True, 3)]  # old generations kept
    # The town's centre (1.2 E, 54.6 N) is at easting ~606,800: in West or East, not both.
    west = owner_conn.execute(
        "SELECT ST_Contains(a.geom, ST_SetSRID(ST_Point(1.19, 54.6), 4326)) FROM area a"
        " JOIN boundary_set s ON s.id = a.boundary_set_id AND s.is_current"
        " WHERE s.slug = %s AND a.code = 'HW'",
        (slug,),
    ).fetchone()
    assert west == (True,)
    # The lattice is re-assigned to the current generation only.
    assigned = owner_conn.execute(
        "SELECT count(DISTINCT s.generation) FROM cell_area ca JOIN area a ON a.id = ca.area_id"
        " JOIN boundary_set s ON s.id = a.boundary_set_id WHERE s.slug = %s",
        (slug,),
    ).fetchone()
    assert assigned == (1,)


def test_unusable_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    missing_crs = tmp_path / "nocrs.geojson"
    missing_crs.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature",'
        ' "properties": {}, "geometry": {"type": "Point",'
        ' "coordinates": [1, 2]}}]}'
    )
    result = _import(missing_crs, f"Points only {uuid.uuid4().hex[:8]}")
    assert result.exit_code != 0 and "no usable areas" in result.output
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage")
    result = _import(junk, f"Junk {uuid.uuid4().hex[:8]}")
    assert result.exit_code != 0 and "cannot be read" in result.output


def test_areas_containing_a_point(signed_in: Any) -> None:
    client: FlaskClient = signed_in("health", "practitioner")
    body = client.get("/api/v1/areas?lon=1.2&lat=54.6").get_json()
    kinds = {a["kind"] for a in body["areas"]}
    assert {
        "council_ward",
        "police_neighbourhood",
        "health_area",
        "school_catchment",
        "ldsm_area",
    } <= kinds
    assert len({a["boundary_set"] for a in body["areas"]}) == len(body["areas"])  # one each
    assert client.get("/api/v1/areas?lon=54.6&lat=1.2").status_code == 422
    bad = client.get("/api/v1/areas?lon=east&lat=54.6")
    assert bad.status_code == 422 and "lon" in bad.get_json()["error"]["fields"]
    assert client.get("/api/v1/areas?lon=1.0&lat=50.0").get_json()["areas"] == []
