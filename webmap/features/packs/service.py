"""Briefing packs: make (a tier C share plus its wording), preview, approve or reject (a second
person, never the creator), withdraw, download. (The agency's default wording per area is in
:mod:`webmap.features.packs.texts`.)

A pack is handed to bus companies, taxi firms and hotels and may be forwarded, so it is built
only from its share's tier C publication and exists only once it has passed the disclosure
check and its own inspection (:mod:`webmap.features.packs.build`). Every function here runs
under the caller's row-level security: outside it, a pack does not exist (404).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from spatial.redaction_periods import publishable_until
from spatial.redaction_profiles import LONDON
from webmap.access.actor import Actor
from webmap.features.layers.queries import add_months
from webmap.features.packs.build import (
    build_content,
    disclosure_problems,
    forbidden_strings,
    invalid,
    public_places,
    render_checked,
)
from webmap.features.sharing import service as sharing
from webmap.features.sharing.profiles import agency_profile
from webmap.infra import audit
from webmap.infra.errors import Conflict, DomainError, Gone, Invalid, NotFound
from webmap.infra.validation import validated
from webmap.models.packs import BriefingPack
from webmap.models.sharing import Share

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Text = Annotated[str, Field(min_length=20, max_length=4000)]
MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
#: Agency kinds a pack is made for (operators and businesses); others get shares instead.
RECIPIENT_KINDS = ("transport_operator", "business")
LAWFUL_BASIS = "Tier C briefing: published, redacted counts and public places only"
AGREEMENT = "Briefing pack"
FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


class PackIn(BaseModel):
    """A new pack, as the form sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    recipient_kind: Literal["agencies", "external"]
    recipient_agency: str | None = Field(default=None, max_length=64)
    external_name: str | None = Field(default=None, max_length=200)
    external_organisation: str | None = Field(default=None, max_length=200)
    title: str = Field(min_length=5, max_length=200)
    marking: Literal["OFFICIAL", "OFFICIAL-SENSITIVE"] = "OFFICIAL"
    routes: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    hubs: list[uuid.UUID] = Field(default_factory=list, max_length=40)
    areas: list[uuid.UUID] = Field(min_length=1, max_length=200)
    period_from: Month
    period_to: Month
    review_on: date
    signs: Text
    how_to_report: Text


def today() -> date:
    return datetime.now(LONDON).date()


def quarters(count: int = 8, lag: int = 1) -> list[tuple[date, date]]:
    """The last ``count`` whole quarters that tier C may publish today (start, first day
    after), newest first: a quarter is published ``lag`` quarters after it has closed."""
    end = publishable_until("quarter", lag, today())
    return [(add_months(end, -3 * (i + 1)), add_months(end, -3 * i)) for i in range(count)]


# -- making a pack ------------------------------------------------------------------------------


def _recipient(session: Session, terms: PackIn) -> tuple[dict[str, Any], str]:
    """(the share's recipient terms, the name printed on the pack)."""
    if terms.recipient_kind == "external":
        if not terms.external_name or len(terms.external_name) < 3:
            raise invalid("external_name", "name the person or post it is for")
        if not terms.external_organisation or len(terms.external_organisation) < 2:
            raise invalid("external_organisation", "name their organisation")
        recipient = {
            "recipient_kind": "external",
            "external_name": terms.external_name,
            "external_organisation": terms.external_organisation,
        }
        return recipient, f"{terms.external_name}, {terms.external_organisation}"
    row = session.execute(
        text("SELECT slug, name, kind::text FROM agency WHERE slug = :s"),
        {"s": terms.recipient_agency or ""},
    ).first()
    if row is None or row.kind not in RECIPIENT_KINDS:
        raise invalid("recipient_agency", "choose a transport operator or business")
    return {"recipient_kind": "agencies", "recipient_agencies": [row.slug]}, row.name


def _check_period(session: Session, user: Actor, terms: PackIn) -> None:
    """Whole periods of the tier C profile, ending before the periods it withholds."""
    profile = agency_profile(session, user.agency_id, "C")
    share_terms = sharing.ShareIn.model_construct(
        period_from=terms.period_from, period_to=terms.period_to
    )
    _start, end = sharing.period_bounds(share_terms, profile)
    until = publishable_until(profile.period, profile.publication_lag, today())
    if end is not None and end > until:
        last = add_months(until, -1).strftime("%B %Y")
        problem = (
            f"must end by {last}: a {profile.period} is shown only once it has closed and"
            f" {profile.publication_lag} more {profile.period}(s) have passed"
        )
        raise invalid("period_to", problem)


#: Plainer words than pydantic's for the form's commonest mistakes.
TOO_SHORT = {
    "areas": "choose at least one area",
    "title": "give the pack a title of at least 5 characters",
    "signs": "write at least 20 characters",
    "how_to_report": "write at least 20 characters",
}


def _validated(data: dict[str, Any]) -> PackIn:
    try:
        return validated(PackIn, data)
    except DomainError as exc:
        fields = {
            k: TOO_SHORT[k] if k in TOO_SHORT and "at least" in v else v
            for k, v in (exc.fields or {}).items()
        }
        first = next(iter(fields))
        raise Invalid(f"{first}: {fields[first]}", fields) from None


def create_pack(session: Session, user: Actor, data: dict[str, Any]) -> BriefingPack:
    """Check everything, then make the tier C share and the pending pack (nothing is written
    if any field is wrong: the caller rolls back on the 422)."""
    terms = _validated(data)
    if terms.review_on <= today():
        raise invalid("review_on", "must be after today")
    if terms.review_on > today() + sharing.MAX_DURATION:
        raise invalid("review_on", f"must be within {sharing.MAX_DURATION.days} days")
    recipient, recipient_name = _recipient(session, terms)
    _check_period(session, user, terms)
    public_places(session, terms.routes, "routes")
    public_places(session, terms.hubs, "hubs")
    share_data = {
        "tier": "C",
        **recipient,
        "areas": [str(a) for a in terms.areas],
        "layers": ["observations"],
        "period_from": terms.period_from,
        "period_to": terms.period_to,
        "purpose": f"Briefing pack: {terms.title}",
        "lawful_basis": LAWFUL_BASIS,
        "agreement_ref": AGREEMENT,
        "expires_on": terms.review_on.isoformat(),
    }
    try:
        share = sharing.create_share(session, user, validated(sharing.ShareIn, share_data))
    except DomainError as exc:  # name the pack's fields, not the share's
        rename = {"recipient_agencies": "recipient_agency", "expires_on": "review_on"}
        raise exc.renamed(rename) from None
    pack = BriefingPack(
        id=uuid.uuid4(),
        share_id=share.id,
        agency_id=user.agency_id,
        recipient_name=recipient_name,
        title=terms.title,
        marking=terms.marking,
        signs=terms.signs,
        how_to_report=terms.how_to_report,
        route_ids=list(dict.fromkeys(terms.routes)),
        hub_ids=list(dict.fromkeys(terms.hubs)),
        review_on=terms.review_on,
        status="pending",
        created_by=user.id,
    )
    session.add(pack)
    session.flush()
    audit.record(
        session,
        "pack.create",
        object_type="briefing_pack",
        object_ids=[pack.id, share.id],
        subject_agency_id=user.agency_id,
        details={"tier": "C", "count": len(terms.areas)},
    )
    return pack


# -- reading ------------------------------------------------------------------------------------


def get_pack(session: Session, pack_id: str) -> BriefingPack:
    """A pack the caller may see (its agency's, or approved for the caller's), else 404."""
    try:
        key = uuid.UUID(str(pack_id))
    except ValueError:
        raise NotFound("No such briefing pack.") from None
    pack = session.get(BriefingPack, key)
    if pack is None:
        raise NotFound("No such briefing pack.")
    return pack


def own_pack(session: Session, pack_id: str, user: Actor) -> BriefingPack:
    pack = get_pack(session, pack_id)
    if str(pack.agency_id) != str(user.agency_id):
        raise NotFound("No such briefing pack.")
    return pack


def share_of(session: Session, pack: BriefingPack) -> Share:
    return sharing.get_share(session, pack.share_id)


def ruled_out(pack: BriefingPack, user: Actor) -> dict[str, str | None]:
    """What the pack's own state rules out for ``user`` now, per action (None: nothing): the
    one statement of the pack's rules, for :func:`decide`, :func:`withdraw` and the page's
    buttons (through :func:`webmap.access.policy.actions`)."""
    return {
        "approve": "this pack is not awaiting approval"
        if pack.status != "pending"
        else "a pack cannot be approved by the person who made it"
        if pack.created_by == user.id
        else None,
        "withdraw": None
        if pack.status in {"pending", "approved"}
        else f"this pack is {pack.status}; it cannot be withdrawn",
    }


def state(pack: BriefingPack) -> str:
    """pending, approved, rejected, withdrawn or expired (approved, past its review date)."""
    if pack.status == "approved" and pack.review_on < today():
        return "expired"
    return pack.status


def listing(session: Session, user: Actor) -> dict[str, list[BriefingPack]]:
    packs = session.scalars(select(BriefingPack).order_by(BriefingPack.created_at.desc())).all()
    own = str(user.agency_id)
    return {
        "made": [p for p in packs if str(p.agency_id) == own],
        "received": [p for p in packs if str(p.agency_id) != own],
    }


def people(session: Session, pack: BriefingPack) -> dict[uuid.UUID, str]:
    """Display names of the pack's creator and decider (colleagues of the same agency)."""
    ids = [i for i in (pack.created_by, pack.decided_by, pack.withdrawn_by) if i]
    rows = session.execute(text("SELECT id, display_name FROM colleague_names(:ids)"), {"ids": ids})
    return {r[0]: r[1] for r in rows}


# -- deciding and withdrawing -------------------------------------------------------------------


def decide(
    session: Session,
    user: Actor,
    pack: BriefingPack,
    approve: bool | None,
    note: str,
    session_factory: Callable[[], AbstractContextManager[Session]] | None = None,
) -> BriefingPack:
    """Approve (build, check, render, inspect, store — only then approved) or reject."""
    if approve is None:
        raise invalid("approve", "choose Approve or Reject")
    problem = ruled_out(pack, user)["approve"]
    if problem is not None:
        raise invalid("status" if pack.status != "pending" else "approver", problem)
    note = note.strip()[:2000]
    share = share_of(session, pack)
    now = datetime.now(UTC)
    if not approve:
        if not note:
            raise invalid("note", "say why the pack is rejected")
        sharing.decide(session, user, share, False, note)
        pack.status, pack.decided_by, pack.decided_at = "rejected", user.id, now
        pack.decision_note = note
        session.flush()
        _audit(session, "pack.reject", pack, justification=note)
        return pack
    issued = today()
    if pack.review_on <= issued:
        raise invalid("review_on", "the review date has passed; make a new pack")
    content, pub = build_content(session, pack, share, issued, session_factory)
    problems = disclosure_problems(pub, content)
    if problems:  # before anything is rendered
        message = "tier C rules not met, so nothing was rendered: " + "; ".join(problems)
        raise invalid("disclosure", message)
    rendered = render_checked(content, pub, forbidden_strings(session, share))
    sharing.decide(session, user, share, True, note)
    pack.pdf, pack.html = rendered.pdf, rendered.html
    pack.pdf_sha256 = hashlib.sha256(rendered.pdf).hexdigest()
    pack.html_sha256 = hashlib.sha256(rendered.html.encode()).hexdigest()
    pack.issued_on, pack.status = issued, "approved"
    pack.decided_by, pack.decided_at, pack.decision_note = user.id, now, note or None
    session.flush()
    _audit(session, "pack.approve", pack, details={"count": len(pub.cells)})
    return pack


def withdraw(session: Session, user: Actor, pack: BriefingPack, reason: str) -> BriefingPack:
    """Withdraw a pending or approved pack; its share is revoked, so its link stops too."""
    reason = reason.strip()[:2000]
    problem = ruled_out(pack, user)["withdraw"]
    if problem is not None:
        raise invalid("status", problem)
    if not reason:
        raise invalid("reason", "say why the pack is withdrawn")
    share = share_of(session, pack)
    if share.revoked_at is None:
        sharing.revoke(session, share, user, reason)
    pack.status, pack.withdrawn_by = "withdrawn", user.id
    pack.withdrawn_at, pack.withdrawn_reason = datetime.now(UTC), reason
    session.flush()
    _audit(session, "pack.withdraw", pack, justification=reason)
    return pack


def _audit(
    session: Session,
    action: str,
    pack: BriefingPack,
    justification: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        action,
        object_type="briefing_pack",
        object_ids=[pack.id, pack.share_id],
        subject_agency_id=pack.agency_id,
        justification=justification,
        details={"tier": "C", **(details or {})},
    )


def download(session: Session, pack: BriefingPack, fmt: str, user: Actor | None) -> bytes:
    """The stored, inspected output: 410 once withdrawn (and, for anyone but the source
    agency, once past its review date); audited as ``pack.download`` (the caller commits).
    ``user`` is None for the bearer of an external link."""
    if fmt not in FORMATS:
        raise NotFound("No such format (pdf or html).")
    if pack.status == "withdrawn":
        raise Gone("This briefing pack has been withdrawn.")
    if pack.status != "approved" or pack.pdf is None or pack.html is None:
        raise Conflict("This briefing pack has not been approved yet.")
    own = user is not None and str(pack.agency_id) == str(user.agency_id)
    if not own and state(pack) == "expired":
        raise Gone("This briefing pack is past its review date.")
    body = pack.pdf if fmt == "pdf" else pack.html.encode()
    details: dict[str, Any] = {"format": fmt, **({"via": "link"} if user is None else {})}
    _audit(session, "pack.download", pack, details=details)
    return body


def pack_for_share(session: Session, share_id: str) -> BriefingPack:
    """The pack of a share (for its external link), else 404."""
    pack = session.scalars(
        select(BriefingPack).where(BriefingPack.share_id == uuid.UUID(share_id))
    ).first()
    if pack is None:
        raise NotFound("No such briefing pack.")
    return pack


def place_names(session: Session, ids: list[uuid.UUID]) -> list[str]:
    """The names of the agency's contexts with these ids (a pack's routes or hubs), by name."""
    if not ids:
        return []
    return [
        name
        for (name,) in session.execute(
            text("SELECT name FROM context WHERE id = ANY(:ids) ORDER BY name"), {"ids": ids}
        )
    ]
