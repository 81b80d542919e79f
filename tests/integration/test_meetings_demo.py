"""The demo's meetings, loaded into the test database in a transaction that is rolled back:
a MACE and an LDSM panel with two past meetings each, referrals from at least four kinds of
agency (VCSE and education among them), and actions in every state, overdue included — on a
fixed day after the demo's end month, so the test holds on any date. Meetings other tests made
are set aside in the same transaction first, so the test holds in any order too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import DEMO_END_MONTH
from webmap.demo.meetings import load_meetings
from webmap.features.meetings.lifecycle import action_state

#: The meeting loop's records, children first: deleted in the rolled-back transaction only.
LOOP = ("action_update", "panel_action", "referral_stage", "referral", "meeting_decision",
        "meeting_attendance", "meeting")  # fmt: skip


def test_the_demo_has_every_part_of_the_loop(owner_session_factory: Any) -> None:
    today = DEMO_END_MONTH + timedelta(days=40)
    with owner_session_factory() as s:
        try:
            for table in LOOP:  # other tests' meetings (load_meetings loads only into none)
                s.execute(text(f"DELETE FROM {table}"))
            assert load_meetings(s, None, DEMO_END_MONTH, today=today) == 4
            assert load_meetings(s, None, DEMO_END_MONTH, today=today) == 0  # once only
            meetings = s.execute(
                text(
                    "SELECT p.kind::text, count(*), bool_and(m.status = 'closed'),"
                    " max(m.held_on) FROM meeting m JOIN panel p ON p.id = m.panel_id"
                    " GROUP BY p.id, p.kind"
                )
            ).all()
            assert sorted((k, n, closed) for k, n, closed, _ in meetings) == [
                ("ldsm", 2, True),
                ("mace", 2, True),
            ]
            assert all(last < today for *_, last in meetings)
            kinds = set(
                s.execute(
                    text("SELECT a.kind::text FROM referral r JOIN agency a ON a.id = r.agency_id")
                ).scalars()
            )
            assert {"vcse", "education"} <= kinds and len(kinds) >= 4
            states = {
                action_state(status, due, closed, today)
                for status, due, closed in s.execute(
                    text("SELECT status, due_on, closed_on FROM panel_action")
                )
            }
            statuses = set(s.execute(text("SELECT status FROM panel_action")).scalars())
            assert statuses == {"open", "in_progress", "done", "cancelled"}
            assert "overdue" in states
            corrected = s.execute(
                text("SELECT count(*) FROM meeting_decision WHERE corrects_id IS NOT NULL")
            ).scalar_one()
            assert corrected == 1
            areas = s.execute(text("SELECT count(DISTINCT panel_id) FROM panel_area")).scalar()
            assert areas and areas >= 3
        finally:
            s.rollback()
