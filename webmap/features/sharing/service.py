"""Shares: their terms, their life (create → approve → revoke or expire) and who may read them.

A share is always *whole lattice cells* at its profile's resolution — the cells assigned to the
chosen areas of any boundary set, plus optional rings of buffer cells — and whole calendar
periods, fixed when it is made. Its profile (the agency's tier profile, never below the floors)
is frozen on the share too, so a share's output never changes resolution or period under its
recipients' feet. What a share publishes is built in :mod:`webmap.features.sharing.output`.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

import h3
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import ProfileError, TierProfile
from spatial.redaction_profiles import LONDON
from webmap.access.actor import Actor
from webmap.features.layers.queries import add_months
from webmap.features.sharing.audience import audience_name, external_key, one_tier_per_audience
from webmap.features.sharing.profiles import agency_profile, profile_to_json
from webmap.infra import audit
from webmap.infra.errors import DomainError, Gone, Invalid, NotFound
from webmap.models.sharing import Share

LAYERS = ("observations", "contexts", "vehicles")
#: A share lasts at most this long; renewing is a new decision.
MAX_DURATION = timedelta(days=366)
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class ShareIn(BaseModel):
    """The terms of a new share, as the API and the form send them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tier: Literal["B", "C"]
    recipient_kind: Literal["agencies", "panel", "external"]
    recipient_agencies: list[str] = Field(default_factory=list, max_length=20)
    panel_id: uuid.UUID | None = None
    external_name: str | None = Field(default=None, max_length=200)
    external_organisation: str | None = Field(default=None, max_length=200)
    areas: list[uuid.UUID] = Field(min_length=1, max_length=200)
    buffer_rings: int = Field(default=0, ge=0, le=2)
    layers: list[Literal["observations", "contexts", "vehicles"]] = Field(min_length=1)
    period_from: Month
    period_to: Month | None = None
    purpose: str = Field(min_length=10, max_length=2000)
    lawful_basis: str = Field(min_length=3, max_length=300)
    agreement_ref: str = Field(min_length=1, max_length=100)
    expires_on: date

    @field_validator("expires_on")
    @classmethod
    def _expiry(cls, value: date) -> date:
        today = datetime.now(LONDON).date()
        if value <= today:
            raise ValueError("must be after today")
        if value > today + MAX_DURATION:
            raise ValueError(f"must be within {MAX_DURATION.days} days; renew it by a new share")
        return value


def _invalid(field: str, problem: str) -> DomainError:
    return Invalid(f"{field}: {problem}", {field: problem})


# -- periods --------------------------------------------------------------------------------

_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _first_of(month: str) -> date:
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


def period_bounds(terms: ShareIn, profile: TierProfile) -> tuple[date, date | None]:
    """(first day, first day after) of the share's whole periods; refuses part-periods."""
    step = _PERIOD_MONTHS[profile.period]
    start = _first_of(terms.period_from)
    if (start.month - 1) % step:
        raise _invalid("period_from", f"must be the first month of a {profile.period}")
    if terms.period_to is None:
        return start, None
    last = _first_of(terms.period_to)
    if last < start:
        raise _invalid("period_to", "must not be before period_from")
    if last.month % step:
        raise _invalid("period_to", f"must be the last month of a {profile.period}")
    return start, add_months(last, 1)


# -- recipients and cells -------------------------------------------------------------------


def _recipient_agencies(session: Session, terms: ShareIn, own: str) -> list[str]:
    if terms.recipient_kind == "external":
        if not terms.external_name or not audience_name(terms.external_name):
            raise _invalid("external_name", "name the external recipient")
        if not terms.external_organisation or not audience_name(terms.external_organisation):
            raise _invalid("external_organisation", "name the recipient's organisation")
        return []
    if terms.recipient_kind == "panel":
        if terms.panel_id is None:
            raise _invalid("panel_id", "choose a panel")
        members = [
            str(a)
            for (a,) in session.execute(
                text("SELECT agency_id FROM panel_member WHERE panel_id = :p"),
                {"p": str(terms.panel_id)},
            )
        ]
        if own not in members:
            raise _invalid("panel_id", "your agency must sit on the panel it shares with")
        return [m for m in members if m != own]
    if not terms.recipient_agencies:
        raise _invalid("recipient_agencies", "choose at least one agency")
    rows: dict[str, uuid.UUID] = {
        slug: agency_id
        for slug, agency_id in session.execute(
            text("SELECT slug, id FROM agency WHERE slug = ANY(:s)"),
            {"s": terms.recipient_agencies},
        )
    }
    unknown = sorted(set(terms.recipient_agencies) - set(rows))
    if unknown:
        raise _invalid("recipient_agencies", f"no such agency: {', '.join(unknown)}")
    ids = [str(rows[s]) for s in terms.recipient_agencies]
    if own in ids:
        raise _invalid("recipient_agencies", "an agency does not share with itself")
    return ids


#: The lattice resolutions a share of each tier may be published at: its floor's and coarser
#: ones, so a share still finds its cells if the source later coarsens its profile.
SHARE_RESOLUTIONS = {"B": (8, 7), "C": (7,)}


def share_cells(
    session: Session,
    areas: list[uuid.UUID],
    resolution: int,
    buffer_rings: int,
    required: bool = True,
) -> list[int]:
    """The lattice cells of the areas (by cell centre), plus ``buffer_rings`` rings of whole
    neighbouring cells that lie in the service area's lattice."""
    found = session.execute(
        text("SELECT count(*) FROM area WHERE id = ANY(:a)"), {"a": [str(a) for a in areas]}
    ).scalar_one()
    if found != len(set(areas)):
        raise _invalid("areas", "one or more areas do not exist")
    cells = {
        int(c)
        for (c,) in session.execute(
            text("SELECT DISTINCT cell FROM cell_area WHERE res = :r AND area_id = ANY(:a)"),
            {"r": resolution, "a": [str(a) for a in areas]},
        )
    }
    if not cells:
        if not required:  # a coarser resolution than the share's own: small areas have none
            return []
        raise _invalid("areas", "the areas hold no whole cell of the lattice")
    if buffer_rings:
        ring = {int(n) for c in cells for n in h3.api.basic_int.grid_disk(c, buffer_rings)}
        lattice = {
            int(c)
            for (c,) in session.execute(
                text("SELECT cell FROM cell WHERE res = :r AND cell = ANY(:c)"),
                {"r": resolution, "c": sorted(ring)},
            )
        }
        cells |= lattice
    return sorted(cells)


# -- life cycle -----------------------------------------------------------------------------


def create_share(session: Session, user: Actor, terms: ShareIn) -> Share:
    """Record a share. Tier B is active at once (its creator approves it); tier C waits for
    a second person's approval."""
    own = str(user.agency_id)
    try:
        profile = agency_profile(session, own, terms.tier)
    except ProfileError as exc:  # a stored profile that no longer passes the floors
        raise _invalid("tier", f"your agency's tier profile is invalid ({exc})") from None
    if "vehicles" in terms.layers and not profile.show_vehicles:
        raise _invalid("layers", f"tier {terms.tier} never shows vehicles")
    start, end = period_bounds(terms, profile)
    recipients = _recipient_agencies(session, terms, own)
    cells = {
        res: share_cells(
            session, terms.areas, res, terms.buffer_rings, required=res == profile.resolution
        )
        for res in sorted({profile.resolution, *SHARE_RESOLUTIONS[terms.tier]})
    }
    external = (
        (terms.external_name or "", terms.external_organisation or "")
        if terms.recipient_kind == "external"
        else None
    )
    one_tier_per_audience(session, recipients, external, terms.tier)
    now = datetime.now(UTC)
    active = terms.tier == "B"
    share = Share(
        id=uuid.uuid4(),
        from_agency_id=user.agency_id,
        tier=terms.tier,
        profile=profile_to_json(profile),
        resolution=profile.resolution,
        recipient_kind=terms.recipient_kind,
        panel_id=terms.panel_id if terms.recipient_kind == "panel" else None,
        external_name=(
            f"{terms.external_name}, {terms.external_organisation}"
            if terms.recipient_kind == "external"
            else None
        ),
        external_key=(
            external_key(terms.external_name or "", terms.external_organisation or "")
            if terms.recipient_kind == "external"
            else None
        ),
        layers=sorted(set(terms.layers), key=LAYERS.index),
        buffer_rings=terms.buffer_rings,
        period_from=start,
        period_to=end,
        purpose=terms.purpose,
        lawful_basis=terms.lawful_basis,
        agreement_ref=terms.agreement_ref,
        expires_at=datetime.combine(terms.expires_on + timedelta(days=1), time(0), LONDON),
        status="active" if active else "pending",
        created_by=user.id,
        approved_by=user.id if active else None,
        approved_at=now if active else None,
        link_nonce=secrets.token_urlsafe(24) if terms.recipient_kind == "external" else None,
    )
    session.add(share)
    session.flush()
    params = {"s": str(share.id)}
    if terms.recipient_kind == "agencies":
        session.execute(
            text("INSERT INTO share_recipient (share_id, agency_id) SELECT :s, unnest(:a)"),
            {**params, "a": [uuid.UUID(r) for r in recipients]},
        )
    session.execute(
        text("INSERT INTO share_area (share_id, area_id) SELECT :s, unnest(:a)"),
        {**params, "a": sorted(set(terms.areas))},
    )
    for res, res_cells in cells.items():
        if not res_cells:
            continue
        session.execute(
            text(
                "INSERT INTO share_cell (share_id, cell, res)"
                " SELECT :s, unnest(CAST(:c AS bigint[])), :r"
            ),
            {**params, "c": res_cells, "r": res},
        )
    audit.record(
        session,
        "share.create",
        object_type="share",
        object_ids=[share.id],
        subject_agency_id=user.agency_id,
        details={"tier": terms.tier, "count": len(cells[profile.resolution])},
        user_id=user.id,
        agency_id=user.agency_id,
    )
    return share


def get_share(session: Session, share_id: uuid.UUID | str) -> Share:
    """A share the caller may see (source or recipient), else 404 as for no such share."""
    try:
        key = uuid.UUID(str(share_id))
    except ValueError:
        raise NotFound("No such share.") from None
    share = session.get(Share, key)
    if share is None:
        raise NotFound("No such share.")
    return share


def require_live(share: Share, own_agency: str | None) -> None:
    """410 for a recipient once the share is revoked, expired, pending or rejected; the
    source agency still sees its own share's terms and preview."""
    if own_agency is not None and str(share.from_agency_id) == own_agency:
        return
    if share.revoked_at is not None:
        raise Gone("This share has been revoked.")
    if share.expires_at <= datetime.now(UTC):
        raise Gone("This share has expired.")
    if share.status != "active":
        raise Gone("This share is not in force.")


def ruled_out(share: Share, user: Actor, now: datetime | None = None) -> dict[str, str | None]:
    """What the share's own state rules out for ``user`` now, per action (None: nothing):
    the one statement of the share's rules, for :func:`decide`, :func:`revoke` and the page's
    buttons (through :func:`webmap.access.policy.actions`)."""
    now = now or datetime.now(UTC)
    live = share.revoked_at is None and share.expires_at > now
    return {
        "approve": "this share is not awaiting approval"
        if share.status != "pending" or share.revoked_at is not None
        else "a share cannot be approved by the person who made it"
        if share.created_by == user.id
        else None,
        "revoke": None if live and share.status in {"active", "pending"} else "not in force",
    }


def decide(session: Session, user: Actor, share: Share, approve: bool, note: str) -> Share:
    """Approve or reject a pending share; the approver may not be its creator."""
    problem = ruled_out(share, user)["approve"]
    if problem is not None:
        field = "approver" if problem.startswith("a share cannot") else "status"
        raise _invalid(field, problem)
    if not note.strip() and not approve:
        raise _invalid("note", "say why the share is rejected")
    share.status = "active" if approve else "rejected"
    share.approved_by = user.id if approve else None
    share.approved_at = datetime.now(UTC) if approve else None
    share.decision_note = note.strip()[:2000] or None
    session.flush()
    audit.record(
        session,
        "share.approve" if approve else "share.reject",
        object_type="share",
        object_ids=[share.id],
        subject_agency_id=share.from_agency_id,
        details={"tier": share.tier},
    )
    return share


def revoke(session: Session, share: Share, user: Actor, reason: str) -> Share:
    if not reason.strip():
        raise _invalid("reason", "say why the share is revoked")
    if share.revoked_at is not None:
        raise _invalid("status", "this share is already revoked")
    share.revoked_at = datetime.now(UTC)
    share.revoked_by = user.id
    share.revoked_reason = reason.strip()[:2000]
    share.link_nonce = None  # any external link stops working too
    session.flush()
    audit.record(
        session,
        "share.revoke",
        object_type="share",
        object_ids=[share.id],
        subject_agency_id=share.from_agency_id,
        justification=share.revoked_reason,
    )
    return share
