"""HTML pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from webmap import get_settings

bp = Blueprint("pages", __name__)


@bp.get("/")
def map_page() -> str:
    settings = get_settings()
    return render_template(
        "map.html",
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
    )
