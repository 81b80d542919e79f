"""The recording API against the real PostGIS: round trips, every bad-input case, idempotency,
versions and conflicts, moderation, and the cross-agency vehicle match."""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import TestUser
from tests.factories import agency_name, unique_mark


class Api:
    """A signed-in JSON client that sends the CSRF header like the browser does."""

    def __init__(self, client: FlaskClient, user: TestUser) -> None:
        self.client = client
        self.user = user
        html = client.get("/").get_data(as_text=True)
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]

    def __call__(self, method: str, url: str, body: Any = None, **headers: str) -> Any:
        hdrs = {"X-CSRFToken": self.token, **{k.replace("_", "-"): v for k, v in headers.items()}}
        return self.client.open(url, method=method, json=body, headers=hdrs)


@pytest.fixture()
def agency(make_agency: Any) -> str:
    """The test's own police force (with a lead contact, which vehicle matches give)."""
    slug: str = make_agency("police", "Recording test", contact="duty desk, 01632 960000")
    return slug


@pytest.fixture()
def api(app: Flask, make_user: Any, sign_in: Any, agency: str) -> Any:
    """Factory: a signed-in client of a new user of ``agency`` (the test's own by default)."""

    def make(agency_slug: str = agency, role: str = "practitioner") -> Api:
        user = make_user(agency_slug, role)
        return Api(sign_in(app.test_client(), user), user)

    return make


def _recorded_by(owner_session_factory: Any, user: TestUser) -> int:
    with owner_session_factory() as s:
        return int(
            s.execute(
                text("SELECT count(*) FROM observation WHERE recorded_by = :u"), {"u": user.id}
            ).scalar_one()
        )


OBS = {
    "occurred_at": "2026-10-20T18:30:00Z",
    "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
    "category": "suspected_drug_running",
    "note": "two older males handing a package to a boy by the bins",
    "young_person_refs": ["YP-3F9A"],
    "source_grade": "B",
    "info_grade": 2,
}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[1.19, 54.59], [1.2, 54.59], [1.2, 54.6], [1.19, 54.6], [1.19, 54.59]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[1.2, 54.6], [1.21, 54.61], [1.21, 54.6], [1.2, 54.61], [1.2, 54.6]]],
}
ROUTE = {"type": "LineString", "coordinates": [[1.17, 54.59], [1.19, 54.6], [1.22, 54.61]]}


def test_observation_round_trip(api: Any) -> None:
    a = api()
    created = a("POST", "/api/v1/observations", OBS)
    assert created.status_code == 201, created.get_json()
    feature = created.get_json()
    assert feature["geometry"]["coordinates"] == [1.2, 54.6]
    assert feature["properties"]["note"] == OBS["note"]
    assert created.headers["ETag"] == '"1"'
    got = a("GET", f"/api/v1/observations/{feature['id']}")
    assert got.status_code == 200 and got.get_json()["properties"]["category"] == OBS["category"]
    listed = a(
        "GET",
        "/api/v1/observations?bbox=1.19,54.59,1.21,54.61&category="
        "suspected_drug_running&from=2026-10-20&to=2026-10-20",
    )
    assert feature["id"] in {f["id"] for f in listed.get_json()["features"]}
    outside = a(
        "GET", "/api/v1/observations?bbox=1.25,54.62,1.26,54.63&from=2026-10-20&to=2026-10-20"
    )
    assert feature["id"] not in {f["id"] for f in outside.get_json()["features"]}


def test_context_route_and_area_round_trips(api: Any) -> None:
    a = api()
    route = a(
        "POST",
        "/api/v1/contexts",
        {
            "kind": "transport_route",
            "name": "Route 7",
            "geometry": ROUTE,
            "route_name": "7",
            "operator": "Coastline Buses",
            "public_place": True,
        },
    )
    assert route.status_code == 201, route.get_json()
    area = a(
        "POST",
        "/api/v1/contexts",
        {"kind": "hotspot", "name": "Underpass", "geometry": SQUARE, "features": ["poor_lighting"]},
    )
    assert area.status_code == 201, area.get_json()
    ids = {f["id"] for f in a("GET", "/api/v1/contexts").get_json()["features"]}
    assert {route.get_json()["id"], area.get_json()["id"]} <= ids


def test_sighting_and_vehicle_round_trip(api: Any) -> None:
    a = api()
    mark = unique_mark()  # no other test's agency has it, so nothing may match
    vehicle = a(
        "POST",
        "/api/v1/vehicles",
        {"registration_mark": mark.lower(), "make": "Ford", "model": "Focus", "colour": "Black"},
    )
    assert vehicle.status_code == 201
    body = vehicle.get_json()
    assert body["registration_mark"] == mark and "also_reported_by" not in body
    without_category = {k: v for k, v in OBS.items() if k != "category"}
    sighting = a("POST", "/api/v1/sightings", {**without_category, "vehicle_id": body["id"]})
    assert sighting.status_code == 201, sighting.get_json()
    assert sighting.get_json()["properties"]["category"] == "vehicle_of_interest"
    assert sighting.get_json()["also_reported_by"] == []  # the match ran, on the sighting
    listed = a("GET", "/api/v1/sightings").get_json()["features"]
    assert sighting.get_json()["id"] in {f["id"] for f in listed}


BAD_OBSERVATIONS = [
    ("geometry", {"geometry": {"type": "Point", "coordinates": [54.6, 1.2]}}, "swapped"),
    ("geometry", {"geometry": {"type": "Point", "coordinates": [-0.12, 51.5]}}, "outside"),
    ("geometry", {"geometry": {"type": "Point", "coordinates": [1.2]}}, "valid GeoJSON"),
    (
        "geometry",
        {"geometry": {"type": "Polygon", "coordinates": SQUARE["coordinates"]}},
        "must be a Point",
    ),
    ("geometry", {"geometry": "POINT(1.2 54.6)"}, "GeoJSON"),
    ("category", {"category": "made_up"}, "not a known category"),
    ("occurred_at", {"occurred_at": "2099-01-01T00:00:00Z"}, "future"),
    ("occurred_at", {"occurred_at": "2026-10-20T18:30:00"}, "time zone"),
    ("occurred_at", {"occurred_at": "yesterday"}, ""),
    ("info_grade", {"info_grade": "2"}, ""),
    ("info_grade", {"info_grade": 9}, ""),
    ("source_grade", {"source_grade": "Z"}, ""),
    ("young_person_refs", {"young_person_refs": ["Jane Doe"]}, "never record a name"),
    ("young_person_refs", {"young_person_refs": "YP-1"}, ""),
    ("context_id", {"context_id": str(uuid.uuid4())}, "no such context"),
    ("note", {"note": "x" * 4001}, ""),
    ("colour", {"colour": "red"}, "not a field"),
]


@pytest.mark.parametrize(
    ("field", "change", "words"),
    BAD_OBSERVATIONS,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_OBSERVATIONS)],
)
def test_bad_observations_are_422_naming_the_field(
    api: Any, owner_session_factory: Any, field: str, change: dict[str, Any], words: str
) -> None:
    a = api()
    before = _recorded_by(owner_session_factory, a.user)
    resp = a("POST", "/api/v1/observations", {**OBS, **change})
    assert resp.status_code == 422, resp.get_json()
    err = resp.get_json()["error"]
    assert field in err["fields"], err
    assert words in err["fields"][field]
    assert _recorded_by(owner_session_factory, a.user) == before  # nothing half-written


def test_missing_fields_and_wrong_body(api: Any) -> None:
    a = api()
    resp = a("POST", "/api/v1/observations", {"note": "only a note"})
    fields = resp.get_json()["error"]["fields"]
    assert resp.status_code == 422 and {"occurred_at", "geometry", "category"} <= set(fields)
    not_json = a.client.post(
        "/api/v1/observations",
        data="nonsense",
        headers={"X-CSRFToken": a.token, "Content-Type": "text/plain"},
    )
    assert not_json.status_code == 422 and "body" in not_json.get_json()["error"]["fields"]
    assert a("POST", "/api/v1/observations", [OBS]).status_code == 422


def test_geometry_limits(api: Any) -> None:
    a = api()
    many = [[1.15 + i * 0.00002, 54.6] for i in range(2500)]
    resp = a(
        "POST",
        "/api/v1/contexts",
        {
            "kind": "transport_route",
            "name": "wiggle",
            "geometry": {"type": "LineString", "coordinates": many},
        },
    )
    assert (
        resp.status_code == 422
        and "too many vertices" in resp.get_json()["error"]["fields"]["geometry"]
    )
    long = {"type": "LineString", "coordinates": [[1.101, 54.541], [1.299, 54.659]]}
    assert (
        a(
            "POST", "/api/v1/contexts", {"kind": "transport_route", "name": "ok", "geometry": long}
        ).status_code
        == 201
    )
    huge = a.client.post(
        "/api/v1/observations",
        data=b"{" + b" " * 1_100_000 + b"}",
        headers={"X-CSRFToken": a.token, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.get_json()["error"]["code"]


def test_self_intersecting_area_is_rejected_or_repaired_on_request(api: Any) -> None:
    a = api()
    body = {"kind": "hotspot", "name": "bow tie", "geometry": BOWTIE}
    rejected = a("POST", "/api/v1/contexts", body)
    assert rejected.status_code == 422
    assert "self-intersection" in rejected.get_json()["error"]["fields"]["geometry"]
    repaired = a("POST", "/api/v1/contexts?repair=true", body)
    assert repaired.status_code == 201 and repaired.get_json()["geometry"]["type"] == "Polygon"
    wrong_kind = a(
        "POST", "/api/v1/contexts", {"kind": "transport_route", "name": "x", "geometry": SQUARE}
    )
    assert "LineString" in wrong_kind.get_json()["error"]["fields"]["geometry"]


def test_idempotent_replay_and_key_reuse(api: Any, owner_session_factory: Any) -> None:
    a = api()
    key = str(uuid.uuid4())
    first = a("POST", "/api/v1/observations", OBS, Idempotency_Key=key)
    before = _recorded_by(owner_session_factory, a.user)
    again = a("POST", "/api/v1/observations", OBS, Idempotency_Key=key)
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _recorded_by(owner_session_factory, a.user) == before
    other = a("POST", "/api/v1/observations", {**OBS, "note": "different"}, Idempotency_Key=key)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    # Keys belong to their user: someone else's same key is theirs alone.
    b = api()
    theirs = b("POST", "/api/v1/observations", OBS, Idempotency_Key=key)
    assert theirs.status_code == 201 and theirs.get_json()["id"] != first.get_json()["id"]


def test_updates_need_the_current_version(api: Any) -> None:
    a = api()
    oid = a("POST", "/api/v1/observations", OBS).get_json()["id"]
    url = f"/api/v1/observations/{oid}"
    assert a("PATCH", url, {"note": "no version"}).status_code == 428
    ok = a("PATCH", url, {"note": "updated"}, If_Match='"1"')
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = a("PATCH", url, {"note": "stale"}, If_Match='"1"')
    assert stale.status_code == 409
    assert a("GET", url).get_json()["properties"]["note"] == "updated"


def test_concurrent_updates_one_wins_one_conflicts(app: Flask, api: Any) -> None:
    a = api()
    oid = a("POST", "/api/v1/observations", OBS).get_json()["id"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def patch(note: str) -> None:
        with app.test_client() as c:
            # Share the signed-in session cookie of ``a``.
            for cookie in a.client._cookies.values():
                c.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
            barrier.wait()
            resp = c.patch(
                f"/api/v1/observations/{oid}",
                json={"note": note},
                headers={"X-CSRFToken": a.token, "If-Match": '"1"'},
            )
            results.append(resp.status_code)

    threads = [threading.Thread(target=patch, args=(f"writer {i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409], results


def test_version_history_is_complete(api: Any) -> None:
    a = api()
    cid = a(
        "POST",
        "/api/v1/contexts",
        {"kind": "hotspot", "name": "Park gate", "geometry": OBS["geometry"]},
    ).get_json()["id"]
    url = f"/api/v1/contexts/{cid}"
    a("PATCH", url, {"status": "assessing"}, If_Match="1")
    a("PATCH", url, {"name": "Park gate (north)", "features": ["isolated"]}, If_Match="2")
    a("PATCH", url, {"geometry": SQUARE}, If_Match="3")
    versions = a("GET", f"{url}/history").get_json()["versions"]
    assert [(v["version"], v["action"]) for v in versions] == [
        (1, "created"),
        (2, "updated"),
        (3, "updated"),
        (4, "updated"),
    ]
    assert [v["changed_fields"] for v in versions[1:]] == [
        ["status"],
        ["features", "name"],
        ["geometry"],
    ]
    assert a("DELETE", url, {"reason": "x"}, If_Match="4").status_code == 422  # reason too short
    assert a("DELETE", url, {"reason": "merged into another"}, If_Match="4").status_code == 200
    assert a("GET", url).status_code == 404  # deleted: gone from ordinary reads


def test_history_lists_every_change(api: Any) -> None:
    a = api()
    oid = a("POST", "/api/v1/observations", OBS).get_json()["id"]
    url = f"/api/v1/observations/{oid}"
    a("PATCH", url, {"info_grade": 1}, If_Match="1")
    a(
        "PATCH",
        url,
        {"note": "rewritten", "geometry": {"type": "Point", "coordinates": [1.21, 54.6]}},
        If_Match="2",
    )
    versions = a("GET", f"{url}/history").get_json()["versions"]
    assert [(v["version"], v["action"]) for v in versions] == [
        (1, "created"),
        (2, "updated"),
        (3, "updated"),
    ]
    assert versions[1]["changed_fields"] == ["info_grade"]
    assert set(versions[2]["changed_fields"]) == {"note", "geometry"}
    assert all(v["changed_by_name"] == "Test practitioner" for v in versions)
    assert "rewritten" not in str(versions) and OBS["note"] not in str(versions)


def test_note_redaction_keeps_the_original_for_admins_only(api: Any, agency: str) -> None:
    writer = api(agency, "practitioner")
    admin = api(agency, "agency_admin")
    oid = writer(
        "POST", "/api/v1/observations", {**OBS, "note": "boy called SENTINEL-NAME"}
    ).get_json()["id"]
    url = f"/api/v1/observations/{oid}"
    assert (
        writer("POST", f"{url}/redact", {"text": "SENTINEL-NAME"}, If_Match="1").status_code == 403
    )
    done = admin("POST", f"{url}/redact", {"text": "SENTINEL-NAME"}, If_Match="1")
    assert done.status_code == 200
    assert done.get_json()["properties"]["note"] == "boy called [redacted]"
    assert "SENTINEL-NAME" not in writer("GET", url).get_data(as_text=True)
    assert "SENTINEL-NAME" not in writer("GET", f"{url}/history").get_data(as_text=True)
    assert writer("GET", f"{url}/note-history").status_code == 403
    originals = admin("GET", f"{url}/note-history").get_json()["notes"]
    assert originals[-1]["note"] == "boy called SENTINEL-NAME"
    assert originals[-1]["reason"] == "redacted"


def test_vehicle_match_across_agencies_reveals_only_the_fact(
    api: Any, agency: str, make_agency: Any, owner_session_factory: Any
) -> None:
    health_agency = make_agency("health", "Recording test")
    police, health = api(agency, "practitioner"), api(health_agency, "practitioner")
    mark = unique_mark()
    sighting = {k: v for k, v in OBS.items() if k != "category"}
    first = police("POST", "/api/v1/vehicles", {"registration_mark": mark, "make": "SENTINELMAKE"})
    assert "also_reported_by" not in first.get_json()  # creating a vehicle matches nothing
    seen = police(
        "POST",
        "/api/v1/sightings",
        {**sighting, "vehicle_id": first.get_json()["id"], "note": "SENTINEL-SIGHTING"},
    )
    assert seen.get_json()["also_reported_by"] == []
    # Health saves a sighting of the same mark, the vehicle given inline: it learns of police.
    second = health(
        "POST",
        "/api/v1/sightings",
        {**sighting, "vehicle": {"registration_mark": mark.replace(" ", "")}},
    )
    assert second.status_code == 201, second.get_json()
    body = second.get_data(as_text=True)
    matches = second.get_json()["also_reported_by"]
    assert [m["agency"] for m in matches] == [agency_name(owner_session_factory, agency)]
    assert matches[0]["contact"] == "duty desk, 01632 960000"  # whom to call
    # Nothing of police's record: not its id, make, sightings or notes.
    for secret in (first.get_json()["id"], "SENTINELMAKE", "SENTINEL-SIGHTING"):
        assert secret not in body
    assert health("GET", f"/api/v1/vehicles/{first.get_json()['id']}").status_code == 404
    # And the police user, sighting the vehicle again, now learns of health's report.
    again = police(
        "POST", "/api/v1/sightings", {**sighting, "vehicle": {"registration_mark": mark}}
    )
    assert again.get_json()["properties"]["vehicle_id"] == first.get_json()["id"]  # reused
    names = [m["agency"] for m in again.get_json()["also_reported_by"]]
    assert names == [agency_name(owner_session_factory, health_agency)]


def test_other_agencies_get_404_for_every_record_url(api: Any, make_agency: Any) -> None:
    owner = api()
    stranger = api(make_agency("transport_operator", "Recording test"), "practitioner")
    oid = owner("POST", "/api/v1/observations", OBS).get_json()["id"]
    cid = owner(
        "POST", "/api/v1/contexts", {"kind": "hotspot", "name": "x", "geometry": OBS["geometry"]}
    ).get_json()["id"]
    missing = stranger("GET", f"/api/v1/observations/{uuid.uuid4()}").get_json()
    for url in (
        f"/api/v1/observations/{oid}",
        f"/api/v1/observations/{oid}/history",
        f"/api/v1/contexts/{cid}",
        f"/api/v1/contexts/{cid}/history",
    ):
        resp = stranger("GET", url)
        assert resp.status_code == 404 and resp.get_json() == missing
    for method, url in (
        ("PATCH", f"/api/v1/observations/{oid}"),
        ("DELETE", f"/api/v1/contexts/{cid}"),
    ):
        assert stranger(method, url, {"reason": "nope"}, If_Match="1").status_code == 404


def test_openapi_document_covers_every_api_route(app: Flask, api: Any) -> None:
    a = api()
    doc = a("GET", "/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} missing from OpenAPI"
    # Every reference resolves (two body models of one name once left one out: a 500 on /docs).
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs - set(doc["components"]["schemas"]) == set()
    body = doc["paths"]["/api/v1/observations"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    schema = doc["components"]["schemas"][ref]
    assert {"occurred_at", "geometry", "category"} <= set(schema["required"])
    page = a("GET", "/api/v1/docs")
    assert page.status_code == 200 and "POST /api/v1/observations" in page.get_data(as_text=True)
    # A file upload's body is multipart, not JSON: the page shows it and its query parameters.
    upload = doc["paths"]["/api/v1/boundary-sets"]["post"]["requestBody"]["content"]
    assert "file" in upload["multipart/form-data"]["schema"]["properties"]
    html = page.get_data(as_text=True)
    assert "Body (multipart/form-data)" in html and "<code>offset</code>" in html
