"""OGC API – Features (Part 1 Core, GeoJSON, OpenAPI 3.0) over what the user may see on the map.

A user's collections are exactly what they may see: their agency's contexts and cell counts
(tier A, under row-level security), each share they receive (tier B/C, read from the
publication ledger through :mod:`webmap.features.sharing.output`, the one path shared data
leaves by) and the boundary sets. Every feature carries its provenance: share id, source, tier,
period and precision. No Flask here: the routes give the base URL and the query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import urlencode

import shapely.geometry
from sqlalchemy.orm import Session

from spatial.redaction_periods import add_months
from webmap.access.actor import Actor
from webmap.access.policy import can
from webmap.features.layers.queries import precision
from webmap.features.ogc import queries
from webmap.features.ogc.queries import Page
from webmap.features.sharing import output as share_output
from webmap.features.sharing import presenter
from webmap.infra.errors import Invalid, NotFound
from webmap.infra.values import parse_bbox

CONFORMANCE: Final = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 10_000
GEOJSON: Final = "application/geo+json"
PARAMS: Final = frozenset({"bbox", "datetime", "limit", "offset", "f"})


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    kind: str  # own-cells | own-contexts | share | share-contexts | boundaries
    key: str = ""  # the share id or the boundary set's slug


# -- query parameters -----------------------------------------------------------------------


def _datetime(raw: str) -> datetime | None:
    if raw in {"", ".."}:
        return None
    try:
        value = datetime.fromisoformat(raw if "T" in raw else raw + "T00:00:00+00:00")
    except ValueError:
        raise Invalid.field(
            "datetime", "an RFC 3339 instant or interval, e.g. 2026-05-01/2026-06-30"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_page(args: Mapping[str, str]) -> tuple[Page, tuple[datetime | None, datetime | None]]:
    """bbox, datetime, limit and offset, each checked; unknown parameters are refused."""
    unknown = sorted(set(args) - PARAMS)
    if unknown:
        raise Invalid.field(unknown[0], "is not a parameter of this collection's items")
    bbox = parse_bbox(args["bbox"]) if args.get("bbox") else None
    when = args.get("datetime", "")
    start, _, end = when.partition("/")
    lo, hi = _datetime(start), (_datetime(end) if "/" in when else _datetime(start))
    if lo and hi and hi < lo:
        raise Invalid.field("datetime", "the interval ends before it starts")
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        offset = int(args.get("offset", 0))
    except ValueError:
        raise Invalid.field("limit", "whole numbers only (limit and offset)") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid.field("limit", f"1 to {MAX_LIMIT}")
    if offset < 0:
        raise Invalid.field("offset", "0 or more")
    months = (
        date(lo.year, lo.month, 1) if lo else None,
        date(hi.year, hi.month, 1) if hi else None,
    )
    return Page(bbox, months[0], months[1], limit, offset), (lo, hi)


# -- collections ----------------------------------------------------------------------------


def collections(session: Session, actor: Actor) -> list[Collection]:
    """Exactly what this user may see on the map, as collections."""
    out: list[Collection] = []
    if can(actor.role, "layer", "read", "own"):
        out.append(
            Collection(
                "own-cell-counts",
                "Our observations per cell and month (tier A)",
                "Your agency's own observations counted per grid cell (about 0.74 km²) and"
                " calendar month, all categories: the panel's counts layer.",
                "own-cells",
            )
        )
    if can(actor.role, "context", "read", "own"):
        out.append(
            Collection(
                "own-contexts",
                "Our contexts (tier A)",
                "Your agency's places and spaces at their true position.",
                "own-contexts",
            )
        )
    if can(actor.role, "shared_layer", "read", "shared_with"):
        for s in presenter.overview(session, actor)["received"]:
            if s["state"] != "active":
                continue
            terms = f"{s['label']}; {s['periods']}; agreement {s['agreement_ref']}"
            if "observations" in s["layers"]:
                out.append(Collection(f"share-{s['id']}", terms, s["precision"], "share", s["id"]))
            if "contexts" in s["layers"]:
                out.append(
                    Collection(
                        f"share-{s['id']}-contexts",
                        f"{terms} — places",
                        "Public places at their true position; others at their cell's centre.",
                        "share-contexts",
                        s["id"],
                    )
                )
    for slug, name, kind in queries.current_sets(session):
        out.append(
            Collection(f"boundaries-{slug}", name, f"Boundary set ({kind})", "boundaries", slug)
        )
    return out


def collection(session: Session, actor: Actor, collection_id: str) -> Collection:
    for c in collections(session, actor):
        if c.id == collection_id:
            return c
    raise NotFound("No such collection, or not one you may read.")


def _links(base: str, c: Collection) -> list[dict[str, str]]:
    return [
        {"href": f"{base}/collections/{c.id}", "rel": "self", "type": "application/json"},
        {"href": f"{base}/collections/{c.id}/items", "rel": "items", "type": GEOJSON},
    ]


def collection_doc(base: str, c: Collection, bounds: list[float]) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bounds], "crs": CRS84}},
        "links": _links(base, c),
    }


# -- items ----------------------------------------------------------------------------------


def _overlaps(period: tuple[date, date], when: tuple[datetime | None, datetime | None]) -> bool:
    lo, hi = when
    start = datetime(period[0].year, period[0].month, period[0].day, tzinfo=UTC)
    end = datetime(period[1].year, period[1].month, period[1].day, tzinfo=UTC)
    return (lo is None or end > lo) and (hi is None or start <= hi)


def _in_bbox(geometry: dict[str, Any], bbox: tuple[float, float, float, float] | None) -> bool:
    return bbox is None or shapely.geometry.shape(geometry).intersects(shapely.geometry.box(*bbox))


def _share_features(
    session: Session,
    actor: Actor,
    c: Collection,
    publish_with: Callable[[], AbstractContextManager[Session]],
) -> tuple[list[dict[str, Any]], dict[str, tuple[date, date]]]:
    pub = presenter.read_publication(session, c.key, actor, "share.view", "ogc", publish_with)
    periods = {r.period: (r.start, r.end) for r in pub.releases}
    if c.kind == "share":
        return share_output.provenance_features(pub), periods
    meta = pub.metadata()
    latest = pub.releases[-1].period if pub.releases else ""
    features = [
        {
            "type": "Feature",
            "id": f["id"],
            "geometry": f["geometry"],
            "properties": {
                **f["properties"],
                "share_id": meta["share_id"],
                "source": meta["source"],
                "tier": meta["tier"],
                "period": latest,
                "precision": meta["precision"],
                "expires_at": meta["expires_at"],
            },
        }
        for f in share_output.contexts_geojson(pub.contexts)["features"]
    ]
    return features, periods


def items(
    session: Session,
    actor: Actor,
    c: Collection,
    page: Page,
    when: tuple[datetime | None, datetime | None],
    publish_with: Callable[[], AbstractContextManager[Session]],
    agency_name: str,
) -> tuple[int, list[dict[str, Any]]]:
    """(how many match, this page's features), every feature with its provenance."""
    tier_a = {
        "share_id": None,
        "source": agency_name,
        "tier": "A",
        "expires_at": None,
    }
    if c.kind == "own-cells":
        total, rows = queries.cell_months(session, actor.agency_id, page)
        sentence = precision(8)
        return total, [
            {
                "type": "Feature",
                "id": f"{cell}-{month:%Y-%m}",
                "geometry": geometry,
                "properties": {
                    "cell": str(cell),
                    "period": f"{month:%Y-%m}",
                    "count": n,
                    **tier_a,
                    "precision": sentence,
                },
            }
            for cell, month, n, geometry in rows
        ]
    if c.kind == "own-contexts":
        total, found = queries.contexts(session, actor.agency_id, page)
        exact = "Exact positions: your agency's own records."
        return total, [
            {"type": "Feature", **f, "properties": {**f["properties"], **tier_a, "period": None,
                                                     "precision": exact}}
            for f in found
        ]  # fmt: skip
    if c.kind == "boundaries":
        total, found = queries.areas(session, c.key, page)
        return total, [{"type": "Feature", **f} for f in found]
    features, periods = _share_features(session, actor, c, publish_with)
    chosen = [
        f
        for f in features
        if _in_bbox(f["geometry"], page.bbox)
        and (
            f["properties"]["period"] not in periods
            or _overlaps(periods[f["properties"]["period"]], when)
        )
    ]
    return len(chosen), chosen[page.offset : page.offset + page.limit]


def item(
    session: Session,
    actor: Actor,
    c: Collection,
    feature_id: str,
    publish_with: Callable[[], AbstractContextManager[Session]],
    agency_name: str,
) -> dict[str, Any]:
    """One feature by its id, or 404."""
    everything = Page(None, None, None, MAX_LIMIT, 0)
    if c.kind == "own-contexts":
        try:
            key = uuid.UUID(feature_id)
        except ValueError:
            raise NotFound("No such feature.") from None
        _, found = queries.contexts(session, actor.agency_id, everything, key)
        if found:
            _, shown = items(session, actor, c, everything, (None, None), publish_with, agency_name)
            return next(f for f in shown if f["id"] == feature_id)
        raise NotFound("No such feature.")
    if c.kind == "boundaries":
        _, found = queries.areas(session, c.key, everything, feature_id)
        if not found:
            raise NotFound("No such feature.")
        return {"type": "Feature", **found[0]}
    offset = 0
    while True:
        page = Page(None, None, None, MAX_LIMIT, offset)
        total, shown = items(session, actor, c, page, (None, None), publish_with, agency_name)
        for f in shown:
            if str(f["id"]) == feature_id:
                return f
        offset += MAX_LIMIT
        if offset >= total:
            raise NotFound("No such feature.")


def items_doc(
    base: str, c: Collection, args: Mapping[str, str], page: Page, total: int,
    features: list[dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    """The items answer: a GeoJSON FeatureCollection with OGC's counts and paging links."""
    url = f"{base}/collections/{c.id}/items"

    def at(offset: int) -> str:
        query = {k: v for k, v in args.items() if k not in {"offset", "f"}}
        return f"{url}?{urlencode({**query, 'limit': page.limit, 'offset': offset})}"

    links = [
        {"href": at(page.offset), "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": "application/json"},
    ]
    if page.offset + page.limit < total:
        links.append({"href": at(page.offset + page.limit), "rel": "next", "type": GEOJSON})
    if page.offset > 0:
        links.append({"href": at(max(0, page.offset - page.limit)), "rel": "prev", "type": GEOJSON})
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": total,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }


def landing(base: str) -> dict[str, Any]:
    return {
        "title": "csmap — OGC API – Features",
        "description": "The layers you may see on the csmap map, for GIS clients. Sign in with"
        " a personal access token: Authorization: Bearer <token>.",
        "links": [
            {"href": base, "rel": "self", "type": "application/json"},
            {
                "href": f"{base}/api",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json"},
        ],
    }


def month_after(d: date) -> date:
    return add_months(d, 1)
