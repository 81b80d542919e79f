"""An agency's default wording for its briefing packs: one text for the whole agency and,
optionally, one per area. A new pack starts from the text of the first chosen area that has
one, else the agency's, else the built-in defaults of :mod:`webmap.features.packs.content`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.packs.build import invalid
from webmap.features.packs.content import DEFAULT_HOW_TO_REPORT, DEFAULT_SIGNS
from webmap.infra import audit
from webmap.infra.validation import validated
from webmap.models.packs import BriefingText

Text = Annotated[str, Field(min_length=20, max_length=4000)]


def texts_for(session: Session, areas: list[str] | None = None) -> dict[str, dict[str, str]]:
    """The agency's saved texts: ``""`` for its default, else by area id. Falls back to the
    built-in defaults when the agency has none."""
    rows = session.scalars(select(BriefingText)).all()
    out = {
        (str(r.area_id) if r.area_id else ""): {
            "signs": r.signs,
            "how_to_report": r.how_to_report,
        }
        for r in rows
        if areas is None or r.area_id is None or str(r.area_id) in areas
    }
    out.setdefault("", {"signs": DEFAULT_SIGNS, "how_to_report": DEFAULT_HOW_TO_REPORT})
    return out


class TextsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area: uuid.UUID | None = None
    signs: Text
    how_to_report: Text


def save_texts(session: Session, user: Actor, data: dict[str, Any]) -> BriefingText:
    """Set the agency's default texts (no area) or one area's."""
    terms = validated(TextsIn, data)
    if terms.area is not None:
        exists = session.execute(
            text("SELECT EXISTS (SELECT 1 FROM area WHERE id = :a)"), {"a": terms.area}
        ).scalar_one()
        if not exists:
            raise invalid("area", "no such area")
    row = session.scalars(
        select(BriefingText).where(
            BriefingText.agency_id == user.agency_id,
            BriefingText.area_id.is_(None)
            if terms.area is None
            else BriefingText.area_id == terms.area,
        )
    ).first()
    if row is None:
        row = BriefingText(agency_id=user.agency_id, area_id=terms.area)
        session.add(row)
    row.signs, row.how_to_report = terms.signs, terms.how_to_report
    row.updated_by, row.updated_at = user.id, datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        "pack.texts",
        object_type="briefing_text",
        object_ids=[row.id],
        subject_agency_id=user.agency_id,
    )
    return row
