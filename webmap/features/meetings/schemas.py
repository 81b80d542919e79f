"""What the meeting loop accepts: the API's bodies and the pages' forms, validated once.

Every field names its own problem (through :func:`webmap.infra.validation.validated`); the
rules across fields (an action's one link, a correction's reason, a status change's version)
and the checks that need the database — the panel's members, the writer's own contexts, the text
check against the panel's public names — run in the services, before the first write.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
FourP = Literal["prevent", "prepare", "pursue", "protect"]
Stage = Literal["referred", "assessment", "weighting", "plan", "review", "closed"]
Status = Literal["open", "in_progress", "done", "cancelled"]
Section = Literal["changes", "referrals", "reviews", "actions", "approvals", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingIn(_Strict):
    """A new meeting of a panel; its chair is whoever makes it."""

    held_on: date
    kind: Literal["regular", "extraordinary"] = "regular"


class AgendaItemIn(_Strict):
    section: Section
    title: Annotated[Text, Field(max_length=300)]
    detail: Annotated[str, Field(max_length=1000)] = ""
    #: What the item is about, when drafted: ``referral:<id>``, ``action:<id>``, ``share:<id>``
    #: or ``pack:<id>`` (the page links to it).
    ref: Annotated[str, Field(pattern=r"^(referral|action|share|pack):[0-9a-f-]{36}$")] | None = (
        None
    )


class AgendaIn(_Strict):
    """The agenda as the chair leaves it: the items kept, changed or added, in order."""

    version: int
    items: Annotated[list[AgendaItemIn], Field(max_length=80)]


class AttendanceEntryIn(_Strict):
    agency_id: uuid.UUID
    status: Literal["attended", "apologies", "absent"]
    people: Annotated[str, Field(max_length=500)] = ""


class AttendanceIn(_Strict):
    """Who came, for each member agency (agencies left out are not changed)."""

    entries: Annotated[list[AttendanceEntryIn], Field(min_length=1, max_length=60)]


class DecisionIn(_Strict):
    """A decision or minute; with ``corrects``, a correction that keeps the original."""

    kind: Literal["decision", "minute"] = "decision"
    body: Annotated[Text, Field(max_length=4000)]
    corrects: uuid.UUID | None = None
    reason: Annotated[str, Field(max_length=1000)] | None = None


class ActionIn(_Strict):
    """A Four-P action agreed at the meeting, linked to one referral, cell or area."""

    four_p: FourP
    title: Annotated[Text, Field(max_length=500)]
    owner_agency_id: uuid.UUID
    owner_name: Annotated[str, Field(max_length=200)] | None = None
    due_on: date
    referral_id: uuid.UUID | None = None
    cell: Annotated[str, Field(pattern=r"^[0-9a-f]{15}$")] | None = None
    area_id: uuid.UUID | None = None


class ReferralIn(_Strict):
    """One of the agency's contexts brought to a panel: a recorded disclosure."""

    context_id: uuid.UUID
    summary: Annotated[Text, Field(min_length=20, max_length=2000)]
    purpose: Annotated[Text, Field(max_length=500)]
    lawful_basis: Annotated[Text, Field(max_length=500)]


class StageIn(_Strict):
    """A move through the life cycle, with why, and when to look again."""

    version: int
    stage: Stage
    reasons: Annotated[Text, Field(max_length=2000)]
    weighting: Literal["low", "medium", "high"] | None = None
    next_review_on: date | None = None


class ProgressIn(_Strict):
    """Progress on an action, optionally changing its status (then with the version read)."""

    note: Annotated[Text, Field(max_length=2000)]
    status: Status | None = None
    version: int | None = None


class PanelAreasIn(_Strict):
    """The areas (of any boundary set) that make up a panel's area."""

    area_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=50)]
