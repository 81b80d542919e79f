"""Bulk import through the CLI against the real test database: observations (CSV, easting/
northing CSV, GeoJSON; all-or-nothing and skip-bad; the error report) and police.uk files.

All data here is invented: the demo town of Wrenmouth is drawn over open sea near 54.6N 1.2E.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from pyproj import Geod, Transformer

from spatial.cells import cell_keys
from tests.conftest import TEST_DB
from tests.factories import make_context
from webmap.cli import main

SENTINEL = "SENTINEL-do-not-leak-7Q"
COLUMNS = [
    "occurred_at",
    "category",
    "note",
    "young_person_refs",
    "source_grade",
    "info_grade",
    "lon",
    "lat",
]


@pytest.fixture()
def agency(make_agency: Any) -> str:
    """The test's own police force: imports land in no one else's records."""
    slug: str = make_agency("police", "Import test")
    return slug


@pytest.fixture()
def run(test_db: dict[str, str]) -> Any:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["import", *args, "--database", TEST_DB])

    return invoke


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def marked(conn: psycopg.Connection[Any], marker: str) -> list[tuple[Any, ...]]:
    """Observations whose note carries ``marker``, with their position and cell keys."""
    return conn.execute(
        "SELECT id, ST_X(geom), ST_Y(geom), cell_r7, cell_r8, cell_r9, recorded_by, agency_id,"
        " occurred_at, category, young_person_refs, context_id FROM observation"
        " WHERE note LIKE %s ORDER BY ST_X(geom), ST_Y(geom)",
        (f"%{marker}%",),
    ).fetchall()


def agency_id(conn: psycopg.Connection[Any], slug: str) -> uuid.UUID:
    return conn.execute("SELECT id FROM agency WHERE slug = %s", (slug,)).fetchone()[0]  # type: ignore[index]


def good_and_bad_rows(marker: str) -> tuple[list[list[Any]], dict[int, str]]:
    """Three good rows (1-3), then bad rows: row number → the field the report must name."""
    good = [
        ["2026-09-01T18:30:00Z", "weapon_found", f"Invented {marker}", "YP-1A;YP-2B", "B", "2",
         "1.201", "54.601"],
        ["2026-09-02 19:15", "child_out_late", f"Invented {marker}", "", "", "", "1.17", "54.59"],
        ["2026-09-02T19:15:00+01:00", "child_out_late", f"Invented {marker}", "", "A", "5",
         "1.17", "54.59"],  # a duplicate place and time: fine
    ]  # fmt: skip
    note = f"{SENTINEL} {marker}"
    bad = [
        (["2026-09-03T10:00:00Z", "no_such_category", note, "", "C", "3", "1.21", "54.61"],
         "category"),
        (["2026-09-03T10:00:00Z", "weapon_found", note, "", "C", "3", "54.6012345", "1.2345678"],
         "lon/lat"),  # swapped
        (["2026-09-03T10:00:00Z", "weapon_found", note, "", "C", "3", "1.4987654", "54.6054321"],
         "lon/lat"),  # outside the service area
        (["2099-09-03T10:00:00Z", "weapon_found", note, "", "C", "3", "1.21", "54.61"],
         "occurred_at"),  # future
        (["2026-09-03T10:00:00Z", "weapon_found", note, "", "Q", "3", "1.21", "54.61"],
         "source_grade"),
        (["2026-09-03T10:00:00Z", "weapon_found", note, "John Smith", "C", "3", "1.21", "54.61"],
         "young_person_refs"),  # a name, not a pseudonym
        (["2026-09-03T10:00:00Z", "", note, "", "C", "3", "1.21", "54.61"], "category"),
    ]  # fmt: skip
    rows = good + [r for r, _ in bad]
    return rows, {len(good) + i + 1: f for i, (_, f) in enumerate(bad)}


def assert_report_is_clean(text: str, marker: str) -> None:
    for secret in (SENTINEL, marker, "John Smith", "54.6012345", "1.2345678", "1.4987654"):
        assert secret not in text
    assert "54.6054321" not in text


def test_all_or_nothing_writes_nothing_and_reports_each_bad_row(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any], agency: str
) -> None:
    marker = uuid.uuid4().hex
    rows, expected = good_and_bad_rows(marker)
    path = write_csv(tmp_path / "obs.csv", COLUMNS, rows)

    result = run("observations", str(path), "--agency", agency)

    assert result.exit_code == 1, result.output
    assert "nothing imported" in result.output
    report = tmp_path / "obs.csv.errors.csv"
    assert str(report) in result.output
    assert marked(owner_conn, marker) == []
    assert owner_conn.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'observation.imported'"
        " AND subject_agency_id = %s",
        (agency_id(owner_conn, agency),),
    ).fetchone() == (0,)
    problems = read_report(report)
    assert {(int(p["row"]), p["field"]) for p in problems} == set(expected.items())
    text = report.read_text()
    assert_report_is_clean(text, marker)
    by_field = {p["field"]: p["problem"] for p in problems}
    assert "not a known category" in text and "Field required" in text
    assert "swapped" in text and "outside the service area" in text
    assert by_field["occurred_at"] == "is in the future"
    assert "item 1 is not a pseudonymous reference" in by_field["young_person_refs"]


def test_skip_bad_loads_exactly_the_good_rows_with_cells_versions_and_audit(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any], make_user: Any, agency: str
) -> None:
    marker = uuid.uuid4().hex
    rows, expected = good_and_bad_rows(marker)
    path = write_csv(tmp_path / "obs.csv", COLUMNS, rows)
    report = tmp_path / "elsewhere" / "report.csv"
    report.parent.mkdir()
    user = make_user(agency, "practitioner")

    result = run(
        "observations", str(path), "--agency", agency, "--as", user.email,
        "--mode", "skip-bad", "--errors", str(report),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "imported 3 observations" in result.output
    loaded = marked(owner_conn, marker)
    assert len(loaded) == 3
    lon = np.array([r[1] for r in loaded])
    lat = np.array([r[2] for r in loaded])
    keys = cell_keys(lon, lat)
    for i, row in enumerate(loaded):
        assert row[3:6] == (keys[7][i], keys[8][i], keys[9][i])
        assert row[6] == user.id and row[7] == user.agency_id
    # 'YYYY-MM-DD HH:MM' is London time: 19:15 BST is 18:15 UTC, as is 19:15+01:00.
    local = [r for r in loaded if r[1] == pytest.approx(1.17)]
    assert [r[8] for r in local] == [datetime(2026, 9, 2, 18, 15, tzinfo=UTC)] * 2
    ids = [r[0] for r in loaded]
    versions = owner_conn.execute(
        "SELECT object_id, version, action, changed_by, agency_id, changed_fields"
        " FROM record_version WHERE object_type = 'observation' AND object_id = ANY(%s)",
        (ids,),
    ).fetchall()
    assert sorted(v[0] for v in versions) == sorted(ids)
    assert {v[1:5] for v in versions} == {(1, "created", user.id, user.agency_id)}
    assert "geometry" in versions[0][5]
    entries = owner_conn.execute(
        "SELECT user_id, subject_agency_id, object_ids, details FROM audit_log"
        " WHERE action = 'observation.imported' AND subject_agency_id = %s",
        (user.agency_id,),
    ).fetchall()
    assert entries == [(user.id, user.agency_id, [], {"count": 3, "via": "import"})]
    problems = read_report(report)
    assert {(int(p["row"]), p["field"]) for p in problems} == set(expected.items())
    assert_report_is_clean(report.read_text(), marker)


def test_easting_northing_lands_at_the_right_place(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any], agency: str
) -> None:
    marker = uuid.uuid4().hex
    places = [(1.2, 54.6), (1.1712, 54.5853), (1.2375, 54.6248)]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    rows = []
    for lon, lat in places:
        easting, northing = to_bng.transform(lon, lat)
        rows.append(["2026-08-01T12:00:00Z", "weapon_found", marker, f"{easting:.3f}",
                     f"{northing:.3f}"])  # fmt: skip
    path = write_csv(
        tmp_path / "bng.csv", ["occurred_at", "category", "note", "easting", "northing"], rows
    )

    result = run("observations", str(path), "--agency", agency)

    assert result.exit_code == 0, result.output
    loaded = marked(owner_conn, marker)
    geod = Geod(ellps="WGS84")
    for (lon, lat), row in zip(sorted(places), loaded, strict=True):
        assert geod.inv(lon, lat, row[1], row[2])[2] < 1.0


def test_geojson_features_are_checked_and_loaded(
    app: Flask,
    run: Any,
    tmp_path: Path,
    owner_conn: psycopg.Connection[Any],
    make_agency: Any,
    make_user: Any,
    agency: str,
) -> None:
    marker = uuid.uuid4().hex
    context = make_context(app, make_user(agency, "analyst"))
    foreign = make_context(app, make_user(make_agency("police", "Import test"), "analyst"))

    def feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
        base = {"occurred_at": "2026-07-04T21:00:00Z", "category": "child_out_late",
                "note": f"{SENTINEL} {marker}"}  # fmt: skip
        return {"type": "Feature", "geometry": geometry, "properties": {**base, **props}}

    point = {"type": "Point", "coordinates": [1.19, 54.6]}
    triangle = {"type": "Polygon", "coordinates": [[[1.2, 54.6], [1.21, 54.6], [1.2, 54.61],
                                                     [1.2, 54.6]]]}  # fmt: skip
    features = [
        feature(point, young_person_refs=["YP-7C"], info_grade=4, context_id=str(context)),
        feature({"type": "Point", "coordinates": [1.2, 54.61]}, source_grade="D"),
        feature(triangle),
        feature(point, context_id=str(foreign)),
        feature(point, context_id="not-an-id"),
        feature(point, info_grade="3"),  # integer text is accepted, as in a CSV
    ]
    path = tmp_path / "obs.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    result = run("observations", str(path), "--agency", agency, "--mode", "skip-bad")

    assert result.exit_code == 0, result.output
    loaded = marked(owner_conn, marker)
    assert len(loaded) == 3
    assert sorted(str(r[11]) for r in loaded) == sorted([str(context), "None", "None"])
    assert ["YP-7C"] in [r[10] for r in loaded]
    problems = read_report(tmp_path / "obs.geojson.errors.csv")
    assert [(p["row"], p["field"]) for p in problems] == [
        ("3", "geometry"),
        ("4", "context_id"),
        ("5", "context_id"),
    ]
    assert problems[0]["problem"] == "must be a Point, not a Polygon"
    assert problems[1]["problem"] == "there is no such context in your agency's records"
    assert problems[2]["problem"] == "is not an id"
    assert_report_is_clean((tmp_path / "obs.geojson.errors.csv").read_text(), marker)


def test_many_rows_load_in_one_go(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any], make_agency: Any
) -> None:
    marker = uuid.uuid4().hex
    rng = np.random.default_rng(3)
    n = 12_000  # more than two validation chunks
    lon, lat = rng.uniform(1.15, 1.25, n), rng.uniform(54.57, 54.63, n)
    rows = [
        ["2026-06-01T08:00:00Z", "unexplained_goods", f'Invented, "quoted"\nline {marker}',
         f"{x:.6f}", f"{y:.6f}"]
        for x, y in zip(lon, lat, strict=True)
    ]  # fmt: skip
    path = write_csv(tmp_path / "many.csv", ["occurred_at", "category", "note", "lon", "lat"], rows)

    result = run("observations", str(path), "--agency", make_agency("childrens_social_care"))

    assert result.exit_code == 0, result.output
    count = owner_conn.execute(
        "SELECT count(*), count(DISTINCT note) FROM observation WHERE note LIKE %s",
        (f"%{marker}",),
    ).fetchone()
    assert count == (n, 1)


def test_clean_errors_for_agency_user_columns_and_empty_files(
    run: Any, tmp_path: Path, make_agency: Any, make_user: Any, agency: str
) -> None:
    good = write_csv(
        tmp_path / "ok.csv", COLUMNS, [["2026-09-01T18:30:00Z", "weapon_found", "", "", "", "",
                                        "1.2", "54.6"]]
    )  # fmt: skip
    result = run("observations", str(good), "--agency", "no-such-agency")
    assert result.exit_code == 2 and "--agency" in result.output
    assert "Traceback" not in result.output

    outsider = make_user(make_agency("health", "Import test"), "practitioner")
    result = run("observations", str(good), "--agency", agency, "--as", outsider.email)
    assert result.exit_code == 2 and "--as" in result.output

    no_category = write_csv(tmp_path / "cols.csv", ["occurred_at", "note", "lon"], [["x", "", "1"]])
    result = run("observations", str(no_category), "--agency", agency)
    assert result.exit_code == 1
    assert "missing columns: category, lat" in result.output

    for name, content in (("empty.csv", ""), ("header.csv", ",".join(COLUMNS) + "\n")):
        (tmp_path / name).write_text(content)
        result = run("observations", str(tmp_path / name), "--agency", agency)
        assert result.exit_code == 0 and "nothing to import" in result.output


# -- police.uk ----------------------------------------------------------------------------

POLICE_COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip


def police_row(
    crime_id: str, lon: str, lat: str, location: str = "On or near Gull Lane"
) -> list[str]:
    """An invented street-level crime row (the format of data.police.uk; none of its data)."""
    return [crime_id, "2026-09", "Wrenmouth Police", "Wrenmouth Police", lon, lat, location,
            "X99000001", "Wrenmouth 001A", "Violence and sexual offences",
            "Under investigation", ""]  # fmt: skip


def test_police_uk_counts_skips_and_a_second_import_adds_nothing(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any]
) -> None:
    ids = [uuid.uuid4().hex * 2 for _ in range(4)]  # 64 hex digits, like police.uk's
    rows = [
        police_row(ids[0], "1.151234", "54.571234"),
        police_row(ids[1], "1.2", "54.6"),
        police_row(ids[2], "1.249876", "54.629876"),
        police_row(ids[3], "", ""),  # no coordinates
        police_row(uuid.uuid4().hex * 2, "1.52", "54.6"),  # outside the service area
        police_row(ids[1], "1.2", "54.6"),  # the same Crime ID again
    ]
    path = write_csv(tmp_path / "2026-09-wrenmouth-street.csv", POLICE_COLUMNS, rows)
    last_entry = owner_conn.execute("SELECT max(id) FROM audit_log").fetchone()

    first = run("police-uk", str(path))

    assert first.exit_code == 0, first.output
    assert "6 rows, 3 loaded" in first.output
    assert "1 row without coordinates (police.uk could not place them) skipped" in (first.output)
    assert "1 row outside the service area (CSMAP_SERVICE_AREA) skipped" in first.output
    assert "1 row already loaded (same Crime ID, or the same row without one) skipped" in (
        first.output
    )
    stored = owner_conn.execute(
        "SELECT crime_id, month::text, ST_X(geom), ST_Y(geom) FROM reference_crime"
        " WHERE crime_id = ANY(%s) ORDER BY ST_X(geom)",
        (ids,),
    ).fetchall()
    assert [(r[0], r[1]) for r in stored] == [
        (ids[0], "2026-09-01"), (ids[1], "2026-09-01"), (ids[2], "2026-09-01")
    ]  # fmt: skip
    assert stored[0][2:] == pytest.approx((1.151234, 54.571234))
    entries = owner_conn.execute(
        "SELECT details FROM audit_log WHERE action = 'reference.imported' AND id > %s",
        last_entry,
    ).fetchall()
    assert entries == [({"count": 3, "rejected": 0},)]

    second = run("police-uk", str(path))

    assert second.exit_code == 0, second.output
    assert "6 rows, 0 loaded" in second.output
    assert "4 rows already loaded (same Crime ID, or the same row without one) skipped" in (
        second.output
    )
    assert owner_conn.execute(
        "SELECT count(*) FROM reference_crime WHERE crime_id = ANY(%s)", (ids,)
    ).fetchone() == (3,)


def test_police_uk_rows_without_crime_id_are_deduplicated_on_content(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any]
) -> None:
    """Anti-social behaviour has no Crime ID. Two identical rows in one file are two incidents
    snapped to one place (both load); importing the file again loads neither (it loaded both
    before migration 0014); a later file with a third identical row adds just that one."""
    place = f"On or near Invented Row {uuid.uuid4().hex[:8]}"
    asb = police_row("", "1.21", "54.61", place)
    asb[9] = "Anti-social behaviour"
    other = [*asb[:10], "", "A different outcome"]  # same place, different content
    path = write_csv(tmp_path / "asb.csv", POLICE_COLUMNS, [asb, asb, other])

    def stored() -> int:
        owner_conn.rollback()
        row = owner_conn.execute(
            "SELECT count(*) FROM reference_crime WHERE location = %s AND crime_id IS NULL",
            (place,),
        ).fetchone()
        return int(row[0]) if row else -1

    first = run("police-uk", str(path))
    assert first.exit_code == 0, first.output
    assert "3 rows, 3 loaded" in first.output and stored() == 3

    again = run("police-uk", str(path))
    assert again.exit_code == 0, again.output
    assert "3 rows, 0 loaded" in again.output
    assert "3 rows already loaded (same Crime ID, or the same row without one) skipped" in (
        again.output
    )
    assert stored() == 3

    later = write_csv(tmp_path / "asb-later.csv", POLICE_COLUMNS, [asb, asb, asb])
    result = run("police-uk", str(later))
    assert result.exit_code == 0 and "3 rows, 1 loaded" in result.output
    assert stored() == 4


def test_police_uk_bad_rows_are_reported_by_row_number_and_the_rest_loads(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any]
) -> None:
    """A file mixing good rows, rows without coordinates, short and long rows, a bad month,
    an unknown crime type and bad coordinates: the good rows load, each bad one is in the
    report with its row number (the header is row 1), and rows without coordinates are
    counted on their own line, not as errors."""
    tag = uuid.uuid4().hex[:8]
    good = [police_row(f"{tag}-good-{i}", f"1.2{i}", "54.6", f"On or near {tag}") for i in range(3)]
    bad_month = police_row(f"{tag}-month", "1.2", "54.6")
    bad_month[1] = "2026-13"
    alien = police_row(f"{tag}-alien", "1.2", "54.6")
    alien[9] = "Alien abduction"
    swapped = police_row(f"{tag}-swapped", "54.6", "181")
    words = police_row(f"{tag}-words", "east", "54.6")
    rows: list[list[str]] = [
        good[0],                                       # row 2
        police_row(f"{tag}-nowhere", "", ""),          # row 3: no coordinates
        police_row(f"{tag}-short", "1.2", "54.6")[:9],  # row 4: 9 fields
        [*good[1], "a thirteenth field"],              # row 5: 13 fields
        bad_month,                                     # row 6
        alien,                                         # row 7
        swapped,                                       # row 8: latitude 181
        words,                                         # row 9
        good[2],                                       # row 10
        police_row(f"{tag}-nowhere-2", "", ""),        # row 11: no coordinates
    ]  # fmt: skip
    path = write_csv(tmp_path / "mixed.csv", POLICE_COLUMNS, rows)
    report = tmp_path / "report.csv"
    last_entry = owner_conn.execute("SELECT max(id) FROM audit_log").fetchone()

    result = run("police-uk", str(path), "--errors", str(report))

    assert result.exit_code == 0, result.output
    assert "10 rows, 2 loaded" in result.output
    assert "2 rows without coordinates (police.uk could not place them) skipped" in result.output
    assert f"6 rows with problems, listed in {report} skipped" in result.output
    problems = [(r["row"], r["column"], r["problem"]) for r in read_report(report)]
    assert problems == [
        ("4", "(row)", "has 9 fields; police.uk rows have 12"),
        ("5", "(row)", "has 13 fields; police.uk rows have 12"),
        ("6", "Month", "'2026-13' is not a month (YYYY-MM)"),
        ("7", "Crime type", "'Alien abduction' is not a police.uk crime type"),
        ("8", "Latitude", "must be between -90 and 90"),
        ("9", "Longitude", "'east' is not a number"),
    ]
    assert {r["file"] for r in read_report(report)} == {"mixed.csv"}
    owner_conn.rollback()
    loaded = owner_conn.execute(
        "SELECT crime_id FROM reference_crime WHERE crime_id LIKE %s ORDER BY crime_id",
        (f"{tag}-%",),
    ).fetchall()
    assert [r[0] for r in loaded] == [f"{tag}-good-0", f"{tag}-good-2"]
    entries = owner_conn.execute(
        "SELECT details FROM audit_log WHERE action = 'reference.imported' AND id > %s",
        last_entry,
    ).fetchall()
    assert entries == [({"count": 2, "rejected": 6},)]


def test_police_uk_wrong_format_is_a_clean_error(run: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "other.csv", ["Crime ID", "Month", "Longitude"], [["a", "b", ""]])
    result = run("police-uk", str(path))
    assert result.exit_code == 1
    assert "missing columns: Reported by, Falls within, Latitude" in result.output


def test_vocabulary_is_configurable_from_the_cli(
    test_db: dict[str, str], app: Any, owner_conn: Any
) -> None:
    from click.testing import CliRunner

    from webmap.cli import main as cli

    runner = CliRunner()
    env = {"CSMAP_OWNER_DATABASE_URL": test_db["owner"]}
    code = f"line_phone_{uuid.uuid4().hex[:8]}"  # a category of this test's own
    added = runner.invoke(
        cli, ["vocab", "add", "categories", code, "Deal line phone seen"], env=env
    )
    assert added.exit_code == 0, added.output
    assert owner_conn.execute(
        "SELECT active FROM category WHERE code = %s", (code,)
    ).fetchone() == (True,)
    bad = runner.invoke(cli, ["vocab", "add", "categories", "Bad Code", "x"], env=env)
    assert bad.exit_code != 0 and "CODE" in bad.output
    off = runner.invoke(cli, ["vocab", "disable", "categories", code], env=env)
    assert off.exit_code == 0
    owner_conn.rollback()
    assert owner_conn.execute(
        "SELECT active FROM category WHERE code = %s", (code,)
    ).fetchone() == (False,)


def test_police_uk_api_gives_every_column_by_bbox_and_month_in_pages_without_a_cap(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any], signed_in: Any
) -> None:
    """25 rows in a small box: pages of 7 follow next links to exactly the rows the database
    holds for that box and month (numberMatched included), each with all 12 columns; a limit
    over the maximum is refused, naming it, never quietly cut."""
    tag = uuid.uuid4().hex[:8]
    rows = []
    for i in range(25):
        row = police_row(f"{tag}-{i:02d}", f"1.2{i:02d}1", "54.6011", f"On or near {tag}")
        row[11] = f"context {i}"
        rows.append(row)
    rows[3][0] = ""  # an anti-social behaviour row: no Crime ID
    rows[3][9] = "Anti-social behaviour"
    path = write_csv(tmp_path / "api.csv", POLICE_COLUMNS, rows)
    assert run("police-uk", str(path)).exit_code == 0
    bbox = "1.2000,54.6000,1.2300,54.6020"
    owner_conn.rollback()
    expected = owner_conn.execute(
        "SELECT count(*) FROM reference_crime WHERE month = '2026-09-01'"
        " AND geom && ST_MakeEnvelope(1.2, 54.6, 1.23, 54.602, 4326)"
    ).fetchone()
    client = signed_in("health", "analyst")

    seen: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/reference/police-uk?month=2026-09&bbox={bbox}&limit=7"
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        page = resp.get_json()
        assert page["numberMatched"] == expected[0] if expected else -1
        assert page["numberReturned"] == len(page["features"]) <= 7
        seen += [f["properties"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].removeprefix("http://localhost") if nxt else None

    assert expected and len(seen) == expected[0] >= 25
    ours = sorted((p for p in seen if p["location"] == f"On or near {tag}"),
                  key=lambda p: p["context"])  # fmt: skip
    assert len(ours) == 25
    assert ours[0] == {
        "crime_id": f"{tag}-00", "month": "2026-09", "reported_by": "Wrenmouth Police",
        "falls_within": "Wrenmouth Police", "longitude": 1.2001, "latitude": 54.6011,
        "location": f"On or near {tag}", "lsoa_code": "X99000001",
        "lsoa_name": "Wrenmouth 001A", "crime_type": "Violence and sexual offences",
        "last_outcome_category": "Under investigation", "context": "context 0",
    }  # fmt: skip
    assert [p["crime_id"] for p in ours if p["crime_type"] == "Anti-social behaviour"] == [None]

    too_many = client.get("/api/v1/reference/police-uk?limit=10001")
    assert too_many.status_code == 422
    assert too_many.get_json()["error"]["fields"] == {"limit": "a whole number, 1 to 10,000"}
    for query, name in (("bbox=1.3,54.6,1.2,54.7", "bbox"), ("month=2026-13", "month"),
                        ("offset=-1", "offset"), ("lsoa=E01", "lsoa")):  # fmt: skip
        resp = client.get(f"/api/v1/reference/police-uk?{query}")
        assert resp.status_code == 422 and name in resp.get_json()["error"]["fields"], query
