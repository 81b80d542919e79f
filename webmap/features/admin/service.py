"""Administration as plain functions over a Session: user accounts, agencies, panels and
boundary sets. (The audit trail page is in :mod:`webmap.features.admin.audit_page`.)

Row-level security already limits what each admin can see and change; the policy scope is
checked here as well, and anything outside it is answered exactly like something that does
not exist (``NotFound``, the same HTML 404 as a missing page). Every change is audited in the
same transaction. Bad input raises :class:`~webmap.infra.errors.Invalid` naming the field,
before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

from webmap.access import user_sessions
from webmap.access.actor import Actor
from webmap.access.policy import ANY, relation
from webmap.features.admin import users
from webmap.infra import audit
from webmap.infra.errors import Invalid, NotFound, Refused
from webmap.infra.values import form_text, parse_uuid, utc_minute
from webmap.models import USER_ROLES

#: "panel_chair" → "Panel chair", "system_admin" → "System admin", …
ROLE_LABELS: Final = {r: r.replace("_", " ").capitalize() for r in USER_ROLES}
PANEL_KINDS: Final = {"mace": "MACE", "ldsm": "LDSM"}


# -- agencies in scope ---------------------------------------------------------------------


def agencies_in_scope(session: Session, user: Actor, scope: frozenset[str]) -> list[dict[str, Any]]:
    """The agencies whose users this admin may see or manage, by name."""
    rows = session.execute(text("SELECT id, name FROM agency ORDER BY name")).mappings().all()
    if scope >= ANY:
        return [dict(r) for r in rows]
    return [dict(r) for r in rows if relation(session, user.agency_id, r["id"]) in scope]


def assignable_roles(user: Actor) -> tuple[str, ...]:
    """Roles this admin may give: never system_admin unless they are one."""
    if user.role == "system_admin":
        return USER_ROLES
    return tuple(r for r in USER_ROLES if r != "system_admin")


# -- users ---------------------------------------------------------------------------------

_USERS = """
SELECT u.id, u.display_name, u.email, u.role::text AS role, u.agency_id,
       a.name AS agency_name, u.is_active, u.totp_secret IS NOT NULL AS has_second_factor,
       u.last_login_at, u.created_at
FROM app_user u JOIN agency a ON a.id = u.agency_id
"""


def _user_view(row: RowMapping) -> dict[str, Any]:
    return {
        **{k: row[k] for k in ("display_name", "email", "role", "agency_name", "is_active")},
        "id": str(row["id"]),
        "agency_id": str(row["agency_id"]),
        "role_label": ROLE_LABELS.get(row["role"], row["role"]),
        "has_second_factor": row["has_second_factor"],
        "last_login": utc_minute(row["last_login_at"]),
        "created": utc_minute(row["created_at"]),
    }


def audit_admin(
    session: Session, action: str, ids: Sequence[Any], subject: Any = None, **details: Any
) -> None:
    """Audit an admin action (object type = the action's prefix) in the caller's transaction.
    Details carry counts and roles only: never an e-mail address, a password or a name."""
    kind = action.partition(".")[0]
    audit.record(
        session, action, object_type=kind, object_ids=ids, subject_agency_id=subject,
        details=details,
    )  # fmt: skip


def list_users(
    session: Session, user: Actor, scope: frozenset[str], agency_filter: str | None = None
) -> dict[str, Any]:
    """Users this admin may see (optionally one agency's), audited as ``user.list``."""
    agencies = agencies_in_scope(session, user, scope)
    allowed = [a["id"] for a in agencies]
    chosen: uuid.UUID | None = None
    if agency_filter:
        chosen = parse_uuid(agency_filter)
        if chosen is None or chosen not in allowed:
            raise Invalid.of({"agency": "Choose an agency from the list."})
    rows = (
        session.execute(
            text(
                _USERS + " WHERE u.agency_id = ANY(:allowed)"
                " AND (CAST(:chosen AS uuid) IS NULL OR u.agency_id = CAST(:chosen AS uuid))"
                " ORDER BY a.name, lower(u.display_name), u.id"
            ),
            {"allowed": allowed, "chosen": chosen},
        )
        .mappings()
        .all()
    )
    shown = [_user_view(r) for r in rows]
    subject = chosen or (user.agency_id if len(allowed) == 1 else None)
    filters = ["agency"] if chosen else []
    audit_admin(
        session, "user.list", [u["id"] for u in shown], subject, count=len(shown), filters=filters
    )
    return {"users": shown, "agencies": agencies, "agency_filter": str(chosen or "")}


def _target(session: Session, user: Actor, scope: frozenset[str], raw_id: str) -> dict[str, Any]:
    """A user in scope, or NotFound (unknown, malformed and out of scope look the same)."""
    user_id = parse_uuid(raw_id)
    if user_id is None:
        raise NotFound()
    row = session.execute(text(_USERS + " WHERE u.id = :id"), {"id": user_id}).mappings().first()
    if row is None or relation(session, user.agency_id, row["agency_id"]) not in scope:
        raise NotFound()
    return _user_view(row)


def may_change(user: Actor, target: Mapping[str, Any]) -> str | None:
    """Why this admin may not change ``target``'s account, or None."""
    if target["role"] == "system_admin" and user.role != "system_admin":
        return "Only a system admin can change a system admin's account."
    return None


def get_user(session: Session, user: Actor, scope: frozenset[str], raw_id: str) -> dict[str, Any]:
    target = _target(session, user, scope, raw_id)
    audit_admin(session, "user.read", [target["id"]], target["agency_id"])
    target["is_self"] = target["id"] == str(user.id)
    target["locked_reason"] = may_change(user, target)
    return target


def create_user(
    session: Session, user: Actor, scope: frozenset[str], form: Mapping[str, str]
) -> uuid.UUID:
    """Create an account from the form; audited as ``user.created`` (no e-mail, no password)."""
    problems: dict[str, str] = {}
    role = form_text(form, "role")
    if role not in assignable_roles(user):
        problems["role"] = "Choose a role from the list."
    allowed = [a["id"] for a in agencies_in_scope(session, user, scope)]
    # One agency in scope (an agency admin): that one. Otherwise the admin must choose.
    raw_agency = form_text(form, "agency_id") or (str(allowed[0]) if len(allowed) == 1 else "")
    agency_id = parse_uuid(raw_agency)
    if agency_id is None or agency_id not in allowed:
        problems["agency_id"] = "Choose an agency from the list."
    new = users.NewUser(
        agency_id=agency_id or user.agency_id,
        email=form_text(form, "email"),
        display_name=form_text(form, "display_name"),
        role=role if role in USER_ROLES else "practitioner",
        password=form.get("password") or "",
    )
    try:
        users.validate(new)
    except users.UserError as exc:
        problems = {**_user_messages(exc.fields), **problems}
    if problems:
        raise Invalid.of(problems)
    try:
        new_id = users.create_user(session, new)
    except users.UserError as exc:
        session.rollback()
        raise Invalid.of(_user_messages(exc.fields)) from None
    audit_admin(session, "user.created", [new_id], new.agency_id, role=new.role)
    return new_id


_USER_MESSAGES: Final = {
    "email": "Enter an e-mail address, like name@example.org.",
    "display_name": "Enter a name of 1 to 200 characters.",
    "role": "Choose a role from the list.",
}


def _user_messages(fields: Mapping[str, str]) -> dict[str, str]:
    """users.UserError says "is not an e-mail address"; the form wants whole sentences."""
    out = {k: _USER_MESSAGES.get(k, f"The password {v}.") for k, v in fields.items()}
    if "already" in fields.get("email", ""):
        out["email"] = "Another account already uses this e-mail address."
    return out


_CHANGES: Final = {
    "disable": ("user.disabled", "{name}'s account is disabled; their sessions have ended."),
    "enable": ("user.enabled", "{name}'s account is enabled again."),
    "reset_second_factor": (
        "user.second_factor_reset",
        "{name}'s second factor is reset; they will set it up again at their next sign-in.",
    ),
    "end_sessions": ("session.ended", "{name} is now signed out everywhere."),
}
_OWN_ACCOUNT: Final = {
    "disable": "You cannot disable your own account.",
    "reset_second_factor": "You cannot reset your own second factor here.",
    "end_sessions": "End your own sessions from Your sessions.",
}


def change_user(
    session: Session, user: Actor, scope: frozenset[str], raw_id: str, change: str
) -> str:
    """Disable, enable, reset the second factor of, or end every session of a user in scope;
    returns the message.

    Raises NotFound (out of scope or unknown) or Refused (e.g. disabling yourself)."""
    action, message = _CHANGES[change]
    target = _target(session, user, scope, raw_id)
    if target["id"] == str(user.id) and change in _OWN_ACCOUNT:
        raise Refused(_OWN_ACCOUNT[change])
    reason = may_change(user, target)
    if reason:
        raise Refused(reason)
    target_id = uuid.UUID(target["id"])
    if change == "end_sessions":
        ended = user_sessions.end(session, target_id, user_sessions.ENDED_BY_ADMIN)
        audit_admin(
            session, action, [target_id], target["agency_id"], count=len(ended), via="admin"
        )
        return message.format(name=target["display_name"])
    if change == "reset_second_factor":
        done = users.reset_second_factor(session, target_id)
    else:
        done = users.set_active(session, target_id, change == "enable")
    if not done:  # RLS refused the update: report it, never pretend
        session.rollback()
        raise Refused("That account could not be changed.")
    audit_admin(session, action, [target_id], target["agency_id"])
    return message.format(name=target["display_name"])
