"""gunicorn's settings hooks for `csmap serve` (loaded with ``--config python:...``).

A worker that exits (restarted after a crash, or ``kill -9``) leaves its metric files behind
in ``PROMETHEUS_MULTIPROC_DIR``; its live gauges (connections in use) must stop counting.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn calls this in the master when a worker has exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
