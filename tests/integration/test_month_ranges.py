"""Month ranges on layers are bounded before anything is built: absurd ranges and years are a
422 naming the field, never a 500 (issue 11, finding 8)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

LAYER_ROUTES = [
    "/api/v1/layers/counts",
    "/api/v1/layers/series",
    "/api/v1/layers/change",
    "/api/v1/layers/emerging",
    "/api/v1/layers/areas/wards",
    "/api/v1/layers/heatmap",
    "/api/v1/layers/top-contexts",
    "/tiles/counts/12/2061/1303.mvt",
]

BAD_RANGES = [
    ("from=0001-01&to=9999-12", {"from", "to"}),
    ("from=1999-12&to=2000-01", {"from"}),
    ("to=9999-12", {"to"}),
    ("month=9999-12", {"month"}),
    ("month=2101-01", {"month"}),
    ("from=2000-01&to=2100-12", {"from"}),
    ("from=2026-13", {"from"}),
    ("from=+2026-01", {"from"}),
    ("to=2026-1", {"to"}),
]


@pytest.fixture(scope="module")
def analyst(signed_in: Any) -> FlaskClient:
    return signed_in("police", "analyst")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def signed_in(app: Any, make_user: Any, sign_in: Any) -> Any:  # module scope for speed
    def make(agency_slug: str, role: str) -> FlaskClient:
        return sign_in(app.test_client(), make_user(agency_slug, role))  # type: ignore[no-any-return]

    return make


@pytest.mark.parametrize("route", LAYER_ROUTES)
@pytest.mark.parametrize(("query", "fields"), BAD_RANGES)
def test_unbounded_month_ranges_are_422_naming_the_field(
    analyst: FlaskClient, route: str, query: str, fields: set[str]
) -> None:
    resp = analyst.get(f"{route}?{query}")
    assert resp.status_code == 422, (route, query, resp.status_code)
    error = resp.get_json()["error"]
    assert set(error["fields"]) & fields, error


@pytest.mark.parametrize("route", LAYER_ROUTES)
def test_a_sensible_range_still_answers(analyst: FlaskClient, route: str) -> None:
    resp = analyst.get(f"{route}?from=2025-11&to=2026-10")
    assert resp.status_code == 200, (route, resp.get_data(as_text=True)[:300])
