"""`csmap publications`: the publication ledger, as the schema owner.

Periods are published when a share first needs them; ``publish`` writes every due period of
every live share at once (run it from cron just after each month closes, so publication times
are prompt and predictable), ``list`` shows an agency's ledger and ``verify`` recomputes every
publication's hash and chain.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import click
from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.cli.common import owner_session
from webmap.features.sharing import publication


def _factory(database: str | None) -> Callable[[], AbstractContextManager[Session]]:
    """A fresh owner session per period, each committed on its own."""
    return lambda: owner_session(database)


@click.group()
def publications() -> None:
    """The publication ledger: every tier B/C number, written once per period."""


@publications.command("publish")
@click.option("--agency", default=None, help="Only this source agency (slug).")
@click.option("--database", default=None, help="Database on the private cluster.")
def publish(agency: str | None, database: str | None) -> None:
    """Publish every closed period that a live share needs and the ledger lacks."""
    factory = _factory(database)
    with factory() as session:
        due = publication.due_for_all(session)
        names = dict(session.execute(text("SELECT id, slug FROM agency")).tuples().all())
    written = 0
    for agency_id, tier, start in due:
        if agency is not None and names.get(agency_id) != agency:
            continue
        keys = publication.publish_due(factory, agency_id, tier, start, None)
        written += len(keys)
        if keys:
            click.echo(f"{names[agency_id]} tier {tier}: published {', '.join(keys)}")
    click.echo(f"{written} period(s) published")


@publications.command("list")
@click.option("--agency", required=True, help="Source agency (slug).")
@click.option("--database", default=None, help="Database on the private cluster.")
def list_(agency: str, database: str | None) -> None:
    """An agency's publications: period, tier, when, cells and hash."""
    with _factory(database)() as session:
        rows = session.execute(
            text(
                "SELECT p.tier, p.period, p.published_at, p.resolution, p.sha256,"
                " (SELECT count(*) FROM publication_cell c WHERE c.publication_id = p.id)"
                " FROM publication p JOIN agency a ON a.id = p.agency_id WHERE a.slug = :s"
                " ORDER BY p.tier, p.period_start"
            ),
            {"s": agency},
        ).all()
    for tier, period, at, res, digest, cells in rows:
        click.echo(
            f"{tier}  {period:<8} {at:%Y-%m-%d %H:%M}  res {res}  {cells:>5} cells  {digest}"
        )
    click.echo(f"{len(rows)} publication(s)")


@publications.command("verify")
@click.option("--database", default=None, help="Database on the private cluster.")
def verify(database: str | None) -> None:
    """Recompute every publication's SHA-256 and chain; name the first that does not hold."""
    with _factory(database)() as session:
        problems = publication.verify(session)
        total = session.execute(text("SELECT count(*) FROM publication")).scalar_one()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(problems)} problem(s) in the publication ledger")
    click.echo(f"publication ledger intact ({total} publications)")
