"""Input hygiene (issue 16, finding 1 and 2): control characters and broken Unicode are refused
with a 422 naming the field — in every JSON body field, query parameter and form field, the
log-in form included — JSON nested too deep is refused, a chunked body over the limit is a
413, and none of it is ever a 500, a half-written record or raw bytes in the log."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import csrf_from
from tests.integration import live

NUL = "\x00"
OBS = {
    "occurred_at": "2026-10-20T18:30:00Z",
    "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
    "category": "suspected_drug_running",
    "note": "seen by the bins",
}
CONTEXT = {
    "kind": "transport_route",
    "name": "The 12 bus",
    "route_name": "12",
    "geometry": {"type": "LineString", "coordinates": [[1.19, 54.59], [1.2, 54.6]]},
}


class Api:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        html = client.get("/").get_data(as_text=True)
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]

    def post(self, url: str, raw: str | bytes, **headers: str) -> Any:
        hdrs = {"X-CSRFToken": self.token, "Content-Type": "application/json", **headers}
        return self.client.post(url, data=raw, headers=hdrs)


@pytest.fixture(scope="module")
def api(app: Flask, make_user: Any, sign_in: Any) -> Api:
    # One signed-in client for the module: every case is one request, none changes the user.
    return Api(sign_in(app.test_client(), make_user("police", "practitioner")))


def _rows(owner_session_factory: Any) -> tuple[int, int, int]:
    with owner_session_factory() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("observation", "context", "vehicle")
        )


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/observations", {**OBS, "note": f"a{NUL}b"}, "note"),
        ("/api/v1/observations", {**OBS, "category": f"x{NUL}"}, "category"),
        ("/api/v1/observations", {**OBS, "young_person_refs": [f"YP-1{NUL}"]}, "young_person_refs"),
        ("/api/v1/contexts", {**CONTEXT, "name": f"{NUL}Bus"}, "name"),
        ("/api/v1/contexts", {**CONTEXT, "route_name": f"1{NUL}2"}, "route_name"),
        ("/api/v1/vehicles", {"registration_mark": "WR12 ABC", "make": f"F{NUL}"}, "make"),
        ("/api/v1/vehicles", {"registration_mark": f"WR12{NUL}ABC"}, "registration_mark"),
        ("/api/v1/vehicles", {"registration_mark": "WR12 ABC", "colour": "red\x1b[31m"}, "colour"),
        (
            "/api/v1/sightings",
            {**OBS, "vehicle": {"registration_mark": "WR12 ABC", "make": f"F{NUL}"}},
            "vehicle.make",
        ),
    ],
)
def test_control_characters_in_json_fields_are_422_naming_the_field(
    api: Api, owner_session_factory: Any, url: str, body: dict[str, Any], field: str
) -> None:
    before = _rows(owner_session_factory)
    resp = api.post(url, json.dumps(body))
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    err = resp.get_json()["error"]
    assert field in err["fields"], err
    assert "control character" in err["fields"][field]
    assert _rows(owner_session_factory) == before


def test_lone_surrogates_are_422_not_500(api: Api) -> None:
    raw = json.dumps({**OBS, "note": "\ud800 half a character"})
    resp = api.post("/api/v1/observations", raw)
    assert resp.status_code == 422
    assert "note" in resp.get_json()["error"]["fields"]


def test_tab_and_newline_are_kept_in_text(api: Api) -> None:
    resp = api.post("/api/v1/observations", json.dumps({**OBS, "note": "line one\n\tline two"}))
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]


def test_a_control_character_in_a_key_is_refused(api: Api) -> None:
    resp = api.post("/api/v1/observations", json.dumps({**OBS, f"no{NUL}te": "x"}))
    assert resp.status_code == 422


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/observations?category=%00", "category"),
        ("/api/v1/sightings?bbox=1,2,3%004", "bbox"),
        ("/api/v1/layers/counts?category=a%00b", "category"),
        ("/api/v1/layers/heatmap?bandwidth=4%0100", "bandwidth"),
        ("/api/v1/reference/police-uk?month=2026-01%00", "month"),
        ("/api/v1/areas?lon=1.2%00&lat=54.6", "lon"),
        ("/api/v1/observations?x%00y=1", "x\\x00y"),
    ],
)
def test_control_characters_in_query_parameters_are_422(api: Api, url: str, field: str) -> None:
    resp = api.client.get(url)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert field in resp.get_json()["error"]["fields"]


def test_control_characters_in_a_page_query_are_422_in_html(api: Api) -> None:
    resp = api.client.get("/records?kind=%00")
    assert resp.status_code == 422
    assert resp.mimetype == "text/html"
    assert b"kind" in resp.data


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/boundary-sets/wards%00/areas",
        "/api/v1/layers/areas/wa%00rds",
        "/api/v1/observations/%00",
        "/api/v1/shares/%00/layer",
        "/s/abc%00def",
    ],
)
def test_control_characters_in_a_path_are_404(api: Api, url: str) -> None:
    assert api.client.get(url).status_code == 404


def test_control_characters_in_headers_the_app_reads_are_422(api: Api) -> None:
    resp = api.post("/api/v1/observations", json.dumps(OBS), **{"Idempotency-Key": f"k{NUL}"})
    assert resp.status_code == 422
    assert "Idempotency-Key" in resp.get_json()["error"]["fields"]


@pytest.mark.parametrize("field", ["email", "password"])
def test_the_login_form_refuses_control_characters(app: Flask, make_user: Any, field: str) -> None:
    user = make_user("police", "practitioner")
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    form = {"email": user.email, "password": user.password, "csrf_token": token}
    form[field] = form[field] + NUL
    resp = client.post("/login", data=form)
    assert resp.status_code == 422, resp.status_code
    assert field.encode() in resp.data
    assert NUL.encode() not in resp.data


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_too_deep_is_refused(api: Api, depth: int) -> None:
    raw = '{"note": ' + "[" * depth + "]" * depth + "}"
    resp = api.post("/api/v1/observations", raw)
    assert resp.status_code in (400, 422), resp.status_code
    assert "deep" in resp.get_json()["error"]["message"]


def test_json_as_deep_as_allowed_is_read(api: Api) -> None:
    raw = json.dumps({**OBS, "note": "[" * 30 + "]" * 30})  # inside a string: not nesting
    assert api.post("/api/v1/observations", raw).status_code == 201
    at_limit = '{"note": ' + "[" * 31 + "]" * 31 + "}"  # 32 levels with the object
    resp = api.post("/api/v1/observations", at_limit)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] != "too_deep"


# -- the real server: chunked bodies, raw bytes and the log ------------------------------------


def test_chunked_body_over_the_limit_is_413_and_raw_bytes_never_reach_the_log(
    test_db: dict[str, str], make_user: Any
) -> None:
    user = make_user("police", "practitioner")
    with live.serve(test_db["app"], workers=1, max_request_bytes="20000") as server:
        s = live.signed_in_session(server.base, user)

        def chunks() -> Any:
            for _ in range(50):
                yield b'{"note": "' + b"x" * 1000 + b'"}'

        resp = s.post(
            server.base + "/api/v1/observations",
            data=chunks(),  # requests sends a generator with Transfer-Encoding: chunked
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert resp.status_code == 413, resp.text[:300]
        assert resp.json()["error"]["code"] == "request_entity_too_large"
        marker = uuid.uuid4().hex
        for path in (f"/api/v1/observations?category=%00{marker}", f"/x%00{marker}"):
            assert s.get(server.base + path, timeout=30).status_code in (404, 422)
        live.raw_request(server.port, f"GET /x\x00{marker} HTTP/1.0\r\n\r\n".encode())
        log = server.log_bytes()
    assert b"\x00" not in log
    assert marker.encode() not in log
    assert b"status=413" in log
