"""The core jobs by keyboard alone (issue 18): record a hotspot (on a phone), read the panel's
changes, make a share, approve a briefing pack and record a meeting's action — each with
Tab, arrows, Space, Enter and typing only, never a click, every stop on the way showing
where the focus is. (Signing in and the data a job starts from are set up as usual.)"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_sign_in
from tests.e2e.test_packs import build_pack
from tests.integration import meetings_world as mw
from webmap.features.meetings.lifecycle import london_day

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

#: The focused element: does it match, and does it show that it has the focus?
FOCUS_JS = """(sel) => { const e = document.activeElement; const s = getComputedStyle(e);
  // (A date field's focus can be on a part inside it: the field itself is then ringed.)
  return [e.matches(sel), s.outlineStyle !== 'none' || s.boxShadow !== 'none',
          e.outerHTML.slice(0, 120)]; }"""


def tab_to(page: Any, selector: str, limit: int = 250) -> None:
    """Press Tab until the focus is on ``selector``; every stop must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        matched, visible, html = page.evaluate(FOCUS_JS, selector)
        assert visible, f"no visible focus on {html}"
        if matched:
            return
    raise AssertionError(f"Tab never reached {selector}")


def type_date(page: Any, day: date) -> None:
    """Type a date into the focused date field, its parts in the order the browser's locale
    shows them: found by typing a probe, then typed over from the first part."""
    page.keyboard.type("01022003")
    probe = page.evaluate("document.activeElement.value")
    order = {"2003-02-01": "%d%m%Y", "2003-01-02": "%m%d%Y"}.get(probe, "%Y%m%d")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type(day.strftime(order))
    assert page.evaluate("document.activeElement.value") == day.isoformat()


def steps(page: Any, *moves: tuple[str, str]) -> None:
    """Tab to each selector, then press its key, or type its text ("type:…")."""
    for selector, key in moves:
        tab_to(page, selector)
        if key.startswith("type:"):
            page.keyboard.type(key.removeprefix("type:"))
        else:
            page.keyboard.press(key)


def _person(browser: Any, base: str, user: Any, owner: Any, size: dict[str, int]) -> Any:
    phone = size == PHONE
    context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    browser_sign_in(page, base, user, owner)
    return page


def test_record_a_hotspot_on_a_phone_by_keyboard(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    who = ("police", "practitioner")
    page = _person(browser, live_server, make_user(*who), owner_session_factory, PHONE)
    try:
        page.goto(live_server + "/record")
        page.wait_for_selector("body[data-record-ready='1']", state="attached", timeout=30_000)
        # The map pans under the crosshair; the pin goes at its centre.
        steps(page, ("#record-map", "ArrowLeft"), ("#btn-centre", "Enter"))
        expect(page.locator("#geom-status")).to_contain_text("Pin placed")
        steps(page, ("input[name=rtype]", "ArrowDown"))  # the group's stop; "A place or route"
        expect(page.get_by_role("radio", name="A place or route")).to_be_checked()
        steps(
            page,
            ("#f-kind", "type:Hotspot"),
            ("#f-name", "type:Underpass by the ferry steps"),
            ("#f-status", "ArrowDown"),
        )  # fmt: skip (none is chosen for us: the first)
        expect(page.locator("#f-kind")).to_have_value("hotspot")
        assert page.locator("#f-status").input_value() != ""
        steps(page, ("#btn-save", "Enter"))
        page.wait_for_selector("#record-result a", timeout=15_000)
        expect(page.locator("#record-result")).to_contain_text("Saved")
    finally:
        page.context.close()


def test_read_the_panels_changes_by_keyboard(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    who = ("police", "panel_chair")
    page = _person(browser, live_server, make_user(*who), owner_session_factory, DESKTOP)
    try:
        page.goto(live_server + "/panel")
        page.wait_for_selector("body[data-panel-ready='1']", state="attached", timeout=30_000)
        # The first cell to watch: Enter zooms to it and shows its months.
        tab_to(page, "button.pnl-zoom")
        what = page.evaluate("document.activeElement.getAttribute('aria-label')")
        page.keyboard.press("Enter")
        expect(page.locator("#pnl-selected-title")).to_contain_text("Selected:")
        expect(page.locator("#pnl-selected-summary")).not_to_be_empty()
        assert what.startswith("Zoom to ")
        # The map's table, opened with Enter, lists the same cells in words; it scrolls, so
        # it takes the focus too.
        steps(page, ("#pnl-table > summary", "Enter"))
        page.wait_for_selector("#pnl-table[open][data-rows]", state="attached")
        tab_to(page, "#pnl-table .table-wrap")
    finally:
        page.context.close()


def test_make_a_share_by_keyboard(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    who = ("police", "analyst")
    page = _person(browser, live_server, make_user(*who), owner_session_factory, DESKTOP)
    try:
        page.goto(live_server + "/shares/new")
        steps(page, ("input[name=recipient_agencies][value=health]", "Space"),
              ("#f-areas details > summary", "Enter"),  # the first boundary set opens
              ("input[name=areas]", "Space"),
              ("#f-purpose", "type:Joint problem-solving in the health area"),
              ("#f-lawful_basis", "type:Children Act 2004 s.11"),
              ("#f-agreement_ref", "type:ISA-KEYS-1"),
              ("button[type=submit]", "Enter"))  # fmt: skip
        page.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
        expect(page.locator(".share-state").first).to_have_text("Active")
        # Revoked again (through the API, not part of the job): other tests read the demo's
        # one standing police → health share, and must not find this one instead.
        token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
        gone = page.request.post(
            page.url.replace("/shares/", "/api/v1/shares/") + "/revoke",
            headers={"X-CSRFToken": token}, data={"reason": "Made by a keyboard test"},
        )  # fmt: skip
        assert gone.ok, gone.text()
    finally:
        page.context.close()


def test_approve_a_pack_by_keyboard(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    base, owner = live_server, owner_session_factory
    trainer = _person(browser, base, make_user("police", "trainer"), owner, DESKTOP)
    try:
        pack = build_pack(trainer, base)  # the pack to approve, made as usual
    finally:
        trainer.context.close()
    page = _person(browser, base, make_user("police", "analyst"), owner, DESKTOP)
    try:
        page.goto(f"{base}/packs/{pack}")
        steps(page, ("#f-note", "type:Checked against the MACE minutes."),
              ("button[name=approve][value=yes]", "Enter"))  # fmt: skip
        expect(page.locator(".flashes")).to_contain_text("approved", timeout=60_000)
        expect(page.locator(".share-state")).to_contain_text("ready to download")
    finally:
        page.context.close()


def test_record_a_meeting_action_by_keyboard(
    browser: Any, live_server: str, make_user: Any, make_agency: Any, owner_session_factory: Any
) -> None:
    world = mw.build(make_agency, make_user, owner_session_factory)
    chair = mw.user(world, make_user, "police", "panel_chair")
    page = _person(browser, live_server, chair, owner_session_factory, DESKTOP)
    today = london_day(datetime.now(UTC))
    try:
        page.goto(f"{live_server}/meetings/panels/{world.panel_id}")
        tab_to(page, "#f-meeting-held_on")
        type_date(page, today)
        steps(page, ("button[type=submit]", "Enter"))  # "Make the meeting"
        expect(page.locator("h1")).to_contain_text("meeting of")
        steps(page, ("input[name=four_p]", "Space"))  # none chosen: the group's first
        four_p = page.evaluate("document.activeElement.value")
        steps(page, ("#f-action-title", "type:Lighting and patrols at the bus station"),
              ("#f-action-owner_agency_id", "ArrowDown"))  # fmt: skip
        tab_to(page, "#f-action-due_on")
        type_date(page, today + timedelta(days=14))
        steps(
            page, ("#f-action-link", "ArrowDown"), ("button[type=submit]", "Enter")
        )  # fmt: skip ("Agree the action", after the cell)
        expect(page.locator(".flash")).to_contain_text("action agreed")
        expect(page.locator("main")).to_contain_text("Lighting and patrols at the bus station")
        assert four_p in {"prevent", "prepare", "pursue", "protect"}
    finally:
        page.context.close()
