"""Logs never carry coordinates, notes, registration marks or person refs."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask import Flask


def test_requests_leave_no_sensitive_values_in_logs(
    app: Flask, make_user: Any, sign_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user("police", "practitioner")
    client = sign_in(app.test_client(), user)
    token = re.search(  # type: ignore[union-attr]
        r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)
    ).group(1)
    headers = {"X-CSRFToken": token}
    sentinel_note = "SENTINEL-NOTE-7f3a"
    body = {
        "occurred_at": "2026-10-20T18:30:00Z",
        "geometry": {"type": "Point", "coordinates": [1.234567, 54.612345]},
        "category": "weapon_found",
        "note": sentinel_note,
        "young_person_refs": ["YP-SENT1NEL"],
    }
    client.post("/api/v1/observations", json=body, headers=headers)
    client.post("/api/v1/observations", json={**body, "category": "nope"}, headers=headers)
    client.post("/api/v1/vehicles", json={"registration_mark": "SN19 QXY"}, headers=headers)
    client.get("/api/v1/observations?bbox=1.2345,54.6123,1.2346,54.6124")
    client.post(
        "/api/v1/observations",
        data="{broken",
        headers={**headers, "Content-Type": "application/json"},
    )
    logged = caplog.text
    for secret in (sentinel_note, "YP-SENT1NEL", "1.234567", "54.612345", "SN19", "54.6123"):
        assert secret not in logged, f"{secret!r} reached the logs"
