"""What a share shows, for every output path: the map layer, boundary totals, tiles, exports,
links and briefing packs — all read from the publication ledger, never from live rows.

A share shows the *publications* (:mod:`webmap.features.sharing.publication`) of its source
agency and tier that lie wholly inside its periods, cut to its whole cells: the database hands
over only those rows (``csmap_share_published_cells`` and friends), already redacted by
:mod:`spatial.redaction` when they were written. Every response, export and briefing pack of a
share is built from one :class:`Publication`, so there is one place to get redaction right,
and a re-fetch gives the same bytes for as long as the share lasts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import (
    PublishedCell,
    PublishedContext,
    TierProfile,
    boundary_totals,
    contexts_geojson,
    heatmap_points,
    precision_statement,
    to_geojson,
)
from spatial.redaction_profiles import LONDON
from webmap.features.layers.heatmap import density_geojson
from webmap.features.layers.queries import add_months
from webmap.features.sharing import publication
from webmap.features.sharing.profiles import profile_from_json, share_profile
from webmap.infra.errors import Invalid, NotFound
from webmap.models.sharing import Share

TIER_NAMES = {"B": "tier B (partner)", "C": "tier C (briefing)"}
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass(frozen=True)
class Release:
    """One publication a share shows: its period, the profile it was redacted with, when it
    was published and its ledger hash."""

    period: str
    start: date
    end: date
    profile: TierProfile
    published_at: datetime
    sha256: str

    @property
    def precision(self) -> str:
        return precision_statement(self.profile)

    def published_text(self) -> str:
        day = self.published_at.astimezone(LONDON)
        return f"published {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"

    def metadata(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "published_at": self.published_at.isoformat(),
            "published": self.published_text(),
            "precision": self.precision,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Publication:
    """Everything one share shows, read from the ledger (already redacted)."""

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
    releases: tuple[Release, ...] = ()
    #: Whether the releases cover every day of the share's periods (an ongoing share: up to
    #: the latest release).
    complete: bool = True

    @property
    def label(self) -> str:
        """How the layer is named on a recipient's map: its source and tier."""
        return f"{self.source} · {TIER_NAMES[self.tier]}"

    @property
    def publication_note(self) -> str:
        """When the numbers were published, and that they will not change."""
        if not self.releases:
            return "Nothing published yet: a period is published once it has closed."
        last = self.releases[-1]
        kind = self.profile.period
        return (
            f"Each {kind} is published once, after it has closed, and never changes;"
            f" latest {last.period}, {last.published_text()}."
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "share_id": self.share_id,
            "source": self.source,
            "tier": self.tier,
            "label": self.label,
            "precision": self.precision,
            "published": self.publication_note,
            "periods": self.periods,
            "expires_at": self.expires_at.isoformat(),
        }


def period_text(share: Share) -> str:
    """The share's periods as people read dates: "December 2025 to November 2026"."""

    def name(d: date) -> str:
        return f"{_MONTH_NAMES[d.month - 1]} {d.year}"

    if share.period_to is None:
        return f"from {name(share.period_from)}, ongoing"
    return f"{name(share.period_from)} to {name(add_months(share.period_to, -1))}"


def publish_due(
    share: Share, session_factory: Callable[[], AbstractContextManager[Session]]
) -> list[str]:
    """Write the share's periods that are due and not yet in the ledger (see
    :func:`webmap.features.sharing.publication.publish_due`)."""
    return publication.publish_due(
        session_factory, share.from_agency_id, share.tier, share.period_from, share.period_to
    )


def publish(session: Session, share: Share) -> Publication:
    """The share's publication, read from the ledger: the only way a share's data leaves."""
    sid = {"s": str(share.id)}
    releases = tuple(
        Release(period, start, end, profile_from_json(share.tier, profile), at, digest)
        for _id, period, start, end, profile, _res, at, digest in session.execute(
            text("SELECT * FROM csmap_share_publications(:s)"), sid
        )
    )
    cells = [
        PublishedCell(int(cell), period, band if band is not None else int(n))
        for period, cell, n, band in session.execute(
            text("SELECT * FROM csmap_share_published_cells(:s)"), sid
        )
    ]
    contexts = [
        PublishedContext(str(ref), kind, name, lon, lat, precise)
        for ref, kind, name, lon, lat, precise in session.execute(
            text("SELECT * FROM csmap_share_published_contexts(:s)"), sid
        )
    ]
    marks = list(
        session.execute(text("SELECT * FROM csmap_share_published_marks(:s)"), sid).scalars()
    )
    source = session.execute(text("SELECT csmap_share_source_name(:s)"), sid).scalar_one()
    profile = releases[-1].profile if releases else share_profile(share)
    cursor = share.period_from
    for r in releases:
        cursor = r.end if r.start == cursor else cursor
    complete = bool(releases) and cursor == (share.period_to or releases[-1].end)
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
        releases=releases,
        complete=complete,
    )


def tile_period(session: Session, share: Share, asked: str | None) -> str:
    """The published period a shared tile draws: the one asked for, else the latest."""
    periods = [
        p
        for (p,) in session.execute(
            text("SELECT period FROM csmap_share_publications(:s)"), {"s": str(share.id)}
        )
    ]
    if asked is None:
        return periods[-1] if periods else ""
    if asked not in periods:
        raise Invalid("period: not a published period of this share", {"period": asked})
    return asked


def heatmap(
    pub: Publication,
    period: str | None,
    bandwidth: str,
    service_area: tuple[float, float, float, float],
    srid: int,
) -> dict[str, Any]:
    """A server-side kernel density surface of one published period: its only input is the
    published cells' centres and counts (a client-side heatmap of points would be a leak)."""
    periods = [r.period for r in pub.releases]
    chosen = period or (periods[-1] if periods else "")
    if period is not None and period not in periods:
        raise Invalid("period: not a published period of this share", {"period": period})
    if not bandwidth.isdigit() or not 100 <= int(bandwidth) <= 2000:
        raise Invalid("bandwidth: metres, 100 to 2000", {"bandwidth": "metres, 100 to 2000"})
    cells = [c for c in pub.cells if c.period == chosen]
    if any(isinstance(c.count, str) for c in cells):
        raise Invalid(
            "period: a banded share is shown by cells, not as a heatmap", {"period": chosen}
        )
    lons, lats, weights = heatmap_points(cells)
    body = density_geojson(lons, lats, weights, service_area, srid, float(bandwidth))
    return {**body, "share": pub.metadata(), "period": chosen}


def cells_geojson(pub: Publication, cells: list[PublishedCell] | None = None) -> dict[str, Any]:
    """Published cells as GeoJSON, each period drawn with the profile it was published with."""
    chosen = pub.cells if cells is None else cells
    doc = to_geojson([], pub.profile)
    for release in pub.releases:
        part = [c for c in chosen if c.period == release.period]
        if part:
            doc["features"] += to_geojson(part, release.profile)["features"]
    return doc


def layer_geojson(pub: Publication) -> dict[str, Any]:
    """The share's map layer: published cells, shared contexts and masked marks, labelled."""
    doc = cells_geojson(pub)
    doc["share"] = pub.metadata()
    doc["periods_published"] = sorted({c.period for c in pub.cells})
    doc["releases"] = [r.metadata() for r in pub.releases]
    doc["contexts"] = contexts_geojson(pub.contexts)
    doc["vehicle_marks"] = pub.vehicle_marks
    return doc


def _resolutions(pub: Publication) -> list[int]:
    return sorted({r.profile.resolution for r in pub.releases} or {pub.profile.resolution})


def area_totals(session: Session, pub: Publication, set_slug: str) -> dict[str, Any]:
    """The share's published cells summed by the current areas of one boundary set.

    Each area's total is the sum of the *published* cells assigned to it (by cell centre),
    so two boundary sets shown side by side come from the same cells and can be subtracted
    from each other only into sums of published cells. ``partial`` marks an area of which
    the share covers only some cells.
    """
    if any(isinstance(c.count, str) for c in pub.cells):
        raise Invalid("set: a banded share shows cells, not boundary totals", {"set": ""})
    rows = session.execute(
        text(
            "SELECT a.id, a.code, a.name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom,"
            " 0.0001), 6), array_agg(ca.cell), bool_and(sc.cell IS NOT NULL)"
            " FROM boundary_set b JOIN area a ON a.boundary_set_id = b.id"
            " JOIN cell_area ca ON ca.area_id = a.id AND ca.res = ANY(:r)"
            " LEFT JOIN share_cell sc ON sc.share_id = :s AND sc.cell = ca.cell"
            " WHERE b.slug = :slug AND b.is_current"
            " GROUP BY a.id HAVING bool_or(sc.cell IS NOT NULL) ORDER BY a.code"
        ),
        {"r": _resolutions(pub), "s": pub.share_id, "slug": set_slug},
    ).all()
    name = session.execute(
        text("SELECT name FROM boundary_set WHERE slug = :s AND is_current"), {"s": set_slug}
    ).scalar_one_or_none()
    if name is None:
        raise NotFound("No such boundary set.")
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


# -- provenance -----------------------------------------------------------------------------


def provenance_features(pub: Publication) -> list[dict[str, Any]]:
    """The published cells as GeoJSON features, each carrying its provenance — share id,
    source, tier, period, precision, when the period was published, when the share expires —
    so that a GIS client (GDAL, QGIS) that sees only features still sees the terms. Counts
    are integers; a banded tier C count is its band label in ``band``."""
    meta = pub.metadata()
    releases = {r.period: r for r in pub.releases}
    out = []
    for f in cells_geojson(pub)["features"]:
        props = f["properties"]
        release = releases[props["period"]]
        count = props["count"]
        out.append(
            {
                "type": "Feature",
                "id": f"{props['cell']}-{props['period']}",
                "geometry": f["geometry"],
                "properties": {
                    "share_id": meta["share_id"],
                    "source": meta["source"],
                    "tier": meta["tier"],
                    "period": props["period"],
                    "cell": props["cell"],
                    "count": count if isinstance(count, int) else None,
                    "band": count if isinstance(count, str) else None,
                    "precision": release.precision,
                    "published_at": release.published_at.isoformat(),
                    "expires_at": meta["expires_at"],
                },
            }
        )
    return out
