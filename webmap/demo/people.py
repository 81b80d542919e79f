"""The demo's panels and people: log-ins for several agencies and roles.

Passwords are random per installation, kept in ``var/demo-logins.json`` (mode 0600) so that
``make demo`` can print them; in demo mode these users may skip the second factor.
E-mail addresses use the reserved ``.example`` domain, so none can reach a real mailbox.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.features.admin.users import NewUser, create_user

#: Panels and their member agencies (by demo agency key). The bus operator sits on none, so
#: it is "unrelated" to every other agency: the case access tests need.
PANELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Wrenmouth MACE", "mace", ("police", "social_care", "health", "education", "vcse")),
    ("LDSM North", "ldsm", ("police", "vcse", "education")),
    ("LDSM South", "ldsm", ("police", "social_care")),
)

#: (agency key, role, display name, e-mail local part)
PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    ("police", "practitioner", "PCSO Demo Practitioner", "pcso"),
    ("police", "analyst", "Police Demo Analyst", "analyst"),
    ("police", "panel_chair", "MACE Demo Chair", "mace.chair"),
    ("police", "agency_admin", "Police Demo Admin", "admin"),
    # Makes briefing packs for the bus operator; the police analyst or MACE chair approves.
    ("police", "trainer", "Police Demo Trainer", "trainer"),
    ("social_care", "practitioner", "Social Worker Demo", "social.worker"),
    ("social_care", "analyst", "Council Demo Analyst", "analyst"),
    ("social_care", "agency_admin", "Council Demo Admin", "admin"),
    ("social_care", "system_admin", "System Demo Admin", "sysadmin"),
    ("health", "practitioner", "Health Demo Practitioner", "nurse"),
    ("health", "analyst", "Health Demo Analyst", "analyst"),
    ("education", "practitioner", "School DSL Demo", "dsl"),
    # The school's and the youth service's leads refer their places to the panels (issue 14).
    ("education", "agency_admin", "Education Safeguarding Lead Demo", "safeguarding.lead"),
    ("vcse", "practitioner", "Youth Worker Demo", "youth.worker"),
    ("vcse", "agency_admin", "Youth Service Manager Demo", "manager"),
    ("vcse", "trainer", "Trainer Demo", "trainer"),
    ("bus", "trainer", "Bus Operator Demo Trainer", "trainer"),
)


def load_panels(session: Session) -> None:
    # Lead contacts use Ofcom's drama number range (01632 960xxx): never a real line.
    session.execute(
        text(
            "UPDATE agency SET lead_contact = name || ' exploitation lead, 01632 960' ||"
            " lpad((row_number)::text, 3, '0') FROM (SELECT id AS aid, row_number() OVER"
            " (ORDER BY slug) FROM agency) n WHERE agency.id = n.aid"
        )
    )
    agencies: dict[str, Any] = {
        slug: agency_id for slug, agency_id in session.execute(text("SELECT slug, id FROM agency"))
    }
    for name, kind, members in PANELS:
        panel_id = session.execute(
            text("INSERT INTO panel (name, kind) VALUES (:n, :k) RETURNING id"),
            {"n": name, "k": kind},
        ).scalar_one()
        for key in members:
            session.execute(
                text("INSERT INTO panel_member (panel_id, agency_id) VALUES (:p, :a)"),
                {"p": panel_id, "a": agencies[key]},
            )


def load_people(session: Session, logins_file: Path) -> list[dict[str, str]]:
    """Create the demo users with fresh random passwords; save and return the log-ins."""
    agencies = {
        slug: (agency_id, name)
        for slug, agency_id, name in session.execute(text("SELECT slug, id, name FROM agency"))
    }
    logins = []
    for key, role, name, local in PEOPLE:
        agency_id, agency_name = agencies[key]
        email = f"{local}@{key.replace('_', '-')}.wrenmouth.example"
        password = secrets.token_urlsafe(12)
        create_user(session, NewUser(agency_id, email, name, role, password))
        logins.append({"agency": agency_name, "role": role, "email": email, "password": password})
    logins_file.parent.mkdir(parents=True, exist_ok=True)
    logins_file.write_text(json.dumps(logins, indent=2))
    logins_file.chmod(0o600)
    return logins


def format_logins(logins: list[dict[str, Any]]) -> str:
    width = max(len(entry["email"]) for entry in logins)
    lines = ["Demo log-ins (second factor skipped in demo mode):", ""]
    for entry in logins:
        lines.append(
            f"  {entry['email']:<{width}}  {entry['password']}  "
            f"{entry['role'].replace('_', ' ')}, {entry['agency']}"
        )
    return "\n".join(lines)
