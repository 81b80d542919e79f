"""The map page in a real Chromium: draws the demo town offline, with legend and boundaries."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from tests.conftest import TEST_DB
from tests.e2e.conftest import browser_sign_in, screenshot
from tests.integration.test_import import POLICE_COLUMNS, police_row, write_csv
from webmap.cli import main

pytestmark = pytest.mark.e2e

LOCAL_HOSTS = {"127.0.0.1"}


def _open_offline(page: Any, url: str) -> tuple[list[str], list[str]]:
    """Cut the network: any request leaving 127.0.0.1 is aborted and recorded."""
    requested: list[str] = []
    blocked: list[str] = []
    errors: list[str] = []

    def on_route(route: Any) -> None:
        req_url = route.request.url
        host = urlsplit(req_url).hostname
        if req_url.startswith("data:") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(req_url)
            route.abort()

    page.route("**/*", on_route)
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    outside = [
        u
        for u in requested
        if not u.startswith("data:") and urlsplit(u).hostname not in LOCAL_HOSTS
    ]
    assert not blocked and not outside, f"requests left 127.0.0.1: {blocked or outside}"
    return requested, errors


@pytest.fixture()
def analyst(make_user: Any) -> Any:
    return make_user("police", "analyst")


def test_map_page_works_offline_with_legend_and_boundaries(
    page: Any, live_server: str, analyst: Any, owner_session_factory: Any
) -> None:
    browser_sign_in(page, live_server, analyst, owner_session_factory)
    requested, errors = _open_offline(page, live_server + "/")
    assert not errors, errors
    assert any(u.endswith("/api/v1/basemap") for u in requested)
    assert any("/api/v1/boundary-sets/" in u for u in requested)  # a boundary set is drawn
    legend = page.locator(".leaflet-control.map-legend, .map-legend").first
    assert legend.is_visible()
    assert "fictional" in legend.inner_text().lower()
    screenshot(page, "map-1280")
    # The layer switcher lists every boundary set as an overlay.
    toggle = page.locator(".leaflet-control-layers-toggle")
    if toggle.is_visible():  # collapsed on short screens: open it as a user would
        toggle.focus()
        page.keyboard.press("Enter")
    switcher = page.locator(".leaflet-control-layers-list")
    switcher.wait_for(state="visible")
    text = switcher.inner_text()
    sets = page.request.get(live_server + "/api/v1/boundary-sets").json()["boundary_sets"]
    assert len(sets) >= 5
    for s in sets:
        assert s["name"] in (text or ""), f"{s['name']} missing from the layer switcher"
    # Vector layers really were drawn (canvas or SVG paths).
    assert page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane path").count() > 0


def test_map_page_at_phone_width(
    browser: Any, live_server: str, analyst: Any, owner_session_factory: Any
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        browser_sign_in(page, live_server, analyst, owner_session_factory)
        _, errors = _open_offline(page, live_server + "/")
        assert not errors, errors
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways at phone width"
        map_box = page.locator("#map").bounding_box()
        assert map_box and map_box["width"] >= 380 and map_box["height"] > 500
        screenshot(page, "map-390")
    finally:
        context.close()


def test_map_is_reachable_by_keyboard(
    page: Any, live_server: str, analyst: Any, owner_session_factory: Any
) -> None:
    browser_sign_in(page, live_server, analyst, owner_session_factory)
    _open_offline(page, live_server + "/")
    focused = set()
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.add(
            page.evaluate(
                "document.activeElement && (document.activeElement.className || '') + ' '"
                " + document.activeElement.tagName"
            )
        )
    joined = " ".join(focused)
    assert "leaflet-container" in joined, "the map never takes keyboard focus"
    assert "leaflet-control-layers" in joined or "INPUT" in joined or "BUTTON" in joined


def test_police_uk_reference_layer_can_be_switched_on(
    page: Any, live_server: str, analyst: Any, owner_session_factory: Any, tmp_path: Path
) -> None:
    # One invented street-level crime in the town, imported as `csmap import police-uk` does.
    row = police_row(uuid.uuid4().hex * 2, "1.2012", "54.6011", "On or near Fictional Street")
    row[POLICE_COLUMNS.index("Crime type")] = "Drugs"
    path = write_csv(tmp_path / "street.csv", POLICE_COLUMNS, [row])
    result = CliRunner().invoke(main, ["import", "police-uk", str(path), "--database", TEST_DB])
    assert result.exit_code == 0 and "1 loaded" in result.output, result.output
    browser_sign_in(page, live_server, analyst, owner_session_factory)
    _open_offline(page, live_server + "/")
    # The layer switcher is rebuilt once the agency's own contexts arrive: wait for that.
    page.wait_for_selector("body[data-contexts-ready='1']", timeout=20_000)
    toggle = page.locator(".leaflet-control-layers-toggle")
    if toggle.is_visible():
        # A mouse user opens the collapsed switcher by pointing at it (the opened list then
        # covers the toggle, so move the mouse rather than "hover" the element).
        box = toggle.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    with page.expect_response(lambda r: "/api/v1/reference/police-uk" in r.url) as info:
        page.get_by_text("police.uk crimes").click()
    assert info.value.status == 200
    assert any(f["properties"]["crime_type"] == "Drugs" for f in info.value.json()["features"])
