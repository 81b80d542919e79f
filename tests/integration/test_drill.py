"""The fault drill, short (issue 16, finding 6 of "Deliver"): writers with idempotency keys
while two gunicorn workers and the postmaster are killed with SIGKILL; then 0 lost, 0
duplicated, the audit chain intact and the cube equal to a recount. The full drill is
`make drill` (bench/drill.py); this runs on the run's scratch cluster."""

from __future__ import annotations

from typing import Any

from bench import drill
from tests.integration import live


def test_short_fault_drill(settings: Any) -> None:
    scratch = live.scratch_cluster(settings)
    figures = drill.run(scratch, writers=2, seconds=20, worker_kills=2, db_kills=1)
    assert figures["worker_kills"] == 2 and figures["postmaster_kills"] == 1, figures
    assert figures["acknowledged"] > 5, figures
    assert drill.passed(figures), figures
