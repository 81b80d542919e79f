"""Reading a panel's records: its members and area, meetings, referrals and actions.

Everything here runs on the request's session under row-level security: a user of an agency
that does not sit on the panel (or a system admin) gets no rows at all, and the functions
that fetch one object turn that into :class:`~webmap.infra.errors.NotFound` — the same answer
as for something that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.infra.errors import NotFound
from webmap.infra.values import parse_uuid
from webmap.models.meetings import (
    ActionUpdate,
    Meeting,
    MeetingAttendance,
    MeetingDecision,
    PanelAction,
    Referral,
    ReferralStage,
)

_Row = TypeVar("_Row")


def _one(session: Session, model: type[_Row], raw_id: uuid.UUID | str, what: str) -> _Row:
    """The row with this id if the user may see it; NotFound (naming ``what``) otherwise."""
    found = session.get(model, rid) if (rid := parse_uuid(str(raw_id))) else None
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


@dataclass(frozen=True)
class PanelInfo:
    """A panel as its members see it: who sits on it and what its area is."""

    id: uuid.UUID
    name: str
    kind: str
    #: (agency id, name, kind) of each member agency, by name.
    members: tuple[tuple[uuid.UUID, str, str], ...]
    #: (area id, "code name", boundary set name) of each area of the panel's area.
    areas: tuple[tuple[uuid.UUID, str, str], ...]

    def member_ids(self) -> set[uuid.UUID]:
        return {m[0] for m in self.members}

    def agency_name(self, agency_id: uuid.UUID) -> str:
        return next((name for a, name, _ in self.members if a == agency_id), "Another agency")


def my_panels(session: Session, user: Actor) -> list[dict[str, Any]]:
    """The panels the user's agency sits on, MACE first, then by name."""
    rows = session.execute(
        text(
            "SELECT p.id, p.name, p.kind::text FROM panel p JOIN panel_member m"
            " ON m.panel_id = p.id WHERE m.agency_id = :a ORDER BY p.kind, p.name"
        ),
        {"a": user.agency_id},
    ).all()
    return [{"id": pid, "name": name, "kind": kind} for pid, name, kind in rows]


def panel_info(session: Session, user: Actor, panel_id: uuid.UUID | str) -> PanelInfo:
    """The panel, if the user's agency sits on it; otherwise NotFound."""
    pid = parse_uuid(str(panel_id))
    row = (
        session.execute(
            text("SELECT id, name, kind::text FROM panel WHERE id = :p"), {"p": pid}
        ).first()
        if pid
        else None
    )
    members = tuple(
        (a, name, kind)
        for a, name, kind in session.execute(
            text(
                "SELECT a.id, a.name, a.kind::text FROM panel_member m JOIN agency a"
                " ON a.id = m.agency_id WHERE m.panel_id = :p ORDER BY a.name"
            ),
            {"p": pid},
        )
    )
    if row is None or user.agency_id not in {m[0] for m in members}:
        raise NotFound("No such panel.")
    areas = tuple(
        (a, f"{code} {name}", set_name)
        for a, code, name, set_name in session.execute(
            text(
                "SELECT a.id, a.code, a.name, b.name FROM panel_area pa JOIN area a"
                " ON a.id = pa.area_id JOIN boundary_set b ON b.id = a.boundary_set_id"
                " WHERE pa.panel_id = :p ORDER BY b.name, a.code"
            ),
            {"p": pid},
        )
    )
    return PanelInfo(row[0], row[1], row[2], members, areas)


def display_name(session: Session, user_id: uuid.UUID) -> str:
    """The acting user's own display name (RLS lets a user read their own row)."""
    name = session.execute(
        text("SELECT display_name FROM app_user WHERE id = :u"), {"u": user_id}
    ).scalar_one_or_none()
    return str(name or "A member of staff")


def public_names(session: Session, panel: PanelInfo, agency_id: uuid.UUID) -> list[str]:
    """Names a text written for the panel may use: agencies, panels, areas (and their
    codes) of the current boundary sets, the base map's place and station names, public
    places the writer's agency holds, and the public names already disclosed to this
    panel."""
    rows = session.execute(
        text(
            "SELECT name FROM agency UNION SELECT name FROM panel"
            " UNION SELECT a.name FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
            " WHERE b.is_current UNION SELECT a.code FROM area a JOIN boundary_set b"
            " ON b.id = a.boundary_set_id WHERE b.is_current"
            " UNION SELECT name FROM basemap_feature WHERE name IS NOT NULL"
            " UNION SELECT name FROM context WHERE agency_id = :a AND public_place"
            " AND deleted_at IS NULL"
            " UNION SELECT label FROM referral WHERE panel_id = :p AND precise"
        ),
        {"a": agency_id, "p": panel.id},
    )
    return [str(name) for (name,) in rows if name]


# -- meetings ---------------------------------------------------------------------------------


def meetings_of(session: Session, panel_id: uuid.UUID) -> list[Meeting]:
    """The panel's meetings, latest first."""
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.panel_id == panel_id)
            .order_by(Meeting.held_on.desc(), Meeting.created_at.desc())
        )
    )


def meeting_or_404(session: Session, meeting_id: uuid.UUID | str) -> Meeting:
    return _one(session, Meeting, meeting_id, "meeting")


def previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    """The panel's meeting held before this one (the latest such), if any."""
    return session.scalars(
        select(Meeting)
        .where(
            Meeting.panel_id == meeting.panel_id,
            Meeting.id != meeting.id,
            Meeting.held_on < meeting.held_on,
        )
        .order_by(Meeting.held_on.desc())
        .limit(1)
    ).first()


def attendance_of(session: Session, meeting_id: uuid.UUID) -> list[MeetingAttendance]:
    return list(
        session.scalars(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))
    )


def decisions_of(session: Session, meeting_id: uuid.UUID) -> list[MeetingDecision]:
    """Decisions and minutes in the order recorded, corrections included."""
    return list(
        session.scalars(
            select(MeetingDecision)
            .where(MeetingDecision.meeting_id == meeting_id)
            .order_by(MeetingDecision.recorded_at, MeetingDecision.id)
        )
    )


# -- referrals --------------------------------------------------------------------------------


def referrals_of(session: Session, panel_id: uuid.UUID) -> list[Referral]:
    """The panel's referrals, open ones first, then by when they were made."""
    return list(
        session.scalars(
            select(Referral)
            .where(Referral.panel_id == panel_id)
            .order_by((Referral.stage == "closed"), Referral.referred_at.desc())
        )
    )


def referral_or_404(session: Session, referral_id: uuid.UUID | str) -> Referral:
    return _one(session, Referral, referral_id, "referral")


def stage_history(session: Session, referral_id: uuid.UUID) -> list[ReferralStage]:
    return list(
        session.scalars(
            select(ReferralStage)
            .where(ReferralStage.referral_id == referral_id)
            .order_by(ReferralStage.changed_at, ReferralStage.id)
        )
    )


def own_contexts(session: Session, agency_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """(id, name, kind) of the agency's live contexts, by name: what it may refer."""
    return [
        (str(cid), name, kind)
        for cid, name, kind in session.execute(
            text(
                "SELECT id, name, kind::text FROM context WHERE agency_id = :a"
                " AND deleted_at IS NULL ORDER BY name"
            ),
            {"a": agency_id},
        )
    ]


# -- actions ----------------------------------------------------------------------------------


def actions_of_panel(session: Session, panel_id: uuid.UUID) -> list[PanelAction]:
    return list(
        session.scalars(
            select(PanelAction)
            .where(PanelAction.panel_id == panel_id)
            .order_by(PanelAction.due_on, PanelAction.created_at)
        )
    )


def actions_of_agency(session: Session, agency_id: uuid.UUID) -> list[PanelAction]:
    """What the agency owes, across every panel it sits on."""
    return list(
        session.scalars(
            select(PanelAction)
            .where(PanelAction.owner_agency_id == agency_id)
            .order_by(PanelAction.due_on, PanelAction.created_at)
        )
    )


def action_or_404(session: Session, action_id: uuid.UUID | str) -> PanelAction:
    return _one(session, PanelAction, action_id, "action")


def updates_of(session: Session, action_id: uuid.UUID) -> list[ActionUpdate]:
    return list(
        session.scalars(
            select(ActionUpdate)
            .where(ActionUpdate.action_id == action_id)
            .order_by(ActionUpdate.posted_at, ActionUpdate.id)
        )
    )


def held_on_of(session: Session, meeting_ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Each meeting's date (the day its actions were agreed)."""
    if not meeting_ids:
        return {}
    rows = session.execute(
        select(Meeting.id, Meeting.held_on).where(Meeting.id.in_(meeting_ids))
    ).all()
    return {mid: held for mid, held in rows}


def panel_names(session: Session, panel_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not panel_ids:
        return {}
    rows = session.execute(
        text("SELECT id, name FROM panel WHERE id = ANY(:p)"), {"p": list(panel_ids)}
    ).all()
    return {pid: name for pid, name in rows}


def area_names(session: Session, area_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not area_ids:
        return {}
    rows = session.execute(
        text("SELECT id, code || ' ' || name FROM area WHERE id = ANY(:a)"),
        {"a": list(area_ids)},
    ).all()
    return {aid: name for aid, name in rows}
