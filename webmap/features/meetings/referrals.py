"""Referring a place to a panel, and moving it through the Contextual Safeguarding stages.

A referral is a **recorded disclosure**: a member agency shows the panel one of its contexts,
with a summary written for the panel, a purpose and a lawful basis, and the audit trail
records who did it and when. What the panel sees of the place is exactly what tier B shows
(:func:`spatial.redaction.publish_contexts`, the one redaction): a public place's name and
true position, otherwise only its kind at the centre of its cell. That is frozen into the
referral when it is made, so the context's own row stays invisible to other agencies.

Stages: referred → assessment → context weighting (a recorded level with reasons) → plan →
review → closed (:mod:`~webmap.features.meetings.lifecycle` says which moves are allowed).
"Referred" is only ever set by referring. Each move records who, when, why and the next
review date; the policy table says who may move what.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import ContextFact, publish_contexts
from webmap.access.actor import Actor
from webmap.access.policy import can
from webmap.features.meetings import queries
from webmap.features.meetings.lifecycle import (
    STAGES,
    WEIGHTINGS,
    london_day,
    next_stages,
    stage_problems,
)
from webmap.features.meetings.queries import PanelInfo
from webmap.features.meetings.schemas import ReferralIn, StageIn
from webmap.features.meetings.service import check_texts
from webmap.features.sharing.publication import current_profile
from webmap.infra import audit
from webmap.infra.errors import Conflict, Invalid, Refused
from webmap.models.meetings import Referral, ReferralStage


def _context(session: Session, user: Actor, context_id: Any) -> Any:
    row = session.execute(
        text(
            "SELECT id, kind::text, name, public_place, ST_X(ST_PointOnSurface(geom)),"
            " ST_Y(ST_PointOnSurface(geom)), ST_AsText(geom) FROM context"
            " WHERE id = :c AND agency_id = :a AND deleted_at IS NULL"
        ),
        {"c": context_id, "a": user.agency_id},
    ).first()
    if row is None:
        raise Invalid.field("context_id", "is not one of your agency's places")
    return row


def _refs_at(session: Session, context_id: Any) -> tuple[str, ...]:
    """The young people's references the agency recorded at the place (its own records)."""
    rows = session.execute(
        text("SELECT DISTINCT unnest(young_person_refs) FROM observation WHERE context_id = :c"),
        {"c": context_id},
    )
    return tuple(str(r) for (r,) in rows)


def refer(
    session: Session, user: Actor, panel: PanelInfo, data: ReferralIn, now: datetime
) -> Referral:
    """Refer one of the agency's contexts to the panel; checked, disclosed at tier B, audited."""
    ctx = _context(session, user, data.context_id)
    cid, kind, name, public, lon, lat, wkt = ctx
    # The words first: a name or a reference in them is refused whatever else is wrong.
    refs = _refs_at(session, cid)
    withheld = () if public else (name,)
    for field in ("summary", "purpose", "lawful_basis"):
        check_texts(session, user, panel, {field: getattr(data, field)}, refs, withheld=withheld)
    busy = session.execute(
        text(
            "SELECT 1 FROM referral WHERE panel_id = :p AND context_id = :c AND stage <> 'closed'"
        ),
        {"p": panel.id, "c": cid},
    ).first()
    if busy:
        raise Invalid.field("context_id", "is already under review by this panel")
    profile = current_profile(session, user.agency_id, "B")
    [shown] = publish_contexts([ContextFact(str(cid), kind, name, public, lon, lat, wkt)], profile)
    referral = Referral(
        panel_id=panel.id,
        context_id=cid,
        agency_id=user.agency_id,
        summary=data.summary,
        purpose=data.purpose,
        lawful_basis=data.lawful_basis,
        referred_by=user.id,
        referred_by_name=queries.display_name(session, user.id),
        referred_at=now,
        kind=kind,
        label=shown.name,
        precise=shown.precise,
        cell=shown.cell,
        res=profile.resolution,
        lon=shown.lon,
        lat=shown.lat,
        stage="referred",
    )
    session.add(referral)
    session.flush()
    session.add(
        ReferralStage(
            referral_id=referral.id,
            stage="referred",
            reasons="Referred to the panel.",
            changed_by=user.id,
            changed_by_name=referral.referred_by_name,
            agency_id=user.agency_id,
            changed_at=now,
        )
    )
    audit.record(
        session, "referral.created", object_type="referral", object_ids=[referral.id, panel.id],
        subject_agency_id=user.agency_id,
        justification=f"{data.purpose} (lawful basis: {data.lawful_basis})",
    )  # fmt: skip
    return referral


def relation_to(referral: Referral, user: Actor) -> str:
    """``own`` for the referring agency; ``panel_member`` for the panel's other members (the
    only others who can see it at all)."""
    return "own" if referral.agency_id == user.agency_id else "panel_member"


def require_mover(referral: Referral, user: Actor) -> None:
    """Refuse (403) a member who may see the place but not move it (before reading a body)."""
    if not can(user.role, "referral", "stage", relation_to(referral, user)):
        raise Refused(
            "Only the referring agency and the panel's chairs move a place through its stages.",
            {"stage": "not yours to move"},
        )


def move(
    session: Session, user: Actor, panel: PanelInfo, referral: Referral, data: StageIn,
    now: datetime,
) -> Referral:  # fmt: skip
    """Move the referral to its next stage, recording who, when, why and the next review."""
    require_mover(referral, user)
    if data.version != referral.version:
        raise Conflict(
            "The referral changed since you read it: reload it and try again.",
            {"version": f"is {referral.version} now"},
        )
    problems = stage_problems(
        referral.stage, data.stage, data.weighting, data.next_review_on, london_day(now)
    )
    if problems:
        raise Invalid.of(problems)
    check_texts(session, user, panel, {"reasons": data.reasons})
    referral.stage = data.stage
    if data.stage == "weighting":
        referral.weighting = data.weighting
    referral.next_review_on = data.next_review_on if data.stage != "closed" else None
    referral.version += 1
    referral.updated_at = now
    session.add(
        ReferralStage(
            referral_id=referral.id,
            stage=data.stage,
            weighting=data.weighting,
            reasons=data.reasons,
            next_review_on=referral.next_review_on,
            changed_by=user.id,
            changed_by_name=queries.display_name(session, user.id),
            agency_id=user.agency_id,
            changed_at=now,
        )
    )
    audit.record(
        session, "referral.stage", object_type="referral", object_ids=[referral.id, panel.id],
        subject_agency_id=referral.agency_id, details={"stage": data.stage},
    )  # fmt: skip
    return referral


def referral_json(
    session: Session, user: Actor, panel: PanelInfo, referral: Referral, history: bool = False
) -> dict[str, Any]:
    """The referral as members see it: the disclosure, its tier B position, its stage."""
    body: dict[str, Any] = {
        "id": str(referral.id),
        "panel_id": str(panel.id),
        "agency": panel.agency_name(referral.agency_id),
        "agency_id": str(referral.agency_id),
        "label": referral.label,
        "kind": referral.kind,
        "precise": referral.precise,
        "geometry": {"type": "Point", "coordinates": [referral.lon, referral.lat]},
        "cell": format(referral.cell, "x"),
        "summary": referral.summary,
        "purpose": referral.purpose,
        "lawful_basis": referral.lawful_basis,
        "referred_by": referral.referred_by_name,
        "referred_at": referral.referred_at.isoformat(),
        "stage": referral.stage,
        "stage_label": STAGES[referral.stage],
        "weighting": referral.weighting,
        "weighting_label": WEIGHTINGS.get(referral.weighting or ""),
        "next_review_on": referral.next_review_on.isoformat() if referral.next_review_on else None,
        "version": referral.version,
        "next_stages": list(next_stages(referral.stage)),
        "may_move": can(user.role, "referral", "stage", relation_to(referral, user)),
    }
    if referral.agency_id == user.agency_id:
        body["context_id"] = str(referral.context_id)  # the agency's own record, for its own
    if history:
        body["history"] = [
            {
                "stage": h.stage,
                "stage_label": STAGES[h.stage],
                "weighting": h.weighting,
                "reasons": h.reasons,
                "next_review_on": h.next_review_on.isoformat() if h.next_review_on else None,
                "changed_by": h.changed_by_name,
                "agency": panel.agency_name(h.agency_id),
                "changed_at": h.changed_at.isoformat(),
            }
            for h in queries.stage_history(session, referral.id)
        ]
    return body


def now() -> datetime:
    return datetime.now(UTC)
