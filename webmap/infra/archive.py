"""Continuous archiving and point-in-time restore of the private cluster.

PostgreSQL's own machinery, nothing else: with archiving on, the server copies every finished
WAL segment into ``var/wal`` (``archive_command``; ``archive_timeout`` closes a segment at
least every minute, so an idle cluster still archives its last writes), and
``csmap db basebackup`` keeps compressed base backups in ``var/base``. Restoring to a time
(``csmap db restore --to "2026-12-01 10:00"``) stops the cluster, sets its data directory aside
(``var/pgdata.before-<time>``, never deleted by csmap), unpacks the newest base backup
finished before that time and lets PostgreSQL replay the archive up to it, then promotes.
It restores the whole cluster: every database on it goes back to that time.

Archiving is switched on once per cluster (``csmap db archive``), not by ``csmap db up``:
the test databases share the private cluster, and archiving their WAL would fill the disk.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webmap.infra.cluster import Cluster, ClusterError

INCLUDE = "csmap-archive.conf"
#: Base backups kept; WAL older than the oldest kept one is removed.
KEEP_BASES = 2


def wal_dir(cluster: Cluster) -> Path:
    return cluster.root / "wal"


def base_dir(cluster: Cluster) -> Path:
    return cluster.root / "base"


def is_on(cluster: Cluster) -> bool:
    return (cluster.data_dir / INCLUDE).exists()


def _settings(cluster: Cluster) -> str:
    wal = wal_dir(cluster)
    return (
        "# csmap: continuous archiving (csmap db archive)\n"
        "wal_level = replica\n"
        "archive_mode = on\n"
        # Copied under a temporary name, then renamed: a copy cut short (a crash, kill -9)
        # never stands under the real name, which would block archiving that segment again.
        f"archive_command = 'test ! -f {wal}/%f && cp %p {wal}/%f.part && mv {wal}/%f.part"
        f" {wal}/%f'\n"
        "archive_timeout = 60\n"
    )


def _write(cluster: Cluster, path: Path, text: str) -> None:
    path.write_text(text)
    cluster.own(path, reach=False)


def archive_on(cluster: Cluster) -> Path:
    """Switch archiving on (restarting the cluster once) and take a first base backup."""
    for d in (wal_dir(cluster), base_dir(cluster)):
        d.mkdir(parents=True, exist_ok=True)
        cluster.own(d)
    if not is_on(cluster):
        _write(cluster, cluster.data_dir / INCLUDE, _settings(cluster))
        conf = cluster.data_dir / "postgresql.conf"
        if f"include_if_exists = '{INCLUDE}'" not in conf.read_text():
            with conf.open("a") as fh:
                fh.write(f"include_if_exists = '{INCLUDE}'\n")
        if cluster.is_running():
            cluster.stop()  # archive_mode takes effect at start only
    cluster.start()
    return base_backup(cluster)


def base_backup(cluster: Cluster) -> Path:
    """A new compressed base backup under ``var/base/<UTC time>``; older ones beyond
    :data:`KEEP_BASES` and the WAL only they needed are removed."""
    if not is_on(cluster):
        raise ClusterError("Archiving is off: `csmap db archive` switches it on.")
    with cluster.superuser_connect() as conn:
        start_wal = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]  # type: ignore[index]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = base_dir(cluster) / stamp
    cmd = cluster.command(
        "pg_basebackup", "-h", str(cluster.socket_dir), "-p", str(cluster.port),
        "-U", "postgres", "-D", str(target), "-Ft", "-z", "-X", "stream", "-c", "fast",
    )  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise ClusterError(f"pg_basebackup failed: {result.stderr.strip()[-2000:]}")
    info = {"start_wal": start_wal, "finished_at": datetime.now(UTC).isoformat()}
    _write(cluster, target / "csmap-base.json", json.dumps(info))
    _prune(cluster)
    return target


def bases(cluster: Cluster) -> list[tuple[datetime, Path, dict[str, Any]]]:
    """Finished base backups, oldest first: (finished at, directory, facts)."""
    found = []
    for path in sorted(base_dir(cluster).glob("*")):
        facts_file = path / "csmap-base.json"
        if facts_file.exists():
            facts = json.loads(facts_file.read_text())
            found.append((datetime.fromisoformat(facts["finished_at"]), path, facts))
    return sorted(found, key=lambda b: b[0])


def _prune(cluster: Cluster) -> None:
    kept = bases(cluster)
    for _, path, _facts in kept[:-KEEP_BASES]:
        shutil.rmtree(path, ignore_errors=True)
    oldest = kept[-KEEP_BASES:][0][2]["start_wal"] if kept else None
    if oldest:
        cmd = cluster.command("pg_archivecleanup", str(wal_dir(cluster)), oldest)
        subprocess.run(cmd, capture_output=True, text=True, check=False)


def _archive_current_wal(cluster: Cluster, seconds: float = 60) -> None:
    """Close the current WAL segment and wait until the archiver has copied it."""
    with cluster.superuser_connect() as conn:
        name = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + seconds
        while not (wal_dir(cluster) / name).exists():
            if time.monotonic() > deadline:
                raise ClusterError(f"WAL segment {name} was not archived: see var/log.")
            time.sleep(0.2)


def parse_time(text: str) -> datetime:
    """``2026-12-01 10:00`` (this machine's local time) or ISO 8601 with an offset.

    >>> parse_time("2026-12-01 10:00+00:00").isoformat()
    '2026-12-01T10:00:00+00:00'
    """
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClusterError(f"--to: not a time: {text!r} (e.g. 2026-12-01 10:00)") from None
    return when if when.tzinfo else when.astimezone()


def restore_to(cluster: Cluster, when: datetime, wait_seconds: float = 300) -> Path:
    """Bring the whole cluster back to ``when``; returns where the old data directory went."""
    if not is_on(cluster):
        raise ClusterError("Archiving is off, so there is nothing to restore to a time from.")
    if cluster.is_running():
        _archive_current_wal(cluster)
        cluster.stop()
    usable = [b for b in bases(cluster) if b[0] < when]
    if not usable:
        raise ClusterError(f"No base backup finished before {when.isoformat()}.")
    _, base, _ = usable[-1]
    aside = cluster.root / f"pgdata.before-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    cluster.data_dir.rename(aside)
    cluster.data_dir.mkdir(mode=0o700)
    cluster.own(cluster.data_dir, reach=False)
    for archive, into in (("base.tar.gz", cluster.data_dir), ("pg_wal.tar.gz", None)):
        dest = into or cluster.data_dir / "pg_wal"
        cmd = cluster.as_server_user(["tar", "-xzf", str(base / archive), "-C", str(dest)])
        subprocess.run(cmd, check=True, capture_output=True)
    auto = cluster.data_dir / "postgresql.auto.conf"
    recovery = (
        "# csmap db restore --to\n"
        f"restore_command = 'cp {wal_dir(cluster)}/%f %p'\n"
        f"recovery_target_time = '{when.isoformat()}'\n"
        "recovery_target_action = 'promote'\n"
    )
    _write(cluster, auto, (auto.read_text() if auto.exists() else "") + recovery)
    _write(cluster, cluster.data_dir / "recovery.signal", "")
    cluster.start()
    deadline = time.monotonic() + wait_seconds
    while True:
        with cluster.superuser_connect() as conn:
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
                break
        if time.monotonic() > deadline:
            raise ClusterError("Recovery did not finish in time: see var/log/postgres.log.")
        time.sleep(0.5)
    return aside
