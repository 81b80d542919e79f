"""`csmap demo`: the fictional demo town (Wrenmouth, drawn over open sea)."""

from __future__ import annotations

import time
from datetime import date

import click

from webmap.cli.common import owner_session
from webmap.cli.common import settings as _settings
from webmap.config import Settings
from webmap.infra.db import driver_connection


@click.group()
def demo() -> None:
    """The fictional demo town (Wrenmouth, drawn over open sea)."""


@demo.command("load")
@click.option("--size", default=20_000, show_default=True, help="Number of observations.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same rows).")
@click.option(
    "--end-month", default=None, help="Last month of data, YYYY-MM (default: last month)."
)
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has data.")
@click.option("--replace", is_flag=True, help="Replace existing data (required if there is any).")
@click.option("--database", default=None)
def demo_load(
    size: int, seed: int, end_month: str | None, if_empty: bool, replace: bool, database: str | None
) -> None:
    """Generate the demo town and load it."""
    from spatial.demotown import generate_town
    from webmap.demo.load import has_data, load_town

    settings = _settings()
    end = None
    if end_month:
        try:
            end = date.fromisoformat(end_month + "-01")
        except ValueError:
            raise click.BadParameter("expected YYYY-MM", param_hint="--end-month") from None
    with owner_session(database) as session:
        conn = driver_connection(session)
        if has_data(conn):
            if if_empty:
                click.echo("demo data already loaded (use --replace to reload)")
                return
            if not replace:
                raise click.ClickException("the database has data; pass --replace to overwrite it")
        started = time.monotonic()
        click.echo(f"generating Wrenmouth (seed {seed}, {size:,} observations)…")
        town = generate_town(seed=seed, size=size, end_month=end)
        counts = load_town(
            conn,
            town,
            settings.secret("hmac_key"),
            progress=lambda m: click.echo(f"  loading {m}"),
            service_area=settings.service_area,
        )
        conn.execute("ANALYZE")  # before the commit: committing releases the connection
        session.commit()
    click.echo("  loading panels and people")
    from webmap.demo.people import load_panels, load_people
    from webmap.demo.shares import load_standing_shares

    with owner_session(database) as session:
        load_panels(session)
        people = load_people(session, _logins_file(settings, database))
        shares = load_standing_shares(session)
        session.commit()
    summary = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    took = time.monotonic() - started
    click.echo(f"loaded {summary}, {len(people)} users, {shares} shares in {took:.1f}s")


def _logins_file(settings: Settings, database: str | None = None):  # type: ignore[no-untyped-def]
    # One file per database, so loading a scratch database never clobbers the demo's log-ins.
    suffix = f"-{database}" if database else ""
    return settings.var_dir / f"demo-logins{suffix}.json"


@demo.command("logins")
def demo_logins() -> None:
    """Print the demo log-ins (created by `csmap demo load`)."""
    import json

    from webmap.demo.people import format_logins

    path = _logins_file(_settings())
    if not path.exists():
        raise click.ClickException("no demo log-ins yet: run `csmap demo load`")
    click.echo(format_logins(json.loads(path.read_text())))
