"""Briefing packs in a real Chromium: a police trainer builds a pack for the demo bus operator
through the form in a few clicks, a police analyst (a different person) approves it, the PDF
downloads and its first page is a picture a bus company could pin up, and the offline page
opens with no network and draws its map. Also: errors beside their fields, the keyboard, and
the pages at phone and desktop widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, browser_sign_in, screenshot
from webmap.features.packs.inspect import inspect_pdf, is_blank, render_page_png

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PACK_URL = re.compile(r"/packs/([0-9a-f-]{36})$")


def watch_errors(page: Any) -> list[str]:
    """Console errors (CSP violations among them) and uncaught exceptions."""
    errors: list[str] = []

    def on_console(m: Any) -> None:
        url = m.location.get("url", "")
        if m.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{m.text} {url}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture()
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture()
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


def build_pack(page: Any, base: str) -> str:
    """The trainer's few clicks: recipient, a route, two stations, the town, send."""
    page.goto(base + "/packs/new")
    page.get_by_label("Operator or business", exact=True).select_option(label="Coastline Buses")
    page.get_by_label("Wrenmouth coast railway").check()
    page.get_by_label("Wrenmouth Central station").check()
    page.get_by_label("Wrenmouth Parkway station").check()
    page.get_by_text("Wrenmouth health areas", exact=True).click()  # open the set
    page.get_by_label("HA01 Wrenmouth West").check()
    page.get_by_label("HA02 Wrenmouth East").check()
    page.get_by_role("button", name="Send for approval").click()
    page.wait_for_url(PACK_URL)
    match = PACK_URL.search(page.url)
    assert match
    return match.group(1)


def test_trainer_builds_analyst_approves_and_both_files_work(
    browser: Any,
    desktop: Any,
    live_server: str,
    make_user: Any,
    owner_session_factory: Any,
    tmp_path: Path,
) -> None:
    errors = watch_errors(desktop)
    trainer, analyst = make_user("police", "trainer"), make_user("police", "analyst")
    browser_sign_in(desktop, live_server, trainer, owner_session_factory)
    desktop.get_by_role("link", name="Briefing packs").click()
    desktop.get_by_role("link", name="New briefing pack").click()
    expect(desktop.get_by_label("Signs to look for")).to_have_value(re.compile("instinct"))
    screenshot(desktop, "packs-new-1280")
    pack_id = build_pack(desktop, live_server)
    expect(desktop.locator(".share-state")).to_contain_text("second person")
    expect(desktop.get_by_role("button", name="Approve")).to_have_count(0)  # not the creator
    desktop.wait_for_function(
        "() => { const i = document.querySelector('.pack-preview img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    screenshot(desktop, "packs-detail-pending-1280")

    # A second person approves.
    desktop.context.clear_cookies()
    browser_sign_in(desktop, live_server, analyst, owner_session_factory)
    desktop.goto(f"{live_server}/packs/{pack_id}")
    desktop.get_by_label("Comment (needed to reject)").fill("Checked against the MACE minutes.")
    desktop.get_by_role("button", name="Approve").click()
    expect(desktop.locator(".flashes")).to_contain_text("approved", timeout=60_000)
    expect(desktop.locator(".share-state")).to_contain_text("ready to download")
    desktop.wait_for_function(
        "() => { const i = document.querySelector('.pack-preview img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    screenshot(desktop, "packs-detail-approved-1280")

    with desktop.expect_download() as pdf_download:
        desktop.get_by_role("link", name="PDF to print (A4)").click()
    assert pdf_download.value.suggested_filename.endswith(".pdf")
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and inspect_pdf(pdf, []) == []
    png = render_page_png(pdf, 0, scale=2)
    assert not is_blank(png)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e_pack_page1.png").write_bytes(png)

    with desktop.expect_download() as html_download:
        desktop.get_by_role("link", name="Offline web page").click()
    offline_file = tmp_path / html_download.value.suggested_filename
    html_download.value.save_as(offline_file)
    assert not errors, errors
    open_offline(browser, offline_file)


def open_offline(browser: Any, path: Path) -> None:
    """Open the downloaded page from disk with every network request refused."""
    context = browser.new_context(viewport=DESKTOP)
    refused: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    cells = page.locator("path.leaflet-interactive")
    expect(cells.first).to_be_visible(timeout=15_000)
    assert cells.count() > 3  # cells (and routes) drawn as SVG paths
    assert page.locator(".leaflet-tooltip.pack-label").count() >= 2  # the named stations
    expect(page.locator("h1")).to_contain_text("Spotting child exploitation")
    screenshot(page, "e2e_pack_offline_html")
    assert not refused, refused
    assert not errors, errors
    context.close()


def test_form_errors_sit_beside_their_fields_and_work_by_keyboard(
    desktop: Any, phone: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    trainer = make_user("police", "trainer")
    browser_sign_in(desktop, live_server, trainer, owner_session_factory)
    desktop.goto(live_server + "/packs/new")
    # Keyboard only: tick a route with the space bar, clear the title, send with Enter.
    desktop.get_by_label("Wrenmouth coast railway").focus()
    desktop.keyboard.press("Space")
    expect(desktop.get_by_label("Wrenmouth coast railway")).to_be_checked()
    title = desktop.get_by_label("Title")
    title.fill("")
    title.press("Enter")
    desktop.wait_for_load_state()
    problems = desktop.locator("#form-problems")
    expect(problems).to_be_visible()
    for name in ("title", "areas"):
        error = desktop.locator(f"#f-{name}-error")
        expect(error).to_be_visible()
        assert desktop.locator(f"[aria-describedby='f-{name}-error']").count() == 1
    expect(desktop.get_by_label("Wrenmouth coast railway")).to_be_checked()  # kept
    problems.get_by_role("link").first.focus()
    desktop.keyboard.press("Enter")
    screenshot(desktop, "packs-new-errors-1280")

    browser_sign_in(phone, live_server, trainer, owner_session_factory)
    phone.goto(live_server + "/packs/new")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the form scrolls sideways ({width} px)"
    screenshot(phone, "packs-new-390")
    pack_id = build_pack(phone, live_server)
    phone.wait_for_function(
        "() => { const i = document.querySelector('.pack-preview img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the pack page scrolls sideways ({width} px)"
    screenshot(phone, "packs-detail-390")
    desktop.goto(live_server + "/packs")
    expect(desktop.get_by_role("link", name=re.compile("Spotting child"))).not_to_have_count(0)
    screenshot(desktop, "packs-index-1280")
    desktop.get_by_role("link", name="Edit default wording").click()
    desktop.get_by_label("Wording for").select_option(label="W02 Oldtown")
    desktop.get_by_role("button", name="Show").click()
    expect(desktop.get_by_label("Signs to look for")).to_have_value(re.compile("instinct"))
    screenshot(desktop, "packs-texts-1280")
    assert pack_id
