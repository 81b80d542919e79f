"""Building a briefing pack from its share, checking it, rendering it and inspecting the result.

The pack's numbers are the share's tier C :class:`~webmap.features.sharing.output.Publication`
(the one way shared data leaves), its routes and hubs come through
:func:`spatial.redaction.public_place_feature` (the one way a context's geometry leaves), and
its base map is reference data. Before anything is rendered, :func:`disclosure_problems`
re-checks every tier C rule on what is about to be drawn; after, :func:`render_checked`
inspects both outputs for anything the source agency holds that must never reach a pack.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import h3
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import (
    FLOORS,
    ContextFact,
    band_labels,
    cell_totals,
    check_profile,
    public_place_feature,
    to_geojson,
)
from webmap.config import REPO_ROOT
from webmap.features.packs.content import PackContent
from webmap.features.packs.inspect import inspect_html, inspect_pdf
from webmap.features.packs.render import render_html, render_pdf
from webmap.features.reference import queries as geodata
from webmap.features.sharing import output as share_output
from webmap.features.sharing.output import Publication
from webmap.infra.errors import DomainError, Invalid
from webmap.models.packs import BriefingPack
from webmap.models.sharing import Share

VENDOR_DIR: Final = REPO_ROOT / "static" / "vendor"
#: Which context kind each pack field holds.
PLACE_KINDS: Final = {"routes": "transport_route", "hubs": "transport_hub"}
#: Forbidden strings shorter than this are not searched for: two or three characters turn up
#: by chance in any page (inside the reference, a date, a word) and would block every pack.
MIN_FORBIDDEN: Final = 4
_PERIOD: Final = {"quarter": re.compile(r"^\d{4}-Q[1-4]$"), "year": re.compile(r"^\d{4}$")}
_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def invalid(field: str, problem: str) -> DomainError:
    return Invalid(f"{field}: {problem}", {field: problem})


def reference(share_id: uuid.UUID | str) -> str:
    """The short reference printed on every page: traceable to its share, short enough for
    a watermark.

    >>> reference("3fa1b2c4-0000-4000-8000-000000000000")
    'SH-3FA1-B2C4'
    """
    hexed = uuid.UUID(str(share_id)).hex.upper()
    return f"SH-{hexed[:4]}-{hexed[4:8]}"


def period_label(start: date, end: date) -> str:
    """Words for whole months from ``start`` to the day before ``end`` (first of a month).

    >>> period_label(date(2026, 7, 1), date(2026, 10, 1))
    'July to September 2026'
    >>> period_label(date(2025, 10, 1), date(2026, 10, 1))
    'October 2025 to September 2026'
    """
    last_year, last_month = (end.year, end.month - 1) if end.month > 1 else (end.year - 1, 12)
    last = f"{_MONTHS[last_month - 1]} {last_year}"
    if start.year == last_year:
        if start.month == last_month:
            return last
        return f"{_MONTHS[start.month - 1]} to {last}"
    return f"{_MONTHS[start.month - 1]} {start.year} to {last}"


# -- routes and hubs ----------------------------------------------------------------------------


def public_places(session: Session, ids: Iterable[uuid.UUID], field: str) -> list[dict[str, Any]]:
    """GeoJSON features of the chosen routes or hubs, in the order chosen; 422 naming
    ``field`` unless every one is a live public place of the caller's agency of the right
    kind. Read under the caller's row-level security, so another agency's does not exist."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = {
        row.id: row
        for row in session.execute(
            text(
                "SELECT id, kind::text AS kind, coalesce(nullif(route_name, ''), name) AS name,"
                " public_place, ST_X(ST_PointOnSurface(geom)) AS lon,"
                " ST_Y(ST_PointOnSurface(geom)) AS lat, ST_AsText(geom) AS wkt"
                " FROM context WHERE id = ANY(:ids) AND deleted_at IS NULL"
                " AND agency_id = csmap_agency_id()"
            ),
            {"ids": wanted},
        )
    }
    kind = PLACE_KINDS[field]
    label = "route" if field == "routes" else "hub"
    out = []
    for number, context_id in enumerate(wanted, start=1):
        row = rows.get(context_id)
        if row is None or row.kind != kind:
            raise invalid(field, f"item {number} is not one of your agency's {label}s")
        if not row.public_place:
            raise invalid(field, f"item {number} is not a public place, so it cannot be shown")
        fact = ContextFact(str(row.id), row.kind, row.name, True, row.lon, row.lat, row.wkt)
        out.append(public_place_feature(fact))
    return out


def place_options(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The caller's agency's public routes and hubs, (id, name), for the form."""
    rows = session.execute(
        text(
            "SELECT id, kind::text, name FROM context WHERE deleted_at IS NULL AND public_place"
            " AND agency_id = csmap_agency_id() AND kind IN ('transport_route', 'transport_hub')"
            " ORDER BY name"
        )
    ).all()
    return {
        field: [(str(i), name) for i, k, name in rows if k == kind]
        for field, kind in PLACE_KINDS.items()
    }


# -- content ----------------------------------------------------------------------------------


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def pack_cells(pub: Publication) -> tuple[dict[str, Any], str | None]:
    """The cells the pack draws, and the latest period if only that one is drawn.

    Rounded counts are summed per cell over the share's periods — a sum of published cells,
    each already at least k, so it says nothing the publication does not. Bands cannot be
    summed: then only the latest published period is drawn.
    """
    if any(isinstance(c.count, str) for c in pub.cells):
        latest = max((c.period for c in pub.cells), default=None)
        kept = [c for c in pub.cells if c.period == latest]
        return to_geojson(kept, pub.profile), latest
    return to_geojson(cell_totals(pub.cells, pub.periods), pub.profile), None


def _latest_label(period: str) -> str:
    year, q = period.split("-Q") if "-Q" in period else (period, "")
    if not q:
        return year
    first = (int(q) - 1) * 3
    return f"{_MONTHS[first]} to {_MONTHS[first + 2]} {year}"


def build_content(
    session: Session,
    pack: BriefingPack,
    share: Share,
    issued: date,
    session_factory: Callable[[], AbstractContextManager[Session]] | None = None,
) -> tuple[PackContent, Publication]:
    """The pack as it would be issued on ``issued``, from the share's publications in the
    ledger (writing any that are due first, when given a ``session_factory``)."""
    if session_factory is not None:
        share_output.publish_due(share, session_factory)
    pub = share_output.publish(session, share)
    cells, latest = pack_cells(pub)
    assert share.period_to is not None  # a pack's share always ends
    label = period_label(share.period_from, share.period_to)
    precision = pub.precision
    if latest is not None:
        label = _latest_label(latest)
    elif len({c.period for c in pub.cells}) > 1:
        precision += f" Each hexagon's count is the sum of its {pub.profile.period}s' counts."
    content = PackContent(
        share_id=reference(share.id),
        title=pack.title,
        recipient=pack.recipient_name,
        marking=pack.marking,
        issued=issued,
        review=pack.review_on,
        period_label=label,
        precision=precision,
        signs=pack.signs,
        how_to_report=pack.how_to_report,
        cells=cells,
        places=_collection(public_places(session, pack.hub_ids, "hubs")),
        routes=_collection(public_places(session, pack.route_ids, "routes")),
        basemap=json.loads(geodata.basemap_geojson(session)),
    )
    return content, pub


# -- checks -----------------------------------------------------------------------------------


def disclosure_problems(pub: Publication, content: PackContent) -> list[str]:
    """Every tier C rule the pack's data breaks; empty means it may be rendered.

    Published cells: at the profile's resolution and no finer than tier C's floor, periods
    of the profile's kind (a quarter or longer), counts rounded whole numbers of at least k
    or one of the profile's band labels; no vehicle marks; no context that is not a public
    place; and the pack draws only published cells, routes and places with a name and kind.
    Problems say where, never what.
    """
    problems: list[str] = []
    p, floor = pub.profile, FLOORS["C"]
    if pub.tier != "C" or p.tier != "C":
        problems.append("the share is not tier C")
    problems += [f"profile: {problem}" for problem in check_profile(p)]
    if p.resolution > floor.resolution:
        problems.append(f"profile: resolution {p.resolution} is finer than tier C allows")
    pattern = _PERIOD.get(p.period)
    if pattern is None:
        problems.append(f"profile: period {p.period!r} is shorter than a quarter")
    bands = band_labels(p.rounding) if isinstance(p.rounding, tuple) else []
    for n, c in enumerate(pub.cells, start=1):
        if not h3.api.basic_int.is_valid_cell(c.cell) or (
            h3.api.basic_int.get_resolution(c.cell) != p.resolution
        ):
            problems.append(f"cell {n}: not a resolution-{p.resolution} cell")
        if pattern is not None and not pattern.match(c.period):
            problems.append(f"cell {n}: period is not a whole {p.period}")
        if isinstance(c.count, str):
            if c.count not in bands:
                problems.append(f"cell {n}: count is not one of the profile's bands")
        elif isinstance(c.count, bool) or not isinstance(c.count, int):
            problems.append(f"cell {n}: count is not a whole number")
        elif c.count < p.k_observations:
            problems.append(f"cell {n}: count is below k = {p.k_observations}")
        elif isinstance(p.rounding, int) and c.count % p.rounding:
            problems.append(f"cell {n}: count is not rounded to {p.rounding}")
        elif isinstance(p.rounding, tuple) or p.rounding is None:
            problems.append(f"cell {n}: tier C counts must be rounded or banded")
    if not pub.complete:
        problems.append("the share's periods are not all published yet")
    if pub.vehicle_marks:
        problems.append(f"{len(pub.vehicle_marks)} vehicle mark(s) in a tier C publication")
    if any(not ctx.precise for ctx in pub.contexts):
        problems.append("a context that is not a public place is in the publication")
    published = {str(c.cell) for c in pub.cells}
    for n, f in enumerate(content.cells.get("features", []), start=1):
        if str(f.get("properties", {}).get("cell")) not in published:
            problems.append(f"map cell {n}: not a published cell")
    for name, fc in (("route", content.routes), ("place", content.places)):
        for n, f in enumerate(fc.get("features", []), start=1):
            if set(f.get("properties", {})) - {"name", "kind"}:
                problems.append(f"{name} {n}: carries more than a name and kind")
    return problems


def forbidden_strings(session: Session, share: Share) -> set[str]:
    """What the source agency holds in and around the share's cells that no pack may show:
    notes, young people's references and registration marks of its observations there
    (deleted ones too), and the names of its contexts there that are not public places.

    Read under the caller's row-level security: the approver (an analyst or panel chair of
    the source agency) reads their own agency's records.
    """
    params = {"s": str(share.id), "a": str(share.from_agency_id), "r": share.resolution}
    found: set[str] = set()
    rows = session.execute(
        text(
            "SELECT o.note, o.young_person_refs, v.registration_mark, v.registration_normalised"
            " FROM observation o LEFT JOIN vehicle v ON v.id = o.vehicle_id"
            " WHERE o.agency_id = :a AND (CASE :r WHEN 9 THEN o.cell_r9 WHEN 8 THEN o.cell_r8"
            " ELSE o.cell_r7 END) IN (SELECT cell FROM share_cell WHERE share_id = :s)"
        ),
        params,
    )
    for note, refs, mark, normalised in rows:
        found.update([note, mark or "", normalised or "", *(refs or [])])
    found.update(
        name
        for (name,) in session.execute(
            text(
                "SELECT c.name FROM context c WHERE c.agency_id = :a AND NOT c.public_place"
                " AND EXISTS (SELECT 1 FROM share_cell sc JOIN cell g ON g.res = :r"
                " AND g.cell = sc.cell WHERE sc.share_id = :s AND ST_Intersects(g.geom, c.geom))"
            ),
            params,
        )
    )
    return {f for f in found if len("".join(f.split())) >= MIN_FORBIDDEN}


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    html: str


def render_checked(content: PackContent, pub: Publication, forbidden: set[str]) -> Rendered:
    """Render the PDF and the offline page, then inspect both; 422 if anything is wrong."""
    pdf = render_pdf(content)
    html = render_html(content, VENDOR_DIR)
    problems = inspect_pdf(pdf, forbidden)
    problems += inspect_html(html, {str(c.cell) for c in pub.cells}, forbidden)
    if problems:
        message = (
            "the rendered pack failed its self-inspection, so it was not approved"
            f" ({'; '.join(problems)}). If a forbidden string is in the pack's own wording,"
            " change the wording and make the pack again."
        )
        raise Invalid(f"inspection: {message}", {"inspection": message})
    return Rendered(pdf, html)
