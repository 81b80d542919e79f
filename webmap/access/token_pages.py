"""The account page for access tokens: make one for a GIS client (shown once), list them with
their last use, revoke one. Routes only: the work is in :mod:`webmap.access.tokens`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from webmap.access import tokens
from webmap.access.policy import permission
from webmap.access.session import actor
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import Invalid

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(new: tokens.NewToken | None = None, errors: dict[str, str] | None = None) -> Any:
    return render_template(
        "auth/tokens.html",
        tokens=tokens.listing(get_session()),
        new=new,
        errors=errors or {},
        form=request.form if errors else {},
        max_days=tokens.MAX_DAYS,
        ogc_url=url_for("ogc.landing", _external=True),
    ), (422 if errors else 200)


@bp.get("")
@permission("token", "manage")
@unit_of_work
def index(scope: frozenset[str]) -> Any:
    return _page()


@bp.post("")
@permission("token", "manage")
@unit_of_work
def create(scope: frozenset[str]) -> Any:
    raw_days = request.form.get("expires", "").strip()
    try:
        days = int(raw_days)
    except ValueError:
        return _page(errors={"expires": f"Enter a number of days, 1 to {tokens.MAX_DAYS}."})
    try:
        new = tokens.create(get_session(), actor(), request.form.get("name", ""), days)
    except Invalid as exc:
        get_session().rollback()
        return _page(errors=exc.fields)
    return _page(new=new)


@bp.post("/<token_id>/revoke")
@permission("token", "manage")
@unit_of_work
def revoke(scope: frozenset[str], token_id: str) -> Response:
    tokens.revoke(get_session(), actor(), token_id)
    flash("Token revoked: the client using it can no longer read anything.", "success")
    return redirect(url_for("tokens.index"))
