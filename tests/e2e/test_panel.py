"""The MACE panel page in a real Chromium: a panel chair plays the months, switches to the
trends, picks a cell for its sparkline; the meeting pack prints; a trainer is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, browser_sign_in, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MONTH_NAME = re.compile(
    r"^(January|February|March|April|May|June|July|August|September|October|November|December)"
    r" \d{4}$"
)


def watch_errors(page: Any) -> list[str]:
    """Console errors (CSP violations among them), failed requests and uncaught exceptions.
    The browser's own favicon request is not counted."""
    errors: list[str] = []

    def on_console(m: Any) -> None:
        url = m.location.get("url", "")
        if m.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{m.text} {url}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture()
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True)
def early_november(monkeypatch: Any) -> None:
    """Six days into the month after the demo's last one: the panel opens on October 2026
    (complete, with data) and marks November in progress, whatever the real date."""
    monkeypatch.setattr("webmap.features.layers.pages.today", lambda: date(2026, 11, 6))


@pytest.fixture(scope="module")
def chair(make_user: Any) -> Any:
    return make_user("police", "panel_chair")


def open_panel(page: Any, base: str, path: str = "/panel") -> None:
    page.goto(base + path)
    page.wait_for_selector("body[data-panel-ready='1']", timeout=30_000)
    assert page.locator("body").get_attribute("data-panel-error") is None, page.locator(
        "#pnl-status"
    ).inner_text()


def month_label(page: Any) -> str:
    return str(page.locator("#pnl-month-label").inner_text())


def cell_fills(page: Any) -> dict[str, str]:
    fills: dict[str, str] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('path[data-kind="cell"]')]
              .map(p => [p.dataset.key, p.getAttribute('fill') + '/' +
                         p.getAttribute('fill-opacity')]))"""
    )
    return fills


def test_chair_plays_the_months_and_reads_the_trends(
    page: Any, live_server: str, chair: Any, owner_session_factory: Any
) -> None:
    errors = watch_errors(page)
    browser_sign_in(page, live_server, chair, owner_session_factory)
    # The header links to the page for roles that may see it.
    page.get_by_role("link", name="Panel", exact=True).click()
    open_panel(page, live_server)

    # Legend and precision statement, on the page and on the map; the latest month.
    legend = page.locator("#pnl-legend")
    expect(legend).to_be_visible()
    expect(page.locator("#pnl-legend-title")).to_have_text("Records per cell")
    expect(page.locator("#pnl-precision")).to_contain_text("Cells of about 0.74 km²")
    expect(page.locator("#pnl-map-precision")).to_contain_text("Cells of about 0.74 km²")
    expect(page.locator("#pnl-legend-items li")).to_have_count(6)  # 5 classes and "None"
    latest = month_label(page)
    assert MONTH_NAME.match(latest), latest
    assert page.locator("#pnl-legend-period").inner_text().startswith(latest)
    expect(page.locator("#pnl-smallprint, .pnl-smallprint")).to_contain_text(
        "Partners' layers, redacted, are below and on the map page."
    )
    screenshot(page, "panel-1280")

    # The slider with the keyboard: Home, then three months on.
    slider = page.get_by_label("Month", exact=True)
    slider.focus()
    page.keyboard.press("Home")
    expect(page.locator("#pnl-month-label")).not_to_have_text(latest)
    first = month_label(page)
    first_total = page.locator("#pnl-total").inner_text()
    first_fills = cell_fills(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#pnl-month-label")).not_to_have_text(first)
    later = month_label(page)
    assert MONTH_NAME.match(later) and later not in (first, latest)
    assert slider.get_attribute("aria-valuetext") == later
    assert page.locator("#pnl-legend-period").inner_text().startswith(later)
    assert page.locator("#pnl-total").inner_text() != first_total
    assert cell_fills(page) != first_fills, "no cell changed colour between the months"
    expect(page.locator("#pnl-announce")).to_contain_text(later)

    # Play advances the month (about one a second) and the button becomes Pause.
    play = page.get_by_role("button", name="Play")
    play.click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.locator("#pnl-month-label")).not_to_have_text(later, timeout=5_000)
    page.get_by_role("button", name="Pause").press("Enter")  # keyboard operable
    expect(page.get_by_role("button", name="Play")).to_be_visible()

    # Trends: a legend in plain words, with short explanations.
    page.get_by_role("radio", name="Trends").check()
    expect(page.locator("#pnl-legend-title")).to_have_text("Trends: emerging hot spots")
    expect(legend).to_contain_text("New")
    expect(legend).to_contain_text("Fading (diminishing)")
    expect(legend).to_contain_text("Growing (intensifying)")
    expect(legend).to_contain_text("Persistent")
    screenshot(page, "panel-1280-trends")

    # What changed since the last meeting: classes in words, "Zoom to" opens the sparkline.
    watch = page.locator("#pnl-watch li")
    assert watch.count() > 0
    expect(watch.first).to_contain_text(re.compile(r"New|Recent run|Growing|Fading|No longer"))
    watch.first.get_by_role("button", name=re.compile("^Zoom to")).click()
    expect(page.locator("#pnl-selected")).to_be_visible()
    expect(page.locator("#pnl-spark svg polyline")).to_have_count(1)
    expect(page.locator("#pnl-spark table tbody tr")).to_have_count(13)  # and November
    page.locator("#pnl-selected").scroll_into_view_if_needed()
    screenshot(page, "panel-1280-selected")
    expect(page.locator("#pnl-contexts tr").first).to_be_visible()

    # Change: this month against the one before, with a diverging legend.
    page.get_by_role("radio", name="Change").check()
    expect(page.locator("#pnl-legend-title")).to_have_text("Change against the period before")
    expect(legend).to_contain_text("New (none in the period before)")
    page.get_by_label("Period for Change").select_option("quarter")
    expect(page.locator("#pnl-legend-period")).to_contain_text(" – ")
    screenshot(page, "panel-1280-change")

    # By area: the chosen boundary set, coloured for the month.
    page.get_by_role("radio", name="By area").check()
    expect(page.locator("#pnl-legend-title")).to_contain_text("Records per area")
    expect(page.locator('path[data-kind="area"]').first).to_be_attached()
    before = page.locator("#pnl-total").inner_text()
    slider.focus()
    page.keyboard.press("Home")
    expect(page.locator("#pnl-total")).not_to_have_text(before)
    page.locator('path[data-kind="area"][tabindex="0"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#pnl-selected-title")).to_contain_text("Selected:")
    screenshot(page, "panel-1280-areas")

    # The print view keeps the choices.
    href = page.locator("#pnl-print-link").get_attribute("href")
    assert href.startswith("/panel/print?") and "month=" in href
    assert not errors, errors


def test_keyboard_picks_a_cell_and_category_filter(
    page: Any, live_server: str, chair: Any, owner_session_factory: Any
) -> None:
    errors = watch_errors(page)
    browser_sign_in(page, live_server, chair, owner_session_factory)
    open_panel(page, live_server)
    # One tab stop for the cells: Tab from the map's zoom controls reaches a cell.
    cells = page.locator('path[data-kind="cell"][tabindex="0"]')
    expect(cells).to_have_count(1)
    cells.focus()
    first_key = page.evaluate("document.activeElement.dataset.key")
    page.keyboard.press("ArrowRight")
    second_key = page.evaluate("document.activeElement.dataset.key")
    assert second_key and second_key != first_key
    screenshot(page, "panel-1280-focus")  # the focused cell has a visible ring
    page.keyboard.press("Enter")
    expect(page.locator("#pnl-selected")).to_be_visible()
    expect(page.locator("#pnl-selected-title")).to_contain_text("Selected: Cell")
    expect(page.locator("#pnl-spark svg circle")).to_have_count(13)

    total_all = page.locator("#pnl-total").inner_text()
    page.get_by_label("Category").select_option(label="Suspected drug running")
    expect(page.locator("#pnl-legend-period")).to_contain_text("Suspected drug running")
    expect(page.locator("#pnl-total")).not_to_have_text(total_all)
    assert not errors, errors


def test_chair_switches_to_fine_cells_from_vector_tiles(
    page: Any, live_server: str, chair: Any, owner_session_factory: Any
) -> None:
    errors = watch_errors(page)
    tiles: list[dict[str, Any]] = []

    def on_response(r: Any) -> None:
        if "/tiles/counts/" in r.url:
            tiles.append(
                {"url": r.url, "status": r.status, "type": r.headers.get("content-type", "")}
            )

    page.on("response", on_response)
    # Requests in the order the page makes them: a response can arrive after the next month
    # was chosen (waiting for "networkidle" returns at once once the page has loaded).
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/tiles/counts/" in r.url else None)
    browser_sign_in(page, live_server, chair, owner_session_factory)
    open_panel(page, live_server)
    assert not tiles, "no tiles before the layer is chosen"

    page.get_by_role("radio", name="Fine cells (tiles)").check()
    expect(page.locator("#pnl-legend-title")).to_have_text("Records per cell: fine cells")
    expect(page.locator("#pnl-legend-note")).to_contain_text(
        "Fine cells from vector tiles; cell size grows as you zoom out"
        " (about 0.1 km² when zoomed in)"
    )
    expect(page.locator("#pnl-legend-items li")).to_have_count(6)  # 5 classes and "None"
    expect(page.locator(".leaflet-pnl-tiles-pane .leaflet-tile-loaded").first).to_be_attached(
        timeout=15_000
    )
    page.wait_for_load_state("networkidle")
    assert tiles, "no vector tile was requested"
    ok = [t for t in tiles if t["status"] == 200]
    assert ok, tiles
    assert all(t["type"].startswith("application/vnd.mapbox-vector-tile") for t in ok), ok
    latest = month_label(page)
    first_from = re.search(r"[?&]from=(\d{4}-\d{2})", ok[0]["url"])
    assert first_from, ok[0]["url"]
    # The GeoJSON cells are off the map; something is drawn on the tiles' canvases.
    expect(page.locator('path[data-kind="cell"]')).to_have_count(0)
    # VectorGrid draws each tile as an SVG (or, with another renderer, a canvas).
    filled = page.locator(
        ".leaflet-pnl-tiles-pane svg path[fill-opacity='0.72'], .leaflet-pnl-tiles-pane canvas"
    )
    assert filled.count() > 0, "the vector tiles drew nothing"
    screenshot(page, "panel-tiles")

    # The slider asks for the new month's tiles.
    seen, seen_asked = len(tiles), len(asked)
    slider = page.get_by_label("Month", exact=True)
    slider.focus()
    page.keyboard.press("Home")
    expect(page.locator("#pnl-month-label")).not_to_have_text(latest)
    expect(page.locator(".leaflet-pnl-tiles-pane .leaflet-tile-loaded").first).to_be_attached(
        timeout=15_000
    )
    page.wait_for_load_state("networkidle")
    later = tiles[seen:]
    assert asked[seen_asked:], "moving the slider requested no tiles"
    froms = {
        m.group(1) for u in asked[seen_asked:] if (m := re.search(r"[?&]from=(\d{4}-\d{2})", u))
    }
    assert froms and first_from.group(1) not in froms, froms
    assert all(t["status"] == 200 for t in later), later

    # Hovering a drawn cell shows its count; at this zoom the tiles' cells are the Counts
    # layer's, so a click opens the same sparkline.
    spot = page.evaluate(
        """() => {
          const m = document.getElementById('pnl-map').getBoundingClientRect();
          const paths = document.querySelectorAll(
            ".leaflet-pnl-tiles-pane svg path[fill-opacity='0.72']");
          for (const p of paths) {
            const b = p.getBoundingClientRect();
            const x = b.x + b.width / 2, y = b.y + b.height / 2;
            if (x > m.left + 60 && x < m.right - 60 && y > m.top + 60 && y < m.bottom - 60 &&
                document.elementFromPoint(x, y) === p) return [x, y];
          }
          return null;
        }"""
    )
    assert spot, "no drawn cell to point at"
    page.mouse.move(spot[0], spot[1])
    expect(page.locator(".pnl-tooltip")).to_contain_text(re.compile(r"\d+ records? in "))
    page.mouse.click(spot[0], spot[1])
    expect(page.locator("#pnl-selected-title")).to_contain_text("Selected: Cell")
    expect(page.locator("#pnl-spark svg circle")).to_have_count(13)
    assert not errors, errors


def test_phone_layout(phone: Any, live_server: str, chair: Any, owner_session_factory: Any) -> None:
    errors = watch_errors(phone)
    browser_sign_in(phone, live_server, chair, owner_session_factory)
    open_panel(phone, live_server)
    map_box = phone.locator("#pnl-map").bounding_box()
    slider_box = phone.locator("#pnl-month").bounding_box()
    assert map_box["y"] < slider_box["y"], "map on top, the controls below"
    assert map_box["width"] >= PHONE["width"] - 2
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"
    screenshot(phone, "panel-390")
    phone.locator("#pnl-legend").scroll_into_view_if_needed()
    screenshot(phone, "panel-390-legend")
    phone.locator("#pnl-watch").scroll_into_view_if_needed()
    screenshot(phone, "panel-390-changes")
    assert not errors, errors


def test_print_view(page: Any, live_server: str, chair: Any, owner_session_factory: Any) -> None:
    errors = watch_errors(page)
    browser_sign_in(page, live_server, chair, owner_session_factory)
    open_panel(page, live_server)
    page.get_by_role("link", name="Print view").click()
    page.wait_for_url(re.compile(r"/panel/print\?"))
    page.wait_for_selector("body[data-panel-ready='1']", timeout=30_000)
    expect(page.locator("#pnl-print-month")).to_have_text(MONTH_NAME)
    expect(page.locator("#pnl-legend-title")).to_have_text("Records per cell")
    expect(page.locator("#pnl-precision")).to_contain_text("Cells of about 0.74 km²")
    expect(page.locator("#pnl-watch li").first).to_be_visible()
    expect(page.locator(".pnl-mark__text")).to_have_count(page.locator("#pnl-watch li").count())
    expect(page.locator("#pnl-contexts tr").first).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    screenshot(page, "panel-print")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1047, "height": 703})  # the sheet inside its margins
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "panel-print-media.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (ARTIFACTS / "panel-print.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, f"the pack runs to {pages} A4 pages"
    assert not errors, errors


def test_trainer_is_refused(
    page: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    trainer = make_user("police", "trainer")
    browser_sign_in(page, live_server, trainer, owner_session_factory)
    for path in ("/panel", "/panel/print"):
        response = page.goto(live_server + path)
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("link", name="Panel", exact=True)).to_have_count(0)


def test_an_agency_without_records_gets_an_empty_panel(
    page: Any, live_server: str, make_agency: Any, make_user: Any, owner_session_factory: Any
) -> None:
    slug = make_agency("police", "Quiet agency")
    errors = watch_errors(page)
    browser_sign_in(page, live_server, make_user(slug, "panel_chair"), owner_session_factory)
    open_panel(page, live_server)
    expect(page.locator("#pnl-total")).to_have_text("Total this month: 0 records in 0 cells.")
    expect(page.locator("#pnl-watch-empty")).to_be_visible()
    expect(page.locator("#pnl-contexts-empty")).to_be_visible()
    page.get_by_role("radio", name="Trends").check()
    expect(page.locator("#pnl-legend-title")).to_have_text("Trends: emerging hot spots")
    assert not errors, errors
