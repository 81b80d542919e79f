"""Browser fixtures: a real server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium (CSMAP_CHROMIUM
overrides), with the flags that keep Chromium from phoning home on a closed network.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # request lines carry query strings
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    p = context.new_page()
    yield p
    context.close()


def browser_sign_in(page: Any, base: str, user: Any, owner_session_factory: Any) -> None:
    """Sign in through the real pages, as a person would: password, then the TOTP code."""
    import pyotp
    from sqlalchemy import text

    with owner_session_factory() as s:  # allow another sign-in within the same 30 s step
        s.execute(text("UPDATE app_user SET totp_last_step = NULL WHERE id = :id"), {"id": user.id})
        s.commit()
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code")
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(user.totp_secret).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(base + "/")


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under tests/artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
