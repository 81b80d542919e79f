"""The MACE panel page: where harm concentrates, month by month, and what changed.

Both pages are HTML shells. Their script (``static/js/pages/panel.js``) reads the trend layers
through the JSON API under ``/api/v1/layers`` — so every read is checked and audited in one
place — and draws them on the light base map. ``/panel/print`` is the same data laid out for
the meeting pack (A4 landscape), without the controls.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from webmap.access.policy import can, permission
from webmap.features.reference import queries as reference
from webmap.infra.db import get_session, unit_of_work

bp = Blueprint("panel", __name__)

#: The cell resolution the panel shows (about 0.74 km² per cell).
RESOLUTION = 8
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CATEGORY = re.compile(r"^[\w.-]{1,64}$")


def _urls() -> dict[str, str]:
    """Addresses the script needs, written into data-* attributes (never into inline JS)."""
    return {
        "basemap": url_for("api.basemap"),
        "sets": url_for("api.boundary_sets"),
        # The script replaces __slug__ (a plain URL segment).
        "set_areas": url_for("api.boundary_set_areas", slug="__slug__"),
        "categories": url_for("records.categories"),
        "series": url_for("layers.series"),
        "counts": url_for("layers.counts"),
        "change": url_for("layers.change"),
        "emerging": url_for("layers.emerging"),
        "areas": url_for("layers.areas", slug="__slug__"),
        "top_contexts": url_for("layers.top_contexts"),
        "panel": url_for("panel.panel"),
        "print": url_for("panel.print_view"),
    }


def _choices() -> dict[str, str]:
    """The month, meeting month and category asked for in the address (checked here only
    for shape; the API checks them again and the script falls back to the defaults)."""
    out = {}
    for name in ("month", "meeting"):
        value = request.args.get(name, "")
        out[name] = value if _MONTH.match(value) else ""
    category = request.args.get("category", "")
    out["category"] = category if _CATEGORY.match(category) else ""
    return out


def today() -> date:
    """The server's calendar day: the panel opens on the last month that has ended by it and
    marks the month in progress. (One seam, so browser tests can fix the day.)"""
    return date.today()


def _current_month() -> str:
    """The month in progress, ``YYYY-MM``: the script marks it "in progress — incomplete" and
    compares complete months only."""
    return today().strftime("%Y-%m")


def _shared() -> dict[str, Any] | None:
    """What the page needs to show partners' shared layers by two boundary sets, if the
    user's role may read shared layers."""
    if not can(current_user.role, "shared_layer", "read", "shared_with"):
        return None
    sets = reference.current_boundary_sets(get_session())
    return {
        "shares_url": url_for("shares_api.list_shares"),
        "layer_url": url_for("shares_api.layer", share_id="__id__"),
        "areas_url": url_for("shares_api.areas", share_id="__id__", slug="__slug__"),
        "boundary_sets": [tuple(row) for row in sets],
    }


@bp.get("/panel")
@permission("layer", "read")
@unit_of_work
def panel(scope: frozenset[str]) -> str:
    """The panel page: a month slider over the trend layers, the legend and what changed; and
    partners' shared layers summed by two boundary sets side by side."""
    return render_template(
        "panel/panel.html",
        urls=_urls(),
        res=RESOLUTION,
        choices=_choices(),
        current_month=_current_month(),
        mode="panel",
        shared=_shared(),
    )


@bp.get("/panel/print")
@permission("layer", "read")
@unit_of_work
def print_view(scope: frozenset[str]) -> str:
    """The meeting pack: the map at one month, its legend, what changed, the top contexts."""
    return render_template(
        "panel/print.html",
        urls=_urls(),
        res=RESOLUTION,
        choices=_choices(),
        current_month=_current_month(),
        mode="print",
        agency_name=current_user.agency_name,
        prepared=today(),
    )
