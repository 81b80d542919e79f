"""The audit trail page: filters, one page of entries, and the audit of reading it.

Row-level security does the scoping (an agency admin sees entries by their agency's users or
about their agency's records; a system admin sees all). Reading the page is itself audited as
``audit.read`` with the NAMES of the filters used and the page number — never their values.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.access.policy import OWN
from webmap.infra import audit
from webmap.infra.errors import Invalid
from webmap.infra.values import parse_uuid, utc_minute

PER_PAGE: Final = 50
MAX_PAGE: Final = 100_000
#: Filter names, in the order they appear on the page (also the query-string names).
FILTERS: Final = ("user", "action", "from", "to", "object")
_ACTION = re.compile(r"^[a-z0-9_.]{1,64}$")


@dataclass(frozen=True)
class AuditQuery:
    user_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    object_id: str | None = None
    page: int = 1
    used: tuple[str, ...] = ()
    #: The raw values, to fill the form and build the previous/next links.
    raw: dict[str, str] = field(default_factory=dict)


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_query(args: Mapping[str, str]) -> AuditQuery:
    """Read the filters from the query string; Invalid names each bad one."""
    raw = {name: (args.get(name) or "").strip() for name in FILTERS}
    problems: dict[str, str] = {}
    user_id = parse_uuid(raw["user"]) if raw["user"] else None
    if raw["user"] and user_id is None:
        problems["user"] = "Choose a user from the list."
    if raw["action"] and not _ACTION.match(raw["action"]):
        problems["action"] = "Choose an action from the list."
    since = _date(raw["from"]) if raw["from"] else None
    if raw["from"] and since is None:
        problems["from"] = "Enter a date as YYYY-MM-DD."
    until = _date(raw["to"]) if raw["to"] else None
    if raw["to"] and until is None:
        problems["to"] = "Enter a date as YYYY-MM-DD."
    if since and until and until < since:
        problems["to"] = "The end date must not be before the start date."
    object_id = parse_uuid(raw["object"]) if raw["object"] else None
    if raw["object"] and object_id is None:
        problems["object"] = "Enter a whole object id (a UUID)."
    page_raw = (args.get("page") or "1").strip()
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= MAX_PAGE:
        problems["page"] = "That page does not exist."
    if problems:
        raise Invalid.of(problems)
    return AuditQuery(
        user_id=user_id,
        action=raw["action"] or None,
        since=datetime.combine(since, time.min, UTC) if since else None,
        before=datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None,
        object_id=str(object_id) if object_id else None,
        page=int(page_raw),
        used=tuple(name for name in FILTERS if raw[name]),
        raw={name: value for name, value in raw.items() if value},
    )


def filter_options(session: Session) -> dict[str, Any]:
    """Users and actions the signed-in admin may filter by (RLS limits both)."""
    users = session.execute(
        text(
            "SELECT u.id::text AS id, u.display_name, a.name AS agency_name"
            " FROM app_user u JOIN agency a ON a.id = u.agency_id"
            " ORDER BY lower(u.display_name), a.name, u.id"
        )
    ).mappings()
    actions = session.execute(text("SELECT DISTINCT action FROM audit_log ORDER BY action"))
    return {
        "users_options": [(u["id"], f"{u['display_name']} ({u['agency_name']})") for u in users],
        "action_options": [(a, a) for a in actions.scalars()],
    }


_PAGE = """
SELECT l.id, l.at, l.action, l.object_type, l.object_ids, l.justification, l.request_id,
       u.display_name AS user_name, a.name AS agency_name
FROM audit_log l
LEFT JOIN app_user u ON u.id = l.user_id
LEFT JOIN agency a ON a.id = l.agency_id
WHERE (CAST(:user_id AS uuid) IS NULL OR l.user_id = CAST(:user_id AS uuid))
  AND (CAST(:action AS text) IS NULL OR l.action = CAST(:action AS text))
  AND (CAST(:since AS timestamptz) IS NULL OR l.at >= CAST(:since AS timestamptz))
  AND (CAST(:before AS timestamptz) IS NULL OR l.at < CAST(:before AS timestamptz))
  AND (CAST(:object_id AS text) IS NULL OR CAST(:object_id AS text) = ANY(l.object_ids))
ORDER BY l.id DESC
LIMIT :limit OFFSET :offset
"""


def _short(object_id: str) -> str:
    return object_id[:8] + "…" if len(object_id) > 9 else object_id


def _entry(row: RowMapping) -> dict[str, Any]:
    ids = list(row["object_ids"])
    return {
        "id": row["id"],
        "at": utc_minute(row["at"]),
        "at_iso": row["at"].astimezone(UTC).isoformat(),
        "user_name": row["user_name"] or "—",
        "agency_name": row["agency_name"] or "—",
        "action": row["action"],
        "object_type": row["object_type"] or "",
        "object_ids": [_short(i) for i in ids[:2]],
        "object_ids_more": max(len(ids) - 2, 0),
        "object_ids_full": " ".join(ids),
        "justification": row["justification"] or "",
        "request_id": row["request_id"] or "",
    }


def read_page(
    session: Session, user: Actor, scope: frozenset[str], query: AuditQuery
) -> dict[str, Any]:
    """One page of entries, newest first; audited as ``audit.read`` after the read, so the
    entry for this very read is not on the page it describes."""
    rows = (
        session.execute(
            text(_PAGE),
            {
                "user_id": query.user_id,
                "action": query.action,
                "since": query.since,
                "before": query.before,
                "object_id": query.object_id,
                "limit": PER_PAGE + 1,
                "offset": (query.page - 1) * PER_PAGE,
            },
        )
        .mappings()
        .all()
    )
    entries = [_entry(r) for r in rows[:PER_PAGE]]
    audit.record(
        session,
        "audit.read",
        object_type="audit_log",
        object_ids=[str(e["id"]) for e in entries],
        subject_agency_id=user.agency_id if scope <= OWN else None,
        details={"filters": list(query.used), "page": query.page, "count": len(entries)},
    )
    return {
        "entries": entries,
        "page": query.page,
        "has_previous": query.page > 1,
        "has_next": len(rows) > PER_PAGE,
    }
