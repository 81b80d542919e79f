"""Security headers on every response, and the audit of refused requests.

The Content-Security-Policy has no ``unsafe-inline`` or ``unsafe-eval``: every script and
style is a file under /static. Tiles from a configured ``CSMAP_TILE_URL`` host are the only
outside origin ever allowed, and only for images.

Nothing but the static files may be kept by a cache: every other answer says ``no-store``,
and for a signed-in user that overrides whatever the view set, except a tile's
``private, no-cache`` with its ETag (web/responder.revalidated): the browser keeps it and
revalidates it on every use, and no shared cache may keep it.

A 401, 403 or 404 on an object route (one with a URL variable, or under ``@permission``) is
audited with the route pattern and status, capped per actor and minute
(:func:`webmap.infra.audit.record_refusal`), so probing shows in the trail without flooding it.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from webmap.config import Settings
from webmap.infra import audit
from webmap.infra.db import get_session
from webmap.infra.values import keyed_hash
from webmap.web.responder import REVALIDATE

log = logging.getLogger("webmap.web.security")
REFUSED = frozenset({401, 403, 404})


def content_security_policy(settings: Settings) -> str:
    img = ["'self'", "data:"]
    if settings.tile_url:
        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        img.append(f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(img)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    settings: Settings = app.extensions["csmap.settings"]
    csp = content_security_policy(settings)
    # CSRF on every state-changing request, forms (csrf_token field) and JSON alike
    # (X-CSRFToken header, read by our scripts from <meta name="csrf-token">).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the session instead
    csrf.init_app(app)

    @app.before_request
    def _limit_body() -> None:
        # Refuse oversized bodies before any view reads them, whatever the route.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413)

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        if "request_id" in g:
            resp.headers["X-Request-Id"] = g.request_id
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
        if request.is_secure:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            if current_user.is_authenticated:
                cache_control = resp.headers.get("Cache-Control", "")
                if "no-store" not in cache_control and cache_control != REVALIDATE:
                    resp.headers["Cache-Control"] = "no-store"
            else:
                resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.after_request
    def _audit_refusal(resp: Response) -> Response:
        rule = request.url_rule
        if resp.status_code not in REFUSED or rule is None or request.endpoint == "static":
            return resp
        view = app.view_functions.get(request.endpoint or "")
        if not (rule.arguments or getattr(view, "csmap_permission", None)):
            return resp
        if current_user.is_authenticated:
            actor = f"user:{current_user.id}"
        else:  # a keyed hash: no client address is stored
            actor = "addr:" + keyed_hash(
                "client:" + (request.remote_addr or "unknown"), settings.secret("hmac_key")
            )
        db = get_session()
        try:
            db.rollback()  # whatever the refused request began is never committed with this
            audit.record_refusal(db, actor, rule.rule, resp.status_code)
        except Exception as exc:  # the refusal stands even if its audit entry cannot be written
            db.rollback()
            log.error("could not audit a refused request: %s", type(exc).__name__)
        return resp
