"""The meeting pack: a printable PDF of a meeting, from the same renderer as briefing packs and
checked by the same self-inspection before anyone is given it.

It holds the panel's map (published tier B cells over the panel's area for the months since
the last meeting, summed per cell — sums of published cells — with the places under review
and the actions at their tier B positions, drawn as a picture), the precision statement,
what changed, the referrals, the actions by Four P with owners and due dates, the decisions
and attendance. The rendered PDF is then inspected for anything the panel's members must
never see: the names of referred places that are not public, and the notes, young people's
references and marks recorded at them (``csmap_meeting_withheld``); any finding is a 422 and
nothing is handed out.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import PublishedCell, TierProfile, cell_totals, to_geojson
from webmap.access.actor import Actor
from webmap.features.meetings import queries
from webmap.features.meetings.actions import action_json, lookups, positions
from webmap.features.meetings.agenda import SessionFactory, month_words, panel_shares, window
from webmap.features.meetings.lifecycle import (
    AGENDA_SECTIONS,
    ATTENDANCE,
    FOUR_P,
    STAGES,
    london_day,
)
from webmap.features.meetings.queries import PanelInfo
from webmap.features.packs.build import MIN_FORBIDDEN
from webmap.features.packs.content import PackContent, long_date
from webmap.features.packs.inspect import inspect_pdf
from webmap.features.packs.mapimage import render_map_png
from webmap.features.packs.render import render_document_pdf
from webmap.features.reference import queries as geodata
from webmap.features.sharing import output as share_output
from webmap.infra import audit
from webmap.infra.errors import Invalid
from webmap.models.meetings import Meeting

MARKING = "OFFICIAL-SENSITIVE"


def reference(meeting_id: uuid.UUID) -> str:
    """The short reference printed on every page.

    >>> reference(uuid.UUID("3fa1b2c4-0000-4000-8000-000000000000"))
    'MT-3FA1-B2C4'
    """
    hexed = meeting_id.hex.upper()
    return f"MT-{hexed[:4]}-{hexed[4:8]}"


def _cells(
    session: Session, panel: PanelInfo, meeting: Meeting, factory: SessionFactory | None,
    today: Any,
) -> tuple[dict[str, Any], str, str]:  # fmt: skip
    """The map's cells (GeoJSON), their period in words and the precision statement."""
    previous = queries.previous_meeting(session, meeting)
    win = window(meeting.held_on, previous.held_on if previous else None, today)
    by_res: dict[int, dict[int, int]] = {}
    profiles: dict[int, TierProfile] = {}
    precision = "Nothing is shared with this panel yet."
    label = "no complete month since the last meeting"
    if win is None:
        return {"type": "FeatureCollection", "features": []}, label, precision
    keys = win.keys(True)
    label = month_words(win.start, win.end)
    area_cells = _area_cells(session, panel)
    for share in panel_shares(session, panel):
        if factory is not None:
            share_output.publish_due(share, factory)
        pub = share_output.publish(session, share)
        precision = pub.precision
        for release in pub.releases:
            profiles.setdefault(release.profile.resolution, release.profile)
        for c in pub.cells:
            if c.period in keys and isinstance(c.count, int):
                if area_cells and c.cell not in area_cells:
                    continue
                res = (c.cell >> 52) & 0xF
                by_res.setdefault(res, {})
                by_res[res][c.cell] = by_res[res].get(c.cell, 0) + c.count
    features: list[dict[str, Any]] = []
    for res, counts in sorted(by_res.items()):
        cells = [PublishedCell(cell, label, n) for cell, n in counts.items()]
        features += to_geojson(cell_totals(cells, label), profiles[res])["features"]
    if features:
        precision += " Each hexagon's count is the sum of its months and of the panel's sources."
    return {"type": "FeatureCollection", "features": features}, label, precision


def _area_cells(session: Session, panel: PanelInfo) -> set[int]:
    if not panel.areas:
        return set()
    rows = session.execute(
        text("SELECT cell FROM cell_area WHERE area_id = ANY(:a)"),
        {"a": [a for a, _, _ in panel.areas]},
    )
    return {int(c) for (c,) in rows}


def withheld(session: Session, meeting: Meeting) -> set[str]:
    """What the pack must never show (read through ``csmap_meeting_withheld``)."""
    rows = session.execute(text("SELECT * FROM csmap_meeting_withheld(:m)"), {"m": meeting.id})
    return {s for (s,) in rows if s and len("".join(s.split())) >= MIN_FORBIDDEN}


def content(
    session: Session, user: Actor, panel: PanelInfo, meeting: Meeting,
    factory: SessionFactory | None, now: datetime,
) -> tuple[PackContent, dict[str, Any]]:  # fmt: skip
    """The map's content and everything the pack's pages list."""
    today = london_day(now)
    cells, label, precision = _cells(session, panel, meeting, factory, today)
    names = {a: n for a, n, _ in panel.members}
    referrals = queries.referrals_of(session, panel.id)
    key = {r.id: f"R{n}" for n, r in enumerate(referrals, start=1)}
    actions = queries.actions_of_panel(session, panel.id)
    # The actions still to do, and everything this meeting agreed (done or not).
    shown = [
        a for a in actions if a.status in ("open", "in_progress") or a.meeting_id == meeting.id
    ]
    ctx = lookups(session, shown, now)
    where = positions(session, shown)
    places = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
         "properties": {"name": key[r.id], "kind": r.kind}}
        for r in referrals if r.stage != "closed"
    ]  # fmt: skip
    places += [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(where[a.id])},
         "properties": {"name": f"A{n}", "kind": "action"}}
        for n, a in enumerate(shown, start=1) if a.id in where and not a.referral_id
    ]  # fmt: skip
    pack = PackContent(
        share_id=reference(meeting.id),
        title=f"{panel.name}: meeting of {long_date(meeting.held_on)}",
        recipient=panel.name,
        marking=MARKING,
        issued=today,
        review=max(today, meeting.held_on),
        period_label=label,
        precision=precision,
        cells=cells,
        places={"type": "FeatureCollection", "features": places},
        basemap=json.loads(geodata.basemap_geojson(session)),
    )
    decisions = queries.decisions_of(session, meeting.id)
    corrected = {d.corrects_id for d in decisions if d.corrects_id}
    pages = {
        "panel": panel,
        "meeting": meeting,
        "sections": AGENDA_SECTIONS,
        "changes": [i for i in meeting.agenda if i.get("section") == "changes"],
        "referrals": [(key[r.id], r, names.get(r.agency_id, "")) for r in referrals],
        "stages": STAGES,
        "actions": {
            p: [
                (f"A{n}", action_json(a, user, names, ctx))
                for n, a in enumerate(shown, start=1)
                if a.four_p == p
            ]
            for p in FOUR_P
        },
        "four_p": FOUR_P,
        "decisions": [(d, d.id in corrected) for d in decisions],
        "attendance": [
            (names.get(a.agency_id, ""), ATTENDANCE[a.status], a.people)
            for a in queries.attendance_of(session, meeting.id)
        ],
    }
    return pack, pages


def render(
    session: Session, user: Actor, panel: PanelInfo, meeting: Meeting,
    factory: SessionFactory | None, now: datetime,
) -> bytes:  # fmt: skip
    """The meeting pack PDF, inspected; 422 if the inspection finds anything."""
    pack, pages = content(session, user, panel, meeting, factory, now)
    png = render_map_png(pack, width=1600, height=1000)
    pdf = render_document_pdf(
        "meetings/pack_pdf.html",
        c=pack,
        map_src="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        issued=long_date(pack.issued),
        held=long_date(meeting.held_on),
        **pages,
    )
    problems = inspect_pdf(pdf, withheld(session, meeting))
    if problems:
        message = (
            "the meeting pack failed its self-inspection, so it was not given out"
            f" ({'; '.join(problems)}). Correct the record that carries it and try again."
        )
        raise Invalid(f"inspection: {message}", {"inspection": message})
    audit.record(
        session, "meeting.pack", object_type="meeting", object_ids=[meeting.id],
        details={"format": "pdf"},
    )  # fmt: skip
    return pdf
