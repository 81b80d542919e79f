"""The database goes away under a live server (issue 16, finding 4): every route answers 503
with Retry-After — never a 500 — and the same signed-in session works again once it is back.

The cluster stopped is a scratch cluster of this run's own (tests/integration/live.py), so
the rest of the suite, on the private cluster, never notices."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import requests

from tests.integration import live
from webmap import create_app

#: A value for each URL variable: ids that exist nowhere, names that do.
ARGS = {
    "slug": "wards",
    "layer": "counts",
    "kind": "observation",
    "fmt": "csv",
    "token": "not-a-token",
    "z": "12",
    "x": "2061",
    "y": "1303",
}


def _routes(database_url: str) -> list[tuple[str, str]]:
    app = create_app({"mode": "test", "database_url": database_url})
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue  # files from disk: no database involved
        url = rule.rule
        for arg in rule.arguments:
            value = ARGS.get(arg, str(uuid.uuid4()))
            url = re.sub(rf"<(?:[a-z]+:)?{arg}>", value, url)
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PATCH", "DELETE"}):
            out.append((method, url))
    return out


def test_every_route_answers_503_while_the_database_is_down(settings: Any) -> None:
    scratch = live.scratch_cluster(settings)
    account = scratch.make_account("analyst")
    routes = _routes(scratch.app_url())
    with live.serve(scratch.app_url(), workers=2, extra_env=scratch.env()) as server:
        s = live.signed_in_session(server.base, account)
        assert s.get(server.base + "/api/v1/observations", timeout=30).status_code == 200
        scratch.stop()
        try:
            wrong = []
            for method, url in routes:
                resp = s.request(
                    method, server.base + url, json={}, timeout=30, allow_redirects=False
                )
                if resp.status_code != 503 or "Retry-After" not in resp.headers:
                    wrong.append(f"{method} {url}: {resp.status_code}")
            assert wrong == [], wrong
            # Anyone not signed in: whatever the answer, never a 500.
            anonymous = requests.Session()
            for method, url in routes:
                resp = anonymous.request(method, server.base + url, timeout=30)
                assert resp.status_code != 500, f"{method} {url}"
            assert "Traceback" not in server.log()
        finally:
            scratch.start()
        deadline = time.monotonic() + 30
        while True:  # the pool reconnects; the session row was never lost
            status = s.get(server.base + "/api/v1/observations", timeout=30).status_code
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert status == 200
