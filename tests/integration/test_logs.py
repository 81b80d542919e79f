"""Logs never carry coordinates, notes, registration marks or person refs."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import time
from typing import Any

import pytest
from flask import Flask

from tests.factories import unique_mark


def test_requests_leave_no_sensitive_values_in_logs(
    app: Flask, make_agency: Any, make_user: Any, sign_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user(make_agency("police", "Log test"), "practitioner")
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
    mark = unique_mark()
    client.post("/api/v1/vehicles", json={"registration_mark": mark}, headers=headers)
    client.get("/api/v1/observations?bbox=1.2345,54.6123,1.2346,54.6124")
    client.post(
        "/api/v1/observations",
        data="{broken",
        headers={**headers, "Content-Type": "application/json"},
    )
    logged = caplog.text
    for secret in (sentinel_note, "YP-SENT1NEL", "1.234567", "54.612345", mark[:4], "54.6123"):
        assert secret not in logged, f"{secret!r} reached the logs"


# -- the route pattern, never the path; control characters escaped (issue 11, finding 4) ----

LINK_TOKEN = "SENTINEL-LINK-TOKEN-9c1e"


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "webmap.access"]


def test_signed_link_tokens_never_reach_the_log(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    for path in (
        f"/s/{LINK_TOKEN}",
        f"/s/{LINK_TOKEN}/layer",
        f"/s/{LINK_TOKEN}/export.csv",
        f"/s/{LINK_TOKEN}/pack.pdf",
    ):
        assert client.get(path + "?q=" + LINK_TOKEN).status_code == 404
    assert LINK_TOKEN not in caplog.text
    lines = _access_lines(caplog)
    assert any("route=/s/<token> " in line and "status=404" in line for line in lines), lines
    assert any("route=/s/<token>/pack.pdf " in line for line in lines), lines


def test_crlf_in_a_path_cannot_forge_a_log_line(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    client.get("/nowhere%0d%0aFORGED-LINE status=200")
    client.get("/s/x%0d%0aFORGED-LINE status=200")
    client.get("/", environ_overrides={"HTTP_USER_AGENT": "ua\r\nFORGED-LINE"})
    for record in caplog.records:
        message = record.getMessage()
        assert "\n" not in message and "\r" not in message, message
        assert "FORGED-LINE" not in message, message
    assert any("route=<unmatched>" in line for line in _access_lines(caplog))


def test_escape_makes_control_characters_visible() -> None:
    from webmap.web.request_log import escape

    assert escape("a\r\nb\tc\x1b[31m\x7f") == "a\\r\\nb\\tc\\x1b[31m\\x7f"
    assert escape("plain /s/<token>") == "plain /s/<token>"


def test_an_unhandled_error_is_logged_with_the_route_pattern(
    test_db: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    from webmap import create_app

    app = create_app({"mode": "test", "database_url": test_db["app"]})

    @app.get("/boom/<secret>")
    def boom(secret: str) -> str:
        raise RuntimeError(secret)

    caplog.set_level(logging.DEBUG)
    resp = app.test_client().get(f"/boom/{LINK_TOKEN}")
    assert resp.status_code == 500
    assert LINK_TOKEN not in caplog.text
    assert "unhandled RuntimeError on GET /boom/<secret>" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_csmap_serve_logs_patterns_not_paths(test_db: dict[str, str]) -> None:
    """The real thing: `csmap serve`'s gunicorn, raw requests, its whole stderr read back."""
    from webmap.cli.serve import gunicorn_command

    port = _free_port()
    env = {**os.environ, "CSMAP_MODE": "test", "CSMAP_DATABASE_URL": test_db["app"]}
    proc = subprocess.Popen(
        gunicorn_command("127.0.0.1", port, 1),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if b"200" in _raw(port, b"GET /healthz HTTP/1.0\r\n\r\n").split(b"\r\n")[0]:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        for request in (
            f"GET /s/{LINK_TOKEN} HTTP/1.0\r\n\r\n",
            f"GET /s/{LINK_TOKEN}/pack.pdf?t={LINK_TOKEN} HTTP/1.0\r\n\r\n",
            "GET /x%0d%0aFORGED-LINE%20200 HTTP/1.0\r\n\r\n",
            # A raw CR LF inside the request line, and a malformed line holding the token.
            f"GET /s/{LINK_TOKEN}\r\nFORGED-LINE 200 HTTP/1.0\r\n\r\n",
            f"GET /s/{LINK_TOKEN} HTTP/9.9 junk\r\n\r\n",
        ):
            _raw(port, request.encode())
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    log = output.decode(errors="replace")
    assert LINK_TOKEN not in log, log
    assert not any(line.startswith("FORGED-LINE") for line in log.splitlines()), log
    assert "route=/s/<token> " in log and "route=/s/<token>/pack.pdf " in log, log
    assert "route=/healthz " in log, log
