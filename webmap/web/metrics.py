"""/metrics: Prometheus metrics for an operator (see webmap/infra/telemetry.py for what is
counted), and the per-request counting of latency and status by route pattern.

Who may read them: a request from this machine's loopback address that no proxy forwarded,
or one that sends ``Authorization: Bearer <CSMAP_METRICS_TOKEN>``. Anyone else gets the 404
of a path that does not exist. Labels are bounded: the route pattern (``<unmatched>`` for any
path no route takes), a known method or ``other``, and the status.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from webmap.infra import telemetry
from webmap.infra.db import unit_of_work
from webmap.infra.errors import NotFound
from webmap.web.context import get_settings
from webmap.web.request_log import route_pattern

bp = Blueprint("metrics", __name__)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SIGN_IN = frozenset({"auth.login", "auth.second_factor"})


def _from_loopback() -> bool:
    if request.headers.get("X-Forwarded-For"):
        return False  # a proxy on this machine passed it on: it came from elsewhere
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _has_token() -> bool:
    token = get_settings().metrics_token
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@bp.get("/metrics")
@unit_of_work
def metrics() -> Response:
    """The metrics, in Prometheus's text format."""
    if not (_has_token() or _from_loopback()):
        raise NotFound()
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # under gunicorn: every worker's files
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    telemetry.watch_pool(app.extensions["csmap.engine"])

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(resp: Response) -> Response:
        method = request.method if request.method in METHODS else "other"
        route = route_pattern()
        took = time.perf_counter() - g.get("metrics_started", time.perf_counter())
        telemetry.REQUESTS.labels(method, route, str(resp.status_code)).inc()
        telemetry.LATENCY.labels(method, route).observe(took)
        if resp.status_code == 429 and request.endpoint in _SIGN_IN:
            telemetry.LOGIN_THROTTLED.inc()
        if resp.status_code == 503 and g.get("database_unavailable"):
            telemetry.DB_UNAVAILABLE.inc()
        return resp

    app.register_blueprint(bp)
