"""Maps for keyboard and screen reader (issue 18): the map pans with the arrow keys and zooms
with + and −, a cell chosen on the panel's map hands focus to its details, and the month is
announced politely when the slider moves or Play runs — at most once a second, the last
value winning. (Every map's name, instructions and tab stop: test_every_page.py.)"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_map_tables import _signed_in

pytestmark = pytest.mark.e2e

VIEW_JS = "() => { const m = window.__maps[0]; const c = m.getCenter();"
VIEW_JS += " return [c.lat, c.lng, m.getZoom()]; }"

#: The map is still: no pan or zoom under way.
SETTLED_JS = """() => { const m = window.__maps[0];
  return !(m._panAnim && m._panAnim._inProgress) && !m._animatingZoom; }"""

#: Every change of the live region, with its time (one observer per page, however often run).
WATCH_ANNOUNCE_JS = """() => {
  const first = window.__said === undefined;
  window.__said = [];
  if (!first) return;
  const node = document.getElementById('pnl-announce');
  new MutationObserver(() => window.__said.push([performance.now(), node.textContent]))
    .observe(node, { childList: true, characterData: true, subtree: true });
}"""


def _opened(browser: Any, base: str, make_user: Any, owner: Any, who: tuple[str, str],
            path: str, ready: str) -> Any:  # fmt: skip
    page = _signed_in(browser, base, make_user, owner, who)
    page.goto(base + path)
    page.wait_for_selector(f"body[{ready}='1']", state="attached", timeout=30_000)
    return page


def test_the_map_pans_and_zooms_by_keyboard(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    page = _opened(browser, live_server, make_user, owner_session_factory, ("police", "analyst"),
                   "/", "data-map-ready")  # fmt: skip
    try:
        # Tab from the skip link and the menu reaches the map itself (a tab stop).
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "map":
                break
        assert page.evaluate("document.activeElement.id") == "map"
        lat, lng, zoom = page.evaluate(VIEW_JS)
        # Each key once the last move has ended (Leaflet ignores a pan key mid-pan).
        moves = (("ArrowRight", f"getCenter().lng > {lng}"),
                 ("ArrowUp", f"getCenter().lat > {lat}"),
                 ("+", f"getZoom() > {zoom}"), ("-", f"getZoom() <= {zoom}"))  # fmt: skip
        for key, moved in moves:
            page.wait_for_function(SETTLED_JS)
            page.keyboard.press(key)
            page.wait_for_function(f"() => window.__maps[0].{moved}")
    finally:
        page.context.close()


def test_a_chosen_cell_hands_focus_to_its_details_and_months_are_announced_calmly(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    page = _opened(browser, live_server, make_user, owner_session_factory,
                   ("police", "panel_chair"), "/panel", "data-panel-ready")  # fmt: skip
    try:
        page.locator('path[data-kind="cell"][tabindex="0"]').focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        expect(page.locator("#pnl-selected-title")).to_be_focused()
        expect(page.locator("#pnl-selected-title")).to_contain_text("Selected: Cell")

        # The slider, held down: five months in a moment, one or two announcements, the last
        # of them the month the slider stopped on.
        page.evaluate(WATCH_ANNOUNCE_JS)
        slider = page.locator("#pnl-month")
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowLeft")
        shown = page.locator("#pnl-month-label").inner_text()
        expect(page.locator("#pnl-announce")).to_contain_text(shown, timeout=5_000)
        page.wait_for_timeout(1_200)
        said = page.evaluate("window.__said")
        assert 1 <= len(said) <= 2, said
        assert said[-1][1].startswith(shown), said

        # Play: a month a second, each announced, never two within a second.
        page.evaluate(WATCH_ANNOUNCE_JS)
        page.get_by_role("button", name="Play").press("Enter")
        page.wait_for_timeout(3_500)
        page.get_by_role("button", name="Pause").press("Enter")
        said = page.evaluate("window.__said")
        assert len(said) >= 2, said
        gaps = [b[0] - a[0] for a, b in pairwise(said)]
        assert all(g >= 950 for g in gaps), said
        assert len({text for _, text in said}) == len(said), said  # each a new month
    finally:
        page.context.close()
