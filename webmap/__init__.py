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
        JSON_SORT_KEYS=False,
    )
    app.extensions["csmap.settings"] = settings
    logging.getLogger("webmap").setLevel(settings.log_level)

    from webmap import db, errors, security
    from webmap.views import api, health, pages

    db.init_app(app, settings)
    errors.init_app(app)
    security.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    return app


def get_settings() -> Settings:
    from flask import current_app

    settings: Settings = current_app.extensions["csmap.settings"]
    return settings
