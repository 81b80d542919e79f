"""A person signs in with password and TOTP, sees the map and their own records, signs out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.e2e


def test_sign_in_see_map_sign_out(
    page: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    user = make_user("police", "practitioner")
    page.goto(live_server + "/")
    page.wait_for_url("**/login?next=/")  # not signed in: sent to the sign-in page
    screenshot(page, "login-1280")
    browser_sign_in(page, live_server, user, owner_session_factory)
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    assert page.get_by_text("Test practitioner").is_visible()
    # Their own agency's contexts are drawn and listed in the layer switcher.
    page.wait_for_selector("body[data-contexts-ready='1']", timeout=20_000)
    screenshot(page, "map-signed-in-1280")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto(live_server + "/api/v1/observations")
    assert "unauthorised" in page.content()


def test_wrong_code_shows_error_beside_the_field(
    page: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    user = make_user("health", "analyst")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code")
    page.get_by_label("Six-digit code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    error = page.locator("#f-code-error")
    assert error.is_visible() and "not right" in error.inner_text()
    assert page.get_by_label("Six-digit code").get_attribute("aria-invalid") == "true"
