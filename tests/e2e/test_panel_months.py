"""The panel as a MACE chair reads it early in a month (issue 13): it opens on the last
complete month, marks the month in progress wherever it shows, and "What changed" compares
complete months, grouped by area, each cell named once, in view at 1280 px. The meeting
pack's numbers never cover a district name."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
IN_PROGRESS = "in progress — incomplete"
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip


def month_name(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.year}"


def last_complete(today: date) -> date:
    first = today.replace(day=1)
    return date(first.year - 1, 12, 1) if first.month == 1 else first.replace(month=first.month - 1)


@pytest.fixture(scope="module")
def chair(make_user: Any) -> Any:
    return make_user("police", "panel_chair")


def open_panel(
    browser: Any, base: str, chair: Any, owner: Any, size: str, path: str = "/panel"
) -> Any:
    context = browser.new_context(
        viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone"
    )
    page = context.new_page()
    browser_sign_in(page, base, chair, owner)
    page.goto(base + path)
    page.wait_for_selector("body[data-panel-ready='1']", timeout=30_000)
    assert page.locator("body").get_attribute("data-panel-error") is None
    return page


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_opens_on_the_last_complete_month(
    browser: Any, live_server: str, chair: Any, owner_session_factory: Any, size: str
) -> None:
    """By the real calendar: whatever today is, the panel opens on the month before it."""
    page = open_panel(browser, live_server, chair, owner_session_factory, size)
    try:
        expected = month_name(last_complete(date.today()))
        expect(page.locator("#pnl-month-label")).to_have_text(expected)
        assert page.locator("#pnl-legend-period").inner_text().startswith(expected)
        assert IN_PROGRESS not in page.locator("#pnl-legend-period").inner_text()
        expect(page.locator("#pnl-month-last")).to_contain_text("(in progress)")
    finally:
        page.context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_six_days_into_november(
    browser: Any,
    live_server: str,
    chair: Any,
    owner_session_factory: Any,
    monkeypatch: Any,
    size: str,
) -> None:
    monkeypatch.setattr("webmap.features.layers.pages.today", lambda: date(2026, 11, 6))
    page = open_panel(browser, live_server, chair, owner_session_factory, size)
    try:
        # October, not the month in progress, and its real totals.
        expect(page.locator("#pnl-month-label")).to_have_text("October 2026")
        expect(page.locator("#pnl-total")).not_to_have_text(
            "Total this month: 0 records in 0 cells."
        )
        # The month in progress is there, and says so wherever it shows.
        slider = page.get_by_label("Month", exact=True)
        slider.focus()
        page.keyboard.press("End")
        expect(page.locator("#pnl-month-label")).to_have_text(f"November 2026 ({IN_PROGRESS})")
        assert IN_PROGRESS in (slider.get_attribute("aria-valuetext") or "")
        expect(page.locator("#pnl-legend-period")).to_contain_text(IN_PROGRESS)
        expect(page.locator("#pnl-announce")).to_contain_text(IN_PROGRESS)
        # "What changed" compares complete months only: no meeting in or after October.
        expect(page.locator("#pnl-changes-scope")).to_have_text(
            "Complete months only: hot spots to the end of October 2026 against the end of"
            " September 2026."
        )
        meetings = page.locator("#pnl-meeting option").all_inner_texts()
        assert meetings[0] == "September 2026" and "October 2026" not in meetings
        # Grouped by area, each area once, each cell once and with a name of its own.
        groups = page.locator(".pnl-watch__area").all_inner_texts()
        assert groups and len(groups) == len(set(groups)), groups
        names = page.locator("#pnl-watch .pnl-zoom").evaluate_all(
            "bs => bs.map(b => b.getAttribute('aria-label'))"
        )
        assert names and len(names) == len(set(names)), names
        assert all(re.match(r"^Zoom to Cell \d+, ", n) for n in names), names
        assert not page.locator("#pnl-watch").get_by_text("0 records in Nov 2026").count()
        if size == "desktop":
            # In view at 1280 px, without scrolling.
            assert page.evaluate("window.scrollY") == 0
            assert page.evaluate("document.querySelector('.pnl-side').scrollTop") == 0
            for selector in ("#pnl-changes-title", ".pnl-watch__item >> nth=0"):
                box = page.locator(selector).bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= 800, (selector, box)
    finally:
        page.context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_pack_numbers_never_cover_district_names(
    browser: Any,
    live_server: str,
    chair: Any,
    owner_session_factory: Any,
    monkeypatch: Any,
    size: str,
) -> None:
    monkeypatch.setattr("webmap.features.layers.pages.today", lambda: date(2026, 11, 6))
    page = open_panel(browser, live_server, chair, owner_session_factory, size, "/panel/print")
    try:
        marks = page.locator(".pnl-mark__text")
        assert marks.count() == page.locator("#pnl-watch li").count() > 0
        covered = page.evaluate(
            """() => {
              const boxes = (sel) => [...document.querySelectorAll(sel)]
                .map((n) => n.getBoundingClientRect());
              const hit = (a, b) => a.left < b.right && b.left < a.right
                && a.top < b.bottom && b.top < a.bottom;
              const labels = boxes('.cs-place-label__text');
              return boxes('.pnl-mark__text').flatMap((m, i) =>
                labels.filter((l) => hit(m, l)).map(() => i + 1));
            }"""
        )
        assert covered == [], f"marks {covered} cover a district name"
        # The list's numbers are the map's.
        numbers = page.locator(".pnl-watch__num").all_inner_texts()
        assert numbers == [str(i + 1) for i in range(len(numbers))]
    finally:
        page.context.close()
