"""The police.uk street-level crime layer (``csmap import police-uk``).

Reference data every agency may see, loaded from data.police.uk's published 12-column CSVs.
The file is read row by row, so one bad row never refuses the file: a row with too few or too
many fields, a bad Month, a crime type police.uk does not publish, a coordinate that is not a
number or a field over its length is skipped and reported with its row number
(:class:`RowProblem`, written to a report file by the CLI). Rows without coordinates are a
normal part of police.uk data (crimes it could not place): they are counted on their own, as
are rows outside the service area.

A Crime ID already loaded is not loaded again (unique index ``uq_reference_crime_id``). Rows
without one (anti-social behaviour) are keyed on their content and occurrence by the database's
``csmap_police_row_key`` (migration 0014), so importing a file twice loads them once, while two
identical rows in one file (two incidents snapped to the same place) both load.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

import psycopg
import shapely
from sqlalchemy.orm import Session

from spatial.geometry_checks import BBox
from webmap.infra import audit
from webmap.infra.errors import ImportProblem

COLUMNS = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
           "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
           "Context")  # fmt: skip
#: police.uk column → (reference_crime column, its length limit).
TEXT_COLUMNS: dict[str, tuple[str, int | None]] = {
    "Crime ID": ("crime_id", 100),
    "Reported by": ("reported_by", 200),
    "Falls within": ("falls_within", 200),
    "Location": ("location", 300),
    "LSOA code": ("lsoa_code", 20),
    "LSOA name": ("lsoa_name", 200),
    "Crime type": ("crime_type", 100),
    "Last outcome category": ("outcome", 300),
    "Context": ("context", None),
}
LOAD_COLUMNS = (*(target for target, _ in TEXT_COLUMNS.values()), "month", "geom")

#: The crime types data.police.uk publishes (its ``crime-categories`` list), and the two it
#: used before May 2013, which older archive files still carry.
CRIME_TYPES = frozenset({
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson",
    "Drugs", "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
    "Violent crime", "Public disorder and weapons",
})  # fmt: skip

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: How much of a bad value a report quotes (enough to find it, never a whole field).
_QUOTE = 40


@dataclass(frozen=True)
class RowProblem:
    """Why one row of one file was not loaded. ``row`` counts the header as row 1, as a
    spreadsheet does."""

    file: str
    row: int
    column: str
    problem: str


@dataclass
class PoliceFile:
    """One file, read and checked: the rows to load and what was skipped, and why."""

    name: str
    rows: int = 0
    no_coordinates: int = 0
    outside: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    load: list[tuple[Any, ...]] = field(default_factory=list)  # LOAD_COLUMNS + row number
    inserted: int = 0

    @property
    def rejected(self) -> int:
        """Rows skipped for a problem (a row with two problems counts once)."""
        return len({p.row for p in self.problems})

    @property
    def already_loaded(self) -> int:
        """Rows skipped because they were already loaded (same Crime ID, or same content)."""
        return len(self.load) - self.inserted


def _quote(value: str) -> str:
    return repr(value if len(value) <= _QUOTE else value[:_QUOTE] + "…")


def check_row(
    cells: Sequence[str], service_area: BBox
) -> tuple[list[tuple[str, str]], str, tuple[float, float] | None]:
    """Check one 12-field row: its problems as (column, problem), then where it is
    (``"located"``, ``"no coordinates"`` or ``"outside"``) and its (lon, lat).

    >>> area = (-1.0, 50.0, 1.0, 52.0)
    >>> row = ["", "2026-09", "Force", "Force", "0.1", "51.5", "On or near X", "E01", "N",
    ...        "Drugs", "", ""]
    >>> check_row(row, area)
    ([], 'located', (0.1, 51.5))
    >>> check_row(row[:4] + ["", ""] + row[6:], area)
    ([], 'no coordinates', None)
    >>> bad = row[:1] + ["2026-13"] + row[2:9] + ["Alien abduction"] + row[10:]
    >>> [column for column, _ in check_row(bad, area)[0]]
    ['Month', 'Crime type']
    """
    values = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
    problems: list[tuple[str, str]] = []
    if not _MONTH.match(values["Month"]):
        problems.append(("Month", f"{_quote(values['Month'])} is not a month (YYYY-MM)"))
    crime_type = values["Crime type"]
    if crime_type not in CRIME_TYPES:
        problems.append(
            ("Crime type", f"{_quote(crime_type)} is not a police.uk crime type")
            if crime_type
            else ("Crime type", "is empty")
        )
    for column, (_, limit) in TEXT_COLUMNS.items():
        if limit is not None and len(values[column]) > limit:
            problems.append((column, f"is longer than {limit} characters"))
    lon_text, lat_text = values["Longitude"], values["Latitude"]
    if not lon_text and not lat_text:
        return problems, "no coordinates", None
    point: list[float] = []
    for column, text, bound in (("Longitude", lon_text, 180), ("Latitude", lat_text, 90)):
        try:
            number = float(text)
        except ValueError:
            problems.append((column, f"{_quote(text)} is not a number" if text else "is empty"))
            continue
        if not (math.isfinite(number) and -bound <= number <= bound):
            problems.append((column, f"must be between -{bound} and {bound}"))
        point.append(number)
    if len(point) < 2:
        return problems, "located", None
    lon, lat = point
    min_lon, min_lat, max_lon, max_lat = service_area
    inside = min_lon <= lon <= max_lon and min_lat <= lat <= max_lat
    return problems, "located" if inside else "outside", (lon, lat)


def _rows(handle: TextIO, name: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(handle)
    try:
        header = [c.strip() for c in next(reader, [])]
    except csv.Error as exc:
        raise ImportProblem(f"cannot read {name} as CSV: {exc}") from None
    if header:
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ImportProblem(
                f"{name} is not a police.uk street-level crime file: missing columns: "
                + ", ".join(missing)
            )
        if header[: len(COLUMNS)] != list(COLUMNS) or len(header) != len(COLUMNS):
            raise ImportProblem(
                f"{name}: the header must be police.uk's 12 columns in their published order"
            )
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, [f"\0{exc}"]  # reported as that row's problem
            continue
        if cells:  # a blank line (a trailing newline) is not a row
            yield reader.line_num, cells


def read_police_file(path: Path, service_area: BBox) -> PoliceFile:
    """Read and check a street-level crime CSV. ImportProblem only if the file as a whole is
    not one (not UTF-8, not CSV, not police.uk's header); a bad row is reported, not fatal."""
    file = PoliceFile(path.name)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row, cells in _rows(handle, path.name):
                file.rows += 1
                _take(file, row, cells, service_area)
    except UnicodeDecodeError:
        raise ImportProblem(f"{path.name} is not UTF-8 text") from None
    return file


def _take(file: PoliceFile, row: int, cells: list[str], service_area: BBox) -> None:
    if len(cells) == 1 and cells[0].startswith("\0"):
        file.problems.append(RowProblem(file.name, row, "(row)", cells[0][1:]))
        return
    if len(cells) != len(COLUMNS):
        file.problems.append(
            RowProblem(file.name, row, "(row)", f"has {len(cells)} fields; police.uk rows have 12")
        )
        return
    problems, where, point = check_row(cells, service_area)
    for column, problem in problems:
        file.problems.append(RowProblem(file.name, row, column, problem))
    if problems:
        return
    if where == "no coordinates":
        file.no_coordinates += 1
        return
    if where == "outside" or point is None:
        file.outside += 1
        return
    values = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
    texts = [values[column] or None for column in TEXT_COLUMNS]  # empty → NULL
    geom = shapely.to_wkb(shapely.set_srid(shapely.Point(point), 4326), hex=True, include_srid=True)
    file.load.append((*texts, values["Month"] + "-01", geom, row))


def write_report(path: Path, files: Sequence[PoliceFile]) -> int:
    """Write every row problem as CSV (file, row, column, problem); the number written."""
    problems = [p for f in files for p in f.problems]
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(("file", "row", "column", "problem"))
        out.writerows((p.file, p.row, p.column, p.problem) for p in problems)
    return len(problems)


_KEY = """csmap_police_row_key(month, reported_by, falls_within, location, lsoa_code,
  lsoa_name, crime_type, outcome, context, geom,
  row_number() OVER (PARTITION BY crime_id, month, reported_by, falls_within, location, lsoa_code,
    lsoa_name, crime_type, outcome, context, geom ORDER BY line))"""


def insert_reference_crimes(session: Session, files: Sequence[PoliceFile]) -> int:
    """Load the files (COPY into a staging table, INSERT … ON CONFLICT DO NOTHING against
    both unique indexes), set each file's ``inserted``, and audit once. In the session's
    transaction: the caller commits."""
    conn = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
    columns = ", ".join(LOAD_COLUMNS)
    conn.execute(
        "CREATE TEMP TABLE police_stage (LIKE reference_crime INCLUDING DEFAULTS, line int)"
        " ON COMMIT DROP"
    )
    for file in files:
        if not file.load:
            continue
        conn.execute("TRUNCATE police_stage")
        with conn.cursor().copy(f"COPY police_stage ({columns}, line) FROM STDIN") as copy:
            for row in file.load:
                copy.write_row(row)
        file.inserted = conn.execute(
            f"INSERT INTO reference_crime ({columns}, content_key)"  # noqa: S608 - constants
            f" SELECT {columns}, CASE WHEN crime_id IS NULL THEN {_KEY} END"
            " FROM police_stage ORDER BY line ON CONFLICT DO NOTHING"
        ).rowcount
    conn.execute("DROP TABLE police_stage")
    total = sum(f.inserted for f in files)
    audit.record(
        session,
        "reference.imported",
        object_type="reference_crime",
        details={"count": total, "rejected": sum(f.rejected for f in files)},
    )
    return total
