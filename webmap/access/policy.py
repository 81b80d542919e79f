"""The policy table: which role, in which relation to the owning agency, may do what.

This is the one place the app decides access. Views use :func:`permission` (401 → 403 →
inject the allowed relations); services check an object's relation with :func:`can` and answer
404 for anything outside scope, exactly as for something that does not exist. Row-level
security in PostgreSQL is the second guard; tests run the same role matrix over HTTP and over
SQL and require the two to agree.

Relations between a user's agency and the agency that owns an object:

- ``own``           the same agency;
- ``panel_partner`` both agencies sit on a MACE or LDSM panel together;
- ``shared_with``   the owner has shared with the user's agency (redacted tiers; issue 6);
- ``panel_member``  the object belongs to a panel the user's agency sits on (meetings,
                    referrals, actions; issue 14);
- ``unrelated``     none of these.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

from flask import abort
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.models import USER_ROLES
from webmap.web.responder import sign_in_required

RELATIONS: Final = ("own", "panel_partner", "shared_with", "panel_member", "unrelated")
ANY: Final = frozenset(RELATIONS)
OWN: Final = frozenset({"own"})
NONE: Final[frozenset[str]] = frozenset()

#: Roles that read their own agency's records at full detail (tier A).
READERS: Final = ("practitioner", "analyst", "panel_chair", "agency_admin")
#: Roles that record and change their own agency's records.
WRITERS: Final = ("practitioner", "analyst", "agency_admin")
#: Roles that make shares, and that approve (tier C, a second person) or revoke them.
SHARE_CREATORS: Final = ("analyst", "agency_admin")
SHARE_APPROVERS: Final = ("analyst", "panel_chair", "agency_admin")
SHARED: Final = frozenset({"own", "shared_with"})
#: Briefing packs: trainers and analysts make them; analysts and panel chairs approve them
#: (never their own); these roles read them, at the source agency and at the recipient.
PACK_MAKERS: Final = ("trainer", "analyst")
PACK_APPROVERS: Final = ("analyst", "panel_chair")
PACK_READERS: Final = ("trainer", "analyst", "panel_chair", "agency_admin")
#: Meetings, referrals and actions (issue 14): the readers of a panel's member agencies see
#: them; analysts, panel chairs and agency admins refer their agency's places.
MEMBER: Final = frozenset({"own", "panel_member"})
REFERRERS: Final = ("analyst", "panel_chair", "agency_admin")


@dataclass(frozen=True)
class Rule:
    """Who may do one action on one resource."""

    description: str
    roles: Mapping[str, frozenset[str]]
    #: Whether the user must give a reason, recorded in the audit entry.
    justify: bool = False
    audit: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def relations(self, role: str) -> frozenset[str]:
        return self.roles.get(role, NONE)


def _every_role(relations: frozenset[str]) -> dict[str, frozenset[str]]:
    return dict.fromkeys(USER_ROLES, relations)


POLICY: Final[dict[tuple[str, str], Rule]] = {
    ("map", "view"): Rule("See the map page", _every_role(ANY), audit=False),
    ("reference", "read"): Rule(
        "Read reference geography: base map, boundary sets, agency directory",
        _every_role(ANY),
        audit=False,
    ),
    ("observation", "read"): Rule("Read observations at full detail", dict.fromkeys(READERS, OWN)),
    ("context", "read"): Rule(
        "Read contexts at full detail", dict.fromkeys((*READERS, "trainer"), OWN)
    ),
    ("vehicle", "read"): Rule("Read vehicles of interest", dict.fromkeys(READERS, OWN)),
    ("observation", "create"): Rule(
        "Record observations and sightings", dict.fromkeys(WRITERS, OWN)
    ),
    ("observation", "update"): Rule("Change observations", dict.fromkeys(WRITERS, OWN)),
    ("observation", "delete"): Rule(
        "Delete observations (soft, with a reason)", dict.fromkeys(WRITERS, OWN)
    ),
    ("observation", "moderate"): Rule(
        "Redact text from notes and see the original", {"agency_admin": OWN}
    ),
    ("context", "create"): Rule("Record contexts", dict.fromkeys(WRITERS, OWN)),
    ("context", "update"): Rule("Change contexts", dict.fromkeys(WRITERS, OWN)),
    ("context", "delete"): Rule(
        "Delete contexts (soft, with a reason)", dict.fromkeys(WRITERS, OWN)
    ),
    ("vehicle", "create"): Rule("Record vehicles of interest", dict.fromkeys(WRITERS, OWN)),
    ("layer", "read"): Rule(
        "See trend layers, heatmaps and tiles of the agency's own records",
        dict.fromkeys(READERS, OWN),
    ),
    ("share", "read"): Rule(
        "See the terms of shares made by the agency or addressed to it",
        dict.fromkeys(READERS, SHARED),
        audit=False,
    ),
    ("share", "create"): Rule(
        "Share the agency's layers, redacted to tier B or C", dict.fromkeys(SHARE_CREATORS, OWN)
    ),
    ("share", "approve"): Rule(
        "Approve or reject a tier C share (never one's own), and give an external link",
        dict.fromkeys(SHARE_APPROVERS, OWN),
    ),
    ("share", "revoke"): Rule("Revoke a share", dict.fromkeys(SHARE_APPROVERS, OWN)),
    ("shared_layer", "read"): Rule(
        "See a share's redacted layers (recipients; the source agency as a preview)",
        dict.fromkeys(READERS, SHARED),
    ),
    ("shared_layer", "export"): Rule(
        "Export a share's redacted layers as GeoJSON, GeoPackage or CSV",
        dict.fromkeys(READERS, SHARED),
    ),
    ("pack", "read"): Rule(
        "See briefing packs, their preview and downloads (the source agency and recipients)",
        dict.fromkeys(PACK_READERS, SHARED),
    ),
    ("pack", "create"): Rule(
        "Make a briefing pack (a tier C share) for an operator, business or named recipient",
        dict.fromkeys(PACK_MAKERS, OWN),
    ),
    ("pack", "approve"): Rule(
        "Approve or reject a briefing pack (never one's own); approval builds and checks it",
        dict.fromkeys(PACK_APPROVERS, OWN),
    ),
    ("pack", "withdraw"): Rule(
        "Withdraw a briefing pack (revokes its share)", dict.fromkeys(PACK_READERS, OWN)
    ),
    ("pack_text", "edit"): Rule(
        "Edit the agency's default pack texts, per area", dict.fromkeys(PACK_MAKERS, OWN)
    ),
    ("meeting", "read"): Rule(
        "See a panel's meetings, agendas, decisions, places under review, actions and how the"
        " partnership is working (member agencies)",
        dict.fromkeys(READERS, MEMBER),
    ),
    ("meeting", "manage"): Rule(
        "Hold a panel's meeting as its chair: draft and edit the agenda, record attendance,"
        " decisions and actions, close it, correct it afterwards",
        {"panel_chair": frozenset({"panel_member"})},
    ),
    ("referral", "create"): Rule(
        "Refer one of the agency's places to a panel it sits on (a recorded disclosure)",
        dict.fromkeys(REFERRERS, OWN),
    ),
    ("referral", "stage"): Rule(
        "Move a place under review through its stages (the referring agency; a panel's chairs)",
        {**dict.fromkeys(REFERRERS, OWN), "panel_chair": MEMBER},
    ),
    ("action", "update"): Rule(
        "Post progress on an action and change its status (the owner agency; a panel's chairs)",
        {**dict.fromkeys(READERS, OWN), "panel_chair": MEMBER},
    ),
    ("token", "manage"): Rule(
        "Make, list and revoke one's own read-only access tokens for GIS clients (agency"
        " admins see and revoke their agency's)",
        _every_role(OWN),
    ),
    ("ogc", "read"): Rule(
        "Read the OGC API – Features: exactly the collections one may see on the map",
        _every_role(ANY),
        audit=False,
    ),
    ("session", "manage"): Rule(
        "See one's own signed-in sessions and end any of them (admins end other users' with"
        " `user.manage`)",
        _every_role(OWN),
        audit=False,
    ),
    ("user", "read"): Rule("See user accounts", {"agency_admin": OWN, "system_admin": ANY}),
    ("user", "manage"): Rule(
        "Create, change and disable user accounts", {"agency_admin": OWN, "system_admin": ANY}
    ),
    ("agency", "manage"): Rule("Create and change agencies", {"system_admin": ANY}),
    ("panel", "manage"): Rule("Create panels and set their members", {"system_admin": ANY}),
    ("boundary_set", "manage"): Rule("Manage boundary sets", {"system_admin": ANY}),
    ("audit", "read"): Rule(
        "Read the audit trail of an agency's records", {"agency_admin": OWN, "system_admin": ANY}
    ),
}


def rule(resource: str, action: str) -> Rule:
    return POLICY[(resource, action)]


def relation(session: Session, user_agency: uuid.UUID | str, owner_agency: uuid.UUID | str) -> str:
    """The relation of ``user_agency`` to ``owner_agency``."""
    if str(user_agency) == str(owner_agency):
        return "own"
    partner = session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM panel_member a JOIN panel_member b USING (panel_id)"
            " WHERE a.agency_id = :a AND b.agency_id = :b)"
        ),
        {"a": str(user_agency), "b": str(owner_agency)},
    ).scalar_one()
    return "panel_partner" if partner else "unrelated"


def can(role: str, resource: str, action: str, rel: str) -> bool:
    return rel in rule(resource, action).relations(role)


def actions(
    role: str, resource: str, rel: str, ruled_out: Mapping[str, str | None] | None = None
) -> frozenset[str]:
    """The one answer to "which buttons does this user see on this object?": the actions the
    policy table lets ``role`` take on ``resource`` in relation ``rel``, less those the
    object's own rules forbid now (``ruled_out``: action → why, or None if allowed; each
    service states its object's rules, e.g. a second person approves).

    >>> sorted(actions("analyst", "share", "own"))
    ['approve', 'create', 'read', 'revoke']
    >>> sorted(actions("analyst", "share", "own", {"approve": "you made it", "revoke": None}))
    ['create', 'read', 'revoke']
    >>> sorted(actions("practitioner", "share", "own"))
    ['read']
    """
    allowed = {a for (res, a), r in POLICY.items() if res == resource and rel in r.relations(role)}
    return frozenset(a for a in allowed if not (ruled_out or {}).get(a))


F = TypeVar("F", bound=Callable[..., Any])


def permission(resource: str, action: str) -> Callable[[F], F]:
    """View decorator: 401 if not signed in, 403 if the role may never do this, otherwise
    call the view with ``scope`` = the relations the user's role allows."""
    the_rule = rule(resource, action)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return sign_in_required()
            scope = the_rule.relations(current_user.role)
            if not scope:
                abort(403)
            return view(*args, scope=scope, **kwargs)

        wrapped.csmap_permission = (resource, action)  # type: ignore[attr-defined]
        wrapped.csmap_summary = the_rule.description  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorate
