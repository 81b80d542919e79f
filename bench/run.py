"""csmap benchmark suite: ``python -m bench.run [--quick] [--keep]`` (``make bench``).

1. Re-creates the scratch database ``csmap_bench`` on the private cluster, migrates it, loads
   the demo town (1,000,000 observations over 24 months; 50,000 with ``--quick``).
2. Times the full rebuild of ``cell_month`` against a bare scan and its own GROUP BY (and
   into an empty cube, and a fresh table swapped in), the cube trigger's cost on a bulk
   insert; one filtered layer request over HTTP and its server time; vector tiles at z12 and
   z14 from our app (gthread and sync workers; cached and uncached) and from tipg on the same
   data; a naive geopandas + h3 baseline; the panel page in headless Chromium.
3. Prints a table and writes bench/RESULTS.md (``--quick``: bench/RESULTS-quick.md) and the
   raw numbers beside it as JSON.
4. Stops every server it started and drops ``csmap_bench`` (unless ``--keep``), also on
   failure or Ctrl-C.

All HTTP goes to 127.0.0.1; every request loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import database, notes, report
from bench.common import loadavg, say
from bench.servers import Server

HERE = Path(__file__).resolve().parent
#: gunicorn worker classes measured; the first is what `csmap serve` runs (webmap/cli/serve.py).
WORKER_CLASSES = ("gthread", "sync")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 50,000 rows, 1 repeat")
    p.add_argument("--keep", action="store_true", help="keep the csmap_bench database")
    p.add_argument("--size", type=int, help="observations to load (default 1,000,000)")
    p.add_argument("--repeats", type=int, help="repeats of each heavy measurement (default 7)")
    p.add_argument("--threads", type=int, default=4, help="client threads for tiles (2–4)")
    p.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    p.add_argument("--no-tipg", action="store_true", help="skip the tipg comparison")
    p.add_argument("--out", type=Path, help="Markdown file to write")
    p.add_argument("--render", type=Path, help="only re-render Markdown from a results JSON")
    args = p.parse_args(argv)
    args.size = args.size or (50_000 if args.quick else 1_000_000)
    args.repeats = args.repeats or (1 if args.quick else 7)
    args.threads = min(max(args.threads, 2), 4)
    args.out = args.out or HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    return args


def code_version() -> str:
    """The commit measured, and whether the tree had other uncommitted changes."""

    def git(*a: str) -> str:
        proc = subprocess.run(
            ["git", *a], cwd=HERE.parent, capture_output=True, text=True, check=False
        )
        return proc.stdout.strip()

    head = git("log", "-1", "--format=%h %cs %s")[:90] or "unknown (not a git checkout?)"
    dirty = [ln for ln in git("status", "--porcelain").splitlines() if " bench/" not in ln]
    return head + (f" (+ {len(dirty)} uncommitted paths outside bench/)" if dirty else "")


def _phase(results: dict[str, Any], key: str, fn: Callable[[], Any]) -> Any:
    """Run one measurement; a failure is reported in the results, not fatal to the others."""
    try:
        value = fn()
    except Exception as exc:
        say(f"{key} FAILED: {exc}")
        results.setdefault("errors", {})[key] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
        return None
    results[key] = value
    return value


def measure(
    args: argparse.Namespace, results: dict[str, Any], servers: list[Server], logdir: Path
) -> None:
    from bench import baseline, browser, cube, tiles, web
    from bench import servers as srv
    from webmap.config import load_settings

    settings = load_settings(overrides={"mode": "demo"})
    cheap = 3 if args.quick else 30  # repeats of the cheap measurements (layer requests)
    results["loadavg"] = {"start": loadavg()}
    results["code"] = code_version()
    results["load"] = database.create_and_load(settings, args.size)
    results["machine"] = database.machine(settings)
    agency, month = database.police_and_month(settings)
    results["month"] = month.strftime("%Y-%m")
    _phase(results, "sql", lambda: cube.cube_timings(settings, args.repeats))
    if not args.no_tipg:
        _phase(results, "tipg_views", lambda: database.create_tipg_views(settings, agency, month))
    apps: dict[str, int] = {}
    for worker_class in WORKER_CLASSES:  # the first is the one `csmap serve` runs
        say(f"starting gunicorn (our app), {worker_class} workers")
        server = srv.start_app(settings, logdir, worker_class)
        servers.append(server)
        apps[worker_class] = server.port
    app = servers[0]
    user = srv.create_user(settings)
    cookies = {k: srv.sign_in(port, user) for k, port in apps.items()}
    cookie = cookies[WORKER_CLASSES[0]]

    tipg_port = None
    if not args.no_tipg and "tipg_views" in results:
        say("starting tipg (uvicorn)")
        t = _phase(results, "tipg_server", lambda: srv.start_tipg(settings, logdir))
        if t is not None:
            servers.append(t)
            tipg_port = t.port
            results["tipg_server"] = {"port": t.port}
    time.sleep(3)  # let every worker of every server finish starting before measuring

    def layer() -> dict[str, Any]:
        say(f"counts layer over HTTP x{cheap}, then its server time")
        out = web.layer_http(app.port, cookie, month, cheap)
        out["server"] = web.layer_server_time(settings, user, month, cheap)
        return out

    lay = _phase(results, "layer", layer)
    results["loadavg"]["before tiles"] = loadavg()
    say("tiles at z12 and z14: " + ", ".join(apps) + (", tipg" if tipg_port else ""))
    _phase(
        results,
        "tiles",
        lambda: tiles.tiles_bench(
            apps,
            cookies,
            tipg_port,
            month,
            rounds=args.repeats,
            threads=args.threads,
            min_requests=40 if args.quick else 200,
        ),
    )
    _phase(results, "tile_sql", lambda: tiles.tile_sql_time(settings, user, month))
    for s in servers[1:]:  # the other servers are done: give the browser run the CPU
        s.stop()
    counts = lay["counts"] if lay else None
    _phase(
        results,
        "naive",
        lambda: baseline.naive(
            settings, agency, month, counts, args.repeats, 1 if args.quick else 3
        ),
    )
    if not args.no_browser:
        say(f"panel page in headless Chromium x{args.repeats} (+1 warm-up)")
        _phase(results, "browser", lambda: browser.page_ready(app.port, cookie, user, args.repeats))
    if lay:
        lay.pop("counts", None)


def _trim(obj: Any) -> Any:
    """Raw samples are kept in the JSON only for the small series (≤ 50 samples)."""
    if isinstance(obj, dict):
        return {
            k: _trim(v)
            for k, v in obj.items()
            if not (k == "samples_ms" and isinstance(v, list) and len(v) > 50)
        }
    return obj


def write(args: argparse.Namespace, results: dict[str, Any]) -> None:
    results = _trim(results)
    text = report.markdown(results, notes.target_notes(results), notes.METHOD)
    # The sections other commands write (`make drill`, `make bench-load`, `make
    # bench-national`, each between its own markers) stay as they were.
    previous = args.out.read_text() if args.out.exists() else ""
    sections = [
        m.group(0)
        for m in re.finditer(r"<!-- (\w+):begin -->.*?<!-- \1:end -->", previous, flags=re.S)
    ]
    args.out.write_text(text + "".join("\n" + section + "\n" for section in sections))
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    print(report.console(results))
    print()
    print("\n".join(report.ratios(results)))
    print(f"\nwrote {args.out} and {args.out.with_suffix('.json').name}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        write(args, json.loads(args.render.read_text()))
        return 0

    def on_term(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # so `finally` runs on kill too
    results: dict[str, Any] = {"quick": args.quick, "args": vars(args) | {"out": str(args.out)}}
    servers: list[Server] = []
    started = time.monotonic()
    status = 0
    logdir = Path(tempfile.mkdtemp(prefix="csmap-bench-"))
    try:
        measure(args, results, servers, logdir)
    except KeyboardInterrupt:
        say("interrupted")
        status = 130
    except Exception as exc:
        say(f"benchmark failed: {type(exc).__name__}: {exc}")
        traceback.print_exc(file=sys.stderr)
        results.setdefault("errors", {})["run"] = f"{type(exc).__name__}: {exc}"
        status = 1
    finally:
        for s in reversed(servers):
            s.stop()
        if not args.keep:
            try:
                from webmap.config import load_settings

                database.drop(load_settings(overrides={"mode": "demo"}))
                say(f"dropped {database.BENCH_DB}")
            except Exception as exc:
                say(f"could not drop {database.BENCH_DB}: {exc}")
    if status == 0 and not results.get("errors"):
        shutil.rmtree(logdir, ignore_errors=True)
    else:
        say(f"server logs kept in {logdir}")
    results.setdefault("loadavg", {})["end"] = loadavg()
    results["wall_s"] = round(time.monotonic() - started, 1)
    if "load" in results:
        write(args, results)
    say(f"done in {results['wall_s']:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
