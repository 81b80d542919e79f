"""Tier profiles as stored: on a share (frozen), on an agency (tightened), in the ledger
(the profile in force when a period was published). Every stored profile is re-checked
against the floors whenever it is read."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import FLOORS, TierProfile, tighten
from webmap.models.sharing import Share


def profile_from_json(tier: str, settings: dict[str, Any]) -> TierProfile:
    """A stored profile, re-checked against the floors every time it is read."""
    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    changes.pop("tier", None)
    return tighten(FLOORS[tier], **changes)


def profile_to_json(profile: TierProfile) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(profile).items()}


def agency_profile(session: Session, agency_id: uuid.UUID | str, tier: str) -> TierProfile:
    """The agency's profile for a tier: its own tightened settings, else the floor."""
    settings = session.execute(
        text("SELECT settings FROM agency_profile WHERE agency_id = :a AND tier = :t"),
        {"a": str(agency_id), "t": tier},
    ).scalar_one_or_none()
    return profile_from_json(tier, settings) if settings else FLOORS[tier]


def share_profile(share: Share) -> TierProfile:
    return profile_from_json(share.tier, share.profile)
