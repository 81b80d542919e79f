"""Load as code (`make bench-load`): locust, headless, against a served demo.

A demo town (20,000 observations) is loaded into a database of its own on the private
cluster (``csmap_bench_load``, dropped afterwards); `csmap serve`'s gunicorn serves it in
demo mode under each worker configuration in :data:`CONFIGS`; locust (bench/locustfile.py)
runs 50 and then 200 simulated people against each for ``--seconds``, on the same 2 cores.
Recorded per configuration and load: p50/p95/p99 per kind of request, errors, requests per
second, and whether throughput had stopped growing (saturation). Into bench/RESULTS.md.

    python -m bench.load [--seconds 60] [--users 50,200]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DATABASE = "csmap_bench_load"
#: (name, gunicorn workers, threads per worker): threads > 1 runs gthread workers.
CONFIGS = [("sync x2", 2, 1), ("sync x4", 4, 1), ("gthread 2x4", 2, 4)]
KINDS = ("page", "layer", "tile", "list", "write")


def prepare(settings: Any, size: int = 20_000) -> tuple[str, list[dict[str, str]], str]:
    """The demo town in :data:`DATABASE`; (app URL, accounts to sign in with, latest month)."""
    import psycopg
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from spatial.demotown import generate_town
    from webmap.demo.load import load_town
    from webmap.demo.people import load_panels, load_people
    from webmap.demo.shares import load_standing_shares
    from webmap.features.admin.users import NewUser, create_user
    from webmap.infra import db
    from webmap.infra.cluster import Cluster

    cluster = Cluster(settings)
    roles = settings.local_cluster()["roles"]
    with cluster.superuser_connect() as conn:
        cluster.ensure_database(conn, DATABASE, roles, recreate=True)
    owner = settings.owner_url(DATABASE)
    db.upgrade(settings, "head", url=owner)
    today = date.today()
    end = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    town = generate_town(seed=1, size=size, end_month=end)
    with psycopg.connect(owner.replace("postgresql+psycopg://", "postgresql://")) as conn:
        load_town(conn, town, settings.secret("hmac_key"), service_area=settings.service_area)
    engine = create_engine(owner)
    accounts = []
    with Session(engine) as s, tempfile.TemporaryDirectory() as tmp:
        load_panels(s)
        load_people(s, Path(tmp) / "logins.json")
        load_standing_shares(s)
        police = s.execute(text("SELECT id FROM agency WHERE slug = 'police'")).scalar_one()
        for i in range(20):
            email = f"load{i}.{uuid.uuid4().hex[:6]}@police.wrenmouth.example"
            password = "load test password " + uuid.uuid4().hex[:8]
            create_user(s, NewUser(police, email, f"Load {i}", "analyst", password))
            accounts.append({"email": email, "password": password})
        s.commit()
    engine.dispose()
    return settings.app_url(DATABASE), accounts, end.strftime("%Y-%m")


def _number(text: str) -> float:
    """A locust figure; N/A (no request of that kind) as NaN."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _stats(prefix: Path) -> dict[str, Any]:
    with open(f"{prefix}_stats.csv") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, Any] = {}
    for row in rows:
        name = (
            row["Name"]
            if row["Name"] in KINDS
            else ("all" if row["Name"] == "Aggregated" else None)
        )
        if name is None:
            continue
        out[name] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": _number(row["50%"]),
            "p95_ms": _number(row["95%"]),
            "p99_ms": _number(row["99%"]),
            "rps": round(_number(row["Requests/s"]), 1),
        }
    return out


def _wait_until_up(port: int, seconds: float = 120) -> None:
    """Every worker booted: a few answers in a row, then a moment for the rest."""
    import requests

    deadline = time.monotonic() + seconds
    ok = 0
    while ok < 5:
        try:
            ok = ok + 1 if requests.get(f"http://127.0.0.1:{port}/login", timeout=5).ok else 0
        except requests.RequestException:
            ok = 0
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.5)
    time.sleep(3)


def sign_in_all(base: str, accounts: list[dict[str, str]]) -> list[dict[str, str]]:
    """A signed-in session for each account, for locust's people to share."""
    from types import SimpleNamespace

    from bench.scratch import sign_in

    agent = "csmap-load/1"
    sessions = []
    for account in accounts:
        s = sign_in(base, SimpleNamespace(totp_secret=None, **account), agent)
        sessions.append(
            {
                "cookie": s.cookies.get("csmap"),
                "csrf": s.headers["X-CSRFToken"],
                "user_agent": agent,
            }
        )
    return sessions


def run_config(
    name: str, workers: int, threads: int, app_url: str, accounts: list[dict[str, str]],
    month: str, users: list[int], seconds: int,
) -> dict[str, Any]:  # fmt: skip
    from bench.scratch import free_port
    from webmap.cli.serve import gunicorn_command

    port = free_port()
    env = {**os.environ, "CSMAP_MODE": "demo", "CSMAP_DATABASE_URL": app_url,
           "CSMAP_LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        gunicorn_command(
            "127.0.0.1", port, workers, "gthread" if threads > 1 else "sync", threads
        ), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict[str, Any] = {}
    try:
        _wait_until_up(port)
        sessions = sign_in_all(f"http://127.0.0.1:{port}", accounts)
        for n in users:
            with tempfile.TemporaryDirectory() as tmp:
                prefix = Path(tmp) / "run"
                sessions_file = Path(tmp) / "sessions.json"
                sessions_file.write_text(json.dumps(sessions))
                cmd = [
                    str(Path(sys.executable).parent / "locust"), "-f",
                    str(Path(__file__).with_name("locustfile.py")), "--headless",
                    "-u", str(n), "-r", str(max(5, n // 10)), "-t", f"{seconds}s",
                    "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
                    "--only-summary", "--loglevel", "WARNING",
                ]  # fmt: skip
                lenv = {**os.environ, "CSMAP_LOAD_SESSIONS": str(sessions_file),
                        "CSMAP_LOAD_MONTH": month}  # fmt: skip
                subprocess.run(cmd, env=lenv, capture_output=True, timeout=seconds + 120)
                results[str(n)] = _stats(prefix)
            print(f"[load] {name}, {n} users: {results[str(n)].get('all')}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def _table(all_results: dict[str, Any], users: list[int]) -> str:
    lines = [
        "| workers | users | kind | requests | errors | p50 ms | p95 ms | p99 ms | req/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config, by_users in all_results.items():
        for n in users:
            for kind in (*KINDS, "all"):
                s = by_users.get(str(n), {}).get(kind)
                if s:
                    lines.append(
                        f"| {config} | {n} | {kind} | {s['requests']} | {s['failures']} | "
                        f"{s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} | {s['rps']} |"
                    )
    return "\n".join(lines)


def saturation(by_users: dict[str, Any], users: list[int]) -> str:
    """Whether throughput stopped growing between the lightest and heaviest load."""
    low, high = (by_users.get(str(u), {}).get("all", {}) for u in (users[0], users[-1]))
    if not low or not high:
        return "?"
    growth = high["rps"] / max(low["rps"], 0.1)
    expected = users[-1] / users[0]
    state = "saturated" if growth < 0.6 * expected else "not saturated"
    return f"{state}: {low['rps']} → {high['rps']} req/s for {expected:.0f}× the people"


def record(all_results: dict[str, Any], users: list[int], seconds: int) -> None:
    from bench.common import loadavg, replace_section

    begin, end = "<!-- load:begin -->", "<!-- load:end -->"
    sat = "\n".join(f"- {c}: {saturation(r, users)}" for c, r in all_results.items())
    section = (
        f"{begin}\n## Load (`make bench-load`)\n\n"
        f"locust, headless, {', '.join(map(str, users))} simulated people (think time 0.5–2 s) "
        f"for {seconds} s each against `csmap serve` (demo mode, 20,000 observations), client "
        f"and server on the same 2 cores (load average before: {loadavg()}). People are signed in "
        "beforehand (20 sessions shared among them). The mix: pages "
        "3, trend layers 4, z12 tiles 6, record lists 3, writes (with an Idempotency-Key) 1.\n\n"
        f"{_table(all_results, users)}\n\nSaturation:\n\n{sat}\n{end}\n"
    )
    replace_section(RESULTS, begin, end, section)
    (RESULTS.parent / "load.json").write_text(json.dumps(all_results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", default="50,200")
    args = parser.parse_args(argv)
    users = [int(u) for u in args.users.split(",")]
    from webmap.config import load_settings
    from webmap.infra.cluster import Cluster

    settings = load_settings()
    app_url, accounts, month = prepare(settings)
    all_results: dict[str, Any] = {}
    try:
        for name, workers, threads in CONFIGS:
            all_results[name] = run_config(
                name, workers, threads, app_url, accounts, month, users, args.seconds
            )
    finally:
        from psycopg import sql

        with Cluster(settings).superuser_connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
            )
    record(all_results, users, args.seconds)
    print(json.dumps(all_results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
