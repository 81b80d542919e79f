"""Nothing a signed-in user is shown is kept by a browser or proxy cache (no-store); static
files and the sign-in page may still be cached. Tiles are the one exception: the browser may
keep them but must revalidate every time (private, no-cache, with an ETag), and no shared
cache may keep them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask


@pytest.mark.parametrize(
    "url",
    [
        "/",  # an HTML page
        "/records",
        "/account/sessions",
        "/api/v1/observations",  # an API answer
        "/api/v1/layers/counts",
    ],
)
def test_signed_in_answers_carry_no_store(signed_in: Any, url: str) -> None:
    client = signed_in("police", "analyst")
    resp = client.get(url)
    assert resp.status_code == 200, url
    assert "no-store" in resp.headers.get("Cache-Control", ""), url


def test_tiles_are_revalidated_every_time_and_private(signed_in: Any) -> None:
    client = signed_in("police", "analyst")
    resp = client.get("/tiles/counts/12/2061/1303.mvt")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-cache"
    assert resp.headers["ETag"].startswith('"')
    assert {"Cookie", "Authorization"} <= {
        v.strip() for v in resp.headers.get("Vary", "").split(",")
    }


def test_static_files_stay_cacheable(app: Flask, signed_in: Any) -> None:
    client = signed_in("police", "analyst")
    resp = client.get("/static/css/csmap.css")
    assert resp.status_code == 200
    assert "no-store" not in resp.headers.get("Cache-Control", "")
