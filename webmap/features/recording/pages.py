"""Recording pages: put on the map what was seen, where and when; list and open records.

These are HTML shells only. The pages' scripts (``static/js/pages/record.js``,
``records.js``, ``record-detail.js`` and ``vehicle.js``) read and write the records through
the JSON API under ``/api/v1``, so every rule (validation, versions, audit of what is read)
is enforced in one place. The detail page only checks first that the record exists and is
within the user's scope (no content is read, so nothing is audited): otherwise it is a 404,
exactly like the API's.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from webmap.access.policy import permission, rule
from webmap.access.session import actor
from webmap.features.recording.queries import check_scope, home_bounds
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import DomainError

bp = Blueprint("recording", __name__)

#: Record kinds with a detail page, and the API collection each lives in.
KINDS = {"observation": "observations", "context": "contexts", "vehicle": "vehicles"}


def _api_root() -> str:
    return request.script_root + "/api/v1"


def _urls() -> dict[str, str]:
    """Addresses the scripts need, written into data-* attributes (never into inline JS)."""
    return {
        "api": _api_root(),
        "basemap": url_for("api.basemap"),
        # The scripts replace __kind__ and __id__; both are plain URL segments.
        "detail": url_for("recording.record_detail", kind="__kind__", record_id="__id__"),
        "record": url_for("recording.record"),
        "records": url_for("recording.records"),
    }


@bp.get("/record")
@permission("observation", "create")
@unit_of_work
def record(scope: frozenset[str]) -> str:
    # The map opens where the user last was (the script remembers), else over this extent.
    home = home_bounds(get_session(), current_user.agency_id)
    return render_template(
        "recording/record.html", urls=_urls(), home=",".join(map(str, home)) if home else ""
    )


@bp.get("/records")
@permission("observation", "read")
@unit_of_work
def records(scope: frozenset[str]) -> str:
    return render_template("recording/records.html", urls=_urls())


@bp.get("/records/<kind>/<record_id>")
@permission("observation", "read")
@unit_of_work
def record_detail(kind: str, record_id: str, scope: frozenset[str]) -> str:
    if kind not in KINDS:
        abort(404)
    try:
        uuid.UUID(record_id)
        # Contexts and vehicles have their own read rules; observations' is the one the
        # decorator checked.
        allowed = (
            scope if kind == "observation" else rule(kind, "read").relations(current_user.role)
        )
        check_scope(get_session(), actor(), kind, record_id, allowed)
    except (ValueError, DomainError):
        abort(404)
    return render_template(
        # A vehicle has no place, shape or edit form: its page is its fields and its matches.
        "recording/vehicle_detail.html" if kind == "vehicle" else "recording/record_detail.html",
        urls=_urls(),
        kind=kind,
        record_id=record_id,
        record_url=f"{_api_root()}/{KINDS[kind]}/{record_id}",
    )
