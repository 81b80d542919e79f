"""`csmap profiles`: an agency's tier profiles — tightened, never below the floors (as owner).

A profile is data (``agency_profile``). Each period is published once, with the profile in
force then (see ``csmap publications``): tightening applies to every period not yet published,
for every share, and never changes a period already published.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click
from sqlalchemy import text

from spatial.redaction import FLOORS, ProfileError, TierProfile, precision_statement, tighten
from webmap.cli.common import owner_session
from webmap.features.sharing.profiles import agency_profile, profile_to_json
from webmap.infra import audit

FIELDS = [f.name for f in dataclasses.fields(TierProfile) if f.name != "tier"]


def parse_setting(raw: str) -> tuple[str, Any]:
    """``field=value`` → (field, typed value): ints, a decimal share, none, true/false, or
    comma-separated band edges.

    >>> parse_setting("k_observations=8"), parse_setting("rounding=10,20,50")
    (('k_observations', 8), ('rounding', (10, 20, 50)))
    """
    name, sep, value = raw.partition("=")
    if not sep or name not in FIELDS:
        raise click.BadParameter(f"{raw!r}: expected FIELD=VALUE, FIELD one of {', '.join(FIELDS)}")
    value = value.strip()
    typed: Any
    if value.lower() in {"none", ""}:
        typed = None
    elif value.lower() in {"true", "false"}:
        typed = value.lower() == "true"
    elif "," in value:
        typed = tuple(int(v) for v in value.split(","))
    elif value.isdigit():
        typed = int(value)
    else:
        try:
            typed = float(value)
        except ValueError:
            typed = value
    return name, typed


def _agency_id(session: Any, slug: str) -> Any:
    found = session.execute(text("SELECT id FROM agency WHERE slug = :s"), {"s": slug})
    agency_id = found.scalar_one_or_none()
    if agency_id is None:
        raise click.ClickException(f"no agency with slug {slug!r} (see `csmap agencies`)")
    return agency_id


@click.group()
def profiles() -> None:
    """Tier profiles of an agency (tighten only; the floors are in code)."""


@profiles.command("show")
@click.option("--agency", "slug", required=True)
def profiles_show(slug: str) -> None:
    """Print the agency's tier B and C profiles and their precision statements."""
    with owner_session() as session:
        agency_id = _agency_id(session, slug)
        for tier in ("B", "C"):
            p = agency_profile(session, agency_id, tier)
            tag = "floor" if p == FLOORS[tier] else "tightened"
            click.echo(f"tier {tier} ({tag}): {precision_statement(p)}")
            for name in FIELDS:
                click.echo(f"  {name} = {getattr(p, name)!r}")


@profiles.command("set")
@click.option("--agency", "slug", required=True)
@click.option("--tier", required=True, type=click.Choice(["B", "C"]))
@click.argument("settings", nargs=-1, required=True)
def profiles_set(slug: str, tier: str, settings: tuple[str, ...]) -> None:
    """Tighten a tier profile, e.g. `csmap profiles set --agency police --tier B k_observations=8`.

    Each change applies to the agency's current profile; anything looser than the floor (or
    than the current profile) is refused, naming the field.
    """
    changes = dict(parse_setting(s) for s in settings)
    with owner_session() as session:
        agency_id = _agency_id(session, slug)
        try:
            p = tighten(agency_profile(session, agency_id, tier), **changes)
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from None
        session.execute(
            text(
                "INSERT INTO agency_profile (agency_id, tier, settings)"
                " VALUES (:a, :t, CAST(:s AS jsonb))"
                " ON CONFLICT (agency_id, tier) DO UPDATE SET settings = excluded.settings,"
                " updated_at = now()"
            ),
            {"a": agency_id, "t": tier, "s": json.dumps(profile_to_json(p))},
        )
        audit.record(
            session,
            "profile.tighten",
            object_type="agency",
            object_ids=[agency_id],
            subject_agency_id=agency_id,
            details={"tier": tier, "changed": sorted(changes)},
        )
        session.commit()
    click.echo(f"tier {tier} of {slug}: {precision_statement(p)}")
