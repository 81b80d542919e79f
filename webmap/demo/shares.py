"""The demo's standing shares between the panel agencies (all tier B, made by each source's
analyst through the same service as the share form, so they obey every rule a real one does).

- Police and children's social care share with the health agency over its own area (the
  western health area), which cuts across wards and police neighbourhoods.
- Police and children's social care share with the MACE panel over the whole town.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.sharing.service import ShareIn, create_share

AGREEMENT = "ISA-WRN-2026-01 (fictional demo agreement)"
BASIS = "Children Act 2004 s.10-11 (co-operation and safeguarding duties)"


@dataclass(frozen=True)
class StandingShare:
    source: str  # agency slug
    to_agency: str | None  # agency slug, or None for the MACE panel
    layers: tuple[str, ...]
    purpose: str


STANDING: tuple[StandingShare, ...] = (
    StandingShare(
        "police",
        "health",
        ("observations", "contexts", "vehicles"),
        "Health safeguarding team's view of exploitation activity in its area",
    ),
    StandingShare(
        "social_care",
        "health",
        ("observations", "contexts"),
        "Health safeguarding team's view of children's social care concerns in its area",
    ),
    StandingShare(
        "police",
        None,
        ("observations", "contexts"),
        "Town-wide picture for the Wrenmouth MACE panel",
    ),
    StandingShare(
        "social_care",
        None,
        ("observations", "contexts"),
        "Town-wide picture for the Wrenmouth MACE panel",
    ),
)


def _creator(session: Session, slug: str) -> Actor:
    row = session.execute(
        text(
            "SELECT u.id, u.agency_id, u.role::text FROM app_user u"
            " JOIN agency a ON a.id = u.agency_id"
            " WHERE a.slug = :s AND u.role IN ('analyst', 'agency_admin') AND u.is_active"
            " ORDER BY u.role, u.created_at LIMIT 1"
        ),
        {"s": slug},
    ).one()
    return Actor(row[0], row[1], row[2])


def _ids(session: Session, sql: str, **params: Any) -> list[Any]:
    return [r[0] for r in session.execute(text(sql), params)]


def load_standing_shares(session: Session, today: date | None = None) -> int:
    """Make the standing shares (once: nothing is made if the demo already has shares)."""
    if session.execute(text("SELECT count(*) FROM share")).scalar_one():
        return 0
    today = today or date.today()
    first = session.execute(
        text(
            "SELECT date_trunc('month', min(occurred_at) AT TIME ZONE 'Europe/London')::date"
            " FROM observation"
        )
    ).scalar_one()
    whole_town = _ids(
        session,
        "SELECT a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
        " WHERE b.slug = 'wards' AND b.is_current",
    )
    mace = _ids(session, "SELECT id FROM panel WHERE kind = 'mace' ORDER BY name LIMIT 1")
    made = 0
    for spec in STANDING:
        if spec.to_agency:
            areas = _ids(
                session,
                "SELECT j.area_id FROM agency_jurisdiction j JOIN agency a ON a.id = j.agency_id"
                " WHERE a.slug = :s",
                s=spec.to_agency,
            )
            recipient: dict[str, Any] = {
                "recipient_kind": "agencies",
                "recipient_agencies": [spec.to_agency],
            }
        else:
            areas, recipient = whole_town, {"recipient_kind": "panel", "panel_id": mace[0]}
        terms = ShareIn.model_validate(
            {
                "tier": "B",
                **recipient,
                "areas": areas,
                "layers": list(spec.layers),
                "period_from": first.strftime("%Y-%m"),
                "purpose": spec.purpose,
                "lawful_basis": BASIS,
                "agreement_ref": AGREEMENT,
                "expires_on": today + timedelta(days=300),
            }
        )
        create_share(session, _creator(session, spec.source), terms)
        made += 1
    return made
