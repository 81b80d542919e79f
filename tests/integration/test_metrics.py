"""Metrics and JSON logs (issue 16, finding 7): /metrics in Prometheus's format, by route
pattern (never a path), for loopback or a token only; JSON log lines without sensitive values."""

from __future__ import annotations

import json
import re
import tempfile
from typing import Any

import requests
from flask import Flask

from tests.conftest import csrf_from
from tests.integration import live
from webmap import create_app

TOKEN = "m" * 40


def _value(text: str, name: str, **labels: str) -> float:
    """One sample's value (0 if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_by_route_pattern(app: Flask, signed_in: Any) -> None:
    client = signed_in("police", "analyst")
    slug = "wards"
    metrics = app.test_client()
    before = metrics.get("/metrics").get_data(as_text=True)
    assert client.get(f"/api/v1/boundary-sets/{slug}/areas").status_code == 200
    assert client.get("/api/v1/observations").status_code == 200  # an audited read
    resp = metrics.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    labels = {"method": "GET", "route": "/api/v1/boundary-sets/<slug>/areas", "status": "200"}
    assert _value(text, "csmap_http_requests_total", **labels) == (
        _value(before, "csmap_http_requests_total", **labels) + 1
    )
    assert _value(text, "csmap_http_request_duration_seconds_count", method="GET",
                  route="/api/v1/boundary-sets/<slug>/areas") >= 1  # fmt: skip
    assert f"/boundary-sets/{slug}/" not in text  # patterns, never paths
    assert _value(text, "csmap_audit_entries_total") > _value(before, "csmap_audit_entries_total")
    assert "csmap_db_pool_connections" in text and "csmap_db_pool_checked_out" in text
    # A method nobody uses does not make a label of its own.
    metrics.open("/api/v1/basemap", method="FROBNICATE")
    assert 'method="FROBNICATE"' not in metrics.get("/metrics").get_data(as_text=True)


def test_metrics_only_for_loopback_or_a_token(test_db: dict[str, str]) -> None:
    app = create_app({"mode": "test", "database_url": test_db["app"], "metrics_token": TOKEN})
    client = app.test_client()
    elsewhere = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/metrics", environ_base=elsewhere).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 404
    bad = {"Authorization": "Bearer " + "x" * 40}
    assert client.get("/metrics", environ_base=elsewhere, headers=bad).status_code == 404
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", environ_base=elsewhere, headers=good).status_code == 200
    assert client.get("/metrics").status_code == 200  # loopback, not forwarded


def test_login_throttling_is_counted(app: Flask, make_user: Any) -> None:
    user = make_user("police", "practitioner")
    client = app.test_client()
    before = _value(app.test_client().get("/metrics").get_data(as_text=True),
                    "csmap_login_throttled_total")  # fmt: skip
    statuses = []
    for _ in range(5):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        form = {"email": user.email, "password": "wrong password 123", "csrf_token": token}
        statuses.append(client.post("/login", data=form).status_code)
    assert 429 in statuses, statuses
    after = _value(app.test_client().get("/metrics").get_data(as_text=True),
                   "csmap_login_throttled_total")  # fmt: skip
    assert after >= before + 1


def test_json_logs_and_metrics_under_gunicorn(test_db: dict[str, str], make_user: Any) -> None:
    user = make_user("police", "practitioner")
    sentinel = "SENTINEL-NOTE-51c2"
    with tempfile.TemporaryDirectory() as metrics_dir:
        env = {"CSMAP_LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        with live.serve(test_db["app"], workers=2, extra_env=env) as server:
            s = live.signed_in_session(server.base, user)
            body = {
                "occurred_at": "2026-10-20T18:30:00Z",
                "geometry": {"type": "Point", "coordinates": [1.234567, 54.612345]},
                "category": "weapon_found",
                "note": sentinel,
                "young_person_refs": ["YP-SENT1NEL"],
            }
            assert s.post(server.base + "/api/v1/observations", json=body).status_code == 201
            for _ in range(6):  # both workers answer some
                s.get(server.base + "/api/v1/boundary-sets", timeout=30)
            text = requests.get(server.base + "/metrics", timeout=30).text
            log = server.log()
    labels = {"method": "GET", "route": "/api/v1/boundary-sets", "status": "200"}
    assert _value(text, "csmap_http_requests_total", **labels) == 6  # every worker's, summed
    lines = [line for line in log.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    requests_logged = [p for p in parsed if p.get("route") == "/api/v1/observations"]
    assert requests_logged and requests_logged[0]["status"] == 201
    assert set(requests_logged[0]) >= {"time", "level", "method", "route", "status", "ms"}
    for secret in (sentinel, "YP-SENT1NEL", "1.234567", "54.612345"):
        assert secret not in log
    assert not re.search(r"csmap=|X-CSRFToken", log)
