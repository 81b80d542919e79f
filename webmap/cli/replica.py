"""`csmap db replica`: a hot standby of the private cluster (streaming replication)."""

from __future__ import annotations

import sys

import click

from webmap.cli.common import settings as _settings


@click.group("replica")
def replica() -> None:
    """A hot standby of the private cluster that layers, tiles and lists read from."""


def _standby():  # type: ignore[no-untyped-def]
    from webmap.infra.replica import Standby

    return Standby(_settings())


@replica.command("up")
def replica_up() -> None:
    """Create (first time: pg_basebackup of the running cluster) and start the standby. The
    app reads from it from its next start; CSMAP_READ_DATABASE_URL for other set-ups is
    printed (as the app role). Idempotent."""
    from webmap.infra.cluster import ClusterError

    standby = _standby()
    try:
        state = standby.up()
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"standby up on 127.0.0.1:{state['port']} (data in var/replica/pgdata)")
    click.echo("the app (csmap serve) reads layers, tiles and lists from it once restarted")
    click.echo(f"elsewhere: CSMAP_READ_DATABASE_URL={standby.url()}")


@replica.command("down")
@click.option("--remove", is_flag=True, help="Also delete its data and its replication slot.")
def replica_down(remove: bool) -> None:
    """Stop the standby (the app reads from the primary again)."""
    _standby().down(remove=remove)
    click.echo("standby removed" if remove else "standby stopped (its data is kept)")


@replica.command("status")
def replica_status() -> None:
    """Say whether the standby runs, and how far behind the primary it is."""
    state = _standby().status()
    running = state["running"]
    line = f"standby {'running' if running else 'stopped'} on port {state['port']}"
    if running:
        age = state.get("replay_age_s")
        line += f", replayed to {state.get('replay_lsn')}"
        line += f" ({age:.1f} s since the last replayed commit)" if age is not None else ""
    if state.get("slot_behind_bytes") is not None:
        line += f"; the primary keeps {state['slot_behind_bytes']:,} bytes of WAL for it"
    click.echo(line)
    sys.exit(0 if running else 3)
