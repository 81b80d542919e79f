"""Security headers on every response.

The Content-Security-Policy has no ``unsafe-inline`` or ``unsafe-eval``: every script and
style is a file under /static. Tiles from a configured ``CSMAP_TILE_URL`` host are the only
outside origin ever allowed, and only for images.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request
from flask_wtf.csrf import CSRFProtect

from webmap.config import Settings


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
    def _request_id() -> None:
        g.request_id = uuid.uuid4().hex

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
        if request.path.startswith("/api/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
