"""The demo's meetings: the Wrenmouth MACE and LDSM North, each with two past meetings, made
through the meeting services as their chair and members would, so every rule holds.

Dates are relative to the demo's end month E (the last month of data): the meetings are held
on the second Tuesday of E-1 and of E, so on any day after E (``make demo`` loads up to the
last complete month) the first meetings' open actions are overdue. Referrals come from
police, children's social care, education and the VCSE; the actions end up in every state —
open, in progress, done (on time and late), cancelled and overdue. No text names a place that
is not public: the panel sees those only as their kind at the centre of a cell.

The history is data (:data:`EVENTS`), played in order: each event's day is an offset from the
first or the second meeting.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.layers.queries import add_months
from webmap.features.meetings import actions, agenda, queries, referrals, service
from webmap.features.meetings.lifecycle import LONDON
from webmap.features.meetings.schemas import (
    ActionIn,
    AttendanceIn,
    DecisionIn,
    MeetingIn,
    ProgressIn,
    ReferralIn,
    StageIn,
)
from webmap.infra.db import DbContext, apply_context

Factory = Callable[[], AbstractContextManager[Session]]
BASIS = "Children Act 2004 s.11 (safeguarding duties)"
MACE, NORTH = "Wrenmouth MACE", "LDSM North"
#: Each panel's area: (boundary set, area name or None for all of them).
PANEL_AREAS = {MACE: ("wards", None), NORTH: ("ldsm-areas", "LDSM North"),
               "LDSM South": ("ldsm-areas", "LDSM South")}  # fmt: skip
ALL = ("police", "social_care", "health", "education", "vcse")
CHAIR = ("police", "panel_chair")

#: (meeting 1 or 2, days after it, what, details). Referrals are keyed by a short name, and
#: actions too; "@x" links an action to referral x, "area" to the panel's first area.
EVENTS: tuple[tuple[int, int, str, tuple[Any, ...]], ...] = (
    (1, -12, "refer", ("stairwell", MACE, "police", "analyst", "Stairwell, Kestrel House",
                       "Older males meet children in the stairwell most evenings; signs of drug"
                       " use and no lighting.")),
    (1, -9, "refer", ("path", MACE, "vcse", "agency_admin", "Riverside Park path",
                      "Young people gather on the path after dark; older males seen approaching"
                      " them with cash.")),
    (1, -6, "refer", ("shelter", NORTH, "vcse", "agency_admin", "Saltings Park shelter",
                      "Children gather at the shelter late in the evening; older males drive up"
                      " and leave soon after.")),
    (1, 0, "meeting", (MACE, {"health": "apologies"})),
    (1, 0, "move", ("stairwell", *CHAIR, "assessment", None, 27,
                    "Heard at the panel; partners to assess the place.")),
    (1, 0, "move", ("path", *CHAIR, "assessment", None, 27,
                    "Heard at the panel; the youth service and police to assess it.")),
    (1, 0, "action", ("a1", "pursue", "police", 21,
                      "Disruption patrols at the stairwell on school evenings", "@stairwell")),
    (1, 0, "action", ("a2", "prevent", "vcse", 28,
                      "Detached youth work sessions on the Riverside Park path", "@path")),
    (1, 0, "action", ("a3", "protect", "social_care", 14,
                      "Ask the council for lighting on the Riverside Park path", "@path")),
    (1, 0, "action", ("a4", "prepare", "education", 30,
                      "Brief school staff on the signs of criminal exploitation", "area")),
    (1, 0, "decide", ("The panel will focus on the stairwell and the Riverside Park path until"
                      " the next meeting.",)),
    (1, 0, "close", ()),
    (1, 2, "meeting", (NORTH, {"education": "apologies"})),
    (1, 2, "action", ("n1", "prevent", "vcse", 21,
                      "Outreach at the shelter on Friday evenings", "@shelter")),
    (1, 2, "action", ("n2", "pursue", "police", 25,
                      "Vehicle checks near the shelter after dark", "@shelter")),
    (1, 2, "decide", ("Police and youth workers to work the shelter together.",)),
    (1, 2, "close", ()),
    (1, 10, "refer", ("garages", MACE, "social_care", "analyst", "Garages behind Plover Close",
                      "Derelict garages used to hand over packages; children seen waiting there"
                      " after school.")),
    (1, 12, "move", ("path", "vcse", "agency_admin", "weighting", "medium", 20,
                     "Repeated reports from youth workers and police; lighting poor.")),
    (1, 15, "progress", ("a1", "police", "analyst", "done",
                         "Patrols on four evenings; two older males moved on.")),
    (1, 16, "refer", ("saltings", MACE, "education", "agency_admin", "Saltings Park",
                      "Pupils report being approached by older youths in the park on the way"
                      " home.")),
    (1, 20, "progress", ("a2", "vcse", "practitioner", "in_progress",
                         "First two sessions held; good contact with the group.")),
    (1, 20, "progress", ("a3", "social_care", "analyst", "done",
                         "Request made; lights installed.")),
    (1, 20, "progress", ("n1", "vcse", "practitioner", "done", "Outreach held on three Fridays.")),
    (2, 0, "meeting", (MACE, {"health": "absent"})),
    (2, 0, "move", ("stairwell", *CHAIR, "weighting", "high", 28,
                    "Reports continue despite patrols.")),
    (2, 0, "move", ("garages", "social_care", "analyst", "assessment", None, 21,
                    "Joint visit agreed.")),
    (2, 0, "move", ("path", *CHAIR, "plan", None, 42,
                    "Youth work and lighting agreed as the plan.")),
    (2, 0, "action", ("b1", "pursue", "police", 35,
                      "Licensing visit to the takeaways near the bus station", "area")),
    (2, 0, "action", ("b2", "protect", "health", 21,
                      "Health visitors to report concerns on the Riverside Park path", "@path")),
    (2, 0, "action", ("b3", "prevent", "education", 45,
                      "Assemblies on grooming at the secondary schools", "area")),
    (2, 0, "decide", ("Partners agreed to keep the stairwell under review.",)),
    (2, 0, "close", ()),
    (2, 0, "correct", ("Partners agreed to keep the stairwell and the garages under review.",
                       "The garages were agreed too.")),
    (2, 2, "meeting", (NORTH, {})),
    (2, 2, "action", ("n3", "prepare", "education", 30,
                      "Safe routes home leaflet for the schools in the north", "area")),
    (2, 2, "decide", ("The north LDSM will meet monthly until the spring.",)),
    (2, 2, "close", ()),
    (2, 3, "progress", ("b2", *CHAIR, "cancelled", "Covered by the youth work sessions instead.")),
)  # fmt: skip


def _second_tuesday(month: date) -> date:
    return month + timedelta(days=(1 - month.weekday()) % 7 + 7)


def _at(day: date, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), LONDON)


class _Demo:
    """Plays :data:`EVENTS`, acting as each person in turn (the RLS context is theirs)."""

    def __init__(self, session: Session, factory: Factory | None) -> None:
        self.s, self.factory = session, factory
        self.ids = dict(session.execute(text("SELECT slug, id FROM agency")).tuples().all())
        self.refs: dict[str, Any] = {}
        self.acts: dict[str, Any] = {}
        self.meeting: Any = None
        self.info: Any = None
        self.decision: Any = None

    def who(self, slug: str, role: str) -> Actor:
        row = self.s.execute(
            text(
                "SELECT u.id, u.agency_id FROM app_user u JOIN agency a ON a.id = u.agency_id"
                " WHERE a.slug = :s AND u.role = :r ORDER BY u.created_at LIMIT 1"
            ),
            {"s": slug, "r": role},
        ).one()
        apply_context(self.s, DbContext(str(row[0]), str(row[1]), role))
        return Actor(row[0], row[1], role)

    def panel(self, user: Actor, name: str) -> queries.PanelInfo:
        pid = self.s.execute(text("SELECT id FROM panel WHERE name = :n"), {"n": name}).scalar_one()
        return queries.panel_info(self.s, user, pid)

    def play(self, day: date, what: str, args: tuple[Any, ...]) -> None:
        getattr(self, f"do_{what}")(day, *args)

    def do_refer(self, day: date, key: str, panel: str, slug: str, role: str, place: str,
                 summary: str) -> None:  # fmt: skip
        user = self.who(slug, role)
        find = text("SELECT id FROM context WHERE name = :n")
        ctx = self.s.execute(find, {"n": place}).scalar_one()
        data = ReferralIn(context_id=ctx, summary=summary, lawful_basis=BASIS,
                          purpose="To agree disruption and safety work with partners")  # fmt: skip
        panel_info = self.panel(user, panel)
        self.refs[key] = referrals.refer(self.s, user, panel_info, data, _at(day, 10))

    def do_move(self, day: date, key: str, slug: str, role: str, stage: str,
                weighting: str | None, review: int, reasons: str) -> None:  # fmt: skip
        user, r = self.who(slug, role), self.refs[key]
        data = StageIn.model_validate({"version": r.version, "stage": stage, "reasons": reasons,
            "weighting": weighting, "next_review_on": day + timedelta(days=review)})  # fmt: skip
        panel = queries.panel_info(self.s, user, r.panel_id)
        referrals.move(self.s, user, panel, r, data, _at(day, 15))

    def do_meeting(self, day: date, panel: str, absent: dict[str, str]) -> None:
        chair = self.who(*CHAIR)
        self.info = self.panel(chair, panel)
        self.meeting = service.create_meeting(
            self.s, chair, self.info, MeetingIn(held_on=day), _at(day, 9)
        )
        self.s.flush()
        agenda.draft(self.s, chair, self.info, self.meeting, self.factory, _at(day, 9))
        members = [k for k in ALL if self.ids[k] in self.info.member_ids()]
        entries = [{"agency_id": self.ids[k], "status": absent.get(k, "attended")} for k in members]
        data = AttendanceIn.model_validate({"entries": entries})
        service.record_attendance(self.s, chair, self.info, self.meeting, data)

    def do_action(self, day: date, key: str, four_p: str, owner: str, days: int, title: str,
                  link: str) -> None:  # fmt: skip
        chair = self.who(*CHAIR)
        target = ({"area_id": self.info.areas[0][0]} if link == "area"
                  else {"referral_id": self.refs[link[1:]].id})  # fmt: skip
        data = ActionIn.model_validate({"four_p": four_p, "title": title, **target,
            "owner_agency_id": self.ids[owner], "due_on": day + timedelta(days=days)})  # fmt: skip
        self.acts[key] = actions.agree(self.s, chair, self.info, self.meeting, data)

    def do_decide(self, day: date, body: str) -> None:
        chair = self.who(*CHAIR)
        data = DecisionIn(body=body)
        self.decision = service.add_decision(self.s, chair, self.info, self.meeting, data)

    def do_close(self, day: date) -> None:
        service.close_meeting(self.s, self.who(*CHAIR), self.meeting, self.meeting.version)
        self.meeting.closed_at = _at(day, 13)  # at the end of the meeting, in the demo's past

    def do_correct(self, day: date, body: str, reason: str) -> None:
        data = DecisionIn(body=body, corrects=self.decision.id, reason=reason)
        service.add_decision(self.s, self.who(*CHAIR), self.info, self.meeting, data)

    def do_progress(self, day: date, key: str, slug: str, role: str, status: str,
                    note: str) -> None:  # fmt: skip
        user, a = self.who(slug, role), self.acts[key]
        panel = queries.panel_info(self.s, user, a.panel_id)
        data = ProgressIn.model_validate({"note": note, "status": status, "version": a.version})
        actions.post_progress(self.s, user, panel, a, data, _at(day, 16))


def _set_areas(session: Session) -> None:
    for name, (slug, area) in PANEL_AREAS.items():
        session.execute(
            text(
                "INSERT INTO panel_area (panel_id, area_id) SELECT p.id, a.id FROM panel p,"
                " area a JOIN boundary_set b ON b.id = a.boundary_set_id WHERE p.name = :p"
                " AND b.slug = :s AND b.is_current AND (CAST(:a AS text) IS NULL OR a.name = :a)"
                " ON CONFLICT DO NOTHING"
            ),
            {"p": name, "s": slug, "a": area},
        )


def load_meetings(
    session: Session,
    factory: Factory | None,
    end_month: date,
    today: date | None = None,
) -> int:
    """The panels' areas and the demo's meetings (once: nothing if the demo's two panels
    already hold meetings; other panels' meetings are no concern of the demo's)."""
    _set_areas(session)
    if _demo_meetings(session):
        return 0
    today = today or datetime.now(UTC).astimezone(LONDON).date()
    first = min(_second_tuesday(add_months(end_month, -1)), today - timedelta(days=35))
    second = min(_second_tuesday(end_month), today - timedelta(days=5))
    demo = _Demo(session, factory)
    for meeting, offset, what, args in sorted(EVENTS, key=lambda e: (e[0], e[1])):
        demo.play((first if meeting == 1 else second) + timedelta(days=offset), what, args)
    apply_context(session, DbContext())
    return _demo_meetings(session)


def _demo_meetings(session: Session) -> int:
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM meeting m JOIN panel p ON p.id = m.panel_id"
                " WHERE p.name IN (:mace, :north)"
            ),
            {"mace": MACE, "north": NORTH},
        ).scalar_one()
    )
