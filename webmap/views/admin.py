"""Administration: users (agency admins, their own agency; system admins, all), agencies,
panels, boundary sets, and the audit trail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for
from flask_login import current_user

from webmap.policy import can

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: (endpoint, label, resource, action): shown in the header to roles the policy allows.
NAV = (
    ("admin.users", "Users", "user", "read"),
    ("admin.agencies", "Agencies", "agency", "manage"),
    ("admin.panels", "Panels", "panel", "manage"),
    ("admin.boundary_sets", "Boundary sets", "boundary_set", "manage"),
    ("admin.audit", "Audit", "audit", "read"),
)


def nav_context() -> dict[str, Any]:
    def admin_nav() -> list[dict[str, str]]:
        if not current_user.is_authenticated:
            return []
        return [
            {"endpoint": e, "label": label, "url": url_for(e)}
            for e, label, resource, action in NAV
            if can(current_user.role, resource, action, "own") and e in _endpoints()
        ]

    return {"admin_nav": admin_nav}


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)
