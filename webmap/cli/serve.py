"""`csmap serve`: the app under gunicorn."""

from __future__ import annotations

import os
import shutil
import sys

import click

from webmap.cli.common import settings as _settings

#: Threads per worker when gthread is asked for (`--threads 4`; the bench compares it).
THREADS = 4


def gunicorn_command(
    host: str, port: int, workers: int, worker_class: str = "sync", threads: int = 1
) -> list[str]:
    """The gunicorn command line `csmap serve` runs. No access log: a path can hold a signed
    link's token or forged CR/LF, so the app logs one line per request with the route
    *pattern* itself (webmap/request_log.py), and its logger class keeps paths out of
    gunicorn's error log too."""
    threaded = ["--threads", str(threads)] if worker_class == "gthread" else []
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        *threaded,
        "--logger-class",
        "webmap.web.request_log.GunicornLogger",
        "--config",
        "python:webmap.web.serving",
        "--error-logfile",
        "-",
        "webmap:create_app()",
    ]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    help="Threads per worker: above 1 runs gthread workers. Sync is the default: under load "
    "gthread reset kept-alive connections (bench/RESULTS.md, 'Load').",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with gunicorn (logs carry route patterns, never paths)."""
    settings = _settings()  # fail fast on bad configuration
    cmd = gunicorn_command(host, port, workers, "gthread" if threads > 1 else "sync", threads)
    # Metrics from every worker, added up at /metrics: a fresh directory per server.
    metrics_dir = settings.var_dir / "metrics" / str(port)
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    os.execv(sys.executable, cmd)  # noqa: S606 - replace this process with gunicorn
