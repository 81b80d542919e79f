"""How shares are read by people: summaries, the overview of made and received shares, the
guarded read of a publication (with its audit entry) and downloads. Used by the API, the HTML
pages and the external link alike, so each rule is written once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from spatial.redaction import precision_statement
from webmap.access.actor import Actor
from webmap.features.sharing import exports
from webmap.features.sharing import output as share_output
from webmap.features.sharing import service as sharing
from webmap.features.sharing.output import Publication
from webmap.features.sharing.profiles import share_profile
from webmap.infra import audit
from webmap.infra.errors import Invalid, NotFound
from webmap.models.sharing import Share

LAYER_LABELS = {
    "observations": "Observation counts per cell",
    "contexts": "Contexts",
    "vehicles": "Vehicles (masked marks)",
}


def state(share: Share, now: datetime | None = None) -> str:
    """active, pending, rejected, revoked or expired — what a person needs to know first."""
    now = now or datetime.now(UTC)
    if share.revoked_at is not None:
        return "revoked"
    if share.status == "active" and share.expires_at <= now:
        return "expired"
    return share.status


def recipients_label(session: Session, share: Share) -> str:
    if share.recipient_kind == "external":
        return f"{share.external_name} (external, by link)"
    if share.recipient_kind == "panel":
        name = session.execute(
            text("SELECT name FROM panel WHERE id = :p"), {"p": share.panel_id}
        ).scalar_one()
        return f"{name} (panel)"
    names = session.execute(
        text(
            "SELECT string_agg(a.name, ', ' ORDER BY a.name) FROM share_recipient r"
            " JOIN agency a ON a.id = r.agency_id WHERE r.share_id = :s"
        ),
        {"s": share.id},
    ).scalar_one()
    return str(names or "")


def share_areas(session: Session, share_id: Any) -> list[str]:
    """The areas a share was made over, as "code name", by code."""
    names = session.execute(
        text(
            "SELECT array_agg(a.code || ' ' || a.name ORDER BY a.code) FROM share_area s"
            " JOIN area a ON a.id = s.area_id WHERE s.share_id = :s"
        ),
        {"s": share_id},
    ).scalar_one()
    return list(names or [])


def summary(session: Session, share: Share, user: Actor) -> dict[str, Any]:
    """A share's terms as its source and its recipients may see them."""
    source = session.execute(
        text("SELECT name FROM agency WHERE id = :a"), {"a": share.from_agency_id}
    ).scalar_one()
    profile = share_profile(share)
    own = str(share.from_agency_id) == str(user.agency_id)
    return {
        "id": str(share.id),
        "source": source,
        "own": own,
        "tier": share.tier,
        "label": f"{source} · {share_output.TIER_NAMES[share.tier]}",
        "state": state(share),
        "recipients": recipients_label(session, share),
        "recipient_kind": share.recipient_kind,
        "areas": share_areas(session, share.id),
        "buffer_rings": share.buffer_rings,
        "layers": share.layers,
        "periods": share_output.period_text(share),
        "precision": precision_statement(profile),
        "purpose": share.purpose,
        "lawful_basis": share.lawful_basis,
        "agreement_ref": share.agreement_ref,
        "expires_at": share.expires_at.isoformat(),
        "created_at": share.created_at.isoformat() if share.created_at else None,
        "created_by_me": str(share.created_by) == str(user.id),
        "decision_note": share.decision_note if own else None,
        "revoked_reason": share.revoked_reason if own else None,
    }


def overview(session: Session, user: Actor) -> dict[str, list[dict[str, Any]]]:
    """Shares made by the user's agency and shares addressed to it (RLS limits both)."""
    shares = session.scalars(select(Share).order_by(Share.created_at.desc())).all()
    made: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []
    for share in shares:
        body = summary(session, share, user)
        (made if body["own"] else received).append(body)
    return {"made": made, "received": received}


def own_share(session: Session, share_id: str, user: Actor) -> Share:
    """A share of the user's own agency (to decide on, revoke or link), else 404."""
    share = sharing.get_share(session, share_id)
    if str(share.from_agency_id) != str(user.agency_id):
        raise NotFound("No such share.")
    return share


def refuse_unknown(args: Mapping[str, str], allowed: Iterable[str] = ()) -> None:
    """422 naming the first query parameter a shared route does not take: a shared output is
    whole published cells and periods, so nothing may look as if it filtered them."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise Invalid(
            f"{unknown[0]}: this shared output takes no such parameter",
            {name: "no such parameter" for name in unknown},
        )


def live_share(
    session: Session,
    share_id: str,
    user: Actor | None,
    session_factory: Callable[[], AbstractContextManager[Session]] | None = None,
) -> Share:
    """A share its reader may read now: 404 if not theirs to see, 410 once no longer in force
    (revoked, expired, pending, rejected). Its due periods are written to the ledger first,
    each committed before anything is shown."""
    share = sharing.get_share(session, share_id)
    sharing.require_live(share, str(user.agency_id) if user is not None else None)
    if session_factory is not None:
        share_output.publish_due(share, session_factory)
    return share


def read_publication(
    session: Session,
    share_id: str,
    user: Actor | None,
    action: str | None,
    fmt: str | None = None,
    session_factory: Callable[[], AbstractContextManager[Session]] | None = None,
) -> Publication:
    """The share's publication for a reader (see :func:`live_share`), read from the ledger;
    audited as ``action`` (tiles, dozens per view, pass None)."""
    share = live_share(session, share_id, user, session_factory)
    pub = share_output.publish(session, share)
    if action is None:
        return pub
    details: dict[str, Any] = {"tier": share.tier}
    if fmt:
        details["format"] = fmt
    if user is None:
        details["via"] = "link"
    audit.record(
        session,
        action,
        object_type="share",
        object_ids=[share.id],
        subject_agency_id=share.from_agency_id,
        details=details,
    )
    return pub


def download(pub: Publication, fmt: str) -> tuple[bytes, str, str]:
    """An export of the publication: (bytes, media type, file name)."""
    name = f"csmap-share-{pub.share_id[:8]}-tier{pub.tier}.{fmt}"
    return exports.export(pub, fmt), exports.EXPORT_TYPES[fmt], name
