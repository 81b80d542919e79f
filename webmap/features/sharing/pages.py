"""Share pages: the list of shares made and received, the new-share form, and one share's
page (its redacted map, boundary totals side by side, exports, approval and revocation)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from webmap.access.policy import actions, can, permission
from webmap.access.session import actor
from webmap.features.reference import queries as reference
from webmap.features.sharing import presenter as sharing_views
from webmap.features.sharing import service as sharing
from webmap.features.sharing import tokens
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import DomainError
from webmap.infra.validation import validated
from webmap.web.wording import plain_errors

bp = Blueprint("shares", __name__, url_prefix="/shares")

#: How the form's error sentences name each field, and what to do when one is left empty
#: (webmap.web.wording.plain_errors).
FIELD_NAMES = {
    "tier": "The tier",
    "recipient_kind": "Who to share with",
    "recipient_agencies": "The agencies",
    "panel_id": "The panel",
    "external_name": "The recipient's name",
    "external_organisation": "Their organisation",
    "areas": "The areas",
    "buffer_rings": "The buffer",
    "layers": "The layers",
    "period_from": "The first month",
    "period_to": "The last month",
    "purpose": "The purpose",
    "lawful_basis": "The lawful basis",
    "agreement_ref": "The agreement reference",
    "expires_on": "The expiry date",
}
MISSING = {
    "tier": "Choose tier B or tier C",
    "recipient_kind": "Choose who to share with: agencies, a panel or a named recipient",
    "recipient_agencies": "Choose at least one agency to share with",
    "panel_id": "Choose a panel",
    "areas": "Choose at least one area",
    "layers": "Choose at least one layer",
    "period_from": "Enter the first month to share, like 2026-04",
    "purpose": "Say what the recipients will use it for",
    "lawful_basis": "Enter the lawful basis for sharing",
    "agreement_ref": "Enter the information-sharing agreement reference",
    "expires_on": "Enter the date the share expires",
}

LAWFUL_BASES = (
    "Children Act 2004 s.10-11 (co-operation and safeguarding duties)",
    "Working Together to Safeguard Children 2023, with UK GDPR Art. 6(1)(e)",
    "Crime and Disorder Act 1998 s.115",
)


def _form_options(session: Any) -> dict[str, Any]:
    return {
        "agencies": reference.agencies_except(session, current_user.agency_id),
        "panels": reference.panels_of(session, current_user.agency_id),
        "area_sets": reference.areas_by_set(session),
        "layer_labels": sharing_views.LAYER_LABELS,
        "lawful_bases": LAWFUL_BASES,
    }


def _defaults() -> dict[str, Any]:
    today = date.today()
    return {
        "tier": "B",
        "recipient_kind": "agencies",
        "layers": ["observations", "contexts"],
        "areas": [],
        "recipient_agencies": [],
        "period_from": f"{today.year - 1:04d}-{today.month:02d}",
        "expires_on": (today + timedelta(days=180)).isoformat(),
        "buffer_rings": "0",
    }


def _terms_from_form() -> dict[str, Any]:
    f = request.form
    data: dict[str, Any] = {
        k: f.get(k, "").strip()
        for k in (
            "tier",
            "recipient_kind",
            "external_name",
            "external_organisation",
            "panel_id",
            "period_from",
            "period_to",
            "purpose",
            "lawful_basis",
            "agreement_ref",
            "expires_on",
            "buffer_rings",
        )
    }
    for key in ("panel_id", "period_to", "external_name", "external_organisation"):
        data[key] = data[key] or None
    for key in ("recipient_agencies", "areas", "layers"):
        data[key] = f.getlist(key)
    return data


@bp.get("")
@permission("share", "read")
@unit_of_work
def index(scope: frozenset[str]) -> str:
    return render_template(
        "shares/index.html",
        shares=sharing_views.overview(get_session(), actor()),
        may_create=can(current_user.role, "share", "create", "own"),
        # A pending share of ours that this user (not its maker) may decide: badged.
        may_approve=can(current_user.role, "share", "approve", "own"),
    )


@bp.route("/new", methods=["GET", "POST"])
@permission("share", "create")
@unit_of_work
def new(scope: frozenset[str]) -> Any:
    session = get_session()
    errors: dict[str, str] = {}
    form = _defaults()
    if request.method == "POST":
        form = _terms_from_form()
        try:
            share = sharing.create_share(session, actor(), validated(sharing.ShareIn, form))
        except DomainError as exc:
            session.rollback()
            errors = plain_errors(exc.fields, FIELD_NAMES, MISSING, form) if exc.fields else {}
            errors = errors or {"form": exc.message}
        else:
            flash(
                "Share made."
                if share.status == "active"
                else "Share made; it needs a second person's approval before anyone can see it.",
                "success",
            )
            return redirect(url_for("shares.detail", share_id=share.id))
    page = render_template("shares/new.html", form=form, errors=errors, **_form_options(session))
    return page, 422 if errors else 200


@bp.get("/<share_id>")
@permission("share", "read")
@unit_of_work
def detail(scope: frozenset[str], share_id: str) -> Any:
    session = get_session()
    try:
        share = sharing.get_share(session, share_id)
    except DomainError:
        abort(404)
    body = sharing_views.summary(session, share, actor())
    sets = reference.current_boundary_sets(session)
    rel = "own" if body["own"] else "shared_with"
    may = actions(current_user.role, "share", rel, sharing.ruled_out(share, actor()))
    link_url = None
    # Whoever may approve the share gives the external recipient its link, once in force.
    if (
        "approve" in actions(current_user.role, "share", rel)
        and body["own"]
        and (share.recipient_kind == "external" and body["state"] == "active")
    ):
        token = tokens.link_token(share, current_app.config["SECRET_KEY"])
        link_url = url_for("share_link.page", token=token, _external=True)
    return render_template(
        "shares/detail.html",
        share=body,
        link_url=link_url,
        boundary_sets=sets,
        may_decide=body["own"] and "approve" in may,
        may_revoke=body["own"] and "revoke" in may,
        live=body["state"] == "active" or body["own"],
    )


@bp.post("/<share_id>/decision")
@permission("share", "approve")
@unit_of_work
def decision(scope: frozenset[str], share_id: str) -> Response:
    return _change(share_id, "decision")


@bp.post("/<share_id>/revoke")
@permission("share", "revoke")
@unit_of_work
def revoke(scope: frozenset[str], share_id: str) -> Response:
    return _change(share_id, "revoke")


def _change(share_id: str, what: str) -> Response:
    session = get_session()
    try:
        share = sharing_views.own_share(session, share_id, actor())
    except DomainError:
        abort(404)
    try:
        if what == "revoke":
            sharing.revoke(session, share, actor(), request.form.get("reason", ""))
            message = "Share revoked: its recipients can no longer see it."
        else:
            approve = request.form.get("approve") == "yes"
            sharing.decide(session, actor(), share, approve, request.form.get("note", ""))
            message = "Share approved." if approve else "Share rejected."
        flash(message, "success")
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("shares.detail", share_id=share_id))
