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

from spatial.cells import cell_key
from tests.conftest import TestUser
from tests.factories import add_observations, scatter
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
