"""The publication ledger: writing a source agency's tier B/C periods, once each.

Every shared number is read from a *publication* (revision 0008): one source agency's cells,
contexts and masked marks for one tier and one closed calendar period, redacted by
:mod:`spatial.redaction` with the profile in force when it was written, stored with its
SHA-256 and never changed. Later corrections to that period stay in tier A. So two audiences
of one tier see the same numbers, and fetching a share twice can never be subtracted into a
small count.

Periods are written when first needed (a share read, a pack, ``csmap publications publish``),
in a transaction of their own that commits before anything is shown, so what a recipient saw
is exactly what the ledger keeps. The database refuses a period that has not closed or that
overlaps one already published, whoever asks.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.redaction import (
    FLOORS,
    ContextFact,
    ObservationFact,
    SightingFact,
    TierProfile,
    publish_cells,
    publish_contexts,
    publish_vehicle_marks,
)
from spatial.redaction_periods import Period, due_periods
from webmap.features.sharing.profiles import profile_from_json, profile_to_json


def _today(session: Session) -> tuple[date, datetime]:
    """The database's own date in Europe/London and its transaction time: the same clock that
    decides, in SQL, whether a period may be published."""
    day, now = session.execute(
        text("SELECT (now() AT TIME ZONE 'Europe/London')::date, now()")
    ).one()
    return day, now


def current_profile(session: Session, agency_id: uuid.UUID | str, tier: str) -> TierProfile:
    """The source agency's profile for ``tier`` now: its own tightened one, else the floor."""
    settings = session.execute(
        text("SELECT csmap_publication_profile(:a, :t)"), {"a": str(agency_id), "t": tier}
    ).scalar_one_or_none()
    return profile_from_json(tier, settings) if settings else FLOORS[tier]


def plan(
    session: Session, agency_id: uuid.UUID | str, tier: str, start: date, end: date | None
) -> tuple[TierProfile, list[Period]]:
    """The profile in force and the periods from ``start`` (to ``end``) due to be published."""
    profile = current_profile(session, agency_id, tier)
    today, _now = _today(session)
    published = session.execute(
        text("SELECT period_start, period_end FROM csmap_publication_index(:a, :t)"),
        {"a": str(agency_id), "t": tier},
    ).all()
    periods = due_periods(
        profile.period,
        FLOORS[tier].period,
        profile.publication_lag,
        start,
        end,
        [(s, e) for s, e in published],
        today,
    )
    return profile, periods


def _cells_json(cells: list[Any]) -> list[list[Any]]:
    return [
        [c.cell, None, c.count] if isinstance(c.count, str) else [c.cell, c.count, None]
        for c in cells
    ]


def write_period(
    session: Session, agency_id: uuid.UUID | str, tier: str, profile: TierProfile, period: Period
) -> uuid.UUID:
    """Redact one period of the source's records and write it to the ledger (in the caller's
    transaction). The profile's period is the period's own kind."""
    profile = dataclasses.replace(profile, period=period.kind)
    args = {"a": str(agency_id), "t": tier, "s": period.start, "e": period.end}
    _today_date, now = _today(session)
    facts: list[ObservationFact] = []
    sightings: list[SightingFact] = []
    for cell, at, keys, mark in session.execute(
        text("SELECT * FROM csmap_publication_facts(:a, :t, :s, :e)"), args
    ):
        facts.append(ObservationFact(cell, at, "", tuple(keys), "", "", None, 0.0, 0.0))
        if mark:
            sightings.append(SightingFact(cell, at, mark))
    cells = publish_cells(facts, profile, now)
    if any(c.period != period.key for c in cells):
        raise RuntimeError("a published cell lies outside the period being published")
    # Each context gets a reference of this publication's own, never its record id, so it
    # cannot be followed from one publication or share to the next.
    contexts = publish_contexts(
        (
            ContextFact(str(uuid.uuid4()), kind, name, public, lon, lat, "")
            for kind, name, public, lon, lat in session.execute(
                text("SELECT * FROM csmap_publication_context_facts(:a, :t, :s, :e)"), args
            )
        ),
        profile,
    )
    marks = publish_vehicle_marks(sightings, profile, now)
    published: uuid.UUID = session.execute(
        text(
            "SELECT csmap_publication_write(:a, :t, :key, :s, :e, CAST(:profile AS jsonb),"
            " CAST(:res AS smallint), CAST(:cells AS jsonb), CAST(:contexts AS jsonb),"
            " CAST(:marks AS jsonb))"
        ),
        {
            **args,
            "key": period.key,
            "profile": json.dumps(profile_to_json(profile)),
            "res": profile.resolution,
            "cells": json.dumps(_cells_json(cells)),
            "contexts": json.dumps(
                [[c.id, c.cell, c.kind, c.name, c.lon, c.lat, c.precise] for c in contexts]
            ),
            "marks": json.dumps([[m.cell, m.mark] for m in marks]),
        },
    ).scalar_one()
    return published


def publish_due(
    session_factory: Callable[[], AbstractContextManager[Session]],
    agency_id: uuid.UUID | str,
    tier: str,
    start: date,
    end: date | None,
) -> list[str]:
    """Write every period of the source and tier from ``start`` (to ``end``) that is due and
    not yet published, each in its own committed transaction; return their keys.

    ``session_factory`` gives a session with the caller's database context (a recipient's,
    the source agency's, or the owner's for the CLI); the database decides whether it may.
    """
    written: list[str] = []
    with session_factory() as session:
        profile, periods = plan(session, agency_id, tier, start, end)
        session.commit()
    for period in periods:
        with session_factory() as session:
            write_period(session, agency_id, tier, profile, period)
            session.commit()
        written.append(period.key)
    return written


def due_for_all(session: Session) -> list[tuple[uuid.UUID, str, date]]:
    """(agency, tier, first month) of every live share, for the CLI's catch-up run."""
    rows = session.execute(
        text(
            "SELECT from_agency_id, tier, min(period_from) FROM share"
            " WHERE status = 'active' AND revoked_at IS NULL AND expires_at > now()"
            " GROUP BY from_agency_id, tier ORDER BY 1, 2"
        )
    ).all()
    return [(a, t, s) for a, t, s in rows]


def verify(session: Session) -> list[str]:
    """Recompute every publication's hash and chain link (as the owner); the problems found."""
    problems: list[str] = []
    previous: dict[str, str | None] = {}
    rows = session.execute(
        text(
            "SELECT id, agency_id, period, tier, sha256, prev_sha256,"
            " encode(sha256(convert_to(csmap_publication_canonical(id), 'UTF8')), 'hex')"
            " FROM publication ORDER BY seq"
        )
    ).all()
    for pid, agency, period, tier, stored, prev, recomputed in rows:
        where = f"publication {pid} ({tier} {period})"
        if stored != recomputed:
            problems.append(f"{where}: content does not match its hash")
        if prev != previous.get(str(agency)):
            problems.append(f"{where}: does not follow the agency's previous publication")
        previous[str(agency)] = stored
    return problems
