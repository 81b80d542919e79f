"""Opening csmap in a GIS client (issue 15): a partner analyst makes a personal access token and
GDAL's OAPIF driver (through pyogrio) and OWSLib read /ogc with it from a real server — the
same collections as the map, the same counts as the app's own layers, every shared feature
with its provenance — while an expired or revoked token, a write and the admin are refused
with WWW-Authenticate."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mapbox_vector_tile
import pyogrio
import pytest
from flask import Flask

from tests.conftest import TestUser, csrf_from
from tests.integration.test_recording_api import Api


@pytest.fixture(scope="module")
def server(test_db: dict[str, str]) -> Iterator[str]:
    """The app under gunicorn in a process of its own, as a GIS client meets it (GDAL holds
    the interpreter while it reads, so the server cannot share this process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CSMAP_MODE": "test", "CSMAP_DATABASE_URL": test_db["app"]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "webmap:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310 - our server
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the test server did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def analyst(app: Flask, make_user: Any, sign_in: Any) -> Api:
    """A health analyst: health receives the demo's standing police and children's social
    care shares, and has records of its own."""
    user: TestUser = make_user("health", "analyst")
    return Api(sign_in(app.test_client(), user), user)


def _make_token(api: Api, name: str = "QGIS on my laptop", days: str = "30") -> str:
    page = api.client.get("/account/tokens").get_data(as_text=True)
    resp = api.client.post(
        "/account/tokens", data={"name": name, "expires": days, "csrf_token": csrf_from(page)}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[-500:]
    html = resp.get_data(as_text=True)
    start = html.index('value="csmap_pat_') + len('value="')
    return html[start : html.index('"', start)]


@pytest.fixture(scope="module")
def token(analyst: Api) -> str:
    return _make_token(analyst)


def _gdal(token: str) -> None:
    # As the README tells a GDAL user: GDAL_HTTP_AUTH=BEARER with the token.
    pyogrio.set_gdal_config_options(
        {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token, "GDAL_HTTP_TIMEOUT": "60"}
    )


def test_gdal_lists_exactly_the_map_s_collections(server: str, token: str, analyst: Api) -> None:
    _gdal(token)
    layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{server}/ogc")}
    received = [s for s in analyst("GET", "/api/v1/shares").get_json()["received"]
                if s["state"] == "active"]  # fmt: skip
    assert received
    want = {"own-cell-counts", "own-contexts"} | {f"share-{s['id']}" for s in received}
    want |= {
        f"boundaries-{b['slug']}"
        for b in analyst("GET", "/api/v1/boundary-sets").get_json()["boundary_sets"]
    }
    assert want <= layers
    # Only what this user may see: another agency's tier A is never a collection.
    assert all(n.startswith(("own-", "share-", "boundaries-")) for n in layers)


def test_gdal_counts_agree_with_the_app_s_own_layers(server: str, token: str, analyst: Api) -> None:
    _gdal(token)
    df = pyogrio.read_dataframe(f"OAPIF:{server}/ogc", layer="own-cell-counts")
    assert len(df) > 0 and set(df["tier"]) == {"A"}
    month = sorted(df["period"])[-1]
    app = analyst("GET", f"/api/v1/layers/counts?from={month}&to={month}&res=8").get_json()
    assert int(df.loc[df["period"] == month, "count"].sum()) == sum(
        f["properties"]["n"] for f in app["features"]
    )
    assert all(df["precision"].str.startswith("Cells of about 0.74 km²"))


def test_a_share_s_collection_carries_its_provenance(server: str, token: str, analyst: Api) -> None:
    share = next(s for s in analyst("GET", "/api/v1/shares").get_json()["received"]
                 if s["state"] == "active" and "observations" in s["layers"])  # fmt: skip
    _gdal(token)
    df = pyogrio.read_dataframe(f"OAPIF:{server}/ogc", layer=f"share-{share['id']}")
    layer = analyst("GET", f"/api/v1/shares/{share['id']}/layer").get_json()
    assert len(df) == len(layer["features"]) > 0
    assert set(df["share_id"]) == {share["id"]} and set(df["tier"]) == {share["tier"]}
    assert df["period"].notna().all() and df["precision"].notna().all()
    assert df["published_at"].notna().all() and df["expires_at"].notna().all()
    assert (df["count"] >= 5).all()  # integers at or above k, never a string


def test_owslib_reads_the_same_with_paging(server: str, token: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(f"{server}/ogc", headers={"Authorization": f"Bearer {token}"})
    ids = {c["id"] for c in api.collections()["collections"]}
    assert "own-cell-counts" in ids
    first = api.collection_items("own-cell-counts", limit=7)
    assert first["numberReturned"] == 7 and first["numberMatched"] > 7
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=7" in nxt
    second = api.collection_items("own-cell-counts", limit=7, offset=7)
    assert {f["id"] for f in first["features"]}.isdisjoint(f["id"] for f in second["features"])
    assert api.conformance()["conformsTo"]


def test_items_take_bbox_and_datetime_and_refuse_the_rest(analyst: Api, token: str) -> None:
    client = analyst.client.application.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    url = "/ogc/collections/own-cell-counts/items"
    everything = client.get(url, headers=auth).get_json()["numberMatched"]
    some = client.get(f"{url}?bbox=1.15,54.55,1.2,54.6", headers=auth).get_json()
    assert 0 < some["numberMatched"] < everything
    month = some["features"][0]["properties"]["period"]
    one = client.get(f"{url}?datetime={month}-01/{month}-02", headers=auth).get_json()
    assert {f["properties"]["period"] for f in one["features"]} == {month}
    for bad, field in (("bbox=1,2,3", "bbox"), ("limit=0", "limit"), ("datetime=soon", "datetime"),
                       ("category=x", "category")):  # fmt: skip
        resp = client.get(f"{url}?{bad}", headers=auth)
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], bad


def test_a_token_only_reads(analyst: Api, token: str) -> None:
    client = analyst.client.application.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/layers/counts", headers=auth).status_code == 200
    for method, url in (("POST", "/api/v1/observations"), ("GET", "/admin/users"),
                        ("GET", "/shares/new"), ("POST", "/logout")):  # fmt: skip
        resp = client.open(url, method=method, headers=auth, json={})
        assert resp.status_code == 403, (method, url)
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


def test_expired_revoked_and_unknown_tokens_get_401(
    analyst: Api, owner_conn: Any, app: Flask
) -> None:
    client = app.test_client()
    revoked = _make_token(analyst, "to revoke")
    expired = _make_token(analyst, "to expire", "1")
    owner_conn.execute(
        "UPDATE access_token SET created_at = now() - interval '2 days',"
        " expires_at = now() - interval '1 day' WHERE name = 'to expire' AND user_id = %s",
        (analyst.user.id,),
    )
    owner_conn.commit()
    page = analyst.client.get("/account/tokens").get_data(as_text=True)
    row = owner_conn.execute(
        "SELECT id FROM access_token WHERE name = 'to revoke' AND user_id = %s",
        (analyst.user.id,),
    ).fetchone()
    assert row is not None
    analyst.client.post(f"/account/tokens/{row[0]}/revoke", data={"csrf_token": csrf_from(page)})
    for bad in (revoked, expired, "csmap_pat_nonsense", "not-even-ours"):
        resp = client.get("/ogc/collections", headers={"Authorization": f"Bearer {bad}"})
        assert resp.status_code == 401
        assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    nobody = client.get("/ogc/collections")
    assert nobody.status_code == 401 and nobody.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_use_is_audited_and_listed(analyst: Api, token: str, owner_conn: Any) -> None:
    client = analyst.client.application.test_client()
    client.get("/ogc/conformance", headers={"Authorization": f"Bearer {token}"})
    used = owner_conn.execute(
        "SELECT count(*) FROM audit_log l JOIN access_token t ON t.id::text = ANY(l.object_ids)"
        " WHERE l.action = 'token.used' AND t.user_id = %s",
        (analyst.user.id,),
    ).fetchone()
    assert used is not None and used[0] >= 1
    page = analyst.client.get("/account/tokens").get_data(as_text=True)
    assert "QGIS on my laptop" in page and "never" not in page.split("QGIS on my laptop")[1][:200]
    assert token not in page  # shown once, never again


def test_tokens_last_at_most_90_days(analyst: Api) -> None:
    page = analyst.client.get("/account/tokens").get_data(as_text=True)
    for days, field in (("91", "expires"), ("0", "expires"), ("x", "expires")):
        resp = analyst.client.post(
            "/account/tokens", data={"name": "x", "expires": days, "csrf_token": csrf_from(page)}
        )
        assert resp.status_code == 422 and f'href="#f-{field}"' in resp.get_data(as_text=True)


def test_csmap_tokens_create_prints_it_once(test_db: dict[str, str], make_user: Any) -> None:
    from click.testing import CliRunner

    from webmap.cli import main

    user = make_user("police", "analyst")
    env = {"CSMAP_OWNER_DATABASE_URL": test_db["owner"]}
    made = CliRunner().invoke(
        main, ["tokens", "create", "--user", user.email, "--name", "GDAL", "--expires", "7"],
        env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "csmap_pat_" in made.output
    listed = CliRunner().invoke(main, ["tokens", "list", "--user", user.email], env=env)
    assert "GDAL" in listed.output and "csmap_pat_" not in listed.output
    expiry = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d")
    assert expiry in listed.output


def _get(url: str, token: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our server
        return resp.status, resp.read()


def _tile_at(template: str, lon: float, lat: float, z: int) -> str:
    n = 2**z
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    x = int((lon + 180) / 360 * n)
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def test_tilejson_for_own_counts_and_each_received_share(
    server: str, token: str, analyst: Api
) -> None:
    """A GIS client given a token reads TileJSON for its own counts and for every share it
    receives, follows the tile template, and gets integer counts equal to the app's layers."""
    status, raw = _get(f"{server}/tiles/counts.json?from=2026-09&to=2026-09", token)
    doc = json.loads(raw)
    assert status == 200 and doc["tilejson"] == "3.0.0"
    assert doc["vector_layers"][0]["id"] == "cells"
    assert doc["vector_layers"][0]["fields"] == {"cell": "String", "n": "Number"}
    assert "from=2026-09" in doc["tiles"][0] and "Cells of about" in doc["description"]
    west, south, east, north = doc["bounds"]
    centre = ((west + east) / 2, (south + north) / 2)
    status, tile = _get(_tile_at(doc["tiles"][0], *centre, 10), token)
    cells = {f["properties"]["cell"]: f["properties"]["n"]
             for f in mapbox_vector_tile.decode(tile)["cells"]["features"]}  # fmt: skip
    app = analyst("GET", "/api/v1/layers/counts?from=2026-09&to=2026-09&res=7").get_json()
    counts = {f["properties"]["cell"]: f["properties"]["n"] for f in app["features"]}
    assert cells and all(isinstance(n, int) and counts[c] == n for c, n in cells.items())

    received = [s for s in analyst("GET", "/api/v1/shares").get_json()["received"]
                if s["state"] == "active" and "observations" in s["layers"]]  # fmt: skip
    assert received
    drawn = 0
    for share in received:
        layer = analyst("GET", f"/api/v1/shares/{share['id']}/layer").get_json()
        periods = [f["properties"]["period"] for f in layer["features"]]
        # The period with most cells (the latest may be a quiet month with none).
        busiest = max(set(periods), key=periods.count) if periods else ""
        query = f"?period={busiest}" if busiest else ""
        status, raw = _get(f"{server}/api/v1/shares/{share['id']}/tiles.json{query}", token)
        doc = json.loads(raw)
        assert status == 200 and doc["share_id"] == share["id"] and doc["tier"] == share["tier"]
        assert f"period={doc['period']}" in doc["tiles"][0]
        assert doc["vector_layers"][0]["fields"]["count"] == "Number"
        published = {f["properties"]["cell"]: f["properties"]["count"]
                     for f in layer["features"]
                     if f["properties"]["period"] == doc["period"]}  # fmt: skip
        release = next(r for r in layer["releases"] if r["period"] == doc["period"])
        assert doc["description"].startswith(release["precision"].rstrip("."))
        status, tile = _get(_tile_at(doc["tiles"][0], *centre, 10), token)
        features = mapbox_vector_tile.decode(tile).get("shared", {}).get("features", [])
        assert len(features) == len(published), (share["id"], doc["period"])
        drawn += len(features)
        for f in features:
            props = f["properties"]
            assert props["period"] == doc["period"]
            assert published[props["cell"]] == props.get("count", props.get("band"))
            assert "count" not in props or isinstance(props["count"], int)
    assert drawn > 0
    base = f"/api/v1/shares/{received[0]['id']}/tiles.json"
    assert analyst("GET", f"{base}?period=1999-01").status_code == 422
    assert analyst("GET", f"{base}?month=2026-09").status_code == 422
    assert analyst("GET", "/tiles/secret.json").status_code == 404
