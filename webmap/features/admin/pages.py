"""Administration: users (agency admins, their own agency; system admins, all), agencies,
panels, boundary sets, and the audit trail.

Views parse the request, call :mod:`webmap.features.admin.service` (or ``audit_view``), and render.
Bad input re-renders the page with each problem beside its field and status 400; anything
out of scope is a 404, exactly like something that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from spatial.vocabulary import AGENCY_KINDS, BOUNDARY_SET_KINDS
from webmap.access import user_sessions
from webmap.access.policy import can, permission
from webmap.access.session import actor
from webmap.features.admin import audit_page as audit_view
from webmap.features.admin import directory
from webmap.features.admin import service as admin
from webmap.features.reference import generations, upload
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import Invalid, Refused
from webmap.web.context import get_settings

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: (endpoint, label, resource, action): shown in the header to roles the policy allows.
NAV = (
    ("recording.record", "Record", "observation", "create"),
    ("recording.records", "Records", "observation", "read"),
    ("panel.panel", "Panel", "layer", "read"),
    ("shares.index", "Shares", "share", "read"),
    ("packs.index", "Briefing packs", "pack", "read"),
    ("admin.users", "Users", "user", "read"),
    ("admin.agencies", "Agencies", "agency", "manage"),
    ("admin.panels", "Panels", "panel", "manage"),
    ("admin.boundary_sets", "Boundary sets", "boundary_set", "manage"),
    ("admin.audit", "Audit", "audit", "read"),
)


def nav_context() -> dict[str, Any]:
    def admin_nav() -> list[dict[str, str]]:
        if not current_user.is_authenticated:
            return []
        return [
            {"endpoint": e, "label": label, "url": url_for(e)}
            for e, label, resource, action in NAV
            if can(current_user.role, resource, action, "own") and e in _endpoints()
        ]

    return {"admin_nav": admin_nav}


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


# -- users ---------------------------------------------------------------------------------


def _users_page(
    scope: frozenset[str], form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> tuple[str, int]:
    db = get_session()
    db.rollback()  # nothing half-done from a failed create may leak into the listing
    filter_errors: dict[str, str] = {}
    try:
        listing = admin.list_users(db, actor(), scope, request.args.get("agency"))
    except Invalid as exc:
        filter_errors = exc.fields
        listing = admin.list_users(db, actor(), scope)
    page = render_template(
        "admin/users.html",
        **listing,
        filter_errors=filter_errors,
        roles=[(r, admin.ROLE_LABELS[r]) for r in admin.assignable_roles(actor())],
        form=form or {},
        errors=errors or {},
        agency_options=[(str(a["id"]), a["name"]) for a in listing["agencies"]],
        multi_agency=len(listing["agencies"]) > 1,
    )
    return page, 400 if errors or filter_errors else 200


@bp.get("/users")
@permission("user", "read")
@unit_of_work
def users(scope: frozenset[str]) -> tuple[str, int]:
    return _users_page(scope)


@bp.post("/users")
@permission("user", "manage")
@unit_of_work
def users_create(scope: frozenset[str]) -> Any:
    form = {k: request.form.get(k, "") for k in ("display_name", "email", "role", "agency_id")}
    try:
        new_id = admin.create_user(get_session(), actor(), scope, request.form)
    except Invalid as exc:
        return _users_page(scope, form, exc.fields)
    flash(f"Account created for {form['display_name'].strip()}.", "success")
    return redirect(url_for("admin.user_detail", user_id=new_id))


@bp.get("/users/<user_id>")
@permission("user", "read")
@unit_of_work
def user_detail(user_id: str, scope: frozenset[str]) -> str:
    target = admin.get_user(get_session(), actor(), scope, user_id)
    live = user_sessions.live(get_session(), uuid.UUID(target["id"]), get_settings())
    return render_template("admin/user_detail.html", user=target, live_sessions=len(live))


def _change(user_id: str, scope: frozenset[str], change: str) -> Response:
    try:
        flash(admin.change_user(get_session(), actor(), scope, user_id, change), "success")
    except Refused as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<user_id>/disable")
@permission("user", "manage")
@unit_of_work
def user_disable(user_id: str, scope: frozenset[str]) -> Response:
    return _change(user_id, scope, "disable")


@bp.post("/users/<user_id>/enable")
@permission("user", "manage")
@unit_of_work
def user_enable(user_id: str, scope: frozenset[str]) -> Response:
    return _change(user_id, scope, "enable")


@bp.post("/users/<user_id>/reset-second-factor")
@permission("user", "manage")
@unit_of_work
def user_reset_second_factor(user_id: str, scope: frozenset[str]) -> Response:
    return _change(user_id, scope, "reset_second_factor")


@bp.post("/users/<user_id>/end-sessions")
@permission("user", "manage")
@unit_of_work
def user_end_sessions(user_id: str, scope: frozenset[str]) -> Response:
    return _change(user_id, scope, "end_sessions")


# -- agencies, panels, boundary sets -------------------------------------------------------


@bp.route("/agencies", methods=["GET", "POST"])
@permission("agency", "manage")
@unit_of_work
def agencies(scope: frozenset[str]) -> Any:
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("name", "slug", "kind")}
        try:
            directory.create_agency(get_session(), request.form)
        except Invalid as exc:
            errors = exc.fields
        else:
            flash(f"Agency {form['name'].strip()} created.", "success")
            return redirect(url_for("admin.agencies"))
    page = render_template(
        "admin/agencies.html",
        agencies=directory.list_agencies(get_session()),
        kinds=AGENCY_KINDS,
        form=form,
        errors=errors,
    )
    return page, 400 if errors else 200


def _panels_page(
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    panel_errors: dict[str, str] | None = None,
) -> str:
    db = get_session()
    db.rollback()
    return render_template(
        "admin/panels.html",
        panels=directory.list_panels(db),
        agency_pairs=[(a["id"], a["name"]) for a in directory.list_agencies(db)],
        kinds=admin.PANEL_KINDS,
        form=form or {"members": []},
        errors=errors or {},
        panel_errors=panel_errors or {},
    )


@bp.route("/panels", methods=["GET", "POST"])
@permission("panel", "manage")
@unit_of_work
def panels(scope: frozenset[str]) -> Any:
    if request.method == "GET":
        return _panels_page()
    members = request.form.getlist("members")
    form = {"name": request.form.get("name", ""), "kind": request.form.get("kind", "")}
    try:
        directory.create_panel(get_session(), request.form, members)
    except Invalid as exc:
        return _panels_page({**form, "members": members}, exc.fields), 400
    flash(f"Panel {form['name'].strip()} created.", "success")
    return redirect(url_for("admin.panels"))


@bp.post("/panels/<panel_id>")
@permission("panel", "manage")
@unit_of_work
def panel_update(panel_id: str, scope: frozenset[str]) -> Any:
    try:
        name = directory.set_panel_members(get_session(), panel_id, request.form.getlist("members"))
    except Invalid as exc:
        return _panels_page(panel_errors={panel_id: exc.fields["members"]}), 400
    flash(f"Members of {name} saved.", "success")
    return redirect(url_for("admin.panels"))


def _boundary_sets_page(
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    upload_errors: dict[str, str] | None = None,
    report: dict[str, Any] | None = None,
    comparison: dict[str, Any] | None = None,
) -> str:
    db = get_session()
    if errors or upload_errors:
        db.rollback()  # nothing half-done from a failed change may show in the listing
    return render_template(
        "admin/boundary_sets.html",
        sets=directory.list_boundary_sets(db),
        kinds=BOUNDARY_SET_KINDS,
        form=form or {},
        errors=errors or {},
        upload_errors=upload_errors or {},
        upload_form=request.form if upload_errors else {},
        report=report,
        comparison=comparison,
    )


@bp.post("/boundary-sets/upload")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_upload(scope: frozenset[str]) -> Any:
    file = request.files.get("file")
    try:
        report = upload.import_upload(
            get_session(),
            file.filename or "" if file else "",
            file.read() if file else b"",
            request.form,
            get_settings().service_area,
        )
    except Invalid as exc:
        return _boundary_sets_page(upload_errors=exc.fields), 422
    return _boundary_sets_page(report=upload.report_json(report))


@bp.get("/boundary-sets/<slug>/compare")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_compare(slug: str, scope: frozenset[str]) -> Any:
    try:
        older, newer = upload.int_args(request.args, "from", "to")
        changes = generations.compare(get_session(), slug, older, newer)
    except Invalid as exc:
        return _boundary_sets_page(upload_errors=exc.fields), 422
    return _boundary_sets_page(
        comparison={"slug": slug, "from": older, "to": newer, "changes": changes}
    )


@bp.post("/boundary-sets/generations/<set_id>/retire")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_retire(set_id: str, scope: frozenset[str]) -> Any:
    generations.retire(get_session(), set_id)
    flash("Generation retired: it is no longer on any map; its areas are kept.", "success")
    return redirect(url_for("admin.boundary_sets"))


@bp.post("/boundary-sets/<slug>/default")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_default(slug: str, scope: frozenset[str]) -> Any:
    generations.set_default(get_session(), slug)
    flash("The map now opens on this boundary set.", "success")
    return redirect(url_for("admin.boundary_sets"))


@bp.get("/boundary-sets")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_sets(scope: frozenset[str]) -> str:
    return _boundary_sets_page()


@bp.post("/boundary-sets/<slug>")
@permission("boundary_set", "manage")
@unit_of_work
def boundary_set_update(slug: str, scope: frozenset[str]) -> Any:
    try:
        name = directory.rename_boundary_set(get_session(), slug, request.form)
    except Invalid as exc:
        return _boundary_sets_page({slug: request.form.get("name", "")}, exc.fields), 400
    flash(f"Boundary set renamed to {name}.", "success")
    return redirect(url_for("admin.boundary_sets"))


# -- audit ---------------------------------------------------------------------------------


@bp.get("/audit")
@permission("audit", "read")
@unit_of_work
def audit(scope: frozenset[str]) -> Any:
    db = get_session()
    options = audit_view.filter_options(db)
    raw = {k: v for k in audit_view.FILTERS if (v := request.args.get(k, "").strip())}
    try:
        query = audit_view.parse_query(request.args)
    except Invalid as exc:
        page = render_template(
            "admin/audit.html", filters=raw, errors=exc.fields, result=None, **options
        )
        return page, 400
    result = audit_view.read_page(db, actor(), scope, query)
    return render_template(
        "admin/audit.html", filters=query.raw, errors={}, result=result, **options
    )
