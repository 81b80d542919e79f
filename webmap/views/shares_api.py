"""The sharing API under /api/v1/shares: terms, life cycle, redacted layers and exports.

Every layer, total and export is built by :func:`webmap.services.share_output.publish`; these
views only authorise, audit and answer.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_login import current_user

from webmap.db import get_session
from webmap.errors import ApiError
from webmap.policy import permission
from webmap.schemas import validated
from webmap.services import share_output, sharing, sharing_views
from webmap.tiles import shared_tile
from webmap.views.records import json_object

bp = Blueprint("shares_api", __name__, url_prefix="/api/v1")
GEOJSON = "application/geo+json"


@bp.get("/shares")
@permission("share", "read")
def list_shares(scope: frozenset[str]) -> Response:
    return jsonify(sharing_views.overview(get_session(), current_user))


@bp.post("/shares")
@permission("share", "create")
def create(scope: frozenset[str]) -> tuple[Response, int]:
    session = get_session()
    share = sharing.create_share(session, current_user, validated(sharing.ShareIn, json_object()))
    session.commit()
    body = sharing_views.summary(session, share, current_user)
    return jsonify(body), 201


@bp.get("/shares/<share_id>")
@permission("share", "read")
def terms(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing.get_share(session, share_id)
    return jsonify(sharing_views.summary(session, share, current_user))


@bp.post("/shares/<share_id>/decision")
@permission("share", "approve")
def decision(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing_views.own_share(session, share_id, current_user)
    data = json_object()
    approve = data.get("approve")
    if not isinstance(approve, bool):
        raise ApiError(422, "invalid", "approve: must be true or false", {"approve": "required"})
    sharing.decide(session, current_user, share, approve, str(data.get("note") or ""))
    session.commit()
    return jsonify(sharing_views.summary(session, share, current_user))


@bp.post("/shares/<share_id>/revoke")
@permission("share", "revoke")
def revoke(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing_views.own_share(session, share_id, current_user)
    sharing.revoke(session, share, current_user, str(json_object().get("reason") or ""))
    session.commit()
    return jsonify(sharing_views.summary(session, share, current_user))


@bp.get("/shares/<share_id>/link")
@permission("share", "approve")
def link(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    share = sharing_views.own_share(session, share_id, current_user)
    token = sharing.link_token(share, current_app.config["SECRET_KEY"])
    return jsonify(
        {
            "url": url_for("share_link.page", token=token, _external=True),
            "expires_at": share.expires_at.isoformat(),
        }
    )


@bp.get("/shares/<share_id>/layer")
@permission("shared_layer", "read")
def layer(scope: frozenset[str], share_id: str) -> Response:
    session = get_session()
    pub = sharing_views.read_publication(session, share_id, current_user, "share.view")
    resp = jsonify(share_output.layer_geojson(pub))
    resp.mimetype = GEOJSON
    return resp


@bp.get("/shares/<share_id>/areas/<slug>")
@permission("shared_layer", "read")
def areas(scope: frozenset[str], share_id: str, slug: str) -> Response:
    session = get_session()
    pub = sharing_views.read_publication(session, share_id, current_user, "share.view")
    resp = jsonify(share_output.area_totals(session, pub, slug))
    resp.mimetype = GEOJSON
    return resp


@bp.get("/shares/<share_id>/export.<fmt>")
@permission("shared_layer", "export")
def export(scope: frozenset[str], share_id: str, fmt: str) -> Response:
    if fmt not in share_output.EXPORT_TYPES:
        raise ApiError(404, "not_found", "No such export format (geojson, csv or gpkg).")
    session = get_session()
    pub = sharing_views.read_publication(session, share_id, current_user, "share.export", fmt)
    return sharing_views.download(pub, fmt)


@bp.get("/shares/<share_id>/tiles/<int:z>/<int:x>/<int:y>.mvt")
@permission("shared_layer", "read")
def tile(scope: frozenset[str], share_id: str, z: int, x: int, y: int) -> Response:
    """A vector tile of the share's published cells for one period (?period=, default the
    latest published). Not audited tile by tile; the layer read is."""
    if not (0 <= z <= 20 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise ApiError(404, "not_found", "No such tile.")
    session = get_session()
    pub = sharing_views.read_publication(session, share_id, current_user, None)
    periods = sorted({c.period for c in pub.cells})
    period = request.args.get("period") or (periods[-1] if periods else "")
    if periods and period not in periods:
        raise ApiError(
            422, "invalid", "period: not a published period of this share", {"period": period}
        )
    cells = [(c.cell, c.count) for c in pub.cells if c.period == period]
    body = shared_tile(session, cells, pub.profile.resolution, z, x, y)
    resp = Response(body, mimetype="application/vnd.mapbox-vector-tile")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
