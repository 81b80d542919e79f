"""csmap web application: ``create_app`` builds it; blueprints register one area each."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from webmap.config import REPO_ROOT, Settings, load_settings


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Application factory.

    ``config`` overrides settings read from ``CSMAP_*`` environment variables (keys are the
    setting names without the prefix, e.g. ``{"mode": "test"}``), or is a complete
    :class:`~webmap.config.Settings`.
    """
    settings = config if isinstance(config, Settings) else load_settings(overrides=config)
    app = Flask(
        __name__,
        static_folder=str(REPO_ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret("secret_key"),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.mode == "production",
        # __Host- cookies must be Secure, host-only and path=/ (production is served on HTTPS).
        SESSION_COOKIE_NAME="__Host-csmap" if settings.mode == "production" else "csmap",
        JSON_SORT_KEYS=False,
    )
    app.extensions["csmap.settings"] = settings
    if settings.proxy_count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust exactly this many proxies: the client address (for log-in limits) and the
        # scheme (for HSTS and secure cookies) come from their headers, no further.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    logging.getLogger("webmap").setLevel(settings.log_level)

    from webmap.access import routes as auth
    from webmap.access import session as auth_session
    from webmap.access import token_pages
    from webmap.features.admin import pages as admin
    from webmap.features.layers import api as layers
    from webmap.features.layers import pages as panel
    from webmap.features.meetings import api as meetings_api
    from webmap.features.meetings import pages as meetings
    from webmap.features.ogc import api as ogc
    from webmap.features.packs import link as pack_link
    from webmap.features.packs import pages as packs
    from webmap.features.recording import api as records
    from webmap.features.recording import pages as recording
    from webmap.features.reference import api, pages
    from webmap.features.sharing import api as shares_api
    from webmap.features.sharing import link as share_link
    from webmap.features.sharing import pages as shares
    from webmap.infra import db, reads
    from webmap.web import (
        errors,
        health,
        hygiene,
        metrics,
        request_log,
        security,
        statement,
        wording,
    )

    db.init_app(app, settings)
    reads.init_app(app, settings)  # one-statement reads; a standby's read-only sessions
    request_log.init_app(app)  # first: its clock starts before, and its line ends after, all else
    errors.init_app(app)
    auth_session.init_tokens(app)  # before CSRF: see its docstring
    security.init_app(app)
    hygiene.init_app(app)  # after the body limit and CSRF, before any view reads input
    metrics.init_app(app)  # /metrics, and each answer counted by route pattern
    auth_session.init_app(app)
    for blueprint in (
        health.bp,
        auth.bp,
        pages.bp,
        api.bp,
        records.bp,
        recording.bp,
        layers.bp,
        panel.bp,
        shares.bp,
        shares_api.bp,
        share_link.bp,
        packs.bp,
        pack_link.bp,
        admin.bp,
        ogc.bp,
        token_pages.bp,
        meetings.bp,
        meetings_api.bp,
        statement.bp,
    ):
        app.register_blueprint(blueprint)
    app.context_processor(admin.nav_context)
    app.add_template_filter(wording.long_date)  # one date style on every page
    app.add_template_filter(wording.long_datetime)
    app.context_processor(meetings.nav_context)
    return app
