"""Bulk import of an agency's observations from CSV or GeoJSON (``csmap import observations``).

Every row is checked with the recording API's own rules (:class:`ObservationIn`, the geometry
checks, a known active category, a context of the same agency); problems are collected per row
as (row, field, problem) and never quote a note or a coordinate. The good rows then go in with
one ``COPY`` into a temporary table and ``INSERT … SELECT`` into ``observation`` and
``record_version`` (our tables force row-level security, which ``COPY FROM`` refuses), plus a
single audit entry, in the caller's transaction.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
import shapely
from pydantic import ValidationError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.cells import cell_keys
from spatial.geometry_checks import BBox, GeometryProblem, check_geometry
from webmap.features.recording.schemas import YP_REF, ObservationIn
from webmap.infra import audit
from webmap.infra.errors import ImportProblem as ImportProblem

#: Row properties an import may carry (the geometry comes from coordinates or the feature).
FIELDS = ("occurred_at", "category", "note", "young_person_refs", "source_grade", "info_grade",
          "context_id")  # fmt: skip
REQUIRED = ("occurred_at", "category")
COORDINATES = (("lon", "lat"), ("easting", "northing"))
LONDON = ZoneInfo("Europe/London")
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?")
_INTEGER = re.compile(r"[+-]?\d+")
_COORDINATE_TEXT = re.compile(r" at -?[\d.]+(e-?\d+)?, -?[\d.]+(e-?\d+)?")
CHUNK = 5_000


@dataclass(frozen=True, order=True)
class RowError:
    row: int  # 1-based data row of a CSV, or 1-based feature of a GeoJSON file
    field: str
    problem: str


@dataclass
class Source:
    """The rows of an input file: raw property values and a GeoJSON geometry each."""

    coordinate_field: str  # what geometry problems are reported against
    props: list[dict[str, Any]]
    geometries: list[Any]
    #: Problems found while reading coordinates, by row index (0-based).
    coordinate_errors: dict[int, list[RowError]] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Lookups:
    categories: frozenset[str]
    contexts: frozenset[uuid.UUID]


@dataclass(frozen=True)
class GoodRow:
    data: ObservationIn
    lon: float
    lat: float


@dataclass
class Checked:
    good: list[GoodRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


# -- reading --------------------------------------------------------------------------------


def read_source(path: Path, crs: int | None, projected_srid: int) -> Source:
    """Read a CSV (``.csv``) or GeoJSON (``.geojson``/``.json``) file; ImportProblem if the
    file as a whole is unusable. An empty file gives an empty source."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, crs, projected_srid)
    if suffix in (".geojson", ".json"):
        if crs is not None:
            raise ImportProblem("--crs applies to easting/northing CSV files only")
        return _read_geojson(path)
    raise ImportProblem(f"{path.name}: expected a .csv, .geojson or .json file")


def _read_csv(path: Path, crs: int | None, projected_srid: int) -> Source:
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        return Source("", [], [])
    except UnicodeDecodeError:
        raise ImportProblem(f"{path.name} is not UTF-8 text: save it as CSV UTF-8") from None
    except pd.errors.ParserError as exc:
        # pandas' messages give a line number and a field count, never the content.
        raise ImportProblem(f"cannot read {path.name} as CSV: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if frame.empty:
        return Source("", [], [])
    columns = set(frame.columns)
    pairs = [p for p in COORDINATES if columns & set(p)]
    missing = [c for c in REQUIRED if c not in columns]
    if len(pairs) > 1:
        raise ImportProblem("give either lon,lat or easting,northing columns, not both")
    pair = pairs[0] if pairs else COORDINATES[0]
    missing += [c for c in pair if c not in columns]
    if missing:
        extra = " (or easting, northing)" if not pairs else ""
        raise ImportProblem(f"missing columns: {', '.join(missing)}{extra}")
    if pair == COORDINATES[0] and crs is not None:
        raise ImportProblem("--crs applies to easting/northing columns, not lon/lat")

    errors: dict[int, list[RowError]] = {}
    numbers = []
    for name in pair:
        raw = frame[name].str.strip()
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        for i in np.flatnonzero(np.isnan(values)):
            problem = "is required" if raw.iat[int(i)] == "" else "is not a number"
            errors.setdefault(int(i), []).append(RowError(int(i) + 1, name, problem))
        numbers.append(values)
    x, y = numbers
    if pair == COORDINATES[1]:
        x, y = _to_wgs84(x, y, crs or projected_srid)
    ok = ~(np.isnan(x) | np.isnan(y))
    geometries: list[Any] = [
        {"type": "Point", "coordinates": [lon, lat]} if good else None
        for lon, lat, good in zip(x.tolist(), y.tolist(), ok.tolist(), strict=True)
    ]
    known = {*FIELDS, *pair}
    return Source(
        "/".join(pair),
        cast(
            list[dict[str, Any]],
            frame[[c for c in frame.columns if c in FIELDS]].to_dict("records"),
        ),
        geometries,
        errors,
        [c for c in frame.columns if c not in known],
    )


def _to_wgs84(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], epsg: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    try:
        source = CRS.from_epsg(epsg)
    except CRSError:
        raise ImportProblem(f"EPSG:{epsg} is not a known coordinate reference system") from None
    transformer = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _read_geojson(path: Path) -> Source:
    raw = path.read_text(encoding="utf-8-sig")
    if not raw.strip():
        return Source("geometry", [], [])
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"cannot read {path.name} as JSON (line {exc.lineno})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportProblem("expected a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise ImportProblem("the FeatureCollection has no 'features' list")
    props: list[dict[str, Any]] = []
    geometries: list[Any] = []
    errors: dict[int, list[RowError]] = {}
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors[i] = [RowError(i + 1, "feature", "is not a GeoJSON Feature")]
            feature = {}
        properties = feature.get("properties")
        props.append(properties if isinstance(properties, dict) else {})
        geometries.append(feature.get("geometry"))
    return Source("geometry", props, geometries, errors)


# -- validation -----------------------------------------------------------------------------


def load_lookups(session: Session, agency_id: uuid.UUID) -> Lookups:
    """Active categories, and the agency's live contexts (as the owner: RLS shows all)."""
    categories = session.execute(text("SELECT code FROM category WHERE active")).scalars()
    contexts = session.execute(
        text("SELECT id FROM context WHERE agency_id = :a AND deleted_at IS NULL"),
        {"a": agency_id},
    ).scalars()
    return Lookups(frozenset(categories), frozenset(contexts))


def spans(total: int, size: int = CHUNK) -> list[tuple[int, int]]:
    """(start, stop) of each validation chunk, for a progress bar."""
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def validate(
    source: Source, start: int, stop: int, lookups: Lookups, service_area: BBox
) -> Checked:
    """Check rows ``start``..``stop`` (0-based, stop excluded) of ``source``."""
    out = Checked()
    for i in range(start, stop):
        row_errors = list(source.coordinate_errors.get(i, []))
        good = _check_row(source, i, lookups, service_area, row_errors)
        if row_errors:
            out.errors.extend(row_errors)
        elif good is not None:
            out.good.append(good)
    return out


def _check_row(
    source: Source, i: int, lookups: Lookups, area: BBox, errors: list[RowError]
) -> GoodRow | None:
    row = i + 1
    data, failed = _model_input(source.props[i], row, errors)
    already = set(failed)  # reported while reading the value; pydantic would only repeat it
    geometry = source.geometries[i]
    model: ObservationIn | None = None
    try:
        model = ObservationIn.model_validate(
            {**data, "geometry": geometry if isinstance(geometry, dict) else {}}
        )
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "row"
            if name == "geometry" or name in already:
                continue  # check_geometry says what is wrong with a geometry, below
            failed.add(name)
            errors.append(RowError(row, name, _pydantic_problem(name, err["msg"], data)))
    category = data.get("category")
    if (
        "category" not in failed
        and isinstance(category, str)
        and category.strip() not in lookups.categories
    ):
        errors.append(RowError(row, "category", f"'{category.strip()}' is not a known category"))
    context_id = data.get("context_id")
    if "context_id" not in failed and context_id is not None:
        problem = _context_problem(context_id, lookups)
        if problem:
            errors.append(RowError(row, "context_id", problem))
    if isinstance(data.get("note"), str) and "\x00" in data["note"]:
        errors.append(RowError(row, "note", "contains a NUL character"))
    if source.geometries[i] is None and i in source.coordinate_errors:
        return None  # the coordinates were already reported as missing or not numbers
    try:
        point = check_geometry(source.geometries[i], ("Point",), area)
    except GeometryProblem as problem:
        errors.append(RowError(row, source.coordinate_field, _geometry_problem(str(problem))))
        return None
    if model is None or errors:
        return None
    return GoodRow(model, float(point.x), float(point.y))  # type: ignore[attr-defined]


def _model_input(
    props: Mapping[str, Any], row: int, errors: list[RowError]
) -> tuple[dict[str, Any], set[str]]:
    """A row's properties as ``ObservationIn`` input: empty cells left out (so defaults and
    'Field required' apply as in the API), refs split on ';', integer text made an integer,
    a local London time made aware."""
    data: dict[str, Any] = {}
    failed: set[str] = set()
    for name in FIELDS:
        value = props.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            text_value = value.strip()
            if name == "young_person_refs":
                value = [r.strip() for r in text_value.split(";") if r.strip()]
            elif name == "info_grade" and _INTEGER.fullmatch(text_value):
                value = int(text_value)
            elif name == "occurred_at" and _LOCAL_TIME.fullmatch(text_value):
                try:
                    # As ISO text with its offset: the API's model takes dates only as text.
                    value = london_time(text_value).isoformat()
                except ValueError as exc:
                    errors.append(RowError(row, name, str(exc)))
                    failed.add(name)
                    continue
        data[name] = value
    return data, failed


def london_time(value: str) -> datetime:
    """'YYYY-MM-DD HH:MM[:SS]' as Europe/London wall-clock time; a time the clocks skip or
    repeat is refused rather than guessed."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a valid date and time") from None
    aware = naive.replace(tzinfo=LONDON)
    if aware.utcoffset() != naive.replace(tzinfo=LONDON, fold=1).utcoffset():
        back = aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
        what = "does not exist" if back != naive else "happens twice"
        raise ValueError(
            f"{what} in Europe/London (the clocks change): give it with its UTC offset, "
            f"e.g. {naive.isoformat()}+00:00"
        )
    return aware


def _pydantic_problem(name: str, message: str, data: Mapping[str, Any]) -> str:
    message = message.removeprefix("Value error, ")
    if name == "young_person_refs" and "pseudonymous" in message:
        # The API's message quotes the offending reference, which may be a child's name.
        refs = data.get(name)
        bad = [str(n) for n, r in enumerate(refs or [], 1) if not YP_REF.match(str(r))]
        message = re.sub(r"^'.*' (?=is not a pseudonymous)", "", message, flags=re.S)
        return f"item {', '.join(bad)} {message}" if bad else message
    return message


def _context_problem(raw: Any, lookups: Lookups) -> str | None:
    try:
        context_id = uuid.UUID(str(raw).strip())
    except ValueError:
        return "is not an id"
    if context_id not in lookups.contexts:
        return "there is no such context in your agency's records"
    return None


def _geometry_problem(message: str) -> str:
    """A geometry problem without the row's coordinates (the service area's are kept)."""
    if message.startswith("is not valid GeoJSON"):
        return "is not valid GeoJSON"
    return _COORDINATE_TEXT.sub("", message)


# -- the error report -----------------------------------------------------------------------


def write_report(path: Path, errors: Sequence[RowError]) -> None:
    """``row,field,problem`` per problem, in row order: never a note or a coordinate."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(("row", "field", "problem"))
        for err in sorted(errors):
            writer.writerow((err.row, err.field, err.problem))


# -- loading --------------------------------------------------------------------------------

STAGE_COLUMNS = ("agency_id", "recorded_by", "occurred_at", "geom", "category", "note",
                 "context_id", "young_person_refs", "source_grade", "info_grade", "cell_r7",
                 "cell_r8", "cell_r9")  # fmt: skip
#: What the API writes as the created version's changed fields (sorted values + geometry).
_FIELDS_BASE = sorted(set(FIELDS) - {"context_id"})


def observation_frame(
    good: Sequence[GoodRow], agency_id: uuid.UUID, user_id: uuid.UUID | None
) -> pd.DataFrame:
    """The good rows as the staging table's columns; geometry and cell keys vectorised."""
    lon = np.fromiter((g.lon for g in good), dtype=np.float64, count=len(good))
    lat = np.fromiter((g.lat for g in good), dtype=np.float64, count=len(good))
    cells = cell_keys(lon, lat)
    points = shapely.set_srid(shapely.points(lon, lat), 4326)
    rows = [g.data for g in good]
    return pd.DataFrame(
        {
            "agency_id": [str(agency_id)] * len(rows),
            "recorded_by": [str(user_id) if user_id else None] * len(rows),  # None, never NaN
            "occurred_at": [r.occurred_at.astimezone(UTC).isoformat() for r in rows],
            "geom": shapely.to_wkb(points, hex=True, include_srid=True),
            "category": [r.category for r in rows],
            "note": [r.note for r in rows],
            "context_id": [str(uuid.UUID(r.context_id)) if r.context_id else None for r in rows],
            "young_person_refs": [list(r.young_person_refs) for r in rows],
            "source_grade": [r.source_grade for r in rows],
            "info_grade": [r.info_grade for r in rows],
            "cell_r7": cells[7],
            "cell_r8": cells[8],
            "cell_r9": cells[9],
        },
        columns=list(STAGE_COLUMNS),
    )


def insert_observations(
    session: Session,
    frame: pd.DataFrame,
    agency_id: uuid.UUID,
    user_id: uuid.UUID | None,
) -> int:
    """Stage ``frame`` with COPY, insert the observations and their 'created' versions, and
    audit the import once. In the session's transaction: the caller commits."""
    conn = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
    columns = ", ".join(STAGE_COLUMNS)
    conn.execute(
        "CREATE TEMP TABLE import_stage (LIKE observation INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    with conn.cursor().copy(f"COPY import_stage ({columns}) FROM STDIN") as copy:
        # Plain Python values column by column (psycopg escapes notes; no CSV quoting pitfalls).
        for row in zip(*(frame[c].tolist() for c in frame.columns), strict=True):
            copy.write_row(row)
    inserted = conn.execute(
        f"INSERT INTO observation (id, {columns}) SELECT id, {columns} FROM import_stage"  # noqa: S608
    ).rowcount
    conn.execute(
        "INSERT INTO record_version (object_type, object_id, agency_id, version, action,"
        " changed_fields, changed_by)"
        " SELECT 'observation', id, agency_id, 1, 'created',"
        " CASE WHEN context_id IS NULL THEN %s::text[] ELSE %s::text[] END, recorded_by"
        " FROM import_stage",
        ([*_FIELDS_BASE, "geometry"], [*sorted(FIELDS), "geometry"]),
    )
    conn.execute("DROP TABLE import_stage")
    audit.record(
        session,
        "observation.imported",
        object_type="observation",
        subject_agency_id=agency_id,
        user_id=user_id,
        agency_id=agency_id if user_id else None,
        details={"count": inserted, "via": "import"},
    )
    return inserted
