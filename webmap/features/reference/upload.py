"""A boundary set uploaded by a system admin (admin page or API): the file's bytes through the
same reading, checking and import as ``csmap import boundaries``, audited, with a report of
every repair, rejection and area outside the service area. Every problem names its field."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from spatial.vocabulary import BOUNDARY_SET_KINDS
from webmap.features.reference.boundaries import (
    BoundaryImportError,
    ImportReport,
    import_boundaries,
    read_boundaries,
)
from webmap.infra import audit
from webmap.infra.errors import Invalid

SUFFIXES: Final = (".geojson", ".json", ".gpkg", ".zip")


def import_upload(
    session: Session,
    filename: str,
    data: bytes,
    form: Mapping[str, str],
    service_area: tuple[float, float, float, float],
) -> ImportReport:
    """Import an uploaded file as a new generation (the caller's unit of work commits)."""
    name = (form.get("name") or "").strip()
    kind = (form.get("kind") or "").strip()
    problems: dict[str, str] = {}
    suffix = Path(filename or "").suffix.lower()
    if not data:
        problems["file"] = "choose a file: GeoJSON, GeoPackage or a zipped Shapefile"
    elif suffix not in SUFFIXES:
        problems["file"] = f"must be {', '.join(SUFFIXES)} (a Shapefile zipped with its parts)"
    if not 3 <= len(name) <= 200:
        problems["name"] = "give the set a name of 3 to 200 characters"
    if kind not in BOUNDARY_SET_KINDS:
        problems["kind"] = "choose what kind of areas these are"
    if problems:
        raise Invalid.of(problems)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            frame = read_boundaries(path, form.get("crs") or None)
            report = import_boundaries(
                session,
                frame,
                name,
                kind,
                (form.get("code_field") or "").strip() or None,
                (form.get("name_field") or "").strip() or None,
                service_area,
            )
        except BoundaryImportError as exc:
            raise Invalid.field("file", str(exc)) from None
    audit.record(
        session,
        "boundary_set.imported",
        object_type="boundary_set",
        object_ids=[report.set_slug],
        details={
            "count": report.imported,
            "repaired": len(report.repaired),
            "rejected": len(report.rejected),
        },
    )
    return report


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "boundary_set": report.set_slug,
        "generation": report.generation,
        "imported": report.imported,
        "repaired": [{"code": c, "why": w} for c, w in report.repaired],
        "rejected": [{"code": c, "why": w} for c, w in report.rejected],
        "outside_service_area": report.outside,
        "warnings": (
            [f"{len(report.outside)} area(s) lie outside the service area and hold no cell"]
            if report.outside
            else []
        ),
    }


def generation_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "generation": row["generation"],
        "name": row["name"],
        "current": row["is_current"],
        "map_default": row["map_default"],
        "areas": row["areas"],
        "created_at": row["created_at"].isoformat(),
        "retired_at": row["retired_at"].isoformat() if row["retired_at"] else None,
    }


def int_args(args: Mapping[str, str], *names: str) -> list[int]:
    """Whole-number query parameters, each required; 422 naming the first that is not."""
    out = []
    for name in names:
        raw = args.get(name, "")
        if not raw.isdigit():
            raise Invalid.field(name, "a whole number (a generation)")
        out.append(int(raw))
    return out
