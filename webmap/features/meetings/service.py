"""Holding a panel's meeting: make it, edit its agenda, record attendance and decisions,
close it, and correct it afterwards without losing the original.

The policy table says who may hold a meeting at all (a panel chair of a member agency);
:func:`ruled_out` says what the meeting's own state forbids (only its chair acts; a closed
meeting takes corrections only). Every write is audited in the same transaction, and every
text the panel will read passes :func:`~webmap.features.meetings.text_check.text_problems`
before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.access.policy import actions, can
from webmap.features.meetings import queries
from webmap.features.meetings.lifecycle import AGENDA_SECTIONS, london_day
from webmap.features.meetings.queries import PanelInfo
from webmap.features.meetings.schemas import AgendaIn, AttendanceIn, DecisionIn, MeetingIn
from webmap.features.meetings.text_check import problem_sentence, text_problems
from webmap.infra import audit
from webmap.infra.errors import Conflict, Invalid, NotFound, Refused
from webmap.infra.values import parse_uuid
from webmap.models.core import Panel
from webmap.models.meetings import Meeting, MeetingAttendance, MeetingDecision

#: How far from today a meeting may be dated (a typo of a year is refused, naming the field).
MEETING_WINDOW = timedelta(days=366)


def check_texts(
    session: Session, user: Actor, panel: PanelInfo, fields: Mapping[str, str | None],
    known_refs: tuple[str, ...] = (), withheld: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Refuse (422, naming each field) any text that looks like it identifies someone."""
    allowed = queries.public_names(session, panel, user.agency_id)
    problems = {
        name: problem_sentence(found)
        for name, value in fields.items()
        if value
        and (
            found := text_problems(value, allowed=allowed, known_refs=known_refs, withheld=withheld)
        )
    }
    if problems:
        raise Invalid.of(problems)


def ruled_out(meeting: Meeting, user: Actor) -> dict[str, str | None]:
    """What the meeting's own state forbids ``user`` now, per action (None: nothing)."""
    not_chair = None if meeting.chair_id == user.id else "only the meeting's chair may do this"
    closed = "the meeting is closed" if meeting.status == "closed" else None
    return {"manage": not_chair or closed, "correct": not_chair}


def may(session: Session, user: Actor, meeting: Meeting) -> frozenset[str]:
    """The buttons ``user`` sees on ``meeting``: the policy's actions less the meeting's rules,
    plus ``correct`` for the chair of a closed meeting."""
    allowed = actions(user.role, "meeting", "panel_member", ruled_out(meeting, user))
    if (
        can(user.role, "meeting", "manage", "panel_member")
        and not ruled_out(meeting, user)["correct"]
    ):
        allowed |= {"correct"}
    return allowed


def require(meeting: Meeting, user: Actor, what: str = "manage") -> None:
    """Refuse (403) what the meeting's own state rules out for ``user``."""
    why = ruled_out(meeting, user)[what]
    if why is not None:
        raise Refused(f"You cannot change this meeting: {why}.", {"meeting": why})


def create_meeting(
    session: Session, user: Actor, panel: PanelInfo, data: MeetingIn, now: datetime
) -> Meeting:
    today = london_day(now)
    if abs(data.held_on - today) > MEETING_WINDOW:
        raise Invalid.field("held_on", "must be within a year of today")
    meeting = Meeting(
        panel_id=panel.id,
        held_on=data.held_on,
        kind=data.kind,
        chair_id=user.id,
        chair_name=queries.display_name(session, user.id),
        chair_agency_id=user.agency_id,
        status="open",
        agenda=[],
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session, "meeting.created", object_type="meeting", object_ids=[meeting.id, panel.id]
    )
    return meeting


def _bump(meeting: Meeting, version: int | None = None) -> None:
    if version is not None and version != meeting.version:
        raise Conflict(
            "The meeting changed since you read it: reload it and try again.",
            {"version": f"is {meeting.version} now"},
        )
    meeting.version += 1
    meeting.updated_at = datetime.now(UTC)


def set_agenda(
    session: Session, user: Actor, panel: PanelInfo, meeting: Meeting, data: AgendaIn
) -> Meeting:
    """Replace the agenda with the chair's edited items (in the sections' order)."""
    require(meeting, user)
    check_texts(
        session, user, panel,
        {f"items.{n}": f"{i.title} {i.detail}" for n, i in enumerate(data.items)},
    )  # fmt: skip
    order = list(AGENDA_SECTIONS)
    items = sorted(
        (i.model_dump() for i in data.items), key=lambda i: order.index(i["section"])
    )  # a stable sort: the chair's order within each section is kept
    _bump(meeting, data.version)
    meeting.agenda = items
    audit.record(
        session, "meeting.agenda_changed", object_type="meeting", object_ids=[meeting.id],
        details={"count": len(items)},
    )  # fmt: skip
    return meeting


def record_attendance(
    session: Session, user: Actor, panel: PanelInfo, meeting: Meeting, data: AttendanceIn
) -> list[MeetingAttendance]:
    require(meeting, user)
    members = panel.member_ids()
    seen: set[uuid.UUID] = set()
    for n, entry in enumerate(data.entries):
        if entry.agency_id not in members:
            raise Invalid.field(f"entries.{n}.agency_id", "is not a member of this panel")
        if entry.agency_id in seen:
            raise Invalid.field(f"entries.{n}.agency_id", "is listed twice")
        seen.add(entry.agency_id)
    for entry in data.entries:
        row = session.get(MeetingAttendance, (meeting.id, entry.agency_id))
        if row is None:
            row = MeetingAttendance(meeting_id=meeting.id, agency_id=entry.agency_id)
            session.add(row)
        row.status = entry.status
        row.people = entry.people.strip()
        row.recorded_by = user.id
        row.recorded_at = datetime.now(UTC)
    _bump(meeting)
    session.flush()
    audit.record(
        session, "meeting.attendance", object_type="meeting", object_ids=[meeting.id],
        details={"count": len(data.entries)},
    )  # fmt: skip
    return queries.attendance_of(session, meeting.id)


def add_decision(
    session: Session, user: Actor, panel: PanelInfo, meeting: Meeting, data: DecisionIn
) -> MeetingDecision:
    """A decision or minute while the meeting is open; afterwards, only a correction, which
    is a new record naming the one it corrects, with the reason (the original is kept)."""
    if data.corrects is None:
        require(meeting, user)
    else:
        require(meeting, user, "correct")
        if not (data.reason or "").strip():
            raise Invalid.field("reason", "say why the record is corrected")
        original = session.get(MeetingDecision, data.corrects)
        if original is None or original.meeting_id != meeting.id:
            raise Invalid.field("corrects", "is not a decision or minute of this meeting")
    check_texts(session, user, panel, {"body": data.body, "reason": data.reason})
    decision = MeetingDecision(
        meeting_id=meeting.id,
        kind=data.kind,
        body=data.body,
        corrects_id=data.corrects,
        correction_reason=(data.reason or "").strip() or None if data.corrects else None,
        recorded_by=user.id,
        recorded_by_name=queries.display_name(session, user.id),
    )
    session.add(decision)
    session.flush()
    audit.record(
        session,
        "meeting.corrected" if data.corrects else "meeting.decision",
        object_type="meeting_decision",
        object_ids=[decision.id, meeting.id],
    )
    return decision


def close_meeting(session: Session, user: Actor, meeting: Meeting, version: int | None) -> Meeting:
    """Close the meeting: from now on it is read-only but for corrections."""
    require(meeting, user)
    if london_day(datetime.now(UTC)) < meeting.held_on:
        raise Invalid.field("held_on", "a meeting cannot be closed before the day it is held")
    _bump(meeting, version)
    meeting.status = "closed"
    meeting.closed_at = datetime.now(UTC)
    audit.record(session, "meeting.closed", object_type="meeting", object_ids=[meeting.id])
    return meeting


def meeting_in_panel(session: Session, user: Actor, meeting_id: str) -> tuple[Meeting, PanelInfo]:
    """The meeting and its panel, if the user's agency sits on the panel; else NotFound."""
    meeting = queries.meeting_or_404(session, meeting_id)
    try:
        return meeting, queries.panel_info(session, user, meeting.panel_id)
    except NotFound:
        raise NotFound("No such meeting.") from None


def meeting_json(
    session: Session, user: Actor, meeting: Meeting, panel: PanelInfo
) -> dict[str, Any]:
    """The meeting's record, as the API gives it and the page reads it."""
    names = {a: n for a, n, _ in panel.members}
    decisions = queries.decisions_of(session, meeting.id)
    corrected = {d.corrects_id for d in decisions if d.corrects_id}
    return {
        "id": str(meeting.id),
        "panel": {"id": str(panel.id), "name": panel.name, "kind": panel.kind},
        "held_on": meeting.held_on.isoformat(),
        "kind": meeting.kind,
        "chair": {"name": meeting.chair_name, "agency": names.get(meeting.chair_agency_id, "")},
        "status": meeting.status,
        "closed_at": meeting.closed_at.isoformat() if meeting.closed_at else None,
        "version": meeting.version,
        "agenda": meeting.agenda,
        "agenda_drafted_at": (
            meeting.agenda_drafted_at.isoformat() if meeting.agenda_drafted_at else None
        ),
        "attendance": [
            {
                "agency_id": str(a.agency_id),
                "agency": names.get(a.agency_id, "Former member"),
                "status": a.status,
                "people": a.people,
            }
            for a in queries.attendance_of(session, meeting.id)
        ],
        "decisions": [
            {
                "id": str(d.id),
                "kind": d.kind,
                "body": d.body,
                "recorded_by": d.recorded_by_name,
                "recorded_at": d.recorded_at.isoformat(),
                "corrects": str(d.corrects_id) if d.corrects_id else None,
                "correction_reason": d.correction_reason,
                "superseded": d.id in corrected,
            }
            for d in decisions
        ],
        "may": sorted(may(session, user, meeting)),
    }


def audit_read(session: Session, action: str, ids: list[Any], count: int | None = None) -> None:
    """Reads of panel records are audited like any read of agency data."""
    details = {"count": count} if count is not None else None
    audit.record(session, action, object_type="panel", object_ids=ids, details=details)


def set_panel_areas(session: Session, panel_id: str, area_ids: list[uuid.UUID]) -> list[str]:
    """Set a panel's area (a system admin's job; RLS checks the role again)."""
    pid = parse_uuid(panel_id)
    if pid is None or session.get(Panel, pid) is None:
        raise NotFound("No such panel.")
    found = set(
        session.execute(
            text("SELECT id FROM area WHERE id = ANY(:a)"), {"a": list(area_ids)}
        ).scalars()
    )
    missing = [str(a) for a in area_ids if a not in found]
    if missing:
        raise Invalid.field("area_ids", f"no such area: {', '.join(missing)}")
    session.execute(text("DELETE FROM panel_area WHERE panel_id = :p"), {"p": pid})
    for area in dict.fromkeys(area_ids):
        session.execute(
            text("INSERT INTO panel_area (panel_id, area_id) VALUES (:p, :a)"),
            {"p": pid, "a": area},
        )
    audit.record(
        session, "panel.area_set", object_type="panel", object_ids=[pid],
        details={"count": len(found)},
    )  # fmt: skip
    return [str(a) for a in dict.fromkeys(area_ids)]


def today() -> date:
    """Today in London: the one seam through which the pages learn the date."""
    return london_day(datetime.now(UTC))
