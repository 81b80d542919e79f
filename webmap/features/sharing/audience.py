"""One audience, one tier: an agency, a panel's member agencies or a named external recipient
receives one tier of a source's data, ever (revoked and expired shares count)."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.infra.errors import Invalid

_NOISE_WORDS = frozenset({"the", "ltd", "limited", "plc", "llp", "co", "company", "inc"})


def audience_name(value: str) -> str:
    """A name or organisation as one audience is matched on: case, accents' width, punctuation,
    spacing and company suffixes do not make a different audience.

    >>> audience_name("  Wrenmouth Coastal Buses Ltd.") == audience_name("wrenmouth coastal-buses")
    True
    """
    folded = unicodedata.normalize("NFKC", value).casefold()
    words = re.sub(r"[\W_]+", " ", folded).split()
    return " ".join(w for w in words if w not in _NOISE_WORDS)


def external_key(name: str, organisation: str) -> str:
    """The stored key of a named external recipient: its normalised name and organisation."""
    return f"{audience_name(name)}|{audience_name(organisation)}"


def one_tier_per_audience(
    session: Session, recipients: list[str], external: tuple[str, str] | None, tier: str
) -> None:
    """Refuse a share that would give an audience a second tier of the same source's data.

    Tier B and tier C are suppressed independently (res 8 by month against res 7 by quarter),
    so one can be subtracted from the other to reveal suppressed cells. An audience — an
    agency, the member agencies of a panel, a named external recipient (matched on its
    normalised name or its organisation) — therefore receives one tier from a source, ever:
    revoked and expired shares count, because a recipient keeps what it downloaded.
    ``external`` is the named external recipient's (name, organisation), if that is the
    audience.
    """
    name = org = None
    if external is not None:
        name, org = audience_name(external[0]), audience_name(external[1])
    if not recipients and name is None:
        return
    # A SECURITY DEFINER function: a trainer making a tier C pack may not read its agency's
    # other shares, but one audience must still get one tier.
    rows = session.execute(
        text(
            "SELECT id, tier FROM csmap_share_audience_tiers("
            "CAST(:rec AS uuid[]), CAST(:name AS text), CAST(:org AS text))"
        ),
        {"rec": recipients, "name": name, "org": org},
    ).all()
    for share_id, other in rows:
        if other != tier:
            raise Invalid.field(
                "tier",
                f"this audience already has share {share_id} from your agency at tier {other};"
                " one audience receives one tier from a source, even after a share is revoked"
                " or expires",
            )
