"""The meeting loop under /api/v1: panels, meetings, referrals, actions, the partnership.

Views authorise (the policy table), parse (the feature's schemas), call the feature's
services and answer; anything outside the user's panels is a 404, exactly like something
that does not exist. Creates accept an Idempotency-Key; changes carry the version read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from webmap.access.policy import permission
from webmap.access.session import actor
from webmap.features.meetings import actions as action_service
from webmap.features.meetings import agenda, dashboard, queries, referrals, service
from webmap.features.meetings import pack as meeting_pack
from webmap.features.meetings.lifecycle import london_day
from webmap.features.meetings.schemas import (
    ActionIn,
    AgendaIn,
    AttendanceIn,
    DecisionIn,
    MeetingIn,
    PanelAreasIn,
    ProgressIn,
    ReferralIn,
    StageIn,
)
from webmap.features.recording.api import json_object, parse_body
from webmap.infra.db import get_session, side_sessions, unit_of_work
from webmap.infra.errors import Invalid
from webmap.web.idempotency import create_once
from webmap.web.openapi import documented
from webmap.web.responder import attachment

bp = Blueprint("meetings_api", __name__, url_prefix="/api/v1")


def _now() -> datetime:
    return datetime.now(UTC)


def _panel(panel_id: str) -> queries.PanelInfo:
    return queries.panel_info(get_session(), actor(), panel_id)


@bp.get("/panels")
@permission("meeting", "read")
@unit_of_work
def panels(scope: frozenset[str]) -> Response:
    """The panels the user's agency sits on."""
    found = queries.my_panels(get_session(), actor())
    return jsonify({"panels": [{**p, "id": str(p["id"])} for p in found]})


@bp.get("/panels/<panel_id>")
@permission("meeting", "read")
@unit_of_work
def panel(scope: frozenset[str], panel_id: str) -> Response:
    """A panel: its member agencies and its area."""
    p = _panel(panel_id)
    return jsonify(
        {
            "id": str(p.id),
            "name": p.name,
            "kind": p.kind,
            "members": [{"id": str(a), "name": n, "kind": k} for a, n, k in p.members],
            "areas": [{"id": str(a), "name": n, "set": s} for a, n, s in p.areas],
        }
    )


@bp.put("/panels/<panel_id>/areas")
@documented(body=PanelAreasIn)
@permission("panel", "manage")
@unit_of_work
def panel_areas(scope: frozenset[str], panel_id: str) -> Response:
    """Set the panel's area: areas of any boundary set (system admins)."""
    data = parse_body(PanelAreasIn)
    return jsonify({"area_ids": service.set_panel_areas(get_session(), panel_id, data.area_ids)})


@bp.get("/panels/<panel_id>/meetings")
@permission("meeting", "read")
@unit_of_work
def meetings(scope: frozenset[str], panel_id: str) -> Response:
    p = _panel(panel_id)
    found = queries.meetings_of(get_session(), p.id)
    service.audit_read(get_session(), "meeting.listed", [p.id], len(found))
    return jsonify(
        {
            "meetings": [
                {
                    "id": str(m.id),
                    "held_on": m.held_on.isoformat(),
                    "kind": m.kind,
                    "status": m.status,
                    "chair": m.chair_name,
                }
                for m in found
            ]
        }
    )


@bp.post("/panels/<panel_id>/meetings")
@documented(body=MeetingIn)
@permission("meeting", "manage")
@unit_of_work
def create_meeting(scope: frozenset[str], panel_id: str) -> Response:
    """A new meeting of the panel, chaired by whoever makes it."""
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    data = parse_body(MeetingIn)

    def make() -> tuple[dict[str, Any], int]:
        m = service.create_meeting(session, user, p, data, _now())
        return service.meeting_json(session, user, m, p), 201

    return create_once(session, make)


@bp.get("/meetings/<meeting_id>")
@permission("meeting", "read")
@unit_of_work
def meeting(scope: frozenset[str], meeting_id: str) -> Response:
    """A meeting: agenda, attendance, decisions and what the user may do."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    service.audit_read(session, "meeting.viewed", [m.id])
    return jsonify(service.meeting_json(session, user, m, p))


@bp.post("/meetings/<meeting_id>/agenda/draft")
@permission("meeting", "manage")
@unit_of_work
def draft_agenda(scope: frozenset[str], meeting_id: str) -> Response:
    """Draft the agenda automatically (replacing it) for the chair to edit."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    agenda.draft(session, user, p, m, side_sessions(), _now())
    return jsonify(service.meeting_json(session, user, m, p))


@bp.put("/meetings/<meeting_id>/agenda")
@documented(body=AgendaIn)
@permission("meeting", "manage")
@unit_of_work
def edit_agenda(scope: frozenset[str], meeting_id: str) -> Response:
    """The agenda as the chair leaves it (with the version read)."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    service.set_agenda(session, user, p, m, parse_body(AgendaIn))
    return jsonify(service.meeting_json(session, user, m, p))


@bp.post("/meetings/<meeting_id>/attendance")
@documented(body=AttendanceIn)
@permission("meeting", "manage")
@unit_of_work
def attendance(scope: frozenset[str], meeting_id: str) -> Response:
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    service.record_attendance(session, user, p, m, parse_body(AttendanceIn))
    return jsonify(service.meeting_json(session, user, m, p))


@bp.post("/meetings/<meeting_id>/decisions")
@documented(body=DecisionIn)
@permission("meeting", "manage")
@unit_of_work
def decision(scope: frozenset[str], meeting_id: str) -> Response:
    """A decision or minute; or, with ``corrects``, a correction that keeps the original."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    data = parse_body(DecisionIn)

    def make() -> tuple[dict[str, Any], int]:
        service.add_decision(session, user, p, m, data)
        return service.meeting_json(session, user, m, p), 201

    return create_once(session, make)


@bp.post("/meetings/<meeting_id>/actions")
@documented(body=ActionIn)
@permission("meeting", "manage")
@unit_of_work
def agree_action(scope: frozenset[str], meeting_id: str) -> Response:
    """A Four-P action agreed at the meeting."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    data = parse_body(ActionIn)

    def make() -> tuple[dict[str, Any], int]:
        a = action_service.agree(session, user, p, m, data)
        names = {i: n for i, n, _ in p.members}
        ctx = action_service.lookups(session, [a], _now())
        return action_service.action_json(a, user, names, ctx), 201

    return create_once(session, make)


@bp.post("/meetings/<meeting_id>/close")
@permission("meeting", "manage")
@unit_of_work
def close(scope: frozenset[str], meeting_id: str) -> Response:
    """Close the meeting (its chair): read-only from now on, but for corrections."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    version = json_object().get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid.field("version", "give the version of the meeting you read")
    service.close_meeting(session, user, m, version)
    return jsonify(service.meeting_json(session, user, m, p))


@bp.get("/meetings/<meeting_id>/pack.pdf")
@permission("meeting", "read")
@unit_of_work
def pack_pdf(scope: frozenset[str], meeting_id: str) -> Response:
    """The meeting pack (PDF), rendered and inspected."""
    session, user = get_session(), actor()
    m, p = service.meeting_in_panel(session, user, meeting_id)
    pdf = meeting_pack.render(session, user, p, m, side_sessions(), _now())
    name = f"meeting-{m.held_on.isoformat()}-{meeting_pack.reference(m.id)}.pdf"
    return attachment(pdf, "application/pdf", name)


# -- referrals ----------------------------------------------------------------------------------


@bp.get("/panels/<panel_id>/referrals")
@permission("meeting", "read")
@unit_of_work
def panel_referrals(scope: frozenset[str], panel_id: str) -> Response:
    """The places under review by the panel."""
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    found = queries.referrals_of(session, p.id)
    service.audit_read(session, "referral.listed", [p.id], len(found))
    return jsonify({"referrals": [referrals.referral_json(session, user, p, r) for r in found]})


@bp.post("/panels/<panel_id>/referrals")
@documented(body=ReferralIn)
@permission("referral", "create")
@unit_of_work
def refer(scope: frozenset[str], panel_id: str) -> Response:
    """Refer one of the agency's places to the panel (a recorded disclosure)."""
    session, user = get_session(), actor()
    p = queries.panel_info(session, user, panel_id)
    data = parse_body(ReferralIn)

    def make() -> tuple[dict[str, Any], int]:
        r = referrals.refer(session, user, p, data, _now())
        return referrals.referral_json(session, user, p, r, history=True), 201

    return create_once(session, make)


def _referral(referral_id: str) -> tuple[Any, queries.PanelInfo]:
    session, user = get_session(), actor()
    r = queries.referral_or_404(session, referral_id)
    return r, queries.panel_info(session, user, r.panel_id)


@bp.get("/referrals/<referral_id>")
@permission("meeting", "read")
@unit_of_work
def referral(scope: frozenset[str], referral_id: str) -> Response:
    """A place under review, with its history."""
    r, p = _referral(referral_id)
    service.audit_read(get_session(), "referral.viewed", [r.id])
    return jsonify(referrals.referral_json(get_session(), actor(), p, r, history=True))


@bp.post("/referrals/<referral_id>/stage")
@documented(body=StageIn)
@permission("referral", "stage")
@unit_of_work
def move_referral(scope: frozenset[str], referral_id: str) -> Response:
    """Move the place to its next stage (with why and the next review date)."""
    r, p = _referral(referral_id)
    referrals.require_mover(r, actor())
    referrals.move(get_session(), actor(), p, r, parse_body(StageIn), _now())
    return jsonify(referrals.referral_json(get_session(), actor(), p, r, history=True))


# -- actions ------------------------------------------------------------------------------------


def _actions_json(found: list[Any], names: dict[Any, str]) -> list[dict[str, Any]]:
    ctx = action_service.lookups(get_session(), found, _now())
    return [action_service.action_json(a, actor(), names, ctx) for a in found]


@bp.get("/panels/<panel_id>/actions")
@permission("meeting", "read")
@unit_of_work
def panel_actions(scope: frozenset[str], panel_id: str) -> Response:
    p = _panel(panel_id)
    found = queries.actions_of_panel(get_session(), p.id)
    service.audit_read(get_session(), "action.listed", [p.id], len(found))
    return jsonify({"actions": _actions_json(found, {a: n for a, n, _ in p.members})})


@bp.get("/panels/<panel_id>/actions.geojson")
@permission("meeting", "read")
@unit_of_work
def panel_actions_geojson(scope: frozenset[str], panel_id: str) -> Response:
    """The panel's actions at their tier B positions, with a legend entry per Four P."""
    p = _panel(panel_id)
    body = action_service.actions_geojson(get_session(), actor(), p, _now())
    service.audit_read(get_session(), "action.listed", [p.id], len(body["features"]))
    resp = jsonify(body)
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/actions")
@permission("meeting", "read")
@unit_of_work
def my_actions(scope: frozenset[str]) -> Response:
    """What the user's agency owes, across its panels."""
    session, user = get_session(), actor()
    found = queries.actions_of_agency(session, user.agency_id)
    service.audit_read(session, "action.listed", [user.agency_id], len(found))
    return jsonify({"actions": _actions_json(found, action_service.agency_names(session))})


def _action(action_id: str) -> tuple[Any, queries.PanelInfo]:
    session, user = get_session(), actor()
    a = queries.action_or_404(session, action_id)
    return a, queries.panel_info(session, user, a.panel_id)


def _action_body(a: Any, p: queries.PanelInfo) -> dict[str, Any]:
    session = get_session()
    ctx = action_service.lookups(session, [a], _now())
    names = {i: n for i, n, _ in p.members}
    return action_service.action_json(a, actor(), names, ctx, queries.updates_of(session, a.id))


@bp.get("/actions/<action_id>")
@permission("meeting", "read")
@unit_of_work
def action(scope: frozenset[str], action_id: str) -> Response:
    """An action with its progress updates."""
    a, p = _action(action_id)
    service.audit_read(get_session(), "action.viewed", [a.id])
    return jsonify(_action_body(a, p))


@bp.post("/actions/<action_id>/updates")
@documented(body=ProgressIn)
@permission("action", "update")
@unit_of_work
def post_update(scope: frozenset[str], action_id: str) -> Response:
    """Progress on the action, optionally moving its status (with the version read)."""
    session, user = get_session(), actor()
    a, p = _action(action_id)
    action_service.require_updater(a, user)
    data = parse_body(ProgressIn)

    def make() -> tuple[dict[str, Any], int]:
        action_service.post_progress(session, user, p, a, data, _now())
        return _action_body(a, p), 201

    return create_once(session, make)


@bp.get("/panels/<panel_id>/partnership")
@permission("meeting", "read")
@unit_of_work
def partnership(scope: frozenset[str], panel_id: str) -> Response:
    """How the partnership is working: per agency and kind, by Four P, places by stage, and
    over the last 12 meetings."""
    p = _panel(panel_id)
    body = dashboard.partnership(get_session(), p, london_day(_now()))
    service.audit_read(get_session(), "partnership.viewed", [p.id])
    return jsonify(body)
