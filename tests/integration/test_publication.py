"""The publication ledger against the real database (issue 11): every tier B/C output is read
from a publication written once, so a recipient who fetches twice can never subtract a small
count out of a back-dated insert, an edit or a delete.

Each finding of the attack is replayed here: re-fetching after changes to published periods
(byte-identical on every path), the month in progress (never published), a profile tightened
after publication (applies to later periods only), contexts' references (opaque, per
publication), unknown parameters (refused), and the ledger itself (append-only, hashed).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial.cells import cell_key
from tests.conftest import TestUser
from tests.factories import add_observations, make_panel, scatter
from tests.integration.sentinels import Sentinels, plant
from tests.integration.test_recording_api import Api
from tests.integration.test_sharing import _terms, _tile_of

SPOT = (1.1731373, 54.5953117)  # in the health area, west of the town
SENTINELS = Sentinels("SENTINEL-NOTE-LDG", "YP-LEDG9", "ZZ97 LDG", "SENTINEL-FLAT-LDG")
#: The shares' closed months: published once, whatever day the suite runs.
MONTHS = ("2026-07", "2026-09")
_CSRF = re.compile(rb'(name="csrf[-_]token" (?:content|value)=")[^"]+"')


@pytest.fixture(scope="module")
def api(app: Flask, make_user: Any, sign_in: Any) -> Any:
    def make(agency: str, role: str = "analyst") -> Api:
        user: TestUser = make_user(agency, role)
        return Api(sign_in(app.test_client(), user), user)

    return make


@pytest.fixture(scope="module")
def source(make_agency: Any, owner_session_factory: Any) -> str:
    slug: str = make_agency("police", "Ledger test")
    add_observations(
        owner_session_factory, slug, scatter(SPOT, datetime(2026, 6, 3, tzinfo=UTC), 4, 150, 3)
    )
    return slug


@pytest.fixture(scope="module")
def ledger(api: Any, source: str, owner_session_factory: Any) -> dict[str, Any]:
    """A tier B share of the force's records with health, over the health area, for three
    closed months; a planted cluster in September carrying sentinels."""
    from sqlalchemy import text

    police = api(source)
    coords = plant(
        police, SENTINELS, SPOT, reports=9, people=4, first=datetime(2026, 9, 5, 19, tzinfo=UTC)
    )
    with owner_session_factory() as s:
        health_areas = [
            str(a)
            for (a,) in s.execute(
                text(
                    "SELECT j.area_id FROM agency_jurisdiction j JOIN agency a"
                    " ON a.id = j.agency_id WHERE a.slug = 'health'"
                )
            )
        ]
    made = police(
        "POST",
        "/api/v1/shares",
        _terms(health_areas, period_from=MONTHS[0], period_to=MONTHS[1]),
    )
    assert made.status_code == 201, made.get_json()
    return {
        "police": police,
        "share": made.get_json()["id"],
        "coords": coords,
        "areas": health_areas,
    }


def _paths(share_id: str) -> list[str]:
    base = f"/api/v1/shares/{share_id}"
    x12, y12 = _tile_of(*SPOT, 12)
    x14, y14 = _tile_of(*SPOT, 14)
    return [
        f"{base}/layer",
        f"{base}/areas/wards",
        f"{base}/areas/police-neighbourhoods",
        f"{base}/export.geojson",
        f"{base}/export.csv",
        f"{base}/export.gpkg",
        f"{base}/tiles/12/{x12}/{y12}.mvt?period=2026-09",
        f"{base}/tiles/14/{x14}/{y14}.mvt",
        f"{base}/heatmap?period=2026-09",
        f"/shares/{share_id}",
    ]


def _fetch_all(client: Api, share_id: str) -> dict[str, bytes]:
    out = {}
    for path in _paths(share_id):
        resp = client("GET", path)
        assert resp.status_code == 200, (path, resp.status_code, resp.data[:300])
        out[path] = _CSRF.sub(rb'\1"', resp.data)  # the page's CSRF token is per session
    return out


def _own_count(police: Api, month: str) -> int:
    doc = police("GET", f"/api/v1/layers/counts?from={month}&to={month}&res=8").get_json()
    return sum(f["properties"]["n"] for f in doc["features"])


def _observation(when: datetime, spot: tuple[float, float], ref: str) -> dict[str, Any]:
    return {
        "occurred_at": when.isoformat(),
        "geometry": {"type": "Point", "coordinates": list(spot)},
        "category": "older_males_approaching",
        "young_person_refs": [ref],
    }


def test_a_refetch_after_backdated_changes_is_byte_identical_on_every_path(
    api: Any, ledger: dict[str, Any]
) -> None:
    police, share_id = ledger["police"], ledger["share"]
    health = api("health")
    before = _fetch_all(health, share_id)
    doc = health("GET", f"/api/v1/shares/{share_id}/layer").get_json()
    spot_cell = str(cell_key(*SPOT, 8))
    counted = {f["properties"]["cell"]: f["properties"]["count"] for f in doc["features"]
               if f["properties"]["period"] == "2026-09"}  # fmt: skip
    assert counted[spot_cell] >= 9  # the planted cluster is published
    own_before = _own_count(police, "2026-09")
    # The attack: three back-dated observations of one child in the published cell ...
    for day in (11, 12, 13):
        when = datetime(2026, 9, day, 21, tzinfo=UTC)
        resp = police("POST", "/api/v1/observations", _observation(when, SPOT, "YP-NEW-1"))
        assert resp.status_code == 201, resp.get_json()
    # ... an edit (moved out of the cell) and a delete of published records.
    listed = police("GET", "/api/v1/observations?from=2026-09-01&to=2026-09-30").get_json()
    ids = [f["id"] for f in listed["features"]][:2]
    moved = police(
        "PATCH",
        f"/api/v1/observations/{ids[0]}",
        {"geometry": {"type": "Point", "coordinates": [1.2301, 54.6102]}},
        If_Match="1",
    )
    assert moved.status_code == 200, moved.get_json()
    gone = police("DELETE", f"/api/v1/observations/{ids[1]}", {"reason": "entered twice"},
                  If_Match="1")  # fmt: skip
    assert gone.status_code == 200, gone.get_json()
    after = _fetch_all(health, share_id)
    for path, body in before.items():
        assert after[path] == body, f"{path} changed after a back-dated change"
    # The source agency's own (tier A) view does see the corrections.
    assert _own_count(police, "2026-09") != own_before
    # So does the source's preview of its share: it too reads the ledger, not live rows.
    assert (
        _fetch_all(police, share_id)[f"/api/v1/shares/{share_id}/layer"]
        == (before[f"/api/v1/shares/{share_id}/layer"])
    )


def test_every_output_says_when_each_period_was_published(api: Any, ledger: dict[str, Any]) -> None:
    doc = api("health")("GET", f"/api/v1/shares/{ledger['share']}/layer").get_json()
    assert [r["period"] for r in doc["releases"]] == ["2026-07", "2026-08", "2026-09"]
    for release in doc["releases"]:
        assert release["published"].startswith("published ") and len(release["sha256"]) == 64
        assert release["precision"] == "Cells of about 0.74 km², counts under 5 hidden, by month."
    assert "published once" in doc["share"]["published"]
    csv_rows = api("health")("GET", f"/api/v1/shares/{ledger['share']}/export.csv").data
    assert b"published_at" in csv_rows.splitlines()[0]


def test_no_masked_mark_below_k_sightings(api: Any, ledger: dict[str, Any]) -> None:
    doc = api("health")("GET", f"/api/v1/shares/{ledger['share']}/layer").get_json()
    # Nine sightings of the planted vehicle in one cell and month: its mark, masked to two
    # characters, is published; nothing else of it.
    assert doc["vehicle_marks"] and all(m.startswith("ZZ") for m in doc["vehicle_marks"])
    assert all(len(m.replace("*", "").replace(" ", "")) <= 2 for m in doc["vehicle_marks"])


def test_contexts_have_an_opaque_reference_per_publication(
    api: Any, ledger: dict[str, Any], owner_conn: psycopg.Connection[Any], source: str
) -> None:
    doc = api("health")("GET", f"/api/v1/shares/{ledger['share']}/layer").get_json()
    refs = {f["id"] for f in doc["contexts"]["features"]}
    assert refs  # the planted place of concern, snapped to its cell
    records = {str(i) for (i,) in owner_conn.execute("SELECT id FROM context")}
    assert not refs & records
    # Each publication names the same context differently: it cannot be followed over time.
    per_period = owner_conn.execute(
        "SELECT p.period, array_agg(x.ref::text) FROM publication_context x"
        " JOIN publication p ON p.id = x.publication_id JOIN agency a ON a.id = p.agency_id"
        " WHERE a.slug = %s AND p.tier = 'B' GROUP BY p.period",
        (source,),
    ).fetchall()
    seen: set[str] = set()
    for _period, period_refs in per_period:
        assert not seen & set(period_refs)
        seen |= set(period_refs)


@pytest.mark.parametrize(
    "suffix", ["layer", "areas/wards", "export.csv", "tiles/12/2050/1290.mvt", "heatmap"]
)
def test_shared_routes_refuse_unknown_parameters(
    api: Any, ledger: dict[str, Any], suffix: str
) -> None:
    resp = api("health")("GET", f"/api/v1/shares/{ledger['share']}/{suffix}?category=weapon_found")
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"category": "no such parameter"}


def test_the_month_in_progress_is_never_published(
    api: Any, source: str, ledger: dict[str, Any], app_conn: psycopg.Connection[Any]
) -> None:
    from spatial.redaction_profiles import LONDON

    now = datetime.now(UTC)
    month_start = now.astimezone(LONDON).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    police = ledger["police"]
    when = max(now - timedelta(seconds=5), month_start)
    for i in range(6):
        police("POST", "/api/v1/observations", _observation(when, SPOT, f"YP-NOW-{i}"))
    terms = _terms(ledger["areas"], period_from=month_start.strftime("%Y-%m"))
    made = police("POST", "/api/v1/shares", terms)
    assert made.status_code == 201, made.get_json()
    doc = api("health")("GET", f"/api/v1/shares/{made.get_json()['id']}/layer").get_json()
    assert doc["releases"] == [] and doc["features"] == []
    # And the database refuses it, whoever asks: the facts of the month are not handed out,
    # and a publication of it cannot be written.
    app_conn.execute("SELECT set_config('csmap.agency_id', a.id::text, true),"
                     " set_config('csmap.role', 'analyst', true) FROM agency a WHERE a.slug = %s",
                     (source,))  # fmt: skip
    start = month_start.date()
    end = (month_start + timedelta(days=32)).replace(day=1).date()
    facts = app_conn.execute(
        "SELECT count(*) FROM csmap_publication_facts("
        "(SELECT id FROM agency WHERE slug = %s), 'B', %s, %s)",
        (source, start, end),
    ).fetchone()
    assert facts == (0,)
    with pytest.raises(psycopg.Error, match="may not be published"):
        app_conn.execute(
            "SELECT csmap_publication_write((SELECT id FROM agency WHERE slug = %s), 'B',"
            " 'now', %s, %s, '{}'::jsonb, 8::smallint, '[]', '[]', '[]')",
            (source, start, end),
        )


def test_a_tightened_profile_applies_to_periods_not_yet_published(
    api: Any, make_agency: Any, owner_session_factory: Any, test_db: dict[str, str]
) -> None:
    from click.testing import CliRunner

    from webmap.cli import main

    slug = make_agency("police", "Profile ledger")
    add_observations(
        owner_session_factory, slug, scatter(SPOT, datetime(2026, 6, 2, tzinfo=UTC), 3, 200, 9)
    )
    police, health = api(slug), api("health")
    areas = _health_areas(owner_session_factory)

    def layer(month: str) -> dict[str, Any]:
        made = police("POST", "/api/v1/shares", _terms(areas, period_from=month, period_to=month))
        assert made.status_code == 201, made.get_json()
        resp = health("GET", f"/api/v1/shares/{made.get_json()['id']}/layer")
        return {"id": made.get_json()["id"], "doc": resp.get_json(), "bytes": resp.data}

    june = layer("2026-06")  # published now, with the floor (k = 5)
    assert min(f["properties"]["count"] for f in june["doc"]["features"]) < 8
    env = {"CSMAP_OWNER_DATABASE_URL": test_db["owner"]}
    result = CliRunner().invoke(
        main, ["profiles", "set", "--agency", slug, "--tier", "B", "k_observations=8"], env=env
    )
    assert result.exit_code == 0, result.output
    again = health("GET", f"/api/v1/shares/{june['id']}/layer")
    assert again.data == june["bytes"]  # June was published once: it does not change
    july = layer("2026-07")  # published after the change, with it
    assert min(f["properties"]["count"] for f in july["doc"]["features"]) >= 8
    assert "counts under 8 hidden" in july["doc"]["releases"][0]["precision"]
    assert "counts under 5 hidden" in june["doc"]["releases"][0]["precision"]


def _health_areas(owner_session_factory: Any) -> list[str]:
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


def test_the_ledger_is_append_only_and_verified(
    ledger: dict[str, Any],
    api: Any,
    source: str,
    owner_conn: psycopg.Connection[Any],
    app_conn: psycopg.Connection[Any],
    test_db: dict[str, str],
) -> None:
    from click.testing import CliRunner

    from webmap.cli import main

    api("health")("GET", f"/api/v1/shares/{ledger['share']}/layer")  # published by now
    row = owner_conn.execute(
        "SELECT p.id FROM publication p JOIN agency a ON a.id = p.agency_id"
        " WHERE a.slug = %s ORDER BY p.seq LIMIT 1",
        (source,),
    ).fetchone()
    assert row is not None
    pid = row[0]
    for statement in (
        "UPDATE publication SET period = 'x' WHERE id = %s",
        "DELETE FROM publication_cell WHERE publication_id = %s",
        "DELETE FROM publication WHERE id = %s",
    ):
        with pytest.raises(psycopg.Error, match="written once"):
            owner_conn.execute(statement, (pid,))
        owner_conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_conn.execute("UPDATE publication SET period = 'x' WHERE id = %s", (pid,))
    app_conn.rollback()
    # No context: the app role may neither read the facts nor write a publication.
    assert app_conn.execute(
        "SELECT count(*) FROM csmap_publication_facts("
        "(SELECT agency_id FROM publication WHERE id = %s), 'B', '2024-01-01', '2024-02-01')",
        (pid,),
    ).fetchone() == (0,)
    env = {"CSMAP_OWNER_DATABASE_URL": test_db["owner"]}
    runner = CliRunner()
    ok = runner.invoke(main, ["publications", "verify"], env=env)
    assert ok.exit_code == 0 and "publication ledger intact" in ok.output, ok.output
    listed = runner.invoke(main, ["publications", "list", "--agency", source], env=env)
    assert "2026-09" in listed.output and listed.exit_code == 0
    # Tampering (possible only by switching the trigger off as the owner) is found.
    owner_conn.execute("ALTER TABLE publication_cell DISABLE TRIGGER append_only")
    owner_conn.execute(
        "UPDATE publication_cell SET n = n + 1 WHERE publication_id = %s"
        " AND cell = (SELECT min(cell) FROM publication_cell WHERE publication_id = %s"
        " AND n IS NOT NULL)",
        (pid, pid),
    )
    owner_conn.commit()
    try:
        bad = runner.invoke(main, ["publications", "verify"], env=env)
        assert bad.exit_code != 0 and str(pid) in bad.output
    finally:
        owner_conn.execute(
            "UPDATE publication_cell SET n = n - 1 WHERE publication_id = %s"
            " AND cell = (SELECT min(cell) FROM publication_cell WHERE publication_id = %s"
            " AND n IS NOT NULL)",
            (pid, pid),
        )
        owner_conn.execute("ALTER TABLE publication_cell ENABLE TRIGGER append_only")
        owner_conn.commit()
    assert runner.invoke(main, ["publications", "verify"], env=env).exit_code == 0


def _external(areas: list[str], tier: str, name: str, org: str, **over: Any) -> dict[str, Any]:
    terms = {
        "tier": tier,
        "recipient_kind": "external",
        "recipient_agencies": [],
        "external_name": name,
        "external_organisation": org,
        "layers": ["observations"],
        "period_from": "2026-04",
        "period_to": "2026-06",
    }
    return _terms(areas, **{**terms, **over})


def test_one_audience_one_tier_for_named_external_recipients(
    api: Any, make_agency: Any, owner_session_factory: Any
) -> None:
    slug = make_agency("police", "Audience test")
    police, chair = api(slug), api(slug, "panel_chair")
    areas = _health_areas(owner_session_factory)
    first = police("POST", "/api/v1/shares", _external(areas, "C", "Jo Bloggs", "Wrenmouth Taxis"))
    assert first.status_code == 201, first.get_json()
    c_id = first.get_json()["id"]
    assert chair("POST", f"/api/v1/shares/{c_id}/decision", {"approve": True}).status_code == 200
    # The same person (however written), or anyone of the same organisation: one tier.
    for name, org in [("jo  BLOGGS.", "Someone else's firm"), ("A N Other", "WRENMOUTH TAXIS LTD")]:
        again = police("POST", "/api/v1/shares", _external(areas, "B", name, org))
        assert again.status_code == 422, again.get_json()
        error = again.get_json()["error"]
        assert "tier" in error["fields"] and c_id in error["message"]
    # Revoking does not make a second tier safe: the recipient keeps what it downloaded.
    revoked = police("POST", f"/api/v1/shares/{c_id}/revoke", {"reason": "Briefing over"})
    assert revoked.status_code == 200
    after = police("POST", "/api/v1/shares", _external(areas, "B", "Jo Bloggs", "Wrenmouth Taxis"))
    assert after.status_code == 422 and c_id in after.get_json()["error"]["message"]
    # The same tier again is fine, and so is another organisation.
    same = police("POST", "/api/v1/shares", _external(areas, "C", "Jo Bloggs", "Wrenmouth Taxis"))
    assert same.status_code == 201, same.get_json()
    other = police("POST", "/api/v1/shares", _external(areas, "B", "Sam Roe", "Harbour Hotel"))
    assert other.status_code == 201, other.get_json()


def test_one_audience_one_tier_for_agencies_after_revocation_and_expiry(
    api: Any, make_agency: Any, owner_session_factory: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    slug = make_agency("police", "Agency audience")
    police = api(slug)
    areas = _health_areas(owner_session_factory)
    for recipient, end in (("education", "revoke"), ("vcse", "expire")):
        made = police("POST", "/api/v1/shares", _terms(areas, recipient_agencies=[recipient]))
        assert made.status_code == 201, made.get_json()
        sid = made.get_json()["id"]
        if end == "revoke":
            police("POST", f"/api/v1/shares/{sid}/revoke", {"reason": "Project finished"})
        else:
            owner_conn.execute(
                "UPDATE share SET expires_at = now() - interval '1 day' WHERE id = %s", (sid,)
            )
            owner_conn.commit()
        c_terms = _terms(
            areas,
            tier="C",
            recipient_agencies=[recipient],
            layers=["observations"],
            period_from="2026-01",
            period_to="2026-06",
        )
        refused = police("POST", "/api/v1/shares", c_terms)
        assert refused.status_code == 422, refused.get_json()
        assert sid in refused.get_json()["error"]["message"]


@pytest.fixture(scope="module")
def two_tiers(api: Any, make_agency: Any, owner_session_factory: Any) -> dict[str, Any]:
    """A force of its own with a tier B share to health (three closed months) and an approved
    tier C share to a named external recipient (two closed quarters), and what both show."""
    slug = make_agency("police", "Property test")
    add_observations(
        owner_session_factory, slug, scatter(SPOT, datetime(2026, 1, 3, tzinfo=UTC), 9, 220, 17)
    )
    police, chair, health = api(slug), api(slug, "panel_chair"), api("health")
    areas = _health_areas(owner_session_factory)
    b = police("POST", "/api/v1/shares", _terms(areas, period_from="2026-07", period_to="2026-09"))
    c = police("POST", "/api/v1/shares", _external(areas, "C", "Pat Doe", "Gull Cabs",
                                                   period_from="2026-01"))  # fmt: skip
    assert b.status_code == c.status_code == 201, (b.get_json(), c.get_json())
    c_id = c.get_json()["id"]
    chair("POST", f"/api/v1/shares/{c_id}/decision", {"approve": True})
    link = police("GET", f"/api/v1/shares/{c_id}/link").get_json()["url"]
    link_path = re.sub(r"^https?://[^/]+", "", link)
    anonymous = health.client.application.test_client()
    x, y = _tile_of(*SPOT, 12)
    b_base = f"/api/v1/shares/{b.get_json()['id']}"
    paths = {
        "b-layer": (health, f"{b_base}/layer"),
        "b-wards": (health, f"{b_base}/areas/wards"),
        "b-csv": (health, f"{b_base}/export.csv"),
        "b-tile": (health, f"{b_base}/tiles/12/{x}/{y}.mvt?period=2026-08"),
        "c-layer": (None, f"{link_path}/layer"),
        "c-csv": (None, f"{link_path}/export.csv"),
    }

    def snapshot() -> dict[str, bytes]:
        out = {}
        for name, (who, path) in paths.items():
            resp = who("GET", path) if who else anonymous.get(path)
            assert resp.status_code == 200, (name, resp.status_code)
            out[name] = resp.data
        return out

    baseline = snapshot()
    assert b'"count"' in baseline["b-layer"] and b'"count"' in baseline["c-layer"]
    with owner_session_factory() as s:
        from sqlalchemy import text

        agency_id = s.execute(text("SELECT id FROM agency WHERE slug = :s"), {"s": slug}).scalar()
    return {
        "police": police,
        "snapshot": snapshot,
        "baseline": baseline,
        "agency": agency_id,
        "link": link_path,
        "anonymous": anonymous,
    }


@pytest.mark.parametrize("suffix", ["", "/layer", "/export.csv", "/basemap"])
def test_link_routes_refuse_unknown_parameters(two_tiers: dict[str, Any], suffix: str) -> None:
    resp = two_tiers["anonymous"].get(f"{two_tiers['link']}{suffix}?period=2026-Q1")
    assert resp.status_code == 422
    if suffix:  # the data routes answer in JSON, naming the parameter
        assert resp.get_json()["error"]["fields"] == {"period": "no such parameter"}
    else:  # the page, in words
        assert b"period: this shared output takes no such parameter" in resp.data


_PUBLISHED_DAYS = [datetime(2026, m, d, 20, tzinfo=UTC) for m in (2, 4, 6, 7, 8, 9)
                   for d in (1, 14, 28)]  # fmt: skip
_NEAR = st.tuples(st.integers(-30, 30), st.integers(-30, 30)).map(
    lambda d: (round(SPOT[0] + d[0] * 4e-4, 6), round(SPOT[1] + d[1] * 2.5e-4, 6))
)
_OPS = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(_PUBLISHED_DAYS), _NEAR,
              st.integers(1, 5), st.sampled_from(["YP-P1", "YP-P2", "YP-P3"])),
    st.tuples(st.just("move"), st.integers(0, 10**6), _NEAR),
    st.tuples(st.just("redate"), st.integers(0, 10**6), st.sampled_from(_PUBLISHED_DAYS)),
    st.tuples(st.just("delete"), st.integers(0, 10**6)),
)  # fmt: skip


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_OPS, min_size=1, max_size=4))
def test_changes_to_published_periods_never_change_a_shared_output(
    two_tiers: dict[str, Any], owner_session_factory: Any, ops: list[tuple[Any, ...]]
) -> None:
    from sqlalchemy import text

    police = two_tiers["police"]
    for op in ops:
        if op[0] == "insert":
            _, when, spot, n, ref = op
            for i in range(n):
                body = _observation(when + timedelta(minutes=i), spot, ref)
                assert police("POST", "/api/v1/observations", body).status_code == 201
            continue
        with owner_session_factory() as s:
            live = s.execute(
                text(
                    "SELECT id, version FROM observation WHERE agency_id = :a"
                    " AND deleted_at IS NULL AND occurred_at < '2026-10-01' ORDER BY id"
                ),
                {"a": two_tiers["agency"]},
            ).all()
        oid, version = live[op[1] % len(live)]
        url, match = f"/api/v1/observations/{oid}", str(version)
        if op[0] == "move":
            geometry = {"type": "Point", "coordinates": list(op[2])}
            resp = police("PATCH", url, {"geometry": geometry}, If_Match=match)
        elif op[0] == "redate":
            resp = police("PATCH", url, {"occurred_at": op[2].isoformat()}, If_Match=match)
        else:
            resp = police("DELETE", url, {"reason": "property test"}, If_Match=match)
        assert resp.status_code == 200, resp.get_json()
    assert two_tiers["snapshot"]() == two_tiers["baseline"]


def test_the_demos_standing_shares_read_the_ledger(
    api: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    health = api("health")
    received = health("GET", "/api/v1/shares").get_json()["received"]
    standing = next(
        s
        for s in received
        if s["source"] == "Wrenmouth Police"
        and s["state"] == "active"
        and s["recipient_kind"] == "agencies"
    )
    doc = health("GET", f"/api/v1/shares/{standing['id']}/layer").get_json()
    assert doc["releases"]
    stored = {
        (period, digest)
        for period, digest in owner_conn.execute(
            "SELECT p.period, p.sha256 FROM publication p JOIN agency a ON a.id = p.agency_id"
            " WHERE a.slug = 'police' AND p.tier = 'B'"
        )
    }
    assert {(r["period"], r["sha256"]) for r in doc["releases"]} <= stored
    # The ledger's cells of the share's periods (other shares of the force may have had
    # other periods published).
    cells = {
        (period, str(cell), n)
        for period, cell, n in owner_conn.execute(
            "SELECT p.period, c.cell, c.n FROM publication_cell c"
            " JOIN publication p ON p.id = c.publication_id JOIN agency a ON a.id = p.agency_id"
            " JOIN share_cell sc ON sc.share_id = %s AND sc.res = p.resolution"
            " AND sc.cell = c.cell WHERE a.slug = 'police' AND p.tier = 'B'"
            " AND p.period = ANY(%s)",
            (standing["id"], [r["period"] for r in doc["releases"]]),
        )
    }
    shown = {(f["properties"]["period"], f["properties"]["cell"], f["properties"]["count"])
             for f in doc["features"]}  # fmt: skip
    assert shown == cells and len(shown) > 20


def test_a_new_panel_member_never_gets_a_second_tier(
    app: Flask, api: Any, make_agency: Any, make_user: Any, sign_in: Any,
    owner_session_factory: Any,
) -> None:  # fmt: skip
    from sqlalchemy import text

    from tests.conftest import csrf_from

    source, member = make_agency("police", "Panel source"), make_agency("vcse", "Panel newcomer")
    partner = make_agency("health", "Panel partner")
    panel = make_panel(owner_session_factory, [source, partner])
    with owner_session_factory() as s:
        ids = dict(s.execute(text("SELECT slug, id::text FROM agency")).tuples().all())
    police, areas = api(source), _health_areas(owner_session_factory)
    to_panel = _terms(areas, recipient_kind="panel", recipient_agencies=[], panel_id=str(panel))
    assert police("POST", "/api/v1/shares", to_panel).status_code == 201
    direct = _terms(areas, tier="C", recipient_agencies=[member], layers=["observations"],
                    period_from="2026-01", period_to="2026-06")  # fmt: skip
    assert police("POST", "/api/v1/shares", direct).status_code == 201
    admin = sign_in(app.test_client(), make_user(partner, "system_admin"))
    token = csrf_from(admin.get("/admin/panels").get_data(as_text=True))
    members = [ids[source], ids[partner], ids[member]]
    resp = admin.post(f"/admin/panels/{panel}", data={"members": members, "csrf_token": token})
    assert resp.status_code == 400
    assert "one audience receives one tier" in resp.get_data(as_text=True)
    with owner_session_factory() as s:
        count = s.execute(
            text("SELECT count(*) FROM panel_member WHERE panel_id = :p"), {"p": panel}
        ).scalar_one()
    assert count == 2  # nothing written
