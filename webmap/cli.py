"""The ``csmap`` command: cluster, migrations, demo data, serving."""

from __future__ import annotations

import os
import sys
import time
from datetime import date

import click
import psycopg

from webmap.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _psycopg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@click.group()
def main() -> None:
    """csmap: contextual safeguarding place-and-space mapping."""


# -- database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The private PostGIS cluster under var/ and the schema."""


def _cluster():  # type: ignore[no-untyped-def]
    from webmap.cluster import Cluster

    return Cluster(_settings())


@db.command("up")
def db_up() -> None:
    """Create (first time), start and provision the private cluster. Idempotent."""
    from webmap.cluster import ClusterError

    try:
        state = _cluster().up()
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"PostGIS cluster up on 127.0.0.1:{state['port']} (data in var/pgdata)")


@db.command("down")
def db_down() -> None:
    """Stop the private cluster (data is kept)."""
    _cluster().stop()
    click.echo("PostGIS cluster stopped")


@db.command("status")
def db_status() -> None:
    """Say whether the private cluster is running."""
    cluster = _cluster()
    running = cluster.is_running()
    click.echo(f"cluster {'running' if running else 'stopped'} on port {cluster.port}")
    sys.exit(0 if running else 3)


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.option("--database", default=None, help="Database on the private cluster (default csmap).")
def db_upgrade(revision: str, database: str | None) -> None:
    """Migrate the schema (as the owner role)."""
    from webmap import db as dbmod

    settings = _settings()
    dbmod.upgrade(settings, revision, url=settings.owner_url(database))
    click.echo(f"schema at {revision}")


@db.command("downgrade")
@click.argument("revision")
@click.option("--database", default=None)
def db_downgrade(revision: str, database: str | None) -> None:
    """Migrate the schema down to REVISION (e.g. base)."""
    from webmap import db as dbmod

    settings = _settings()
    dbmod.downgrade(settings, revision, url=settings.owner_url(database))
    click.echo(f"schema at {revision}")


# -- demo -----------------------------------------------------------------------------------


@main.group()
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
    from webmap.demo_load import has_data, load_town

    settings = _settings()
    end = None
    if end_month:
        try:
            end = date.fromisoformat(end_month + "-01")
        except ValueError:
            raise click.BadParameter("expected YYYY-MM", param_hint="--end-month") from None
    with psycopg.connect(_psycopg_url(settings.owner_url(database))) as conn:
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
        conn.commit()
        conn.execute("ANALYZE")
    click.echo("  loading panels and people")
    from webmap.demo_people import load_panels, load_people
    from webmap.demo_shares import load_standing_shares

    with _owner_session(settings, database) as session:
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

    from webmap.demo_people import format_logins

    path = _logins_file(_settings())
    if not path.exists():
        raise click.ClickException("no demo log-ins yet: run `csmap demo load`")
    click.echo(format_logins(json.loads(path.read_text())))


def _owner_session(settings: Settings, database: str | None = None):  # type: ignore[no-untyped-def]
    """A SQLAlchemy session as the schema owner (the CLI's administrative rights)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(settings.owner_url(database))
    return Session(engine)


# -- serve ----------------------------------------------------------------------------------


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    """The gunicorn command line `csmap serve` runs. No access log: a path can hold a signed
    link's token or forged CR/LF, so the app logs one line per request with the route
    *pattern* itself (webmap/request_log.py), and its logger class keeps paths out of
    gunicorn's error log too."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--logger-class",
        "webmap.request_log.GunicornLogger",
        "--error-logfile",
        "-",
        "webmap:create_app()",
    ]


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn (logs carry route patterns, never paths)."""
    _settings()  # fail fast on bad configuration
    cmd = gunicorn_command(host, port, workers)
    os.execv(sys.executable, cmd)  # noqa: S606 - replace this process with gunicorn


# Sub-command groups live in their own modules; importing them registers them on ``main``.
from webmap import cli_admin, cli_import, cli_profiles, cli_publications  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    main()
