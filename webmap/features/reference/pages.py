"""HTML pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from webmap.access.policy import can, permission
from webmap.infra.db import unit_of_work
from webmap.web.context import get_settings

bp = Blueprint("pages", __name__)


@bp.get("/")
@permission("map", "view")
@unit_of_work
def map_page(scope: frozenset[str]) -> str:
    from flask_login import current_user

    settings = get_settings()
    return render_template(
        "map.html",
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        show_contexts=can(current_user.role, "context", "read", "own"),
        show_shared=can(current_user.role, "shared_layer", "read", "shared_with"),
    )
