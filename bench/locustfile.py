"""The load mix for `make bench-load` (run by bench/load.py, never imported by it).

Each simulated person takes one of the sessions bench/load.py signed in beforehand (people
are already signed in: a sign-in storm of argon2 hashes would measure nothing else) and then,
with a think time of 0.5 to 2 s, opens pages, reads trend layers and vector tiles, lists
records and now and then records an observation with an Idempotency-Key. Requests are named
by kind (page, layer, tile, list, write) so locust reports percentiles per kind.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

SESSIONS: list[dict[str, str]] = json.loads(Path(os.environ["CSMAP_LOAD_SESSIONS"]).read_text())
MONTH = os.environ.get("CSMAP_LOAD_MONTH", "")
#: z12 tiles over the demo town (about 1.2°E 54.6°N).
TILES = [(12, x, y) for x in range(2059, 2064) for y in range(1301, 1306)]


class Person(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        signed_in = random.choice(SESSIONS)
        # Sessions are bound to the User-Agent they signed in with.
        self.client.headers["User-Agent"] = signed_in["user_agent"]
        self.client.cookies.set("csmap", signed_in["cookie"])
        self.csrf = signed_in["csrf"]

    @task(3)
    def page(self) -> None:
        self.client.get(random.choice(["/", "/records", "/panel"]), name="page")

    @task(4)
    def layer(self) -> None:
        path = random.choice(["counts", "series", "change"])
        self.client.get(f"/api/v1/layers/{path}?month={MONTH}", name="layer")

    @task(6)
    def tile(self) -> None:
        z, x, y = random.choice(TILES)
        self.client.get(f"/tiles/counts/{z}/{x}/{y}.mvt?month={MONTH}", name="tile")

    @task(3)
    def records(self) -> None:
        path = random.choice(["/api/v1/observations?per_page=50", "/api/v1/contexts"])
        self.client.get(path, name="list")

    @task(1)
    def write(self) -> None:
        body: dict[str, Any] = {
            "occurred_at": "2026-10-20T18:30:00Z",
            "geometry": {
                "type": "Point",
                "coordinates": [round(1.15 + random.random() * 0.1, 6), 54.6],
            },
            "category": "suspected_drug_running",
            "note": "load test",
        }
        headers = {"X-CSRFToken": self.csrf, "Idempotency-Key": uuid.uuid4().hex}
        self.client.post("/api/v1/observations", json=body, headers=headers, name="write")
