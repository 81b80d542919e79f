"""The running app's settings, for route modules (services are given what they need)."""

from __future__ import annotations

from flask import current_app

from webmap.config import Settings


def get_settings() -> Settings:
    """The settings the app was created with."""
    settings: Settings = current_app.extensions["csmap.settings"]
    return settings
