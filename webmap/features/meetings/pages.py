"""The meeting loop's pages: panels → meetings → a meeting (agenda, attendance, actions,
decisions, close, pack); places under review and one place's history; "my agency's
actions" and one action's progress; and how the partnership is working.

Server-rendered forms in the GOV.UK pattern: a problem re-renders the page (422, or 409 for a
stale version) with an error summary at the top that takes focus and links to each field,
and the message in plain English beside the field. Anything outside the user's panels is a
404, exactly like something that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from spatial.vocabulary import AGENCY_KINDS
from webmap.access.policy import can, permission
from webmap.access.session import actor
from webmap.features.meetings import actions as action_service
from webmap.features.meetings import agenda, dashboard, forms, queries, referrals, service
from webmap.features.meetings.lifecycle import (
    ACTION_STATUSES,
    AGENDA_SECTIONS,
    ATTENDANCE,
    FOUR_P,
    MEETING_KINDS,
    STAGES,
    WEIGHTINGS,
    london_day,
)
from webmap.features.meetings.schemas import (
    ActionIn,
    AgendaIn,
    AttendanceIn,
    DecisionIn,
    MeetingIn,
    ProgressIn,
    ReferralIn,
    StageIn,
)
from webmap.infra.db import get_session, side_sessions, unit_of_work
from webmap.infra.errors import Conflict, DomainError, Invalid
from webmap.infra.validation import validated
from webmap.web.errors import status_of

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
VOCAB = {
    "four_p": FOUR_P,
    "stages": STAGES,
    "weightings": WEIGHTINGS,
    "statuses": ACTION_STATUSES,
    "attendance_options": ATTENDANCE,
    "sections": AGENDA_SECTIONS,
    "meeting_kinds": MEETING_KINDS,
    "agency_kinds": AGENCY_KINDS,
    "labels": forms.LABELS,
}


def nav_context() -> dict[str, Any]:
    """``meetings_nav()`` for the header: the Meetings link, for roles that may see them."""

    def meetings_nav() -> list[dict[str, str]]:
        if not current_user.is_authenticated:
            return []
        if not can(current_user.role, "meeting", "read", "panel_member"):
            return []
        url = url_for("meetings.index")
        return [{"endpoint": "meetings.index", "label": "Meetings", "url": url}]

    return {"meetings_nav": meetings_nav}


def _now() -> datetime:
    return datetime.now(UTC)


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("failed", "")
    context.setdefault("form", {})
    return render_template(template, **VOCAB, **context), status


def _problem(exc: DomainError) -> tuple[dict[str, str], int]:
    """A refused form's errors by field, and its status; other errors go to the adapter."""
    if not isinstance(exc, Invalid | Conflict):
        raise exc
    get_session().rollback()
    return forms.field_errors(exc.fields or {"form": exc.message}), status_of(exc)


@bp.get("")
@permission("meeting", "read")
@unit_of_work
def index(scope: frozenset[str]) -> tuple[str, int]:
    """The panels the user's agency sits on."""
    return _page("meetings/index.html", panels=queries.my_panels(get_session(), actor()))


# -- a panel and its meetings -------------------------------------------------------------------


def _panel_page(panel_id: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    found = queries.meetings_of(session, p.id)
    service.audit_read(session, "meeting.listed", [p.id], len(found))
    return _page(
        "meetings/panel.html",
        status,
        panel=p,
        meetings=found,
        today=service.today(),
        may_hold=can(user.role, "meeting", "manage", "panel_member"),
        **extra,
    )


@bp.get("/panels/<panel_id>")
@permission("meeting", "read")
@unit_of_work
def panel(scope: frozenset[str], panel_id: str) -> tuple[str, int]:
    return _panel_page(panel_id)


@bp.post("/panels/<panel_id>")
@permission("meeting", "manage")
@unit_of_work
def new_meeting(scope: frozenset[str], panel_id: str) -> Any:
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    try:
        m = service.create_meeting(
            session, user, p, validated(MeetingIn, forms.meeting_body(request.form)), _now()
        )
    except DomainError as exc:
        errors, status = _problem(exc)
        return _panel_page(panel_id, status, errors=errors, failed="meeting", form=request.form)
    flash("Meeting made. Draft its agenda next.")
    return redirect(url_for("meetings.meeting", meeting_id=m.id))


# -- a meeting ----------------------------------------------------------------------------------


def _meeting_page(meeting_id: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    service.audit_read(session, "meeting.viewed", [m.id])
    names = {a: n for a, n, _ in p.members}
    panel_actions = queries.actions_of_panel(session, p.id)
    ctx = action_service.lookups(session, panel_actions, _now())
    found = queries.referrals_of(session, p.id)
    return _page(
        "meetings/meeting.html",
        status,
        panel=p,
        m=service.meeting_json(session, user, m, p),
        agreed=[
            action_service.action_json(a, user, names, ctx)
            for a in panel_actions
            if a.meeting_id == m.id
        ],
        referrals=[r for r in found if r.stage != "closed"],
        today=service.today(),
        **extra,
    )


@bp.get("/<meeting_id>")
@permission("meeting", "read")
@unit_of_work
def meeting(scope: frozenset[str], meeting_id: str) -> tuple[str, int]:
    return _meeting_page(meeting_id)


def _change(what: str, m: Any, p: queries.PanelInfo) -> str:
    """Do one of the meeting forms; returns the message to show."""
    session, user, form = get_session(), actor(), request.form
    if what == "draft":
        agenda.draft(session, user, p, m, side_sessions(), _now())
        return "Agenda drafted. Edit it below: keep, change, remove or add items."
    if what == "agenda":
        service.set_agenda(session, user, p, m, validated(AgendaIn, forms.agenda_body(form)))
        return "Agenda saved."
    if what == "attendance":
        members = [str(a) for a, _, _ in p.members]
        body = forms.attendance_body(form, members)
        service.record_attendance(session, user, p, m, validated(AttendanceIn, body))
        return "Attendance recorded."
    if what == "action":
        data = validated(ActionIn, forms.action_body(form))
        action_service.agree(session, user, p, m, data)
        return f"{FOUR_P[data.four_p]} action agreed."
    if what == "decision":
        service.add_decision(session, user, p, m, validated(DecisionIn, forms.decision_body(form)))
        return "Recorded."
    version = forms.progress_body(form)["version"]
    if not isinstance(version, int):
        raise Invalid.field("version", "Reload the page and try again.")
    service.close_meeting(session, user, m, version)
    return "Meeting closed. Its record is now read-only, except for corrections."


@bp.post("/<meeting_id>/<any(draft, agenda, attendance, action, decision, close):what>")
@permission("meeting", "manage")
@unit_of_work
def change(scope: frozenset[str], meeting_id: str, what: str) -> Any:
    """The chair's forms on the meeting page."""
    m, p = service.meeting_in_panel(get_session(), actor(), meeting_id)
    try:
        message = _change(what, m, p)
    except DomainError as exc:
        errors, status = _problem(exc)
        return _meeting_page(meeting_id, status, errors=errors, failed=what, form=request.form)
    flash(message)
    anchor = {"action": "actions", "decision": "decisions", "draft": "agenda"}.get(what, what)
    return redirect(url_for("meetings.meeting", meeting_id=meeting_id, _anchor=anchor))


# -- places under review ------------------------------------------------------------------------


def _places_page(panel_id: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    found = queries.referrals_of(session, p.id)
    service.audit_read(session, "referral.listed", [p.id], len(found))
    may_refer = can(user.role, "referral", "create", "own")
    return _page(
        "meetings/places.html",
        status,
        panel=p,
        referrals=[referrals.referral_json(session, user, p, r) for r in found],
        may_refer=may_refer,
        contexts=queries.own_contexts(session, user.agency_id) if may_refer else [],
        **extra,
    )


@bp.get("/panels/<panel_id>/places")
@permission("meeting", "read")
@unit_of_work
def places(scope: frozenset[str], panel_id: str) -> tuple[str, int]:
    return _places_page(panel_id)


@bp.post("/panels/<panel_id>/places")
@permission("referral", "create")
@unit_of_work
def refer(scope: frozenset[str], panel_id: str) -> Any:
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    try:
        data = validated(ReferralIn, forms.referral_body(request.form))
        r = referrals.refer(session, user, p, data, _now())
    except DomainError as exc:
        errors, status = _problem(exc)
        return _places_page(panel_id, status, errors=errors, failed="refer", form=request.form)
    flash("Referred. The panel's member agencies can now see it; the referral is audited.")
    return redirect(url_for("meetings.referral", referral_id=r.id))


def _referral_page(referral_id: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    session, user = get_session(), actor()
    r = queries.referral_or_404(session, referral_id)
    p = queries.panel_info(session, user, r.panel_id)
    service.audit_read(session, "referral.viewed", [r.id])
    return _page(
        "meetings/referral.html",
        status,
        panel=p,
        r=referrals.referral_json(session, user, p, r, history=True),
        today=service.today(),
        **extra,
    )


@bp.get("/referrals/<referral_id>")
@permission("meeting", "read")
@unit_of_work
def referral(scope: frozenset[str], referral_id: str) -> tuple[str, int]:
    return _referral_page(referral_id)


@bp.post("/referrals/<referral_id>")
@permission("referral", "stage")
@unit_of_work
def move(scope: frozenset[str], referral_id: str) -> Any:
    session, user = get_session(), actor()
    r = queries.referral_or_404(session, referral_id)
    p = queries.panel_info(session, user, r.panel_id)
    referrals.require_mover(r, user)
    try:
        referrals.move(
            session, user, p, r, validated(StageIn, forms.stage_body(request.form)), _now()
        )
    except DomainError as exc:
        errors, status = _problem(exc)
        return _referral_page(referral_id, status, errors=errors, failed="stage", form=request.form)
    flash(f"Moved to {STAGES[r.stage].lower()}.")
    return redirect(url_for("meetings.referral", referral_id=referral_id))


# -- actions ------------------------------------------------------------------------------------


@bp.get("/actions")
@permission("meeting", "read")
@unit_of_work
def my_actions(scope: frozenset[str]) -> tuple[str, int]:
    """What the user's agency owes, across its panels."""
    session, user = get_session(), actor()
    found = queries.actions_of_agency(session, user.agency_id)
    service.audit_read(session, "action.listed", [user.agency_id], len(found))
    names = action_service.agency_names(session)
    ctx = action_service.lookups(session, found, _now())
    order = {"overdue": 0, "due_soon": 1, "open": 2, "done": 3, "cancelled": 4}
    rows = sorted(
        (action_service.action_json(a, user, names, ctx) for a in found),
        key=lambda r: (order[r["state"]], r["due_on"]),
    )
    return _page("meetings/actions.html", actions=rows, agency=names.get(user.agency_id, ""))


def _action_page(action_id: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    session, user = get_session(), actor()
    a = queries.action_or_404(session, action_id)
    p = queries.panel_info(session, user, a.panel_id)
    service.audit_read(session, "action.viewed", [a.id])
    names = {i: n for i, n, _ in p.members}
    ctx = action_service.lookups(session, [a], _now())
    body = action_service.action_json(a, user, names, ctx, queries.updates_of(session, a.id))
    return _page("meetings/action.html", status, panel=p, a=body, **extra)


@bp.get("/actions/<action_id>")
@permission("meeting", "read")
@unit_of_work
def action(scope: frozenset[str], action_id: str) -> tuple[str, int]:
    return _action_page(action_id)


@bp.post("/actions/<action_id>")
@permission("action", "update")
@unit_of_work
def progress(scope: frozenset[str], action_id: str) -> Any:
    session, user = get_session(), actor()
    a = queries.action_or_404(session, action_id)
    p = queries.panel_info(session, user, a.panel_id)
    action_service.require_updater(a, user)
    try:
        data = validated(ProgressIn, forms.progress_body(request.form))
        action_service.post_progress(session, user, p, a, data, _now())
    except DomainError as exc:
        errors, status = _problem(exc)
        return _action_page(action_id, status, errors=errors, failed="progress", form=request.form)
    flash("Progress posted. Every member agency of the panel can see it.")
    return redirect(url_for("meetings.action", action_id=action_id))


@bp.get("/panels/<panel_id>/partnership")
@permission("meeting", "read")
@unit_of_work
def partnership(scope: frozenset[str], panel_id: str) -> tuple[str, int]:
    """How the partnership is working, with small charts over the last 12 meetings."""
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    service.audit_read(session, "partnership.viewed", [p.id])
    body = dashboard.partnership(session, p, london_day(_now()))
    return _page("meetings/partnership.html", panel=p, f=body, bars=dashboard.bars)
