"""A table behind every map (issue 18): the panel's cells and areas, a share's published cells
and places, and the map page's shared layers, each as a real table whose numbers equal the
map's features — both read in the browser, the map's from Leaflet's own layers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

#: Before any page script: remember every Leaflet map made.
HOOK_MAPS_JS = """(() => {
  window.__maps = [];
  let leaflet;
  Object.defineProperty(window, 'L', { configurable: true, get: () => leaflet, set: (v) => {
    leaflet = v;
    const hook = function () { window.__maps.push(this); };
    if (v && v.Map && v.Map.addInitHook) v.Map.addInitHook(hook);
  } });
})();"""

#: The published cells and shared places every map draws: {cell|period: count} and places.
SHARED_ON_MAP_JS = """() => {
  const cells = {}; const places = [];
  window.__maps.forEach((map) => map.eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (!p) return;
    if (p.cell !== undefined && p.period !== undefined && p.count !== undefined)
      cells[p.cell + '|' + p.period] = String(p.count);
    else if (p.precise !== undefined) places.push(p.name);
  }));
  return { cells, places };
}"""

#: A table's rows: {data-key: [cell texts]}.
TABLE_JS = """(id) => Object.fromEntries(
  [...document.querySelectorAll(`#${id}-table tbody tr[data-key]`)]
    .map((tr) => [tr.dataset.key, [...tr.cells].map((c) => c.textContent)]))"""


AT_CENTRE = " (shown at its cell’s centre)"


def _open(page: Any, table: str) -> None:
    page.locator(f"#{table} > summary").click()
    page.wait_for_selector(f"#{table}[data-rows]", state="attached")


def _compare_shared(page: Any, table: str) -> dict[str, list[str]]:
    """Open the table; its published cells ({cell|period: count}; its keys are
    source|cell|period) and places must be the map's. Returns the table's rows."""
    _open(page, table)
    on_map = page.evaluate(SHARED_ON_MAP_JS)
    rows: dict[str, list[str]] = page.evaluate(TABLE_JS, table)
    cells = {k.split("|", 1)[1]: r[5] for k, r in rows.items() if r[1] == "Published cell"}
    places = [r[0].removesuffix(AT_CENTRE) for r in rows.values() if r[1] == "Shared place"]
    assert cells and cells == on_map["cells"], table
    assert sorted(places) == sorted(on_map["places"]), table
    return rows


def _signed_in(browser: Any, base: str, make_user: Any, owner: Any, who: tuple[str, str]) -> Any:
    user = make_user(*who)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(HOOK_MAPS_JS)
    page = context.new_page()
    browser_sign_in(page, base, user, owner)
    return page


def test_the_panel_table_equals_its_map(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    page = _signed_in(
        browser, live_server, make_user, owner_session_factory, ("police", "panel_chair")
    )
    try:
        page.goto(live_server + "/panel")
        page.wait_for_selector("body[data-panel-ready='1']", state="attached", timeout=30_000)
        # The panel opens on the last complete month; step back to the latest with records.
        for _ in range(12):
            if page.locator(".pnl-shape[data-kind='cell'][aria-label*=' 0 records']").count() < (
                page.locator(".pnl-shape[data-kind='cell']").count()
            ):
                break
            page.locator("#pnl-month").press("ArrowLeft")
            page.wait_for_load_state("networkidle")
        _open(page, "pnl-table")
        for layer, kind in (("Counts", "cell"), ("By area", "area")):
            page.get_by_role("radio", name=layer).check()
            page.wait_for_selector(f".pnl-shape[data-kind='{kind}']", state="attached")
            page.wait_for_load_state("networkidle")
            # The map: each coloured shape's label says its records ("…: 3 records in …").
            labels = page.eval_on_selector_all(
                f".pnl-shape[data-kind='{kind}']",
                "(ns) => ns.map((n) => [n.dataset.key, n.getAttribute('aria-label')])",
            )
            on_map = {}
            for key, label in labels:
                n = int(re.search(r": (\d+) records? in ", label).group(1))  # type: ignore[union-attr]
                if n or kind == "area":
                    on_map[key] = str(n)
            rows = page.evaluate(TABLE_JS, "pnl-table")
            records = 1 if kind == "area" else 2
            assert {k: r[records] for k, r in rows.items()} == on_map, layer
            assert on_map, f"{layer}: nothing on the map to compare"
            # Classes carry words, not colour alone: "High (12–20)", or "None".
            assert all(re.fullmatch(r"(Very low|Low|Medium|High|Very high) \(\d+(–\d+)?\)|None",
                                    r[records + 1]) for r in rows.values()), rows  # fmt: skip
            caption = page.locator("#pnl-table-table caption").inner_text()
            assert caption.startswith("Records per"), caption
    finally:
        page.context.close()


def test_a_share_table_and_the_map_pages_shared_table_equal_their_maps(
    browser: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    with owner_session_factory() as s:
        share = s.execute(
            text(
                "SELECT s.id FROM share s JOIN agency a ON a.id = s.from_agency_id"
                " AND a.slug = 'police' WHERE s.revoked_at IS NULL AND s.tier = 'B'"
                " ORDER BY s.created_at LIMIT 1"
            )
        ).scalar_one()
    people = {who: _signed_in(browser, live_server, make_user, owner_session_factory, who)
              for who in (("police", "analyst"), ("health", "practitioner"))}  # fmt: skip
    analyst, nurse = people[("police", "analyst")], people[("health", "practitioner")]
    try:
        analyst.goto(f"{live_server}/shares/{share}")
        analyst.wait_for_selector("#share-map[data-ready='1']", state="attached", timeout=30_000)
        rows = _compare_shared(analyst, "share-table")
        assert all(r[2] == "Wrenmouth Police" and r[3] == "B (partner)" for r in rows.values())

        # The map page: every layer shared with health, as drawn, in one table.
        nurse.goto(live_server + "/")
        nurse.wait_for_selector("body[data-shared-ready]", state="attached", timeout=30_000)
        rows = _compare_shared(nurse, "map-table")
        assert {r[3] for r in rows.values()} == {"B (partner)"}
        assert all(r[4] for r in rows.values())  # every row says its period
    finally:
        for page in people.values():
            page.context.close()
