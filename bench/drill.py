"""The fault drill (`make drill`; a short version runs in `make test`).

Writers record observations through the API, each with its own Idempotency-Key, and retry
with the same key until the server acknowledges it, while the drill ``kill -9``s gunicorn
workers (the master starts new ones) and the PostgreSQL postmaster (restarted: crash recovery
replays the WAL). Then it checks what an agency cares about: every acknowledged write is there
exactly once (0 lost, 0 duplicated), the audit chain verifies, and the ``cell_month`` cube
equals a recount from the observations. On a scratch cluster of its own (bench/scratch.py).

    python -m bench.drill [--writers 4] [--seconds 120] [--worker-kills 30] [--db-kills 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import scratch
from bench.common import replace_section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
USER_AGENT = "csmap-drill/1"
MARK = "drill:"


@dataclass
class Tally:
    """What the writers saw."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> observation id
    attempts: int = 0
    retries: int = 0
    replays: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: str) -> None:
        with self.lock:
            self.attempts += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1


@contextmanager
def served(sc: scratch.Scratch, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`csmap serve`'s gunicorn on the scratch cluster."""
    from webmap.cli.serve import gunicorn_command

    port = scratch.free_port()
    env = {**sc.env(), "CSMAP_DATABASE_URL": sc.app_url()}
    log = tempfile.NamedTemporaryFile(prefix="csmap-drill-", suffix=".log")  # noqa: SIM115
    proc = subprocess.Popen(
        gunicorn_command("127.0.0.1", port, workers), env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/login", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _writer(base: str, session: Any, n: int, tally: Tally, stop_at: float, who: int) -> None:
    try:
        _write(base, session, n, tally, stop_at, who)
    except Exception as exc:  # a writer that stops must fail the drill, not vanish
        with tally.lock:
            tally.errors.append(f"writer {who}: {exc}")


def _write(base: str, session: Any, n: int, tally: Tally, stop_at: float, who: int) -> None:
    import requests

    rng = random.Random(who)
    for i in range(n):
        if time.monotonic() > stop_at:
            return
        key = f"{MARK}{who}-{i}-{uuid.uuid4().hex[:8]}"
        body = {
            "occurred_at": "2026-10-20T18:30:00Z",
            "geometry": {
                "type": "Point",
                "coordinates": [round(1.15 + rng.random() * 0.1, 6), 54.58 + rng.random() * 0.05],
            },
            "category": "suspected_drug_running",
            "note": key,
        }
        first = True
        while True:  # the same key until acknowledged: a retry can never write twice
            if time.monotonic() > stop_at + 120:
                raise RuntimeError(f"{key}: not acknowledged within 2 minutes of the end")
            if not first:
                with tally.lock:
                    tally.retries += 1
                time.sleep(0.2)
            first = False
            try:
                resp = session.post(
                    base + "/api/v1/observations",
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=30,
                )
            except requests.RequestException as exc:
                tally.saw(type(exc).__name__)
                continue
            tally.saw(str(resp.status_code))
            if resp.status_code == 201:
                with tally.lock:
                    tally.acknowledged[key] = resp.json()["id"]
                    tally.replays += resp.headers.get("Idempotent-Replayed") == "true"
                break
            if resp.status_code not in (502, 503, 504):
                raise RuntimeError(
                    f"writer {who}: unexpected {resp.status_code}: {resp.text[:200]}"
                )


def _faults(*args: Any) -> None:
    """Run :func:`_kill`; a failure fails the drill (noted in its log, the last argument)."""
    try:
        _kill(*args)
    except Exception as exc:  # the drill fails, and says why
        args[-1].append(f"fault thread failed: {exc}")


def _kill(
    sc: scratch.Scratch,
    proc: subprocess.Popen[bytes],
    seconds: float,
    worker_kills: int,
    db_kills: int,
    done: threading.Event,
    log: list[str],
) -> None:
    """Spread the kills evenly over the run, the database ones among the worker ones."""
    plan = ["worker"] * worker_kills + ["postmaster"] * db_kills
    random.Random(16).shuffle(plan)
    gap = seconds / (len(plan) + 2)  # all of them before the writers stop
    for kind in plan:
        if done.wait(gap):
            return
        if kind == "worker":
            out = subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
            ).stdout.split()
            if out:
                os.kill(int(random.choice(out)), 9)
                log.append("worker")
        else:
            sc.kill_postmaster()
            log.append("postmaster")


def check(sc: scratch.Scratch, tally: Tally) -> dict[str, Any]:
    """0 lost, 0 duplicated, the audit chain and the cube."""
    from webmap.infra.audit import verify

    with sc.cluster.superuser_connect("csmap") as conn:
        conn.autocommit = False
        rows = conn.execute(
            "SELECT note, count(*) FROM observation WHERE note LIKE %s GROUP BY note",
            (MARK + "%",),
        ).fetchall()
        stored = {note: n for note, n in rows}
        lost = [k for k in tally.acknowledged if k not in stored]
        duplicated = [k for k, n in stored.items() if n > 1]
        chain = verify(conn)
        conn.execute("CREATE TEMP TABLE cube_before AS SELECT * FROM cell_month")
        conn.execute("SELECT rebuild_cell_month()")
        differs = conn.execute(
            "SELECT count(*) FROM ((SELECT * FROM cube_before EXCEPT SELECT * FROM cell_month)"
            " UNION ALL (SELECT * FROM cell_month EXCEPT SELECT * FROM cube_before)) d"
        ).fetchone()[0]  # type: ignore[index]
        conn.rollback()  # the recount was only to compare
    return {
        "acknowledged": len(tally.acknowledged),
        "stored": sum(stored.values()),
        "unacknowledged_but_stored": len([k for k in stored if k not in tally.acknowledged]),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "audit_entries": chain.checked,
        "audit_chain_ok": chain.ok,
        "cube_rows_differing": int(differs),
    }


def run(
    sc: scratch.Scratch,
    writers: int = 4,
    seconds: float = 120,
    worker_kills: int = 30,
    db_kills: int = 5,
    workers: int = 2,
) -> dict[str, Any]:
    """One drill on ``sc``; the figures."""
    account = sc.make_account("practitioner")
    with served(sc, workers) as (base, proc):
        first = scratch.sign_in(base, account, USER_AGENT)
        sessions = []
        for _ in range(writers):  # one signed-in session, a client per writer
            import requests

            s = requests.Session()
            s.headers.update(first.headers)
            s.cookies.update(first.cookies)
            sessions.append(s)
        tally, done, kills = Tally(), threading.Event(), []
        started = time.monotonic()
        stop_at = started + seconds
        threads = [
            threading.Thread(target=_writer, args=(base, s, 10**9, tally, stop_at, i))
            for i, s in enumerate(sessions)
        ]
        faults = threading.Thread(
            target=_faults, args=(sc, proc, seconds, worker_kills, db_kills, done, kills)
        )
        for t in [*threads, faults]:
            t.start()
        for t in threads:
            t.join()
        done.set()
        faults.join()
        took = time.monotonic() - started
    figures = check(sc, tally)
    figures.update(
        {
            "writers": writers,
            "seconds": round(took, 1),
            "worker_kills": kills.count("worker"),
            "postmaster_kills": kills.count("postmaster"),
            "attempts": tally.attempts,
            "retries": tally.retries,
            "replays": tally.replays,
            "answers": dict(sorted(tally.statuses.items())),
            "writer_errors": tally.errors + [k for k in kills if k.startswith("fault")],
        }
    )
    return figures


def passed(figures: dict[str, Any]) -> bool:
    return (
        not figures["writer_errors"]
        and "500" not in figures["answers"]
        and figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["audit_chain_ok"]
        and figures["cube_rows_differing"] == 0
    )


def _record(figures: dict[str, Any]) -> None:
    begin, end = "<!-- drill:begin -->", "<!-- drill:end -->"
    section = (
        f"{begin}\n## Fault drill (`make drill`)\n\n"
        f"{figures['writers']} writers with idempotency keys for {figures['seconds']} s under "
        f"{figures['worker_kills']} `kill -9`s of gunicorn workers and "
        f"{figures['postmaster_kills']} of the PostgreSQL postmaster (each restarted: crash "
        "recovery), on a scratch cluster, on this machine:\n\n"
        "| figure | value |\n|---|---|\n"
        + "".join(f"| {k} | {v} |\n" for k, v in figures.items())
        + f"\nResult: {'PASS' if passed(figures) else 'FAIL'} (0 lost, 0 duplicated, audit "
        "chain intact, cube = recount).\n"
        f"{end}\n"
    )
    replace_section(RESULTS, begin, end, section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--worker-kills", type=int, default=30)
    parser.add_argument("--db-kills", type=int, default=5)
    args = parser.parse_args(argv)
    from webmap.config import load_settings

    sc = scratch.create(load_settings(), "drill")
    try:
        figures = run(sc, args.writers, args.seconds, args.worker_kills, args.db_kills)
    finally:
        sc.remove()
    print(json.dumps(figures, indent=2))
    _record(figures)
    return 0 if passed(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
