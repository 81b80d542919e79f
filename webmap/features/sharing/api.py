"""The sharing API under /api/v1/shares: terms, life cycle, redacted layers and exports.

Every layer, total and export is built by :func:`webmap.features.sharing.output.publish`; these
views only authorise, audit and answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from webmap.access.policy import permission
from webmap.access.session import actor
from webmap.features.layers.tiles import app_cache, cached_shared_tile, shared_key, tilejson
from webmap.features.recording.api import json_object
from webmap.features.sharing import exports, tokens
from webmap.features.sharing import output as share_output
from webmap.features.sharing import presenter as sharing_views
from webmap.features.sharing import service as sharing
from webmap.infra.db import get_session, side_sessions, unit_of_work
from webmap.infra.errors import Invalid, NotFound
from webmap.infra.validation import validated
from webmap.web.context import get_settings
from webmap.web.openapi import BANDWIDTH, GEOJSON, documented, query
from webmap.web.responder import attachment, revalidated

bp = Blueprint("shares_api", __name__, url_prefix="/api/v1")
MVT = "application/vnd.mapbox-vector-tile"
_PERIOD = query(
    "period",
    {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$"},
    "A published period (YYYY-MM, or YYYY-Qn for tier C); default the latest.",
)
_GONE = (410,)


class ShareDecisionIn(BaseModel):
    """Approve or reject a tier C share; a rejection says why."""

    model_config = ConfigDict(extra="forbid")
    approve: StrictBool
    note: Annotated[str, Field(max_length=2000)] = ""


class RevokeIn(BaseModel):
    """Why the share is revoked (kept with it, and in the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=2000)] = ""


@bp.get("/shares")
@permission("share", "read")
@unit_of_work
def list_shares(scope: frozenset[str]) -> Response:
    return jsonify(sharing_views.overview(get_session(), actor()))


@bp.post("/shares")
@documented(body=sharing.ShareIn, response=("201", {"type": "object"}))
@permission("share", "create")
@unit_of_work
def create(scope: frozenset[str]) -> tuple[Response, int]:
    session = get_session()
    share = sharing.create_share(session, actor(), validated(sharing.ShareIn, json_object()))
    body = sharing_views.summary(session, share, actor())
    return jsonify(body), 201


@bp.get("/shares/<share_id>")
@documented(errors=_GONE)
@permission("share", "read")
@unit_of_work
def terms(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing.get_share(session, share_id)
    return jsonify(sharing_views.summary(session, share, actor()))


@bp.post("/shares/<share_id>/decision")
@documented(body=ShareDecisionIn, response=("200", {"type": "object"}), errors=(409, 410))
@permission("share", "approve")
@unit_of_work
def decision(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing_views.own_share(session, share_id, actor())
    data = validated(ShareDecisionIn, json_object())
    sharing.decide(session, actor(), share, data.approve, data.note)
    return jsonify(sharing_views.summary(session, share, actor()))


@bp.post("/shares/<share_id>/revoke")
@documented(body=RevokeIn, response=("200", {"type": "object"}), errors=(409, 410))
@permission("share", "revoke")
@unit_of_work
def revoke(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing_views.own_share(session, share_id, actor())
    sharing.revoke(session, share, actor(), validated(RevokeIn, json_object()).reason)
    return jsonify(sharing_views.summary(session, share, actor()))


@bp.get("/shares/<share_id>/link")
@documented(errors=(409, 410))
@permission("share", "approve")
@unit_of_work
def link(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing_views.own_share(session, share_id, actor())
    token = tokens.link_token(share, current_app.config["SECRET_KEY"])
    return jsonify(
        {
            "url": url_for("share_link.page", token=token, _external=True),
            "expires_at": share.expires_at.isoformat(),
        }
    )


def _read(share_id: str, action: str | None, fmt: str | None = None) -> Any:
    sharing_views.refuse_unknown(request.args)
    return sharing_views.read_publication(
        get_session(), share_id, actor(), action, fmt, side_sessions()
    )


@bp.get("/shares/<share_id>/layer")
@documented(media=GEOJSON, errors=_GONE)
@permission("shared_layer", "read")
@unit_of_work
def layer(scope: frozenset[str], share_id: str) -> Response:
    resp = jsonify(share_output.layer_geojson(_read(share_id, "share.view")))
    resp.mimetype = GEOJSON
    return resp


@bp.get("/shares/<share_id>/areas/<slug>")
@documented(media=GEOJSON, errors=_GONE)
@permission("shared_layer", "read")
@unit_of_work
def areas(scope: frozenset[str], share_id: str, slug: str) -> Response:
    pub = _read(share_id, "share.view")
    resp = jsonify(share_output.area_totals(get_session(), pub, slug))
    resp.mimetype = GEOJSON
    return resp


@bp.get("/shares/<share_id>/heatmap")
@documented(
    media=GEOJSON,
    query=[_PERIOD, query("bandwidth", BANDWIDTH, "Kernel bandwidth in metres.")],
    errors=_GONE,
)
@permission("shared_layer", "read")
@unit_of_work
def heatmap(scope: frozenset[str], share_id: str) -> Response:
    """A kernel density surface of one published period (?period=, default the latest),
    computed on the server from the published cells' counts — never from points."""
    sharing_views.refuse_unknown(request.args, ("period", "bandwidth"))
    session = get_session()
    pub = sharing_views.read_publication(
        session, share_id, actor(), "share.view", None, side_sessions()
    )
    settings = get_settings()
    body = share_output.heatmap(
        pub,
        request.args.get("period"),
        request.args.get("bandwidth", "400"),
        settings.service_area,
        settings.projected_srid,
    )
    resp = jsonify(body)
    resp.mimetype = GEOJSON
    return resp


@bp.get("/shares/<share_id>/export.<fmt>")
@documented(
    media=", ".join(t.split(";")[0] for t in exports.EXPORT_TYPES.values()),
    path={"fmt": {"type": "string", "enum": list(exports.EXPORT_TYPES)}},
    errors=_GONE,
)
@permission("shared_layer", "export")
@unit_of_work
def export(scope: frozenset[str], share_id: str, fmt: str) -> Response:
    if fmt not in exports.EXPORT_TYPES:
        raise NotFound("No such export format (geojson, contexts.geojson, csv, gpkg or fgb).")
    return attachment(*sharing_views.download(_read(share_id, "share.export", fmt), fmt))


@bp.get("/shares/<share_id>/tiles.json")
@documented(query=[_PERIOD], errors=_GONE)
@permission("shared_layer", "read")
@unit_of_work
def tile_json(scope: frozenset[str], share_id: str) -> Response:
    """TileJSON for one published period of a share (?period=, default the latest): its tile
    URL fixes that period, and its description carries the period's precision statement and
    the share's terms. Read (and audited) as the shared layer is."""
    sharing_views.refuse_unknown(request.args, ("period",))
    session = get_session()
    pub = sharing_views.read_publication(
        session, share_id, actor(), "share.view", None, side_sessions()
    )
    releases = {r.period: r for r in pub.releases}
    if not releases:
        raise NotFound("Nothing is published for this share yet.")
    period = request.args.get("period") or pub.releases[-1].period
    if period not in releases:
        raise Invalid.field("period", "not a published period of this share")
    release = releases[period]
    url = url_for(
        "shares_api.tile", share_id=share_id, z=0, x=0, y=0, period=period, _external=True
    )
    body = tilejson(
        name=f"{pub.label}, {period}",
        description=f"{release.precision.rstrip('.')}. {period}, {release.published_text()}; "
        f"it will not change. Share {pub.share_id}, {share_output.TIER_NAMES[pub.tier]}, "
        f"expires {pub.expires_at.date().isoformat()}. Counts are whole numbers; a banded "
        "count is in 'band' instead.",
        tiles=url.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt"),
        bounds=get_settings().service_area,
        layer="shared",
        fields={"cell": "String", "count": "Number", "band": "String", "period": "String"},
    )
    return jsonify({**body, "share_id": pub.share_id, "tier": pub.tier, "period": period})


@bp.get("/shares/<share_id>/tiles/<int:z>/<int:x>/<int:y>.mvt")
@documented(
    media="application/vnd.mapbox-vector-tile",
    query=[_PERIOD],
    path={"z": {"type": "integer", "minimum": 0, "maximum": 20}},
    errors=_GONE,
)
@permission("shared_layer", "read")
@unit_of_work
def tile(scope: frozenset[str], share_id: str, z: int, x: int, y: int) -> Response:
    """A vector tile of the share's published cells for one period (?period=, default the
    latest published), read from the ledger; cached until the share ends, after the reader is
    authorised. Not audited tile by tile; the layer read is."""
    sharing_views.refuse_unknown(request.args, ("period",))
    if not (0 <= z <= 20 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound("No such tile.")
    session = get_session()
    cache = app_cache(current_app.extensions)
    asked = request.args.get("period")
    reader = str(actor().agency_id)
    # Authorised first, every time (404 not theirs, 410 no longer in force). A period already
    # in the cache was published (the ledger never changes), so nothing more is needed then.
    share = sharing_views.live_share(session, share_id, actor())
    cached = cache.get(shared_key(share_id, reader, asked, z, x, y)) if asked else None
    if cached is None:
        share_output.publish_due(share, side_sessions())  # written before anything is shown
        period = share_output.tile_period(session, share, asked)
        cached = cached_shared_tile(
            cache,
            session,
            shared_key(share_id, reader, period, z, x, y),
            share.expires_at,
            {"share_id": str(share.id), "period": period, "z": z, "x": x, "y": y},
        )
    fresh = request.headers.get("If-None-Match") == cached.etag
    return revalidated(None if fresh else cached.body, cached.etag, MVT)
