"""Four-P actions: agreed at a meeting, owned by a member agency, followed to completion.

An action is tagged Prevent, Prepare, Pursue or Protect, has an owner agency (and optionally
a named owner), a due date, and one link: a place under review, a cell of the lattice or an
area. Its owner agency posts progress and moves its status (open, in progress, done,
cancelled); overdue is computed, never stored, from the due date as a calendar date in
London. On the panel's map an action stands at its link's tier B position — the referral's
disclosed position, the cell's centre or a point inside the area — so the map shows nothing
finer than the panel already sees.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Final

import h3
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction_output import centre
from webmap.access.actor import Actor
from webmap.access.policy import can
from webmap.features.meetings import queries
from webmap.features.meetings.lifecycle import (
    ACTION_STATUSES,
    FOUR_P,
    action_state,
    london_day,
)
from webmap.features.meetings.queries import PanelInfo
from webmap.features.meetings.schemas import ActionIn, ProgressIn
from webmap.features.meetings.service import check_texts, require
from webmap.infra import audit
from webmap.infra.errors import Conflict, Invalid, Refused
from webmap.models.meetings import ActionUpdate, Meeting, PanelAction

#: One colour per Four P on the panel map and in its legend (distinct in print and for the
#: common colour-vision deficiencies), with the letter drawn on each marker.
FOUR_P_STYLE: Final[dict[str, tuple[str, str]]] = {
    "prevent": ("#1b7837", "V"),
    "prepare": ("#2166ac", "E"),
    "pursue": ("#b2182b", "U"),
    "protect": ("#762a83", "O"),
}
#: The coarsest and finest lattice resolutions an action may be linked to (tier B's floor).
CELL_RESOLUTIONS: Final = (7, 8)
MAX_DUE = timedelta(days=2 * 366)


def _check_link(session: Session, panel: PanelInfo, data: ActionIn) -> None:
    links = [v for v in (data.referral_id, data.cell, data.area_id) if v is not None]
    if len(links) != 1:
        raise Invalid.field("link", "give exactly one of a place under review, a cell or an area")
    if data.referral_id is not None:
        found = session.execute(
            text("SELECT 1 FROM referral WHERE id = :r AND panel_id = :p"),
            {"r": data.referral_id, "p": panel.id},
        ).first()
        if not found:
            raise Invalid.field("referral_id", "is not a place under review by this panel")
    if data.cell is not None:
        key = int(data.cell, 16)
        known = (
            h3.api.basic_int.is_valid_cell(key)
            and session.execute(text("SELECT 1 FROM cell WHERE cell = :c"), {"c": key}).first()
        )
        if not known or h3.api.basic_int.get_resolution(key) not in CELL_RESOLUTIONS:
            raise Invalid.field("cell", "is not a cell of the lattice at resolution 7 or 8")
    if data.area_id is not None:
        area = session.execute(text("SELECT 1 FROM area WHERE id = :a"), {"a": data.area_id})
        if not area.first():
            raise Invalid.field("area_id", "is not an area of any boundary set")


def agree(
    session: Session, user: Actor, panel: PanelInfo, meeting: Meeting, data: ActionIn
) -> PanelAction:
    """Record an action agreed at the (open) meeting; the chair only."""
    require(meeting, user)
    if data.owner_agency_id not in panel.member_ids():
        raise Invalid.field("owner_agency_id", "is not a member of this panel")
    if data.due_on < meeting.held_on:
        raise Invalid.field("due_on", "must not be before the meeting")
    if data.due_on > meeting.held_on + MAX_DUE:
        raise Invalid.field("due_on", "must be within two years of the meeting")
    _check_link(session, panel, data)
    check_texts(session, user, panel, {"title": data.title})
    action = PanelAction(
        panel_id=panel.id,
        meeting_id=meeting.id,
        four_p=data.four_p,
        title=data.title,
        owner_agency_id=data.owner_agency_id,
        owner_name=(data.owner_name or "").strip() or None,
        due_on=data.due_on,
        referral_id=data.referral_id,
        cell=int(data.cell, 16) if data.cell else None,
        area_id=data.area_id,
        status="open",
        created_by=user.id,
    )
    session.add(action)
    session.flush()
    audit.record(
        session, "action.created", object_type="panel_action",
        object_ids=[action.id, meeting.id], subject_agency_id=data.owner_agency_id,
        details={"four_p": data.four_p},
    )  # fmt: skip
    return action


def relation_to(action: PanelAction, user: Actor) -> str:
    return "own" if action.owner_agency_id == user.agency_id else "panel_member"


def may_update(action: PanelAction, user: Actor) -> bool:
    return can(user.role, "action", "update", relation_to(action, user))


def require_updater(action: PanelAction, user: Actor) -> None:
    """Refuse (403) a member who may see the action but not update it (before reading a body)."""
    if not may_update(action, user):
        raise Refused(
            "Only the owner agency and the panel's chairs post progress on an action.",
            {"note": "not your agency's action"},
        )


def post_progress(
    session: Session, user: Actor, panel: PanelInfo, action: PanelAction, data: ProgressIn,
    now: datetime,
) -> ActionUpdate:  # fmt: skip
    """Progress from the owner agency (or a chair), optionally moving the status."""
    require_updater(action, user)
    if data.status is not None:
        if data.version is None:
            raise Invalid.field("version", "give the version you read to change the status")
        if data.version != action.version:
            raise Conflict(
                "The action changed since you read it: reload it and try again.",
                {"version": f"is {action.version} now"},
            )
        if action.status in ("done", "cancelled") and data.status != action.status:
            raise Invalid.field(
                "status", f"the action is {action.status}; agree a new one at the next meeting"
            )
    check_texts(session, user, panel, {"note": data.note})
    if data.status is not None and data.status != action.status:
        action.status = data.status
        action.closed_on = london_day(now) if data.status in ("done", "cancelled") else None
        action.version += 1
        action.updated_at = now
    update = ActionUpdate(
        action_id=action.id,
        agency_id=user.agency_id,
        note=data.note,
        status=data.status,
        posted_by=user.id,
        posted_by_name=queries.display_name(session, user.id),
        posted_at=now,
    )
    session.add(update)
    session.flush()
    details = {"status": data.status} if data.status else None
    audit.record(
        session, "action.progress", object_type="panel_action", object_ids=[action.id],
        subject_agency_id=action.owner_agency_id, details=details,
    )  # fmt: skip
    return update


def _link(action: PanelAction, areas: dict[uuid.UUID, str]) -> dict[str, Any]:
    if action.referral_id is not None:
        return {"type": "referral", "id": str(action.referral_id)}
    if action.cell is not None:
        return {"type": "cell", "cell": format(action.cell, "x")}
    return {"type": "area", "id": str(action.area_id), "name": areas.get(action.area_id, "")}  # type: ignore[arg-type]


def action_json(
    action: PanelAction,
    user: Actor,
    names: dict[uuid.UUID, str],
    context: dict[str, Any],
    updates: list[ActionUpdate] | None = None,
) -> dict[str, Any]:
    """``context`` carries the lookups: ``day``, ``agreed`` (meeting → date), ``panels``
    (id → name) and ``areas`` (id → name)."""
    day = context["day"]
    body: dict[str, Any] = {
        "id": str(action.id),
        "panel": {"id": str(action.panel_id), "name": context["panels"].get(action.panel_id, "")},
        "meeting_id": str(action.meeting_id),
        "agreed_on": (a.isoformat() if (a := context["agreed"].get(action.meeting_id)) else None),
        "four_p": action.four_p,
        "four_p_label": FOUR_P[action.four_p],
        "title": action.title,
        "owner_agency_id": str(action.owner_agency_id),
        "owner": names.get(action.owner_agency_id, "Another agency"),
        "owner_name": action.owner_name,
        "due_on": action.due_on.isoformat(),
        "status": action.status,
        "status_label": ACTION_STATUSES[action.status],
        "state": action_state(action.status, action.due_on, action.closed_on, day),
        "closed_on": action.closed_on.isoformat() if action.closed_on else None,
        "link": _link(action, context["areas"]),
        "version": action.version,
        "may_update": may_update(action, user),
    }
    if updates is not None:
        body["updates"] = [
            {
                "note": u.note,
                "status": u.status,
                "posted_by": u.posted_by_name,
                "agency": names.get(u.agency_id, "Another agency"),
                "posted_at": u.posted_at.isoformat(),
            }
            for u in updates
        ]
    return body


def lookups(session: Session, actions: list[PanelAction], now: datetime) -> dict[str, Any]:
    """The dates, panel and area names the actions' JSON needs, in three queries."""
    return {
        "day": london_day(now),
        "agreed": queries.held_on_of(session, {a.meeting_id for a in actions}),
        "panels": queries.panel_names(session, {a.panel_id for a in actions}),
        "areas": queries.area_names(session, {a.area_id for a in actions if a.area_id}),
    }


def agency_names(session: Session) -> dict[uuid.UUID, str]:
    return dict(session.execute(text("SELECT id, name FROM agency")).tuples().all())


def positions(session: Session, actions: list[PanelAction]) -> dict[uuid.UUID, tuple[float, float]]:
    """Each action's tier B position (see the module's docstring)."""
    referrals = {a.referral_id for a in actions if a.referral_id}
    areas = {a.area_id for a in actions if a.area_id}
    at_referral = {
        rid: (lon, lat)
        for rid, lon, lat in session.execute(
            text("SELECT id, lon, lat FROM referral WHERE id = ANY(:r)"), {"r": list(referrals)}
        )
    }
    at_area = {
        aid: (round(lon, 6), round(lat, 6))
        for aid, lon, lat in session.execute(
            text(
                "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                " FROM area WHERE id = ANY(:a)"
            ),
            {"a": list(areas)},
        )
    }
    out: dict[uuid.UUID, tuple[float, float]] = {}
    for a in actions:
        if a.referral_id in at_referral:
            out[a.id] = at_referral[a.referral_id]
        elif a.cell is not None:
            out[a.id] = centre(a.cell)
        elif a.area_id in at_area:
            out[a.id] = at_area[a.area_id]
    return out


def actions_geojson(
    session: Session, user: Actor, panel: PanelInfo, now: datetime
) -> dict[str, Any]:
    """The panel's actions as map points with a legend entry per Four P."""
    actions = queries.actions_of_panel(session, panel.id)
    names = {a: n for a, n, _ in panel.members}
    ctx = lookups(session, actions, now)
    where = positions(session, actions)
    features = []
    for a in actions:
        if a.id not in where:
            continue
        props = action_json(a, user, names, ctx)
        colour, letter = FOUR_P_STYLE[a.four_p]
        props.update(colour=colour, letter=letter)
        features.append(
            {
                "type": "Feature",
                "id": str(a.id),
                "geometry": {"type": "Point", "coordinates": list(where[a.id])},
                "properties": props,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "legend": [
            {
                "four_p": p,
                "label": label,
                "colour": FOUR_P_STYLE[p][0],
                "letter": FOUR_P_STYLE[p][1],
                "count": sum(1 for a in actions if a.four_p == p),
            }
            for p, label in FOUR_P.items()
        ],
        "precision": "Each action stands where its place is shown to the panel: a public place"
        " at its true position, any other place, cell or area at a point of its cell or area.",
    }
