"""The police.uk street-level crime layer (``csmap import police-uk``).

Reference data every agency may see, loaded from data.police.uk's published 12-column CSVs.
Rows without coordinates (police.uk publishes some) and rows outside the service area are
skipped and counted; a Crime ID already loaded is skipped (unique partial index
``uq_reference_crime_id``), while rows with an empty Crime ID (anti-social behaviour has none)
are always inserted: so importing a file twice adds its anti-social behaviour rows twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
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


@dataclass
class PoliceFile:
    """One file, read and filtered: what will be loaded and what was skipped, and why."""

    name: str
    rows: int
    no_coordinates: int
    outside: int
    malformed: int
    frame: pd.DataFrame  # LOAD_COLUMNS, ready to COPY
    inserted: int = 0

    @property
    def already_loaded(self) -> int:
        """Rows skipped because their Crime ID was already loaded (or repeated in the file)."""
        return len(self.frame) - self.inserted


def read_police_file(path: Path, service_area: BBox) -> PoliceFile:
    """Read a street-level crime CSV; ImportProblem if it is not in the published format."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        return PoliceFile(path.name, 0, 0, 0, 0, pd.DataFrame(columns=list(LOAD_COLUMNS)))
    except UnicodeDecodeError:
        raise ImportProblem(f"{path.name} is not UTF-8 text") from None
    except pd.errors.ParserError as exc:
        raise ImportProblem(f"cannot read {path.name} as CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ImportProblem(
            f"{path.name} is not a police.uk street-level crime file: missing columns: "
            + ", ".join(missing)
        )
    lon = pd.to_numeric(frame["Longitude"].str.strip(), errors="coerce").to_numpy(np.float64)
    lat = pd.to_numeric(frame["Latitude"].str.strip(), errors="coerce").to_numpy(np.float64)
    located = np.isfinite(lon) & np.isfinite(lat)
    min_lon, min_lat, max_lon, max_lat = service_area
    inside = located & (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)
    month = pd.to_datetime(frame["Month"].str.strip(), format="%Y-%m", errors="coerce")
    well_formed = month.notna().to_numpy() & (frame["Crime type"].str.strip() != "").to_numpy()
    for column, (_, limit) in TEXT_COLUMNS.items():
        if limit is not None:
            well_formed &= (frame[column].str.strip().str.len() <= limit).to_numpy()
    keep = inside & well_formed

    kept = frame[keep]
    out = pd.DataFrame(index=kept.index)
    for column, (target, _) in TEXT_COLUMNS.items():
        values = kept[column].str.strip()
        out[target] = values.where(values != "", None)  # empty → NULL (never a duplicate)
    out["month"] = month[keep].dt.date
    points = shapely.set_srid(shapely.points(lon[keep], lat[keep]), 4326)
    out["geom"] = shapely.to_wkb(points, hex=True, include_srid=True)
    return PoliceFile(
        name=path.name,
        rows=len(frame),
        no_coordinates=int((~located).sum()),
        outside=int((located & ~inside).sum()),
        malformed=int((inside & ~well_formed).sum()),
        frame=out[list(LOAD_COLUMNS)],
    )


def insert_reference_crimes(session: Session, files: Sequence[PoliceFile]) -> int:
    """Load the files (COPY into a staging table, INSERT … ON CONFLICT DO NOTHING), set each
    file's ``inserted``, and audit once. In the session's transaction: the caller commits."""
    conn = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
    columns = ", ".join(LOAD_COLUMNS)
    conn.execute(
        "CREATE TEMP TABLE police_stage (LIKE reference_crime INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    for file in files:
        if file.frame.empty:
            continue
        conn.execute("TRUNCATE police_stage")
        with conn.cursor().copy(f"COPY police_stage ({columns}) FROM STDIN") as copy:
            for row in zip(*(file.frame[c].tolist() for c in LOAD_COLUMNS), strict=True):
                copy.write_row(row)
        file.inserted = conn.execute(
            f"INSERT INTO reference_crime ({columns}) SELECT {columns} FROM police_stage"  # noqa: S608
            " ON CONFLICT (crime_id) WHERE crime_id IS NOT NULL AND crime_id <> '' DO NOTHING"
        ).rowcount
    conn.execute("DROP TABLE police_stage")
    total = sum(f.inserted for f in files)
    audit.record(
        session, "reference.imported", object_type="reference_crime", details={"count": total}
    )
    return total
