"""Shares against the real database: a police analyst shares tier B with health over the
health area; what health sees is exactly the redaction module's publication of the force's
observations in that area's whole cells, nothing outside it, no sentinel, no coordinate of a
non-public record; revoked and expired shares answer 410; terms are checked field by field.

The source is a police force of this module's own (``source``): the publication ledger writes
each period once, so a force whose periods other tests have already read would show their
publication, not the records planted here."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import psycopg
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial.cells import cell_key
from spatial.redaction import FLOORS, ObservationFact, publish_cells
from spatial.vocabulary import CONTEXT_KINDS
from tests.conftest import TestUser, pg_url
from tests.factories import add_observations, scatter
from tests.integration.sentinels import Sentinels, plant
from tests.integration.test_recording_api import Api

# Planted in police records inside the health area; none may reach any tier B/C output.
SENTINELS = Sentinels("SENTINEL-NOTE-7Q2", "YP-SENT-9X1", "ZZ99 SNT", "SENTINEL-FLAT-44")
# A spot in the health area (west of the town): the planted records' position.
SPOT = (1.1731373, 54.5953117)


@pytest.fixture(scope="module")
def api(app: Flask, make_user: Any, sign_in: Any) -> Any:
    def make(agency: str = "police", role: str = "analyst") -> Api:
        user: TestUser = make_user(agency, role)
        return Api(sign_in(app.test_client(), user), user)

    return make


@pytest.fixture(scope="module")
def source(make_agency: Any, owner_session_factory: Any) -> str:
    """A police force of this module's own, with a year of scattered records in the west of
    the town (some cells pass k, most do not) besides the planted ones."""
    slug: str = make_agency("police", "Sharing test")
    background = scatter(SPOT, datetime(2025, 11, 2, tzinfo=UTC), 11, 160, seed=11)
    add_observations(owner_session_factory, slug, background)
    return slug


@pytest.fixture(scope="module")
def health_areas(owner_session_factory: Any) -> list[str]:
    from sqlalchemy import text

    with owner_session_factory() as s:
        return [
            str(a)
            for (a,) in s.execute(
                text(
                    "SELECT j.area_id FROM agency_jurisdiction j JOIN agency a"
                    " ON a.id = j.agency_id WHERE a.slug = 'health'"
                )
            )
        ]


def _terms(areas: list[str], **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tier": "B",
        "recipient_kind": "agencies",
        "recipient_agencies": ["health"],
        "areas": areas,
        "layers": ["observations", "contexts", "vehicles"],
        "period_from": "2024-11",
        "purpose": "Joint problem-solving for the health area",
        "lawful_basis": "Children Act 2004 s.11",
        "agreement_ref": "ISA-TEST-1",
        "expires_on": (date.today() + timedelta(days=90)).isoformat(),
    }
    body.update(over)
    return body


@pytest.fixture(scope="module")
def planted(api: Any, source: str) -> dict[str, Any]:
    """The force's records at SPOT carrying sentinels: a cluster big enough to be published."""
    when = datetime(2026, 9, 10, 20, tzinfo=UTC)
    coords = plant(api(source, "analyst"), SENTINELS, SPOT, reports=8, people=4, first=when)
    return {"coords": coords}


@pytest.fixture(scope="module")
def share(
    api: Any, source: str, health_areas: list[str], planted: dict[str, Any]
) -> dict[str, Any]:
    police = api(source, "analyst")
    resp = police("POST", "/api/v1/shares", _terms(health_areas))
    assert resp.status_code == 201, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert body["state"] == "active" and body["tier"] == "B"
    return body


def _scan(blob: bytes, coords: list[str]) -> None:
    text_ = blob.decode("utf-8", "replace").upper()
    for sentinel in SENTINELS.strings():
        assert sentinel.upper() not in text_
    for c in coords:
        assert c not in text_, "a planted record's coordinate was published"


def test_health_sees_exactly_the_publication_of_its_area(
    api: Any, source: str, share: dict[str, Any], owner_conn: psycopg.Connection[Any]
) -> None:
    health = api("health", "practitioner")
    doc = health("GET", f"/api/v1/shares/{share['id']}/layer").get_json()
    assert doc["share"]["tier"] == "B" and doc["share"]["source"]
    assert doc["precision"] == "Cells of about 0.74 km², counts under 5 hidden, by month."
    assert "tier B" in doc["share"]["label"]
    # Recompute from the raw rows as the owner, through the same module.
    rows = owner_conn.execute(
        """SELECT o.cell_r9, o.occurred_at, o.young_person_refs FROM observation o
           JOIN agency a ON a.id = o.agency_id AND a.slug = %s
           WHERE o.deleted_at IS NULL AND o.occurred_at >= '2024-11-01'
             AND o.cell_r8 IN (SELECT cell FROM share_cell WHERE share_id = %s AND res = 8)""",
        (source, share["id"]),
    ).fetchall()
    facts = [ObservationFact(c, t, "", tuple(r), "", "", None, 0, 0) for c, t, r in rows]
    want = {
        (str(c.cell), c.period, c.count)
        for c in publish_cells(facts, FLOORS["B"], datetime.now(UTC))
    }
    got = {(f["properties"]["cell"], f["properties"]["period"], f["properties"]["count"])
           for f in doc["features"]}  # fmt: skip
    assert got == want and len(got) > 5
    assert min(n for *_, n in got) >= 5
    # Nothing outside the share's area: every published cell is one of the health area's.
    health_cells = {
        str(c)
        for (c,) in owner_conn.execute(
            """SELECT ca.cell FROM cell_area ca JOIN agency_jurisdiction j USING (area_id)
               JOIN agency a ON a.id = j.agency_id AND a.slug = 'health' WHERE ca.res = 8"""
        )
    }
    assert {cell for cell, *_ in got} <= health_cells
    # The planted cluster is published (8 reports, 4 young people) — as a count only.
    spot_cell = str(cell_key(*SPOT, 8))
    assert (spot_cell, "2026-09") in {(c, p) for c, p, _ in got}


def test_no_sentinel_or_coordinate_in_any_output(
    api: Any, share: dict[str, Any], planted: dict[str, Any]
) -> None:
    health = api("health", "analyst")
    base = f"/api/v1/shares/{share['id']}"
    outputs = [
        health("GET", f"{base}/layer"),
        health("GET", f"{base}/areas/wards"),
        health("GET", f"{base}/areas/police-neighbourhoods"),
        health("GET", base),
        health("GET", "/api/v1/shares"),
        health("GET", f"{base}/export.geojson"),
        health("GET", f"{base}/export.csv"),
        health("GET", f"{base}/export.gpkg"),
        health("GET", f"/shares/{share['id']}"),
    ]
    for resp in outputs:
        assert resp.status_code == 200, (resp.request.path, resp.status_code)
        _scan(resp.data, planted["coords"])
    doc = outputs[0].get_json()
    assert doc["vehicle_marks"] and all(m.endswith("***") for m in doc["vehicle_marks"])
    snapped = [f for f in doc["contexts"]["features"] if not f["properties"]["precise"]]
    assert all(f["properties"]["name"] == CONTEXT_KINDS[f["properties"]["kind"]] for f in snapped)
    assert any(f["properties"]["kind"] == "place_of_concern" for f in snapped)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_shared_tiles_carry_only_published_cells(
    api: Any, share: dict[str, Any], planted: dict[str, Any]
) -> None:
    health = api("health", "analyst")
    base = f"/api/v1/shares/{share['id']}"
    x, y = _tile_of(*SPOT, 12)
    resp = health("GET", f"{base}/tiles/12/{x}/{y}.mvt?period=2026-09")
    assert resp.status_code == 200
    _scan(resp.data, planted["coords"])
    layer = mapbox_vector_tile.decode(resp.data)["shared"]
    in_tile = {f["properties"]["cell"]: int(f["properties"]["count"]) for f in layer["features"]}
    published = {
        f["properties"]["cell"]: f["properties"]["count"]
        for f in health("GET", f"{base}/layer").get_json()["features"]
        if f["properties"]["period"] == "2026-09"
    }
    assert in_tile and all(published[c] == n for c, n in in_tile.items())
    assert str(cell_key(*SPOT, 8)) in in_tile
    assert health("GET", f"{base}/tiles/12/{x}/{y}.mvt?period=1999-01").status_code == 422


def test_exports_carry_the_terms(api: Any, share: dict[str, Any]) -> None:
    health = api("health", "analyst")
    base = f"/api/v1/shares/{share['id']}/export"
    geo = json.loads(health("GET", f"{base}.geojson").data)
    assert geo["share"]["share_id"] == share["id"] and geo["share"]["expires_at"]
    rows = list(csv.DictReader(io.StringIO(health("GET", f"{base}.csv").data.decode())))
    assert rows and {r["share_id"] for r in rows} == {share["id"]}
    assert {r["tier"] for r in rows} == {"B"} and all(r["precision"] for r in rows)
    assert all(int(r["count"]) >= 5 for r in rows) and all(r["expires_at"] for r in rows)
    gpkg = health("GET", f"{base}.gpkg")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.gpkg"
        path.write_bytes(gpkg.data)
        with sqlite3.connect(path) as db:
            got = db.execute("SELECT DISTINCT share_id, tier, precision FROM cells").fetchall()
            assert got == [(share["id"], "B", geo["precision"])]
            assert db.execute("SELECT count(*) FROM cells").fetchone()[0] == len(rows)


def test_boundary_totals_are_sums_of_published_cells(
    api: Any, share: dict[str, Any], owner_conn: psycopg.Connection[Any]
) -> None:
    health = api("health", "analyst")
    base = f"/api/v1/shares/{share['id']}"
    cells = {
        (f["properties"]["cell"], f["properties"]["period"]): f["properties"]["count"]
        for f in health("GET", f"{base}/layer").get_json()["features"]
    }
    for slug in ("wards", "police-neighbourhoods"):
        fc = health("GET", f"{base}/areas/{slug}").get_json()
        assert fc["share"]["precision"]
        for feature in fc["features"]:
            members = {
                str(c)
                for (c,) in owner_conn.execute(
                    "SELECT cell FROM cell_area WHERE res = 8 AND area_id = %s", (feature["id"],)
                )
            }
            for period, total in feature["properties"]["totals"].items():
                want = sum(n for (c, p), n in cells.items() if p == period and c in members)
                assert total == want
    # Two boundary sets, same published cells: each period's grand totals agree.
    sums = []
    for slug in ("wards", "police-neighbourhoods"):
        fc = health("GET", f"{base}/areas/{slug}").get_json()
        sums.append(sum(f["properties"]["totals"].get("2026-09", 0) for f in fc["features"]))
    assert sums[0] == sums[1] == sum(n for (c, p), n in cells.items() if p == "2026-09")


def test_who_may_see_a_share(api: Any, source: str, share: dict[str, Any]) -> None:
    url = f"/api/v1/shares/{share['id']}/layer"
    assert api(source, "practitioner")("GET", url).status_code == 200  # source preview
    assert api("health", "practitioner")("GET", url).status_code == 200
    others = [("education", "analyst"), ("bus", "trainer"), ("social_care", "analyst")]
    for agency, role in [*others, ("police", "analyst")]:
        assert api(agency, role)("GET", url).status_code in {403, 404}
    assert api("health", "trainer")("GET", url).status_code == 403


def test_revoked_and_expired_shares_are_gone(
    api: Any, source: str, health_areas: list[str], owner_conn: psycopg.Connection[Any]
) -> None:
    police, health = api(source, "analyst"), api("health", "analyst")
    made = police("POST", "/api/v1/shares", _terms(health_areas, layers=["observations"]))
    sid = made.get_json()["id"]
    url = f"/api/v1/shares/{sid}/layer"
    assert health("GET", url).status_code == 200
    refused = police("POST", f"/api/v1/shares/{sid}/revoke", {})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    assert (
        police("POST", f"/api/v1/shares/{sid}/revoke", {"reason": "Test over"}).status_code == 200
    )
    assert health("GET", url).status_code == 410
    assert health("GET", f"/api/v1/shares/{sid}/export.csv").status_code == 410
    assert api("education", "analyst")("GET", url).status_code == 404
    listed = {s["id"]: s["state"] for s in health("GET", "/api/v1/shares").get_json()["received"]}
    assert listed[sid] == "revoked"
    # Expiry takes effect on the next request, with no job to run.
    other = police("POST", "/api/v1/shares", _terms(health_areas, layers=["observations"]))
    oid = other.get_json()["id"]
    owner_conn.execute(
        "UPDATE share SET expires_at = now() - interval '1 second' WHERE id = %s", (oid,)
    )
    owner_conn.commit()
    assert health("GET", f"/api/v1/shares/{oid}/layer").status_code == 410
    actions = [
        a
        for (a,) in owner_conn.execute(
            "SELECT action FROM audit_log WHERE %s = ANY(object_ids) ORDER BY id", (sid,)
        )
    ]
    assert actions[0] == "share.create" and "share.view" in actions and "share.revoke" in actions


def test_tier_c_needs_a_second_person(
    api: Any, source: str, owner_conn: psycopg.Connection[Any]
) -> None:
    wards = [
        str(a)
        for (a,) in owner_conn.execute(
            "SELECT a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
            " WHERE b.slug = 'wards'"
        )
    ]
    police = api(source, "analyst")
    terms = _terms(
        wards,
        tier="C",
        recipient_kind="external",
        recipient_agencies=[],
        external_name="Safeguarding lead",
        external_organisation="Wrenmouth Coastal Buses",
        layers=["observations", "contexts"],
        period_from="2025-01",
        period_to="2026-09",
    )
    made = police("POST", "/api/v1/shares", terms)
    assert made.status_code == 201, made.get_json()
    sid = made.get_json()["id"]
    assert made.get_json()["state"] == "pending"
    own = police("POST", f"/api/v1/shares/{sid}/decision", {"approve": True})
    assert own.status_code == 422 and "approver" in own.get_json()["error"]["fields"]
    chair = api(source, "panel_chair")
    assert chair("POST", f"/api/v1/shares/{sid}/decision", {"approve": True}).status_code == 200
    # The external recipient's signed link: no sign-in, tier C only, 410 once revoked.
    link = police("GET", f"/api/v1/shares/{sid}/link").get_json()["url"]
    path = re.sub(r"^https?://[^/]+", "", link)
    anonymous = police.client.application.test_client()
    page = anonymous.get(path)
    assert page.status_code == 200 and b"counts under 10 hidden" in page.data
    layer = anonymous.get(path + "/layer").get_json()
    assert layer["tier"] == "C" and layer["resolution"] == 7
    assert all(f["properties"]["count"] % 5 == 0 for f in layer["features"])
    assert layer["vehicle_marks"] == []
    assert f'href="{path}/export.csv"'.encode() in page.data
    exported = anonymous.get(path + "/export.csv")
    assert exported.status_code == 200 and b",C," in exported.data
    assert anonymous.get(path[:-3] + "xyz").status_code == 404  # tampered signature
    police("POST", f"/api/v1/shares/{sid}/revoke", {"reason": "Briefing over"})
    assert anonymous.get(path).status_code == 410
    assert anonymous.get(path + "/layer").status_code == 410


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"areas": ["00000000-0000-0000-0000-000000000000"]}, "areas"),
        ({"areas": []}, "areas"),
        ({"recipient_agencies": ["__source__"]}, "recipient_agencies"),
        ({"recipient_agencies": ["nobody"]}, "recipient_agencies"),
        ({"tier": "C", "period_from": "2025-02", "layers": ["observations"]}, "period_from"),
        ({"tier": "C", "layers": ["vehicles"]}, "layers"),
        ({"layers": ["raw_points"]}, "layers"),
        ({"expires_on": "2020-01-01"}, "expires_on"),
        ({"expires_on": "2099-01-01"}, "expires_on"),
        ({"period_from": "2026-13"}, "period_from"),
        ({"period_to": "2024-01"}, "period_to"),
        ({"purpose": "x"}, "purpose"),
        ({"polygon": [[0, 0]]}, "polygon"),
        ({"recipient_kind": "panel"}, "panel_id"),
        ({"buffer_rings": 9}, "buffer_rings"),
        # A second profile to the same audience could be subtracted from the first.
        ({"tier": "C", "period_from": "2025-01", "layers": ["observations"]}, "tier"),
    ],
)
def test_bad_terms_name_the_field_and_write_nothing(
    api: Any,
    source: str,
    share: dict[str, Any],
    health_areas: list[str],
    owner_conn: psycopg.Connection[Any],
    change: dict[str, Any],
    field: str,
) -> None:
    mine = "SELECT count(*) FROM share s JOIN agency a ON a.id = s.from_agency_id WHERE a.slug = %s"
    before = owner_conn.execute(mine, (source,)).fetchone()
    if change.get("recipient_agencies") == ["__source__"]:
        change = {"recipient_agencies": [source]}
    terms = {**_terms(health_areas), **change}
    resp = api(source, "analyst")("POST", "/api/v1/shares", terms)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]
    assert owner_conn.execute(mine, (source,)).fetchone() == before


def test_an_agency_tightens_its_profile_never_loosens_it(
    api: Any,
    test_db: dict[str, str],
    health_areas: list[str],
    make_agency: Any,
    owner_session_factory: Any,
) -> None:
    from click.testing import CliRunner

    from webmap.cli import main

    runner, env = CliRunner(), {"CSMAP_OWNER_DATABASE_URL": test_db["owner"]}

    def profiles(*args: str) -> Any:
        return runner.invoke(main, ["profiles", *args], env=env)

    edu = make_agency("education", "Profile test")
    add_observations(
        owner_session_factory, edu, scatter(SPOT, datetime(2026, 6, 2, tzinfo=UTC), 3, 200, 5)
    )
    loose = profiles("set", "--agency", edu, "--tier", "B", "k_observations=3")
    assert loose.exit_code != 0 and "k_observations: must be at least 5" in loose.output
    tight = profiles("set", "--agency", edu, "--tier", "B", "k_observations=8")
    assert tight.exit_code == 0 and "counts under 8 hidden" in tight.output
    back = profiles("set", "--agency", edu, "--tier", "B", "k_observations=6")
    assert back.exit_code != 0 and "at least 8" in back.output  # never below its own either
    assert "tightened" in profiles("show", "--agency", edu).output
    made = api(edu, "analyst")(
        "POST", "/api/v1/shares", _terms(health_areas, layers=["observations"])
    )
    assert made.status_code == 201, made.get_json()
    assert "counts under 8 hidden" in made.get_json()["precision"]
    doc = api("health", "analyst")("GET", f"/api/v1/shares/{made.get_json()['id']}/layer")
    counts = [f["properties"]["count"] for f in doc.get_json()["features"]]
    assert counts and min(counts) >= 8


@pytest.fixture(scope="module")
def area_sets(owner_session_factory: Any) -> dict[str, list[str]]:
    from sqlalchemy import text

    with owner_session_factory() as s:
        rows = s.execute(
            text(
                "SELECT b.slug, a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
                " WHERE b.is_current ORDER BY b.slug, a.code"
            )
        ).all()
    out: dict[str, list[str]] = {}
    for slug, area_id in rows:
        out.setdefault(slug, []).append(str(area_id))
    return out


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_nothing_outside_the_shares_whole_cells_is_published(
    api: Any, source: str, area_sets: dict[str, list[str]], test_db: dict[str, str], data: Any
) -> None:
    import h3

    slug = data.draw(st.sampled_from(sorted(area_sets)), label="boundary set")
    areas = data.draw(
        st.lists(st.sampled_from(area_sets[slug]), min_size=1, max_size=3, unique=True)
    )
    rings = data.draw(st.integers(0, 2), label="buffer rings")
    police = api(source, "analyst")

    def whole_cells(conn: Any, res: int) -> set[int]:
        core = {
            c
            for (c,) in conn.execute(
                "SELECT DISTINCT cell FROM cell_area WHERE res = %s AND area_id = ANY(%s::uuid[])",
                (res, areas),
            )
        }
        lattice = {c for (c,) in conn.execute("SELECT cell FROM cell WHERE res = %s", (res,))}
        return core | ({n for c in core for n in h3.api.basic_int.grid_disk(c, rings)} & lattice)

    with psycopg.connect(pg_url(test_db["owner"])) as conn:
        wanted = {res: whole_cells(conn, res) for res in (8, 7)}
    made = police(
        "POST", "/api/v1/shares", _terms(areas, buffer_rings=rings, layers=["observations"])
    )
    if not wanted[8]:  # areas too small to hold a cell's centre: refused, naming the field
        assert made.status_code == 422 and "areas" in made.get_json()["error"]["fields"]
        return
    assert made.status_code == 201, made.get_json()
    sid = made.get_json()["id"]
    with psycopg.connect(pg_url(test_db["owner"])) as conn:
        for res in (8, 7):
            stored = {
                c
                for (c,) in conn.execute(
                    "SELECT cell FROM share_cell WHERE share_id = %s AND res = %s", (sid, res)
                )
            }
            # Whole cells: the areas' own, plus the rings asked for, at the share's resolution
            # and at the coarser one a later profile may publish at (none, for a small area).
            assert stored == wanted[res], res
    stored = wanted[8]
    doc = police("GET", f"/api/v1/shares/{sid}/layer").get_json()
    assert {int(f["properties"]["cell"]) for f in doc["features"]} <= stored
    assert (
        police("POST", f"/api/v1/shares/{sid}/revoke", {"reason": "property test"}).status_code
        == 200
    )
