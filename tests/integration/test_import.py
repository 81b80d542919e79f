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
    assert "1 row without coordinates skipped" in first.output
    assert "1 row outside the service area (CSMAP_SERVICE_AREA) skipped" in first.output
    assert "1 row with a Crime ID already loaded skipped" in first.output
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
    assert entries == [({"count": 3},)]

    second = run("police-uk", str(path))

    assert second.exit_code == 0, second.output
    assert "6 rows, 0 loaded" in second.output
    assert "4 rows with a Crime ID already loaded skipped" in second.output
    assert owner_conn.execute(
        "SELECT count(*) FROM reference_crime WHERE crime_id = ANY(%s)", (ids,)
    ).fetchone() == (3,)


def test_police_uk_rows_without_crime_id_are_always_inserted(
    run: Any, tmp_path: Path, owner_conn: psycopg.Connection[Any]
) -> None:
    place = f"On or near Invented Row {uuid.uuid4().hex[:8]}"
    rows = [police_row("", "1.21", "54.61", place), police_row("", "1.21", "54.61", place)]
    path = write_csv(tmp_path / "asb.csv", POLICE_COLUMNS, rows)

    result = run("police-uk", str(path))

    assert result.exit_code == 0, result.output
    assert owner_conn.execute(
        "SELECT count(*), count(crime_id) FROM reference_crime WHERE location = %s", (place,)
    ).fetchone() == (2, 0)


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
