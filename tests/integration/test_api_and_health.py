"""The app over HTTP against the real database: health, base map, boundary sets, errors."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from flask.testing import FlaskClient

from webmap import create_app


@pytest.fixture()
def analyst(signed_in: Any) -> FlaskClient:
    client: FlaskClient = signed_in("police", "analyst")
    return client


def test_healthz_ok(client: FlaskClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["schema_revision"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_reports_a_stopped_database_clearly() -> None:
    # A cluster that is down looks exactly like this: nothing listening on its port.
    url = f"postgresql+psycopg://csmap_app:x@127.0.0.1:{_closed_port()}/csmap"
    app = create_app({"mode": "test", "database_url": url})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "error" and body["database"] == "unreachable"
    assert "csmap db up" in body["message"]
    assert "csmap_app" not in body["message"]  # no connection details leak


def test_basemap_is_geojson_with_every_layer(analyst: FlaskClient) -> None:
    resp = analyst.get("/api/v1/basemap")
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    fc = json.loads(resp.data)
    assert fc["type"] == "FeatureCollection"
    layers = {f["properties"]["layer"] for f in fc["features"]}
    assert {"land", "road", "river", "rail", "park", "station"} <= layers
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert 1.0 < lon < 1.4 and 54.4 < lat < 54.8  # lon/lat order (RFC 7946), over the sea


def test_boundary_sets_and_areas(analyst: FlaskClient) -> None:
    sets = analyst.get("/api/v1/boundary-sets").get_json()["boundary_sets"]
    kinds = {s["kind"] for s in sets}
    assert {
        "council_ward",
        "police_neighbourhood",
        "health_area",
        "school_catchment",
        "ldsm_area",
    } <= kinds
    for s in sets:
        fc = analyst.get(s["areas_url"]).get_json(force=True)
        assert len(fc["features"]) == s["area_count"] > 0
        assert {"code", "name"} <= set(fc["features"][0]["properties"])


def test_api_errors_have_one_json_shape(analyst: FlaskClient) -> None:
    for path in ("/api/v1/boundary-sets/no-such-set/areas", "/api/v1/nothing-here"):
        resp = analyst.get(path)
        assert resp.status_code == 404
        err = resp.get_json()["error"]
        assert err["code"] == "not_found" and err["message"]


def test_oversized_payload_is_413_json(client: FlaskClient) -> None:
    resp = client.post("/api/v1/basemap", data=b"x" * 2_000_000, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "request_entity_too_large"


def test_html_error_page(client: FlaskClient) -> None:
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert b"<h1>404" in resp.data and resp.mimetype == "text/html"


def test_security_headers(analyst: FlaskClient) -> None:
    resp = analyst.get("/")
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in resp.data and b"style=" not in resp.data


def test_hsts_only_over_https_and_behind_a_trusted_proxy(test_db: dict[str, str]) -> None:
    plain = create_app({"mode": "test", "database_url": test_db["app"]}).test_client()
    assert "Strict-Transport-Security" not in plain.get("/login").headers
    assert "Strict-Transport-Security" in plain.get("/login", base_url="https://localhost").headers
    proxied = create_app(
        {"mode": "test", "database_url": test_db["app"], "proxy_count": 1}
    ).test_client()
    resp = proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in resp.headers
    # Without trusting a proxy, the header is ignored (anyone could send it).
    assert (
        "Strict-Transport-Security"
        not in plain.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    )


def test_session_cookie_flags(test_db: dict[str, str]) -> None:
    prod = create_app(
        {
            "mode": "production",
            "database_url": test_db["app"],
            "secret_key": "s" * 40,
            "hmac_key": "h" * 40,
        }
    )
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config["SESSION_COOKIE_NAME"].startswith("__Host-")
