"""Briefing pack pages: the list, the new-pack form, one pack (preview, approve or reject,
withdraw, downloads), its files, and the agency's default wording per area.

Bad input re-renders the page with each problem beside its field and status 422; anything
out of scope is a 404, exactly like something that does not exist; a withdrawn pack's files
answer 410.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from webmap.access.policy import actions, can, permission
from webmap.access.session import actor
from webmap.features.layers.queries import add_months
from webmap.features.packs import service as packs
from webmap.features.packs import texts as pack_texts
from webmap.features.packs.build import build_content, period_label, place_options, reference
from webmap.features.packs.inspect import render_page_png
from webmap.features.packs.mapimage import render_map_png
from webmap.features.reference import queries as geodata
from webmap.features.sharing import tokens
from webmap.features.sharing.presenter import share_areas
from webmap.infra.db import get_session, side_sessions, unit_of_work
from webmap.infra.errors import DomainError, Gone
from webmap.models.packs import BriefingPack
from webmap.web.errors import status_of
from webmap.web.wording import plain_errors

bp = Blueprint("packs", __name__, url_prefix="/packs")

#: Field labels, for the list of problems at the top of the form.
LABELS = {
    "recipient_kind": "Who is it for?",
    "recipient_agency": "Operator or business",
    "external_name": "Named recipient",
    "external_organisation": "Their organisation",
    "title": "Title",
    "routes": "Routes to draw",
    "hubs": "Stations and stops to mark",
    "areas": "Areas",
    "period_from": "From the quarter",
    "period_to": "To the quarter",
    "review_on": "Review by",
    "marking": "Handling marking",
    "signs": "Signs to look for",
    "how_to_report": "How to report",
}
#: How the form's error sentences name each field, and what to do when one is left empty.
FIELD_NAMES = {name: f"“{label}”" for name, label in LABELS.items()} | {
    "title": "The title",
    "review_on": "The review date",
    "signs": "“Signs to look for”",
    "how_to_report": "“How to report”",
}
MISSING = {
    "recipient_kind": "Choose who the pack is for",
    "recipient_agency": "Choose the operator or business",
    "external_name": "Enter the named recipient",
    "external_organisation": "Enter their organisation",
    "title": "Give the pack a title",
    "areas": "Choose at least one area",
    "period_from": "Choose the first quarter",
    "period_to": "Choose the last quarter",
    "review_on": "Enter the date to review the pack by",
    "marking": "Choose a handling marking",
    "signs": "Write the signs to look for",
    "how_to_report": "Write how to report",
}
STATE_TEXT = {
    "pending": "Waiting for a second person's approval",
    "approved": "Approved: ready to download and hand out",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn: its files and link no longer work",
    "expired": "Past its review date",
}


def _pack_or_404(pack_id: str) -> BriefingPack:
    try:
        return packs.get_pack(get_session(), pack_id)
    except DomainError:
        abort(404)


def _own(pack: BriefingPack) -> bool:
    return str(pack.agency_id) == str(current_user.agency_id)


@bp.get("")
@permission("pack", "read")
@unit_of_work
def index(scope: frozenset[str]) -> str:
    session = get_session()
    return render_template(
        "packs/index.html",
        packs=packs.listing(session, actor()),
        agencies=geodata.agency_names(session),
        state=packs.state,
        state_text=STATE_TEXT,
        may_create=can(current_user.role, "pack", "create", "own"),
        may_edit_texts=can(current_user.role, "pack_text", "edit", "own"),
        # A pending pack of ours that this user (not its maker) may decide: badged.
        may_approve=can(current_user.role, "pack", "approve", "own"),
        me=str(current_user.id),
    )


# -- the new-pack form --------------------------------------------------------------------------


def _form_options(session: Any) -> dict[str, Any]:
    quarters = packs.quarters()
    return {
        "recipients": geodata.agencies_of_kinds(session, packs.RECIPIENT_KINDS),
        "places": place_options(session),
        "area_sets": geodata.areas_by_set(session),
        "starts": [(s.strftime("%Y-%m"), period_label(s, e)) for s, e in quarters],
        "ends": [(add_months(e, -1).strftime("%Y-%m"), period_label(s, e)) for s, e in quarters],
        "markings": packs.MARKINGS,
        "texts": pack_texts.texts_for(session),
    }


def _defaults(options: dict[str, Any]) -> dict[str, Any]:
    texts = options["texts"][""]
    starts, ends = options["starts"], options["ends"]
    return {
        "recipient_kind": "agencies",
        "recipient_agency": options["recipients"][0][0] if options["recipients"] else "",
        "title": "Spotting child exploitation: a briefing for drivers and staff",
        "marking": "OFFICIAL",
        "routes": [],
        "hubs": [],
        "areas": [],
        "period_from": starts[min(3, len(starts) - 1)][0],
        "period_to": ends[0][0],
        "review_on": (packs.today() + timedelta(days=91)).isoformat(),
        **texts,
    }


def _form_data() -> dict[str, Any]:
    f = request.form
    data: dict[str, Any] = {
        k: f.get(k, "").strip()
        for k in (
            "recipient_kind",
            "recipient_agency",
            "external_name",
            "external_organisation",
            "title",
            "marking",
            "period_from",
            "period_to",
            "review_on",
            "signs",
            "how_to_report",
        )
    }
    for key in ("recipient_agency", "external_name", "external_organisation", "marking"):
        data[key] = data[key] or None
    if data["marking"] is None:
        del data["marking"]
    for key in ("routes", "hubs", "areas"):
        data[key] = f.getlist(key)
    return data


@bp.route("/new", methods=["GET", "POST"])
@permission("pack", "create")
@unit_of_work
def new(scope: frozenset[str]) -> Any:
    session = get_session()
    options = _form_options(session)
    errors: dict[str, str] = {}
    form = _defaults(options)
    if request.method == "POST":
        form = {**form, **_form_data()}
        try:
            pack = packs.create_pack(session, actor(), _form_data())
        except DomainError as exc:
            session.rollback()
            errors = plain_errors(exc.fields, FIELD_NAMES, MISSING, form) if exc.fields else {}
            errors = errors or {"form": exc.message}
        else:
            flash("Pack made. A second person must now approve it before anyone can have it.")
            return redirect(url_for("packs.detail", pack_id=pack.id))
    page = render_template("packs/new.html", form=form, errors=errors, labels=LABELS, **options)
    return page, 422 if errors else 200


# -- one pack -----------------------------------------------------------------------------------


def _detail(pack: BriefingPack, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    session = get_session()
    own, role = _own(pack), current_user.role
    state = packs.state(pack)
    info: dict[str, Any] = {}
    if own:
        share = packs.share_of(session, pack)
        if can(role, "share", "read", "own"):
            info["share_url"] = url_for("shares.detail", share_id=share.id)
        info["period"] = period_label(share.period_from, share.period_to or share.period_from)
        info["areas"] = share_areas(session, share.id)
        info["routes"] = packs.place_names(session, list(pack.route_ids))
        info["hubs"] = packs.place_names(session, list(pack.hub_ids))
        info["people"] = packs.people(session, pack)
        if share.recipient_kind == "external" and state == "approved":
            token = tokens.link_token(share, current_app.config["SECRET_KEY"])
            info["links"] = {
                fmt: url_for(f"pack_link.{fmt}", token=token, _external=True)
                for fmt in ("pdf", "html")
            }
    may = actions(role, "pack", "own" if own else "shared_with", packs.ruled_out(pack, actor()))
    page = render_template(
        "packs/detail.html",
        pack=pack,
        own=own,
        state=state,
        state_text=STATE_TEXT[state],
        reference=reference(pack.share_id),
        info=info,
        errors=errors or {},
        form=request.form if errors else {},
        may_decide=own and "approve" in may,
        created_by_me=pack.created_by == current_user.id,
        may_withdraw=own and "withdraw" in may,
    )
    return page, status


@bp.get("/<pack_id>")
@permission("pack", "read")
@unit_of_work
def detail(scope: frozenset[str], pack_id: str) -> Any:
    return _detail(_pack_or_404(pack_id))


@bp.post("/<pack_id>/decision")
@permission("pack", "approve")
@unit_of_work
def decision(scope: frozenset[str], pack_id: str) -> Any:
    approve = {"yes": True, "no": False}.get(request.form.get("approve", ""))
    return _change(pack_id, "decision", approve)


@bp.post("/<pack_id>/withdraw")
@permission("pack", "withdraw")
@unit_of_work
def withdraw(scope: frozenset[str], pack_id: str) -> Any:
    return _change(pack_id, "withdraw", None)


def _change(pack_id: str, what: str, approve: bool | None) -> Any:
    session = get_session()
    pack = _pack_or_404(pack_id)
    if not _own(pack):
        abort(404)
    try:
        if what == "withdraw":
            packs.withdraw(session, actor(), pack, request.form.get("reason", ""))
            message = "Pack withdrawn: its files and link no longer work."
        else:
            packs.decide(
                session,
                actor(),
                pack,
                approve,
                request.form.get("note", ""),
                side_sessions(),
            )
            message = "Pack approved: it passed its checks and is ready to download."
            if not approve:
                message = "Pack rejected."
    except DomainError as exc:
        session.rollback()
        return _detail(_pack_or_404(pack_id), exc.fields or {"form": exc.message}, status_of(exc))
    flash(message, "success")
    return redirect(url_for("packs.detail", pack_id=pack_id))


def file_response(pack: BriefingPack, fmt: str, body: bytes) -> Response:
    """A stored pack file as a download that no cache keeps."""
    resp = Response(body, mimetype=packs.FORMATS[fmt])
    name = f"briefing-pack-{reference(pack.share_id)}.{fmt}"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def gone(message: str) -> tuple[str, int]:
    return render_template("packs/gone.html", message=message), 410


def _download(pack_id: str, fmt: str) -> Any:
    session = get_session()
    pack = _pack_or_404(pack_id)
    try:
        body = packs.download(session, pack, fmt, actor())
    except DomainError as exc:
        if isinstance(exc, Gone):
            return gone(exc.message)
        raise
    return file_response(pack, fmt, body)


@bp.get("/<pack_id>/pack.pdf")
@permission("pack", "read")
@unit_of_work
def pdf(scope: frozenset[str], pack_id: str) -> Any:
    return _download(pack_id, "pdf")


@bp.get("/<pack_id>/pack.html")
@permission("pack", "read")
@unit_of_work
def html(scope: frozenset[str], pack_id: str) -> Any:
    return _download(pack_id, "html")


@bp.get("/<pack_id>/preview.png")
@permission("pack", "read")
@unit_of_work
def preview(scope: frozenset[str], pack_id: str) -> Response:
    """Page 1 of the approved PDF; before approval, the map as it would be drawn now."""
    session = get_session()
    pack = _pack_or_404(pack_id)
    if packs.state(pack) in {"withdrawn", "expired"} and not _own(pack):
        abort(410)
    if pack.pdf is not None:
        png = render_page_png(pack.pdf, 0, scale=1.5)
    else:
        share = packs.share_of(session, pack)
        content, _pub = build_content(session, pack, share, packs.today(), side_sessions())
        png = render_map_png(content, width=1600, height=1020)  # as on page 1
    resp = Response(png, mimetype="image/png")
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- default wording ----------------------------------------------------------------------------


@bp.route("/texts", methods=["GET", "POST"])
@permission("pack_text", "edit")
@unit_of_work
def texts(scope: frozenset[str]) -> Any:
    session = get_session()
    area = request.values.get("area", "")
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = {k: request.form.get(k, "").strip() for k in ("signs", "how_to_report")}
        try:
            pack_texts.save_texts(session, actor(), {**data, "area": area or None})
        except DomainError as exc:
            session.rollback()
            errors = plain_errors(exc.fields, FIELD_NAMES, MISSING, data) if exc.fields else {}
            errors = errors or {"form": exc.message}
        else:
            flash("Wording saved. New packs for this area start from it.", "success")
            return redirect(url_for("packs.texts", area=area or None))
    saved = pack_texts.texts_for(session)
    options = _form_options(session)
    form = saved.get(area) or saved[""]
    if errors:
        form = {k: request.form.get(k, "") for k in ("signs", "how_to_report")}
    page = render_template(
        "packs/texts.html",
        area=area,
        form=form,
        errors=errors,
        saved=saved,
        area_sets=options["area_sets"],
    )
    return page, 422 if errors else 200
