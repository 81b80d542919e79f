"""Forms and navigation as people use them (issue 13), at 390 and 1280 px: every navigation
item reachable (on a phone through the menu button); a failed share form puts focus on its
error summary, in plain English, with links to the fields; the pack form the same; a new
place has no status chosen for it; "Needs your approval" where a decision waits; boundary
sets only over the service area; the record map opens where the user last was or on their
agency's area, and "Use my location" drops the pin there."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

SIZES = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 800}}
RAW = re.compile(r"should have at least|after validation|Input should be|Field required")


@pytest.fixture()
def open_as(browser: Any, live_server: str, owner_session_factory: Any) -> Iterator[Any]:
    made: list[Any] = []

    def open_(user: Any, size: int, **options: Any) -> Any:
        mobile = size == 390
        context = browser.new_context(
            viewport=SIZES[size], is_mobile=mobile, has_touch=mobile, **options
        )
        made.append(context)
        page = context.new_page()
        browser_sign_in(page, live_server, user, owner_session_factory)
        return page

    yield open_
    for context in made:
        context.close()


@pytest.mark.parametrize("size", [390, 1280])
@pytest.mark.parametrize("role", ["agency_admin", "system_admin", "practitioner"])
def test_every_navigation_item_is_reachable(
    open_as: Any, live_server: str, make_user: Any, role: str, size: int
) -> None:
    page = open_as(make_user("police", role), size)
    page.wait_for_load_state("networkidle")
    items = page.locator("#site-nav-list > li > a, #site-nav-list > li > form > button")
    count = items.count()
    assert count >= 3, count
    menu = page.get_by_role("button", name="Menu")
    if size == 390:
        expect(items.first).to_be_hidden()  # folded away until asked for
        menu.click()
        expect(page.get_by_role("button", name="Close menu")).to_have_attribute(
            "aria-expanded", "true"
        )
    else:
        expect(menu).to_be_hidden()
    for i in range(count):
        item = items.nth(i)
        expect(item).to_be_visible()
        box = item.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= size, (i, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= SIZES[size]["height"], (i, box)
        # Nothing covers it: a tap lands on the item itself.
        assert item.evaluate(
            "n => { const r = n.getBoundingClientRect(); return n.contains("
            "document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
        ), f"item {i} is covered"
    # Every link leads where it says (the menu opened again each time on a phone).
    hrefs = [h for h in items.evaluate_all("ns => ns.map(n => n.getAttribute('href'))") if h]
    toggle = page.locator(".site-menu-toggle")

    def open_menu() -> None:
        if size == 390 and toggle.get_attribute("aria-expanded") != "true":
            toggle.click()

    for href in hrefs:
        open_menu()
        page.locator(f"#site-nav-list a[href='{href}']").click()
        page.wait_for_url(live_server + href)
    open_menu()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


@pytest.mark.parametrize("size", [390, 1280])
def test_a_failed_share_form_moves_focus_to_the_error_summary(
    open_as: Any, live_server: str, make_user: Any, settings: Any, size: int
) -> None:
    page = open_as(make_user("police", "analyst"), size)
    page.goto(live_server + "/shares/new")
    page.get_by_label("Purpose").fill("Too short")  # and no agency, no area chosen
    page.get_by_label("Expires on").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Make share").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: New share"))
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary).to_contain_text("Choose at least one area.")
    expect(summary).to_contain_text("The purpose must be 10 characters or more.")
    expect(summary).to_contain_text("Enter the lawful basis for sharing.")
    expect(summary).to_contain_text("The expiry date must be after today.")
    assert not RAW.search(page.locator("main").inner_text()), "the validator's words on the page"
    # Each message is beside its field too, and the summary's link takes focus to it.
    expect(page.locator("#f-areas-error")).to_have_text("Choose at least one area.")
    assert page.locator("#f-areas").get_attribute("aria-describedby") == "f-areas-error"
    summary.get_by_role("link", name="Choose at least one area.").click()
    assert page.evaluate("document.activeElement.closest('#f-areas') !== null")
    box = summary.bounding_box()
    assert box and box["x"] + box["width"] <= size
    page.evaluate("window.scrollTo(0, 0)")
    shots = Path(settings.var_dir) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"shares-new-errors-{size}.png"))


def test_a_failed_pack_form_moves_focus_to_the_error_summary(
    open_as: Any, live_server: str, make_user: Any
) -> None:
    page = open_as(make_user("police", "trainer"), 390)
    page.goto(live_server + "/packs/new")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Send for approval").click()
    summary = page.locator("#form-problems")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Give the pack a title.")
    expect(summary).to_contain_text("Choose at least one area.")
    assert not RAW.search(page.locator("main").inner_text())


def test_a_new_place_has_no_status_chosen_for_it(
    open_as: Any, live_server: str, make_user: Any
) -> None:
    page = open_as(make_user("police", "practitioner"), 390)
    page.goto(live_server + "/record")
    page.wait_for_selector("body[data-record-ready='1']")
    page.get_by_label("A place or route").check()
    page.get_by_label("Kind of place or route").select_option("hotspot")
    status = page.get_by_label("Status", exact=True)
    assert status.input_value() == ""
    page.get_by_role("button", name="Add point at map centre").click()
    page.get_by_label("Name", exact=True).fill(f"Bus shelter {uuid.uuid4().hex[:6]}")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-status-error")).to_have_text("Choose the status of the place or route.")
    expect(status).to_be_focused()
    assert not sent, "saved without a status: it would have been filed as Referred"


def test_decisions_waiting_are_badged(
    open_as: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    """A pending pack and a pending tier C share: badged for a colleague who may decide,
    not for their maker."""
    from tests.e2e.test_packs import build_pack

    trainer = make_user("police", "trainer")
    maker = open_as(trainer, 1280)
    pack_id = build_pack(maker, live_server)
    maker.goto(live_server + "/packs")
    row = maker.locator("tr", has=maker.locator(f"a[href$='/packs/{pack_id}']"))
    expect(row).not_to_contain_text("Needs your approval")
    analyst = open_as(make_user("police", "analyst"), 390)
    analyst.goto(live_server + "/packs")
    row = analyst.locator("tr", has=analyst.locator(f"a[href$='/packs/{pack_id}']"))
    expect(row.locator(".badge")).to_have_text("Needs your approval")
    analyst.goto(live_server + f"/packs/{pack_id}")
    expect(analyst.locator("main .badge")).to_have_text("Needs your approval")
    # The pack's share is a pending tier C share: on the shares list too.
    with owner_session_factory() as s:
        share_id = s.execute(
            text("SELECT share_id FROM briefing_pack WHERE id = :p"), {"p": pack_id}
        ).scalar_one()
    analyst.goto(live_server + "/shares")
    row = analyst.locator("tr", has=analyst.locator(f"a[href$='/shares/{share_id}']"))
    expect(row.locator(".badge")).to_have_text("Needs your approval")


def test_boundary_sets_far_from_the_service_area_are_not_offered(
    open_as: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    slug = f"far-{uuid.uuid4().hex[:8]}"
    name = f"Faraway districts {slug}"
    with owner_session_factory() as s:
        set_id = s.execute(
            text("INSERT INTO boundary_set (slug, name, kind) VALUES (:s, :n, 'council_ward')"
                 " RETURNING id"), {"s": slug, "n": name},
        ).scalar_one()  # fmt: skip
        s.execute(
            text("INSERT INTO area (boundary_set_id, code, name, geom) VALUES (:b, 'F1', 'Far',"
                 " ST_Multi(ST_MakeEnvelope(-3.1, 51.4, -3.0, 51.5, 4326)))"), {"b": set_id},
        )  # fmt: skip
        s.commit()
    try:
        page = open_as(make_user("police", "analyst"), 1280)
        listed = page.request.get(live_server + "/api/v1/boundary-sets").json()["boundary_sets"]
        names = [b["name"] for b in listed]
        assert name not in names and "Wrenmouth council wards" in names
        page.goto(live_server + "/shares/new")
        expect(page.locator("#f-areas")).not_to_contain_text("Faraway")
        expect(page.locator("#f-areas")).to_contain_text("Wrenmouth council wards")
    finally:
        with owner_session_factory() as s:
            s.execute(
                text("UPDATE boundary_set SET is_current = false WHERE slug = :s"), {"s": slug}
            )
            s.commit()


def test_the_record_map_opens_where_it_was_left_and_finds_the_user(
    open_as: Any, live_server: str, make_user: Any
) -> None:
    here = {"latitude": 54.6012, "longitude": 1.2021}  # in the demo town
    page = open_as(
        make_user("police", "practitioner"), 390, geolocation=here, permissions=["geolocation"]
    )
    page.goto(live_server + "/record")
    page.wait_for_selector("body[data-record-ready='1']")
    # First visit: on the agency's own area.
    assert page.locator("#record-map").get_attribute("data-opened") == "home"
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#geom-status")).to_contain_text("Pin placed at your location")
    pin = page.locator(".rec-pin").bounding_box()
    assert pin, "no pin"
    # The next visit opens where the map was left (near the user, zoomed in).
    page.goto(live_server + "/record")
    page.wait_for_selector("body[data-record-ready='1']")
    assert page.locator("#record-map").get_attribute("data-opened") == "last"


def test_the_map_legend_on_a_phone_opens_as_a_sheet_and_folds_to_one_line(
    open_as: Any, live_server: str, make_user: Any
) -> None:
    page = open_as(make_user("police", "analyst"), 390)
    page.wait_for_selector("body[data-map-ready='1'][data-contexts-ready='1']")
    legend = page.locator(".cs-legend")
    toggle = page.locator(".cs-legend__toggle")
    caption = page.locator("#map .map-precision")
    # Folded: one line that says what the map shows; the precision caption below it.
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_contain_text("Legend: base map, 1 boundary set")
    folded = legend.bounding_box()
    assert folded and folded["height"] < 60, folded
    # Open: a sheet across the map, above the caption, which stays in view and uncovered.
    toggle.click()
    expect(page.locator("#cs-legend-body")).to_be_visible()
    sheet = legend.bounding_box()
    cap = caption.bounding_box()
    assert sheet and cap and sheet["width"] >= 360 and sheet["height"] > 200, sheet
    assert sheet["y"] + sheet["height"] <= cap["y"] + 1, (sheet, cap)
    assert cap["y"] + cap["height"] <= 844
    expect(legend).to_contain_text("Our contexts")
    # Escape folds it back to its line.
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
