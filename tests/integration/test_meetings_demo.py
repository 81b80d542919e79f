"""The demo's meetings, loaded into the test database in a transaction that is rolled back:
a MACE and an LDSM panel with two past meetings each, referrals from at least four kinds of
agency (VCSE and education among them), and actions in every state, overdue included — on a
fixed day after the demo's end month, so the test holds on any date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import DEMO_END_MONTH
from webmap.demo.meetings import MACE, NORTH, load_meetings
from webmap.features.meetings.lifecycle import action_state

#: Other tests hold meetings of their own panels in the same database: only the demo's count.
DEMO_PANELS = f"p.name IN ('{MACE}', '{NORTH}')"


def test_the_demo_has_every_part_of_the_loop(owner_session_factory: Any) -> None:
    today = DEMO_END_MONTH + timedelta(days=40)
    with owner_session_factory() as s:
        try:
            assert load_meetings(s, None, DEMO_END_MONTH, today=today) == 4
            assert load_meetings(s, None, DEMO_END_MONTH, today=today) == 0  # once only
            meetings = s.execute(
                text(
                    "SELECT p.kind::text, count(*), bool_and(m.status = 'closed'),"
                    " max(m.held_on) FROM meeting m JOIN panel p ON p.id = m.panel_id"
                    f" WHERE {DEMO_PANELS} GROUP BY p.id, p.kind"
                )
            ).all()
            assert sorted((k, n, closed) for k, n, closed, _ in meetings) == [
                ("ldsm", 2, True),
                ("mace", 2, True),
            ]
            assert all(last < today for *_, last in meetings)
            kinds = set(
                s.execute(
                    text(
                        "SELECT a.kind::text FROM referral r JOIN agency a ON a.id = r.agency_id"
                        f" JOIN panel p ON p.id = r.panel_id WHERE {DEMO_PANELS}"
                    )
                ).scalars()
            )
            assert {"vcse", "education"} <= kinds and len(kinds) >= 4
            states = {
                action_state(status, due, closed, today)
                for status, due, closed in s.execute(
                    text(
                        "SELECT status, due_on, closed_on FROM panel_action a"
                        f" JOIN panel p ON p.id = a.panel_id WHERE {DEMO_PANELS}"
                    )
                )
            }
            statuses = set(
                s.execute(
                    text(
                        "SELECT status FROM panel_action a JOIN panel p ON p.id = a.panel_id"
                        f" WHERE {DEMO_PANELS}"
                    )
                ).scalars()
            )
            assert statuses == {"open", "in_progress", "done", "cancelled"}
            assert "overdue" in states
            corrected = s.execute(
                text(
                    "SELECT count(*) FROM meeting_decision d JOIN meeting m ON m.id = d.meeting_id"
                    f" JOIN panel p ON p.id = m.panel_id WHERE d.corrects_id IS NOT NULL"
                    f" AND {DEMO_PANELS}"
                )
            ).scalar_one()
            assert corrected == 1
            areas = s.execute(text("SELECT count(DISTINCT panel_id) FROM panel_area")).scalar()
            assert areas and areas >= 3
        finally:
            s.rollback()
