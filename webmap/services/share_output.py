"""What a share publishes, for every output path: the map layer, boundary totals and exports.

The database hands over only redaction's inputs (``csmap_share_facts`` and friends: res-9
cells, times, salted hashes of young people's references, contexts' points, vehicles' marks)
for the share's whole cells and periods; :mod:`spatial.redaction` does all the suppression,
rounding, snapping and masking. Every response, export and briefing pack of a share is built
from one :class:`Publication`, so there is one place to get redaction right.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import (
    ContextFact,
    ObservationFact,
    PublishedCell,
    PublishedContext,
    TierProfile,
    boundary_totals,
    contexts_geojson,
    precision_statement,
    publish_cells,
    publish_contexts,
    publish_vehicle_marks,
    to_geojson,
)
from webmap.errors import ApiError
from webmap.models_sharing import Share
from webmap.services.layers import add_months
from webmap.services.sharing import share_profile

TIER_NAMES = {"B": "tier B (partner)", "C": "tier C (briefing)"}


@dataclass(frozen=True)
class Publication:
    """Everything one share shows at one moment, already redacted."""

    share_id: str
    source: str
    tier: str
    profile: TierProfile
    precision: str
    expires_at: datetime
    periods: str
    cells: list[PublishedCell]
    contexts: list[PublishedContext]
    vehicle_marks: list[str]

    @property
    def label(self) -> str:
        """How the layer is named on a recipient's map: its source and tier."""
        return f"{self.source} · {TIER_NAMES[self.tier]}"

    def metadata(self) -> dict[str, Any]:
        return {
            "share_id": self.share_id,
            "source": self.source,
            "tier": self.tier,
            "label": self.label,
            "precision": self.precision,
            "periods": self.periods,
            "expires_at": self.expires_at.isoformat(),
        }


def period_text(share: Share) -> str:
    start = share.period_from.strftime("%Y-%m")
    if share.period_to is None:
        return f"from {start}, ongoing"
    return f"{start} to {add_months(share.period_to, -1).strftime('%Y-%m')}"


def publish(session: Session, share: Share, now: datetime | None = None) -> Publication:
    """Redact the share's facts as of ``now``: the only way a share's data leaves."""
    now = now or datetime.now(UTC)
    profile = share_profile(share)
    sid = {"s": str(share.id)}
    facts = [
        ObservationFact(cell, at, "", tuple(keys), "", "", None, 0.0, 0.0)
        for cell, at, keys in session.execute(
            text("SELECT cell_r9, occurred_at, person_keys FROM csmap_share_facts(:s)"), sid
        )
    ]
    cells = publish_cells(facts, profile, now)
    allowed = {
        int(c)
        for (c,) in session.execute(text("SELECT cell FROM share_cell WHERE share_id = :s"), sid)
    }
    # Belt and braces: the SQL selects whole share cells, so nothing else can be published.
    if any(c.cell not in allowed for c in cells):
        raise RuntimeError("a published cell lies outside the share")
    contexts = publish_contexts(
        (
            ContextFact(str(i), kind, name, public, lon, lat, "")
            for i, kind, name, public, lon, lat in session.execute(
                text("SELECT * FROM csmap_share_contexts(:s)"), sid
            )
        ),
        profile,
    )
    marks = publish_vehicle_marks(
        session.execute(text("SELECT * FROM csmap_share_vehicle_marks(:s)"), sid).scalars(),
        profile,
    )
    source = session.execute(text("SELECT csmap_share_source_name(:s)"), sid).scalar_one()
    return Publication(
        share_id=str(share.id),
        source=source,
        tier=share.tier,
        profile=profile,
        precision=precision_statement(profile),
        expires_at=share.expires_at,
        periods=period_text(share),
        cells=cells,
        contexts=contexts,
        vehicle_marks=marks,
    )


def layer_geojson(pub: Publication) -> dict[str, Any]:
    """The share's map layer: published cells, shared contexts and masked marks, labelled."""
    doc = to_geojson(pub.cells, pub.profile)
    doc["share"] = pub.metadata()
    doc["periods_published"] = sorted({c.period for c in pub.cells})
    doc["contexts"] = contexts_geojson(pub.contexts)
    doc["vehicle_marks"] = pub.vehicle_marks
    return doc


def area_totals(session: Session, pub: Publication, set_slug: str) -> dict[str, Any]:
    """The share's published cells summed by the current areas of one boundary set.

    Each area's total is the sum of the *published* cells assigned to it (by cell centre),
    so two boundary sets shown side by side come from the same cells and can be subtracted
    from each other only into sums of published cells. ``partial`` marks an area of which
    the share covers only some cells.
    """
    if any(isinstance(c.count, str) for c in pub.cells):
        raise ApiError(
            422, "invalid", "set: a banded share shows cells, not boundary totals", {"set": ""}
        )
    rows = session.execute(
        text(
            "SELECT a.id, a.code, a.name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom,"
            " 0.0001), 6), array_agg(ca.cell), bool_and(sc.cell IS NOT NULL)"
            " FROM boundary_set b JOIN area a ON a.boundary_set_id = b.id"
            " JOIN cell_area ca ON ca.area_id = a.id AND ca.res = :r"
            " LEFT JOIN share_cell sc ON sc.share_id = :s AND sc.cell = ca.cell"
            " WHERE b.slug = :slug AND b.is_current"
            " GROUP BY a.id HAVING bool_or(sc.cell IS NOT NULL) ORDER BY a.code"
        ),
        {"r": pub.profile.resolution, "s": pub.share_id, "slug": set_slug},
    ).all()
    name = session.execute(
        text("SELECT name FROM boundary_set WHERE slug = :s AND is_current"), {"s": set_slug}
    ).scalar_one_or_none()
    if name is None:
        raise ApiError(404, "not_found", "No such boundary set.")
    assignment = {int(cell): str(area_id) for area_id, *_, cells, _ in rows for cell in cells}
    totals = boundary_totals(pub.cells, assignment)
    features = []
    for area_id, code, area_name, geometry, _cells, whole in rows:
        per_period = {p: n for (a, p), n in totals.items() if a == str(area_id)}
        features.append(
            {
                "type": "Feature",
                "id": str(area_id),
                "geometry": json.loads(geometry),
                "properties": {
                    "code": code,
                    "name": area_name,
                    "totals": per_period,
                    "partial": not whole,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "set": {"slug": set_slug, "name": name},
        "share": pub.metadata(),
        "periods_published": sorted({c.period for c in pub.cells}),
        "features": features,
    }


# -- exports --------------------------------------------------------------------------------

EXPORT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}


EXPORT_FIELDS = ["share_id", "source", "tier", "period", "cell", "count", "precision", "expires_at"]


def _rows(pub: Publication) -> list[dict[str, Any]]:
    """One row per published cell-period, each carrying the share's terms."""
    meta = pub.metadata()
    return [
        {
            "share_id": meta["share_id"],
            "source": meta["source"],
            "tier": meta["tier"],
            "period": c.period,
            "cell": str(c.cell),
            "count": c.count,
            "precision": meta["precision"],
            "expires_at": meta["expires_at"],
        }
        for c in pub.cells
    ]


def export(pub: Publication, fmt: str) -> bytes:
    """The share as GeoJSON, CSV or GeoPackage; each carries share id, tier, precision and
    expiry (GeoJSON in its header, CSV and GeoPackage on every row)."""
    if fmt == "geojson":
        return json.dumps(layer_geojson(pub), ensure_ascii=False).encode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        writer.writerows(_rows(pub))
        return out.getvalue().encode()
    if fmt == "gpkg":
        return _geopackage(pub)
    raise ApiError(404, "not_found", "No such export format.")


def _geopackage(pub: Publication) -> bytes:
    import geopandas as gpd
    from shapely.geometry import Point, shape

    doc = to_geojson(pub.cells, pub.profile)
    rows = _rows(pub)
    geoms = [shape(f["geometry"]) for f in doc["features"]]
    cells = gpd.GeoDataFrame(rows, columns=EXPORT_FIELDS, geometry=geoms, crs="EPSG:4326")
    meta = pub.metadata()
    ctx_rows = [
        {
            "share_id": meta["share_id"],
            "tier": meta["tier"],
            "kind": c.kind,
            "name": c.name,
            "precise": c.precise,
            "precision": meta["precision"],
            "expires_at": meta["expires_at"],
        }
        for c in pub.contexts
    ]
    ctx = gpd.GeoDataFrame(
        ctx_rows,
        columns=["share_id", "tier", "kind", "name", "precise", "precision", "expires_at"],
        geometry=[Point(c.lon, c.lat) for c in pub.contexts],
        crs="EPSG:4326",
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "share.gpkg"
        cells.to_file(path, layer="cells", driver="GPKG", engine="pyogrio")
        ctx.to_file(path, layer="contexts", driver="GPKG", engine="pyogrio")
        return path.read_bytes()
