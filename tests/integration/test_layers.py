"""Trend layers and tiles against the real database: counts agree with a brute-force count of
the observations, areas are sums of their cells, tiles are valid MVT within the size cap."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import psycopg
import pytest
from flask.testing import FlaskClient

from webmap.features.layers.tiles import MAX_TILE_BYTES, resolution_for_zoom

MONTH = "2026-09"


@pytest.fixture()
def analyst(signed_in: Any) -> FlaskClient:
    client: FlaskClient = signed_in("police", "analyst")
    return client


def _police(owner_conn: psycopg.Connection[Any]) -> Any:
    return owner_conn.execute("SELECT id FROM agency WHERE slug = 'police'").fetchone()[0]  # type: ignore[index]


def test_cell_counts_match_the_observations(
    analyst: FlaskClient, owner_conn: psycopg.Connection[Any]
) -> None:
    fc = analyst.get(f"/api/v1/layers/counts?res=8&month={MONTH}").get_json()
    assert fc["precision"].startswith("Cells of about 0.74 km²")
    got = {f["properties"]["cell"]: f["properties"]["n"] for f in fc["features"]}
    brute = dict(
        owner_conn.execute(
            """SELECT cell_r8::text, count(*) FROM observation
           WHERE agency_id = %s AND deleted_at IS NULL
             AND date_trunc('month', occurred_at AT TIME ZONE 'Europe/London')::date
                 = %s::date GROUP BY 1""",
            (_police(owner_conn), f"{MONTH}-01"),
        ).fetchall()
    )
    assert got == brute and sum(got.values()) > 0
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7  # a hexagon


def test_area_counts_are_sums_of_their_cells(
    analyst: FlaskClient, owner_conn: psycopg.Connection[Any]
) -> None:
    cells = {
        f["properties"]["cell"]: f["properties"]["n"]
        for f in analyst.get(f"/api/v1/layers/counts?res=8&month={MONTH}").get_json()["features"]
    }
    wards = analyst.get(f"/api/v1/layers/areas/wards?res=8&month={MONTH}").get_json()
    assignment: dict[str, list[str]] = {}
    for area_code, cell in owner_conn.execute(
        """SELECT a.code, ca.cell::text FROM cell_area ca JOIN area a ON a.id = ca.area_id
           JOIN boundary_set s ON s.id = a.boundary_set_id AND s.slug = 'wards'
           WHERE ca.res = 8"""
    ):
        assignment.setdefault(area_code, []).append(cell)
    for feature in wards["features"]:
        code = feature["properties"]["code"]
        assert feature["properties"]["n"] == sum(cells.get(c, 0) for c in assignment[code])
    # Every counted cell is assigned to exactly one ward, so nothing is lost or doubled.
    assert sum(f["properties"]["n"] for f in wards["features"]) == sum(cells.values())


def test_change_uses_the_arcgis_percent_change(analyst: FlaskClient) -> None:
    body = analyst.get("/api/v1/layers/change?res=8&from=2026-07&to=2026-09").get_json()
    assert body["previous"] == ["2026-04", "2026-06"]
    for c in body["cells"]:
        if c["previous"] == 0:
            assert c["percent_change"] is None
        else:
            expected = (c["current"] - c["previous"]) / c["previous"] * 100
            assert c["percent_change"] == pytest.approx(expected, abs=0.05)


def test_series_and_emerging_cover_twelve_months(analyst: FlaskClient) -> None:
    series = analyst.get("/api/v1/layers/series?res=8").get_json()
    assert len(series["months"]) == 12
    assert all(len(v) == 12 for v in series["cells"].values())
    emerging = analyst.get("/api/v1/layers/emerging?res=8").get_json()
    assert emerging["cells"], "the demo town should show some pattern"
    assert {c["pattern"] for c in emerging["cells"]} <= {
        "new",
        "consecutive",
        "intensifying",
        "persistent",
        "diminishing",
        "sporadic",
        "oscillating",
        "historical",
        "cold new",
        "cold consecutive",
        "cold intensifying",
        "cold persistent",
        "cold diminishing",
        "cold sporadic",
        "cold oscillating",
        "cold historical",
    }
    short = analyst.get("/api/v1/layers/emerging?res=8&from=2026-08&to=2026-09")
    assert short.status_code == 422 and "from" in short.get_json()["error"]["fields"]


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.mark.parametrize("z", [10, 12, 13, 14])
def test_tiles_are_valid_mvt_within_the_cap(analyst: FlaskClient, z: int) -> None:
    x, y = _tile_xy(1.2, 54.6, z)
    resp = analyst.get(f"/tiles/counts/{z}/{x}/{y}.mvt?from=2025-10&to=2026-09")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.mapbox-vector-tile"
    assert len(resp.data) <= MAX_TILE_BYTES
    assert int(resp.headers["X-Cell-Resolution"]) == resolution_for_zoom(z)
    decoded = mapbox_vector_tile.decode(resp.data)
    features = decoded["cells"]["features"]
    assert features and all(f["properties"]["n"] > 0 for f in features)
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}


def test_bad_tiles_and_layers(analyst: FlaskClient) -> None:
    assert analyst.get("/tiles/counts/3/9/0.mvt").status_code == 404
    assert analyst.get("/tiles/secret/12/2060/1303.mvt").status_code == 404
    empty = analyst.get("/tiles/counts/12/0/0.mvt")  # far from the town: an empty tile
    assert empty.status_code == 200 and len(empty.data) == 0
    assert analyst.get("/api/v1/layers/areas/no-such-set").status_code == 404


def test_layer_reads_are_audited(
    app: Any, make_user: Any, sign_in: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    user = make_user("police", "analyst")
    analyst = sign_in(app.test_client(), user)
    analyst.get(f"/api/v1/layers/counts?res=8&month={MONTH}&category=weapon_found")
    rows = owner_conn.execute(
        "SELECT details::text FROM audit_log WHERE action = 'layer.read' AND user_id = %s",
        (user.id,),
    ).fetchall()
    assert len(rows) == 1
    assert "weapon_found" not in rows[0][0]  # filter names, never values


def test_heatmap_is_server_side_classes_with_a_stated_bandwidth(analyst: FlaskClient) -> None:
    body = analyst.get("/api/v1/layers/heatmap?from=2025-10&to=2026-09&bandwidth=300").get_json()
    assert "bandwidth 300 m" in body["legend"] and "100 m grid" in body["legend"]
    classes = [f["properties"]["class"] for f in body["features"]]
    assert classes == sorted(classes) and classes[-1] == 5
    assert body["precision"]
    bad = analyst.get("/api/v1/layers/heatmap?bandwidth=5")
    assert bad.status_code == 422 and "bandwidth" in bad.get_json()["error"]["fields"]


def test_demo_hotspots_are_classed_as_a_panel_would_expect(
    fresh_database: Any, settings: Any, demo_town: Any
) -> None:
    """From the database's own monthly cell counts (all agencies together, as a panel will see
    them once partners share), the emerging hotspot is new/consecutive/intensifying and the
    fading one diminishing. A database of its own: other tests add records to the shared one."""
    import numpy as np

    from tests.conftest import pg_url
    from webmap.demo.load import load_town
    from webmap.infra import db

    owner_url, _ = fresh_database("csmap_trends")
    db.upgrade(settings, "head", url=owner_url)
    owner_conn = psycopg.connect(pg_url(owner_url))
    load_town(
        owner_conn, demo_town, settings.secret("hmac_key"), service_area=settings.service_area
    )
    owner_conn.commit()

    from spatial.cells import cell_key
    from spatial.trends import emerging_hotspots

    cells = [r[0] for r in owner_conn.execute("SELECT cell FROM cell WHERE res = 8 ORDER BY cell")]
    index = {c: i for i, c in enumerate(cells)}
    counts = np.zeros((12, len(cells)))
    for month, cell, n in owner_conn.execute(
        """SELECT (extract(year FROM month) * 12 + extract(month FROM month))::int
                  - (2025 * 12 + 11), cell, sum(n)
           FROM cell_month WHERE res = 8 AND month BETWEEN '2025-11-01' AND '2026-10-01'
           GROUP BY 1, 2"""
    ):
        counts[month, index[cell]] += n
    classes = {t.cell: t.pattern for t in emerging_hotspots(counts, cells)}
    emerging = demo_town.named_places["emerging_hotspot"]
    fading = demo_town.named_places["fading_hotspot"]
    assert classes[cell_key(emerging.x, emerging.y, 8)] in {"new", "consecutive", "intensifying"}
    assert classes[cell_key(fading.x, fading.y, 8)] == "diminishing"
    owner_conn.close()
