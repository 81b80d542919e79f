"""Recording in a real Chromium: a practitioner on a phone puts a hotspot, a bus route and a
vehicle sighting on the map, finds them in the list; another agency cannot open them. Also:
recording with the keyboard alone, errors beside their fields, editing and deleting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_sign_in, screenshot
from tests.factories import agency_name, unique_mark

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SAVED_LINK = re.compile(r"/records/(observation|context)/([0-9a-f-]{36})$")


def watch_errors(page: Any) -> list[str]:
    """Console errors (CSP violations among them), failed requests and uncaught exceptions.
    The browser's own favicon request (the site has none yet) is not counted."""
    errors: list[str] = []

    def on_console(m: Any) -> None:
        url = m.location.get("url", "")
        if m.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{m.text} {url}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture()
def practitioner(make_agency: Any, make_user: Any) -> Any:
    """A practitioner of a police force of the test's own: what it records (today, from the
    form) is in no one else's lists, maps or panels."""
    return make_user(make_agency("police", "E2E recording"), "practitioner")


@pytest.fixture()
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


def open_record(page: Any, base: str) -> None:
    page.goto(base + "/record")
    page.wait_for_selector("body[data-record-ready='1']", timeout=20_000)


def tap_map(page: Any, fx: float, fy: float) -> None:
    page.locator("#record-map").scroll_into_view_if_needed()
    box = page.locator("#record-map").bounding_box()
    x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
    if page.viewport_size == PHONE:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def save(page: Any) -> tuple[str, str]:
    """Press Save; wait for the confirmation; return (kind, id) from its "View it" link."""
    link = page.locator("#record-result a")
    before = link.get_attribute("href") if link.count() else None
    page.get_by_role("button", name="Save").click()
    page.wait_for_function(
        """(before) => {
             const a = document.querySelector('#record-result a');
             const alertBox = document.getElementById('record-alert');
             return (a && a.getAttribute('href') !== before) || !alertBox.hidden
               || document.querySelector('.field-error:not([hidden])');
           }""",
        arg=before,
        timeout=15_000,
    )
    alert = page.locator("#record-alert")
    assert alert.is_hidden(), alert.inner_text()
    match = SAVED_LINK.search(link.get_attribute("href") or "")
    assert match, link.get_attribute("href")
    assert page.locator("#record-result").inner_text().startswith("Saved")
    return match.group(1), match.group(2)


def geometry_status(page: Any) -> str:
    return str(page.locator("#geom-status").inner_text())


def test_phone_hotspot_route_sighting_and_other_agency_404(
    phone: Any,
    browser: Any,
    live_server: str,
    make_agency: Any,
    make_user: Any,
    practitioner: Any,
    owner_session_factory: Any,
) -> None:
    # Another agency (on no panel with the police) has already recorded the same vehicle
    # (recording it alone runs no match); the mark is this test's alone.
    mark = unique_mark()
    other = make_user(make_agency("transport_operator", "E2E recording"), "practitioner")
    context2 = browser.new_context(viewport=DESKTOP)
    page2 = context2.new_page()
    browser_sign_in(page2, live_server, other, owner_session_factory)
    token = page2.locator('meta[name="csrf-token"]').get_attribute("content")
    theirs = page2.request.post(
        f"{live_server}/api/v1/vehicles",
        data={"registration_mark": mark.replace(" ", "").lower(), "make": "Ford"},
        headers={"X-CSRFToken": token},
    )
    assert theirs.status == 201, theirs.text()
    assert "also_reported_by" not in theirs.json()

    page = phone
    errors = watch_errors(page)
    user = practitioner
    browser_sign_in(page, live_server, user, owner_session_factory)
    open_record(page, live_server)
    # Map first: the map fills the top of the phone screen, the choices follow.
    map_box = page.locator("#record-map").bounding_box()
    assert 0.45 * PHONE["height"] <= map_box["height"] <= 0.6 * PHONE["height"]
    screenshot(page, "record-390")

    # 1. A hotspot: choose "A place or route", kind hotspot, tap, name, save.
    page.get_by_label("A place or route").check()
    page.get_by_label("Kind of place or route").select_option("hotspot")
    tap_map(page, 0.5, 0.5)
    assert geometry_status(page).startswith("Pin placed")
    page.get_by_label("Name", exact=True).fill("Underpass by Mill Lane")
    page.get_by_label("Poor lighting").check()
    page.get_by_label("Status", exact=True).select_option("referred")  # none is chosen for us
    kind, hotspot_id = save(page)
    assert kind == "context"
    assert page.locator("#f-name").input_value() == ""  # ready for the next record
    assert "No pin yet" in geometry_status(page)
    # The map (with the new record on it) and the confirmation are both on screen.
    assert page.evaluate("window.scrollY") == 0
    assert page.get_by_role("link", name="View it").is_visible()
    assert page.locator("#record-result").bounding_box()["y"] < PHONE["height"] - 40
    screenshot(page, "record-390-saved")

    # 2. A bus route: three taps, Finish, route name and operator.
    page.get_by_label("Kind of place or route").select_option("transport_route")
    for fx, fy in ((0.3, 0.4), (0.5, 0.5), (0.7, 0.45)):
        tap_map(page, fx, fy)
    assert geometry_status(page) == "3 points — finish the line when done."
    page.get_by_role("button", name="Finish").click()
    assert "finished" in geometry_status(page)
    page.get_by_label("Route name or number").fill("7")
    page.get_by_label("Operator").fill("Coastline Buses")
    page.get_by_label("Status", exact=True).select_option("referred")
    kind, route_id = save(page)
    assert kind == "context"

    # 3. A vehicle sighting: a new vehicle, a tap, save (one request: the vehicle, the
    # sighting and the match are saved together).
    page.get_by_label("A vehicle sighting").check()
    page.get_by_label("Make").fill("Ford")
    page.get_by_label("Model").fill("Fiesta")
    page.get_by_label("Colour").fill("Blue")
    tap_map(page, 0.55, 0.55)
    # The mark forgotten: the server's error (on the inline vehicle) lands beside its field.
    page.get_by_role("button", name="Save").click()
    error = page.locator("#f-registration_mark-error")
    error.wait_for(timeout=15_000)
    assert error.inner_text() == "Enter the registration mark."
    assert page.locator("#f-registration_mark").get_attribute("aria-invalid") == "true"
    # The browser logs that expected 422 as a failed request; nothing else may be there.
    errors[:] = [e for e in errors if "status of 422" not in e]
    page.get_by_label("Registration mark").fill(mark)
    kind, sighting_id = save(page)
    assert kind == "observation"
    result = page.locator("#record-result").inner_text()
    assert "Also reported by another agency — contact their lead: " in result, result
    screenshot(page, "record-390-sighting")
    # All three are on the map at once, in the "recorded today" layer.
    assert page.locator("#record-map").get_attribute("data-recorded-today") == "3"

    # The list shows all three.
    page.goto(live_server + "/records")
    page.wait_for_selector("body[data-records-ready='1']", timeout=20_000)
    contexts = page.locator("#ctx-table")
    assert contexts.get_by_role("link", name="Underpass by Mill Lane").count() >= 1
    assert contexts.get_by_role("link", name="Route 7 (Coastline Buses)").count() >= 1
    observations = page.locator("#obs-table")
    sighting_link = page.locator(f"a[href$='/records/observation/{sighting_id}']")
    assert observations.locator(sighting_link).count() == 1
    row = observations.locator("tr", has=sighting_link)
    assert "Vehicle of interest" in row.inner_text()
    vehicle_link = page.locator("#veh-table").get_by_role("link", name=mark)
    assert vehicle_link.count() == 1
    vehicle_id = (vehicle_link.get_attribute("href") or "").rsplit("/", 1)[-1]
    screenshot(page, "records-390")

    # The sighting's own page: its fields (with the vehicle), a map, its history.
    sighting_link.click()
    page.wait_for_selector("body[data-detail-ready='1']", timeout=20_000)
    fields = page.locator("#detail-fields").inner_text()
    assert "Vehicle of interest" in fields and mark in fields, fields
    assert "Created (version 1)" in page.locator("#history").inner_text()
    screenshot(page, "record-detail-390")
    assert not errors, errors

    # Mutual: the other agency's vehicle page says who asked about the mark, and when.
    resp = page2.goto(f"{live_server}/records/vehicle/{theirs.json()['id']}")
    assert resp.status == 200
    page2.wait_for_selector("body[data-detail-ready='1']", timeout=20_000)
    told = page2.locator("#matched-by").inner_text()
    police = agency_name(owner_session_factory, user.agency_slug)
    assert f"Also queried by {police} (Test practitioner, Practitioner)" in told, told
    screenshot(page2, "vehicle-matched-by")

    # The other agency gets 404 for the pages and the data.
    try:
        for kind, record_id in (
            ("context", hotspot_id),
            ("context", route_id),
            ("observation", sighting_id),
            ("vehicle", vehicle_id),
        ):
            resp = page2.goto(f"{live_server}/records/{kind}/{record_id}")
            assert resp.status == 404
            api = page2.request.get(f"{live_server}/api/v1/{kind}s/{record_id}")
            assert api.status == 404, (kind, api.status)
            assert api.json()["error"]["code"] == "not_found"
    finally:
        context2.close()


def test_record_with_the_keyboard_only(
    page: Any, live_server: str, practitioner: Any, owner_session_factory: Any
) -> None:
    errors = watch_errors(page)
    browser_sign_in(page, live_server, practitioner, owner_session_factory)
    open_record(page, live_server)
    screenshot(page, "record-1280")

    def tab_to(element_id: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => { const e = document.activeElement;"
                " return [e.id, getComputedStyle(e).outlineStyle]; }"
            )
            # Every stop on the way shows where the focus is.
            assert focused[1] != "none", f"no visible focus on #{focused[0]}"
            if focused[0] == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("record-map")
    centre_before = page.evaluate("document.getElementById('record-map') !== null")
    assert centre_before
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # Leaflet pans the map under the crosshair
    tab_to("btn-centre")
    page.keyboard.press("Enter")
    assert geometry_status(page).startswith("Pin placed")
    # The pin's tip is under the crosshair.
    page.wait_for_timeout(400)  # let any pan animation finish: the pin must move with the map
    pin = page.locator(".rec-pin").bounding_box()
    cross = page.locator(".record-crosshair").bounding_box()
    tip = (pin["x"] + pin["width"] / 2, pin["y"] + 24)
    centre = (cross["x"] + cross["width"] / 2, cross["y"] + cross["height"] / 2)
    assert abs(tip[0] - centre[0]) <= 3 and abs(tip[1] - centre[1]) <= 3, (tip, centre)
    screenshot(page, "record-1280-pin")
    tab_to("f-category")
    page.keyboard.press("ArrowDown")  # the first category
    assert page.locator("#f-category").input_value() != ""
    tab_to("f-note")
    page.keyboard.type("Two older males handing a package to a child by the bus shelter.")
    tab_to("btn-save")
    page.keyboard.press("Enter")
    page.wait_for_selector("#record-result a", timeout=15_000)
    assert page.locator("#record-result").inner_text().startswith("Saved")
    assert page.evaluate("document.activeElement.id") == "record-result"
    assert not errors, errors


def test_missing_geometry_and_category_shown_beside_their_fields(
    page: Any, live_server: str, practitioner: Any, owner_session_factory: Any
) -> None:
    browser_sign_in(page, live_server, practitioner, owner_session_factory)
    open_record(page, live_server)
    page.get_by_role("button", name="Save").click()
    geometry_error = page.locator("#f-geometry-error")
    geometry_error.wait_for(state="visible", timeout=15_000)
    assert "map" in geometry_error.inner_text()
    category_error = page.locator("#f-category-error")
    assert category_error.is_visible() and category_error.inner_text()
    category = page.get_by_label("What was seen")
    assert category.get_attribute("aria-invalid") == "true"
    assert "f-category-error" in (category.get_attribute("aria-describedby") or "")
    assert "f-geometry-error" in (
        page.locator("#record-map").get_attribute("aria-describedby") or ""
    )
    assert page.evaluate("document.activeElement.id") == "record-map"  # the first problem
    screenshot(page, "record-1280-errors")

    # A name where a pseudonymous reference belongs: the server's reason, beside the field.
    page.get_by_role("button", name="Add point at map centre").click()
    page.get_by_label("What was seen").select_option(index=1)
    page.get_by_label("Young-person references").fill("YP-3F9A, Jane Doe")
    page.get_by_role("button", name="Save").click()
    refs_error = page.locator("#f-young_person_refs-error")
    refs_error.wait_for(state="visible", timeout=15_000)
    assert "never record a name" in refs_error.inner_text()
    assert page.locator("#f-category-error").count() == 0  # fixed problems go away
    assert page.evaluate("document.activeElement.id") == "f-young_person_refs"


def test_edit_conflict_and_delete_on_the_detail_page(
    page: Any, live_server: str, practitioner: Any, owner_session_factory: Any
) -> None:
    errors = watch_errors(page)
    browser_sign_in(page, live_server, practitioner, owner_session_factory)
    open_record(page, live_server)
    page.get_by_label("A place or route").check()
    page.get_by_label("Kind of place or route").select_option("place_of_concern")
    page.get_by_label("An area (tap round its edge)").check()
    for fx, fy in ((0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)):
        tap_map(page, fx, fy)
    assert geometry_status(page) == "4 points — finish the area when done."
    page.get_by_label("Name", exact=True).fill("Empty shop on Quay Street")
    page.get_by_label("Status", exact=True).select_option("referred")
    _, context_id = save(page)

    page.get_by_role("link", name="View it").click()
    page.wait_for_selector("body[data-detail-ready='1']", timeout=20_000)
    assert page.get_by_role("heading", name="Empty shop on Quay Street").is_visible()
    assert "Created (version 1)" in page.locator("#history").inner_text()

    # Edit: rename; the history gains a version.
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Name").fill("Empty shop, Quay Street")
    page.get_by_label("Status").select_option("assessing")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved your changes.").wait_for(timeout=15_000)
    assert page.get_by_role("heading", name="Empty shop, Quay Street").is_visible()
    expect(page.locator("#history li")).to_have_count(2)
    assert "Changed (version 2)" in page.locator("#history").inner_text()
    screenshot(page, "record-detail-1280")

    # Someone else changes it meanwhile: our edit is refused and what we typed is kept.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    other = page.request.patch(
        f"{live_server}/api/v1/contexts/{context_id}",
        data={"status": "plan"},
        headers={"X-CSRFToken": token, "If-Match": '"2"'},
    )
    assert other.status == 200, other.text()
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Name").fill("Shop with boarded windows")
    page.get_by_role("button", name="Save changes").click()
    alert = page.locator("#detail-alert")
    alert.wait_for(state="visible", timeout=15_000)
    assert "Someone else changed this record since you opened it" in alert.inner_text()
    assert page.get_by_label("Name").input_value() == "Shop with boarded windows"

    # Delete, with a reason.
    page.reload()
    page.wait_for_selector("body[data-detail-ready='1']", timeout=20_000)
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete record").click()
    assert page.locator("#f-reason-error").is_visible()
    page.get_by_label("Why are you deleting it?").fill("Recorded twice by mistake")
    page.get_by_role("button", name="Delete record").click()
    page.get_by_text("This record has been deleted.").wait_for(timeout=15_000)
    assert page.get_by_role("button", name="Edit").is_hidden()
    assert page.request.get(f"{live_server}/api/v1/contexts/{context_id}").status == 404
    assert not [e for e in errors if "409" not in e], errors
