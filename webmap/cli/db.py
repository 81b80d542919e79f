"""`csmap db`: the private PostGIS cluster under var/ and the schema."""

from __future__ import annotations

import sys

import click

from webmap.cli.common import settings as _settings


@click.group()
def db() -> None:
    """The private PostGIS cluster under var/ and the schema."""


def _cluster():  # type: ignore[no-untyped-def]
    from webmap.infra.cluster import Cluster

    return Cluster(_settings())


@db.command("up")
def db_up() -> None:
    """Create (first time), start and provision the private cluster. Idempotent."""
    from webmap.infra.cluster import ClusterError

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
    from webmap.infra import db as dbmod

    settings = _settings()
    dbmod.upgrade(settings, revision, url=settings.owner_url(database))
    click.echo(f"schema at {revision}")


@db.command("downgrade")
@click.argument("revision")
@click.option("--database", default=None)
def db_downgrade(revision: str, database: str | None) -> None:
    """Migrate the schema down to REVISION (e.g. base)."""
    from webmap.infra import db as dbmod

    settings = _settings()
    dbmod.downgrade(settings, revision, url=settings.owner_url(database))
    click.echo(f"schema at {revision}")
