"""axe-core on the states a page reaches after someone acts (issue 18), at 390 and 1280 px: the
legend open, forms with errors (share, pack, record), the menu open on a phone, the panel
playing, the map with every shared layer on, and maps' tables open. Every page as it opens is
checked in test_every_page.py (the list compared with the URL map); this module checks what only
happens after a click. One browser context per person and width, axe once per state.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import axe
from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

SIZES = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 800}}

#: Tick every overlay in the map's layer switcher (folded or not), as a person would.
ALL_LAYERS_ON_JS = """() => {
  const boxes = [...document.querySelectorAll('.leaflet-control-layers-overlays input')];
  boxes.filter((b) => !b.checked).forEach((b) => b.click());
  return boxes.length;
}"""


def _person(browser: Any, base: str, user: Any, owner: Any, size: int) -> Any:
    mobile = size == 390
    context = browser.new_context(viewport=SIZES[size], is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    browser_sign_in(page, base, user, owner)
    return page


def _legend_open(page: Any) -> None:
    toggle = page.locator(".cs-legend__toggle").first
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.wait_for_selector("#cs-legend-body:not([hidden])")


def _submit_empty(page: Any, url: str, button: str, errors: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=button).click()
    page.wait_for_selector(errors, timeout=15_000)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("size", [390, 1280])
def test_every_state_passes_axe(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any, size: int
) -> None:
    base, found = live_server, []
    people = {
        role: _person(browser, base, make_user(slug, role), owner_session_factory, size)
        for slug, role in (("health", "practitioner"), ("police", "analyst"),
                           ("police", "trainer"), ("police", "panel_chair"))
    }  # fmt: skip

    def check(page: Any, state: str) -> None:
        found.extend(axe.violations(page, f"{state} at {size}"))

    try:
        # The map with the layers shared with health, every layer on and the legend open.
        nurse = people["practitioner"]
        nurse.goto(base + "/")
        nurse.wait_for_selector("body[data-shared-ready]", state="attached", timeout=30_000)
        assert int(nurse.evaluate("document.body.dataset.sharedReady")) >= 1
        assert nurse.evaluate(ALL_LAYERS_ON_JS) > 0
        _legend_open(nurse)
        nurse.locator("#map-table > summary").click()
        nurse.wait_for_selector("#map-table[data-rows]", state="attached")
        nurse.wait_for_load_state("networkidle")
        check(nurse, "map, shared layers on, legend and table open")
        if size == 390:
            nurse.get_by_role("button", name="Menu").click()
            nurse.wait_for_selector(".site-menu-toggle[aria-expanded='true']")
            check(nurse, "menu open")

        # Forms with errors: a new share, a new briefing pack, a new record.
        analyst = people["analyst"]
        _submit_empty(analyst, base + "/shares/new", "Make share", ".error-summary")
        check(analyst, "new share with errors")
        _submit_empty(people["trainer"], base + "/packs/new", "Send for approval", "#form-problems")
        check(people["trainer"], "new pack with errors")
        recorder = people["practitioner"]
        recorder.goto(base + "/record")
        recorder.wait_for_selector("body[data-record-ready='1']", state="attached", timeout=30_000)
        recorder.get_by_role("button", name="Save").click()
        recorder.wait_for_selector(".field-error:not([hidden]), .error-summary:not([hidden])")
        check(recorder, "new record with errors")

        # The panel playing (its legend is a section beside the map, always open).
        chair = people["panel_chair"]
        chair.goto(base + "/panel")
        chair.wait_for_selector("body[data-panel-ready='1']", state="attached", timeout=30_000)
        chair.locator("#pnl-table > summary").click()
        chair.get_by_role("button", name="Play").click()
        chair.get_by_role("button", name="Pause").wait_for()
        check(chair, "panel playing, its table open")
    finally:
        for page in people.values():
            page.context.close()
    assert not found, "axe (WCAG 2.2 AA) violations:\n" + "\n".join(found)


def test_axe_reports_what_it_finds(page: Any) -> None:
    """The check itself: a planted image without a text alternative is reported, with its
    id, impact, target and help URL (so a silent axe can never pass the suite)."""
    page.set_content('<html lang="en"><title>t</title><main><img src="data:,"></main></html>')
    [line] = axe.violations(page, "planted")
    assert line.startswith("planted: image-alt (critical)") and "'img'" in line
    assert "https://dequeuniversity.com/rules/axe/" in line
