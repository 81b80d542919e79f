"""`csmap db backup`, `restore`, `archive` and `basebackup`: backups of the private cluster
(see README, "Backups")."""

from __future__ import annotations

from pathlib import Path

import click

from webmap.cli.common import settings as _settings


def _cluster():  # type: ignore[no-untyped-def]
    from webmap.infra.cluster import Cluster

    return Cluster(_settings())


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def _verify_and_count(database: str, expected: dict[str, int] | None) -> None:
    """Run the audit chain's verify on ``database`` and print each table's rows."""
    from webmap.infra.audit import verify
    from webmap.infra.backup import row_counts

    cluster = _cluster()
    with cluster.superuser_connect(database) as conn:
        conn.autocommit = False  # verify reads the chain through a server-side cursor
        result = verify(conn)
        counts = row_counts(conn)
        conn.rollback()
    width = max(len(t) for t in counts) if counts else 10
    for table, n in counts.items():
        note = ""
        if expected is not None and expected.get(table) != n:
            note = f"  (backup: {expected.get(table)})"
        click.echo(f"  {table:<{width}}  {n:>10,}{note}")
    if not result.ok:
        raise click.ClickException(
            f"audit chain BROKEN at entry {result.first_broken}: {result.problem}"
        )
    click.echo(f"audit chain intact: {result.checked:,} entries verified")
    if expected is not None and any(expected.get(t) != n for t, n in counts.items()):
        raise click.ClickException("row counts differ from the backup's")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--database", default="csmap", show_default=True)
def backup(file: Path, database: str) -> None:
    """Back up DATABASE (roles, grants, RLS, every row, the audit chain) into FILE."""
    from webmap.infra import backup as backups
    from webmap.infra.cluster import ClusterError

    try:
        manifest = backups.backup(_cluster(), database, file)
    except ClusterError as exc:
        raise _fail(exc) from None
    total = sum(manifest["rows"].values())
    click.echo(f"backup of {database} written to {file} ({total:,} rows, mode 0600)")


@click.command("restore")
@click.argument("file", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--database", default=None, help="Restore into this database (default: its own).")
@click.option("--replace", is_flag=True, help="Overwrite the database if it exists.")
@click.option("--to", "to_time", default=None, help='Point in time, e.g. "2026-12-01 10:00".')
def restore(file: Path | None, database: str | None, replace: bool, to_time: str | None) -> None:
    """Restore FILE (a `csmap db backup`), or with --to the whole cluster to a point in time;
    then verify the audit chain and print every table's rows."""
    from webmap.infra import archive
    from webmap.infra import backup as backups
    from webmap.infra.cluster import ClusterError

    cluster = _cluster()
    try:
        if to_time is not None:
            if file is not None:
                raise click.UsageError("give either FILE or --to, not both")
            when = archive.parse_time(to_time)
            aside = archive.restore_to(cluster, when)
            click.echo(f"cluster restored to {when.isoformat()}; the data before: {aside}")
            _verify_and_count(database or "csmap", None)
            return
        if file is None:
            raise click.UsageError("give a backup FILE, or --to TIME")
        roles = _settings().local_cluster()
        if roles is None:
            raise click.ClickException("No private cluster here: `csmap db up` first.")
        done = backups.restore(cluster, file, roles["roles"], database, replace)
    except ClusterError as exc:
        raise _fail(exc) from None
    click.echo(f"restored {done.manifest['database']} (taken {done.manifest['taken_at']})"
               f" into {done.database}")  # fmt: skip
    _verify_and_count(done.database, done.manifest["rows"])


@click.command("archive")
def archive_on() -> None:
    """Switch continuous archiving on (restarts the cluster once) and take a base backup."""
    from webmap.infra import archive
    from webmap.infra.cluster import ClusterError

    try:
        base = archive.archive_on(_cluster())
    except ClusterError as exc:
        raise _fail(exc) from None
    click.echo(f"archiving on: WAL into var/wal, base backup in {base}")


@click.command("basebackup")
def basebackup() -> None:
    """Take a new base backup (keeps the last two, and the WAL they need)."""
    from webmap.infra import archive
    from webmap.infra.cluster import ClusterError

    try:
        base = archive.base_backup(_cluster())
    except ClusterError as exc:
        raise _fail(exc) from None
    click.echo(f"base backup in {base}")


COMMANDS = (backup, restore, archive_on, basebackup)
