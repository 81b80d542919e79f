"""Boundary sets managed in the app (issue 15): a system admin uploads a set from the browser
and through the API, sees every repair, rejection and area outside the service area, lists
and compares generations, retires one, chooses the map's default set, and anyone signed in
looks an area up by its code, at an older generation too. Nobody else may change them."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import LineString, box

from tests.conftest import csrf_from

#: Two areas over the town (lon/lat) and two that will not do.
WEST, EAST = box(1.10, 54.54, 1.20, 54.66), box(1.20, 54.54, 1.30, 54.66)
FAR = box(-3.0, 51.0, -2.9, 51.1)  # in England, far outside the service area


def _geojson(codes: list[str], geoms: list[Any], names: list[str] | None = None) -> bytes:
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": names or [f"Area {c}" for c in codes]},
        geometry=geoms,
        crs="EPSG:4326",
    )
    return frame.to_json().encode()


@pytest.fixture()
def admin(
    app: Flask, make_user: Any, sign_in: Any, owner_session_factory: Any
) -> Iterator[FlaskClient]:
    yield sign_in(app.test_client(), make_user("social_care", "system_admin"))
    # The sets made here cover the town: take them off every map, so that other tests'
    # "which areas contain this point" see only their own and the demo's.
    from sqlalchemy import text

    with owner_session_factory() as s:
        s.execute(
            text(
                "SELECT csmap_boundary_retire(id) FROM boundary_set WHERE is_current"
                " AND (slug LIKE 'test-areas-%' OR slug LIKE 'shape-areas-%')"
            )
        )
        s.commit()


def _upload_form(
    client: FlaskClient, name: str, body: bytes, filename: str, over: dict[str, str] | None = None
) -> Any:
    token = csrf_from(client.get("/admin/boundary-sets").get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token, "name": name, "kind": "other",
                            "file": (io.BytesIO(body), filename)}  # fmt: skip
    data.update(over or {})
    return client.post("/admin/boundary-sets/upload", data=data, content_type="multipart/form-data")


def test_a_system_admin_uploads_from_the_browser_with_a_report(
    admin: FlaskClient, owner_conn: psycopg.Connection[Any]
) -> None:
    name = f"Test areas {uuid.uuid4().hex[:6]}"
    body = _geojson(
        ["W", "E", "FAR", "LN"], [WEST, EAST, FAR, LineString([(1.2, 54.6), (1.21, 54.61)])]
    )
    resp = _upload_form(admin, name, body, "areas.geojson")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200, page[-1500:]
    assert "generation 1" in page and "3 area(s) imported" in page and "1 rejected" in page
    assert "outside the service area" in page and "FAR" in page
    assert "LN: " in page  # the line is rejected, saying why
    slug = name.lower().replace(" ", "-")
    cells = owner_conn.execute(
        "SELECT a.code, count(ca.cell) FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
        " LEFT JOIN cell_area ca ON ca.area_id = a.id WHERE b.slug = %s GROUP BY a.code",
        (slug,),
    ).fetchall()
    counts = dict(cells)
    assert counts["W"] > 0 and counts["E"] > 0 and counts["FAR"] == 0
    audited = owner_conn.execute(
        "SELECT details FROM audit_log WHERE action = 'boundary_set.imported'"
        " AND %s = ANY(object_ids)",
        (slug,),
    ).fetchall()
    assert audited and audited[0][0]["count"] == 3 and audited[0][0]["rejected"] == 1


@pytest.mark.parametrize(
    ("body", "filename", "over", "field"),
    [
        (b"", "x.geojson", {}, "file"),
        (b"not geojson at all", "x.geojson", {}, "file"),
        (_geojson(["A"], [WEST]), "x.kml", {}, "file"),
        (_geojson(["A"], [WEST]), "x.geojson", {"kind": "planets"}, "kind"),
        (_geojson(["A"], [WEST]), "x.geojson", {"name": "x"}, "name"),
        (_geojson(["L"], [LineString([(1.2, 54.6), (1.3, 54.6)])]), "x.geojson", {}, "file"),
    ],
)
def test_a_broken_upload_names_the_field_and_writes_nothing(
    admin: FlaskClient,
    owner_conn: psycopg.Connection[Any],
    body: bytes,
    filename: str,
    over: dict[str, str],
    field: str,
) -> None:
    before = owner_conn.execute("SELECT count(*) FROM boundary_set").fetchone()
    resp = _upload_form(admin, f"Broken {uuid.uuid4().hex[:6]}", body, filename, over)
    assert resp.status_code == 422
    assert f'href="#u-{field}"' in resp.get_data(as_text=True)
    owner_conn.commit()
    assert owner_conn.execute("SELECT count(*) FROM boundary_set").fetchone() == before


def test_the_api_imports_a_zipped_shapefile_and_generations_compare(
    admin: FlaskClient, tmp_path: Path
) -> None:
    name = f"Shape areas {uuid.uuid4().hex[:6]}"
    slug = name.lower().replace(" ", "-")
    shp = tmp_path / "areas.shp"
    gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]}, geometry=[WEST, EAST],
                     crs="EPSG:4326").to_crs(27700).to_file(shp)  # fmt: skip
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        for part in tmp_path.glob("areas.*"):
            z.write(part, part.name)
    token = csrf_from(admin.get("/admin/boundary-sets").get_data(as_text=True))

    def upload(body: bytes, filename: str) -> Any:
        return admin.post(
            "/api/v1/boundary-sets",
            data={"name": name, "kind": "other", "file": (io.BytesIO(body), filename)},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )

    first = upload(zipped.getvalue(), "areas.zip")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["generation"] == 1 and first.get_json()["imported"] == 2
    # Generation 2: West redrawn and renamed, East gone, North new.
    north = box(1.10, 54.66, 1.30, 54.70)
    second = upload(_geojson(["W", "N"], [box(1.10, 54.54, 1.18, 54.66), north],
                             ["West (smaller)", "North"]), "g2.geojson")  # fmt: skip
    assert second.status_code == 201 and second.get_json()["generation"] == 2
    gens = admin.get(f"/api/v1/boundary-sets/{slug}/generations").get_json()["generations"]
    assert [(g["generation"], g["current"]) for g in gens] == [(2, True), (1, False)]
    diff = admin.get(f"/api/v1/boundary-sets/{slug}/compare?from=1&to=2").get_json()
    assert diff == {"added": ["N"], "removed": ["E"], "redrawn": ["W"], "renamed": []}
    bad = admin.get(f"/api/v1/boundary-sets/{slug}/compare?from=1&to=9")
    assert bad.status_code == 422 and "to" in bad.get_json()["error"]["fields"]
    # MapIt-style look-up by code, now and at the older generation.
    now = admin.get(f"/api/v1/boundary-sets/{slug}/areas/W").get_json()
    then = admin.get(f"/api/v1/boundary-sets/{slug}/areas/W?generation=1").get_json()
    assert now["properties"]["name"] == "West (smaller)" and now["properties"]["generation"] == 2
    assert then["properties"]["name"] == "West" and then["properties"]["current"] is False
    assert admin.get(f"/api/v1/boundary-sets/{slug}/areas/E").status_code == 404
    # Retire the current generation: gone from the maps, its areas kept.
    retire = admin.post(
        f"/api/v1/boundary-sets/generations/{gens[0]['id']}/retire",
        headers={"X-CSRFToken": token},
    )
    assert retire.status_code == 200
    listed = {b["slug"] for b in admin.get("/api/v1/boundary-sets").get_json()["boundary_sets"]}
    assert slug not in listed
    again = admin.get(f"/api/v1/boundary-sets/{slug}/generations").get_json()["generations"]
    assert again[0]["retired_at"] is not None


def test_the_default_map_layer_is_chosen(admin: FlaskClient) -> None:
    token = csrf_from(admin.get("/admin/boundary-sets").get_data(as_text=True))
    sets = admin.get("/api/v1/boundary-sets").get_json()["boundary_sets"]
    assert sets[0]["map_default"] and sets[0]["slug"] == "wards"
    try:
        chosen = admin.post("/api/v1/boundary-sets/school-catchments/default",
                            headers={"X-CSRFToken": token})  # fmt: skip
        assert chosen.status_code == 200
        sets = admin.get("/api/v1/boundary-sets").get_json()["boundary_sets"]
        assert sets[0]["slug"] == "school-catchments" and sum(s["map_default"] for s in sets) == 1
    finally:
        admin.post("/api/v1/boundary-sets/wards/default", headers={"X-CSRFToken": token})
    assert admin.get("/api/v1/boundary-sets").get_json()["boundary_sets"][0]["slug"] == "wards"


def test_only_a_system_admin_changes_boundary_sets(
    app: Flask, make_user: Any, sign_in: Any
) -> None:
    for agency, role in (("police", "agency_admin"), ("police", "analyst")):
        client = sign_in(app.test_client(), make_user(agency, role))
        token = csrf_from(client.get("/").get_data(as_text=True).replace("csrf-token", "csrf_token")
                          .replace('content="', 'value="'))  # fmt: skip
        resp = client.post(
            "/api/v1/boundary-sets",
            data={"name": "Nope", "kind": "other", "file": (io.BytesIO(b"{}"), "x.geojson")},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 403
        looked = client.get("/api/v1/boundary-sets/wards/generations")
        assert looked.status_code == 200 and json.loads(looked.data)["generations"]
