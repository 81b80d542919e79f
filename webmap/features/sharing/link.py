"""A named external recipient's signed link: /s/<token>.

The token (itsdangerous, signed with the app's secret) names a share and the nonce it was
issued with; it is the credential, so these routes need no sign-in. The share's own expiry and
revocation decide whether it still works, on every request: a revoked or expired share answers
410, a bad or superseded token 404. The link shows only the share's redacted publication.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from webmap.features.reference import queries as geodata
from webmap.features.sharing import exports, tokens
from webmap.features.sharing import output as share_output
from webmap.features.sharing import presenter as sharing_views
from webmap.features.sharing import service as sharing
from webmap.features.sharing.output import Publication
from webmap.infra.db import DbContext, get_session, set_request_context, side_sessions, unit_of_work
from webmap.infra.errors import DomainError, Gone, Invalid, NotFound
from webmap.web.responder import attachment, returns_json

bp = Blueprint("share_link", __name__, url_prefix="/s")


def checked_share_id(token: str) -> str:
    """The id of the live share this token is a current link to; 404 or 410 otherwise.
    A link's routes take no query parameters: 422 names any (after the token is checked, so
    a bad token is 404 whatever else it carries)."""
    share_id, nonce = tokens.read_link(token, current_app.config["SECRET_KEY"])
    # Tell the database which share this request holds a verified link for (RLS).
    set_request_context(DbContext(link_share=share_id))
    share = sharing.get_share(get_session(), share_id)
    sharing.require_live(share, None)
    if share.link_nonce != nonce:
        raise NotFound("No such link.")
    sharing_views.refuse_unknown(request.args)
    return share_id


def _publication(token: str, action: str, fmt: str | None = None) -> Publication:
    share_id = checked_share_id(token)
    return sharing_views.read_publication(
        get_session(), share_id, None, action, fmt, side_sessions()
    )


@bp.get("/<token>")
@unit_of_work
def page(token: str) -> Any:
    try:
        pub = _publication(token, "share.view")
    except DomainError as exc:
        if isinstance(exc, Gone):
            return render_template("shares/gone.html", message=exc.message), 410
        if isinstance(exc, Invalid):
            raise
        abort(404)
    return render_template("shares/link.html", pub=pub, token=token)


@bp.get("/<token>/layer")
@returns_json
@unit_of_work
def layer(token: str) -> Response:
    resp = jsonify(share_output.layer_geojson(_publication(token, "share.view")))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/<token>/export.<fmt>")
@returns_json
@unit_of_work
def export(token: str, fmt: str) -> Response:
    if fmt not in exports.EXPORT_TYPES:
        raise NotFound("No such export format (geojson, contexts.geojson, csv, gpkg or fgb).")
    return attachment(*sharing_views.download(_publication(token, "share.export", fmt), fmt))


@bp.get("/<token>/basemap")
@returns_json
@unit_of_work
def basemap(token: str) -> Response:
    """The fictional town's base map, so the link's map can be read (reference data only)."""
    checked_share_id(token)
    return Response(geodata.basemap_geojson(get_session()), mimetype="application/geo+json")
