"""Sharing in a real Chromium: a police analyst shares a tier B layer with the health agency
over the health area through the form; a health user sees it on the map with its source, tier
and precision statement, and the demo's single-child clusters are not visible; after the
analyst revokes it, it is gone from the health user's map and its layer answers 410."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from playwright.sync_api import expect

from spatial.cells import cell_key
from tests.e2e.conftest import ARTIFACTS, browser_sign_in, screenshot

pytestmark = pytest.mark.e2e

PRECISION = "Cells of about 0.74 km², counts under 5 hidden, by month."


def _shared_count(page: Any, base: str) -> int:
    page.goto(base + "/")
    page.wait_for_selector("body[data-shared-ready]", state="attached", timeout=30_000)
    return int(page.locator("body").get_attribute("data-shared-ready"))


def _cluster_cell_months(owner_conn: psycopg.Connection[Any], town: Any) -> set[tuple[str, str]]:
    """(res-8 cell, month) of each single-child cluster's police reports in which that child
    alone would be shown: fewer than 5 police reports or fewer than 3 young people."""
    found: set[tuple[str, str]] = set()
    for centre in town.single_child_clusters:
        cell = cell_key(centre.x, centre.y, 8)
        rows = owner_conn.execute(
            """SELECT to_char(o.occurred_at AT TIME ZONE 'Europe/London', 'YYYY-MM'),
                      count(*), count(DISTINCT r)
               FROM observation o JOIN agency a ON a.id = o.agency_id AND a.slug = 'police'
               LEFT JOIN LATERAL unnest(o.young_person_refs) r ON true
               WHERE o.cell_r8 = %s AND o.deleted_at IS NULL GROUP BY 1""",
            (cell,),
        ).fetchall()
        found |= {(str(cell), month) for month, n, people in rows if n < 5 or people < 3}
    return found


def test_share_with_health_seen_then_revoked(
    browser: Any,
    live_server: str,
    make_user: Any,
    owner_session_factory: Any,
    owner_conn: psycopg.Connection[Any],
    demo_town: Any,
) -> None:
    analyst, nurse = make_user("police", "analyst"), make_user("health", "practitioner")
    police_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    health_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    police, health = police_ctx.new_page(), health_ctx.new_page()
    browser_sign_in(police, live_server, analyst, owner_session_factory)
    browser_sign_in(health, live_server, nurse, owner_session_factory)
    before = _shared_count(health, live_server)

    # The analyst makes the share through the form.
    police.goto(live_server + "/shares/new")
    police.get_by_label("Wrenmouth West Community Health", exact=True).check()
    health_area = owner_conn.execute(
        """SELECT a.code || ' ' || a.name FROM agency_jurisdiction j JOIN area a ON a.id = j.area_id
           JOIN agency g ON g.id = j.agency_id AND g.slug = 'health' LIMIT 1"""
    ).fetchone()[0]  # type: ignore[index]
    police.locator("summary", has_text="health areas").click()
    police.get_by_label(health_area, exact=True).check()
    police.get_by_label("Purpose").fill("Joint MACE problem-solving in the health area")
    police.get_by_label("Lawful basis").fill("Children Act 2004 s.11")
    police.get_by_label("Information-sharing agreement reference").fill("ISA-E2E-1")
    screenshot(police, "share-new-form")
    police.get_by_role("button", name="Make share").click()
    police.wait_for_url(re.compile(r".*/shares/[0-9a-f-]{36}$"))
    share_url = police.url
    share_id = share_url.rsplit("/", 1)[1]
    expect(police.locator(".share-state").first).to_have_text("Active")
    police.wait_for_selector("#share-map[data-ready='1']", timeout=30_000)
    police.locator(".share-map-section").screenshot(path=str(ARTIFACTS / "share-map-desktop.png"))

    # The health user sees it on the map: labelled with source and tier, with the precision.
    with health.expect_response(re.compile(rf".*/api/v1/shares/{share_id}/layer$")) as resp_info:
        assert _shared_count(health, live_server) == before + 1
    doc = resp_info.value.json()
    legend = health.locator(".cs-legend")
    if health.locator(".cs-legend__toggle[aria-expanded='false']").count():
        health.locator(".cs-legend__toggle").click()
    expect(legend).to_contain_text("Wrenmouth Police · tier B (partner)")
    expect(legend).to_contain_text(PRECISION)
    screenshot(health, "share-health-map-phone")
    assert doc["precision"] == PRECISION and doc["features"]
    assert min(f["properties"]["count"] for f in doc["features"]) >= 5

    # The single-child clusters are not visible: no published cell-month in which one child
    # alone would stand out (and the demo does have such cell-months for police).
    hidden = _cluster_cell_months(owner_conn, demo_town)
    assert hidden, "the demo should hold a single-child cluster in police records"
    shown = {(f["properties"]["cell"], f["properties"]["period"]) for f in doc["features"]}
    assert not (shown & hidden)

    # The share page: the same layer by two boundary sets, side by side, equal totals.
    health.goto(share_url)
    health.wait_for_selector("#share-map[data-ready='1']", timeout=30_000)
    expect(health.locator("#share-precision")).to_contain_text(PRECISION)
    totals = health.locator(".compare-side[data-total]")
    expect(totals).to_have_count(2, timeout=30_000)
    a, b = (totals.nth(i).get_attribute("data-total") for i in range(2))
    assert a == b and int(a or 0) > 0
    screenshot(health, "share-page-phone")

    # Revoked: gone from the map on the next load, and the layer answers 410.
    police.get_by_label("Reason").fill("Problem-solving finished")
    police.get_by_role("button", name="Revoke share").click()
    expect(police.locator(".share-state").first).to_have_text("Revoked")
    assert _shared_count(health, live_server) == before
    gone = health.request.get(f"{live_server}/api/v1/shares/{share_id}/layer")
    assert gone.status == 410
    health.goto(share_url)
    expect(health.locator("main")).to_contain_text("no longer in force")
    police_ctx.close()
    health_ctx.close()


def test_panel_shows_a_shared_layer_by_two_boundary_sets(
    page: Any, live_server: str, make_user: Any, owner_session_factory: Any
) -> None:
    # Police sit on the MACE panel, to which children's social care shares its layer.
    chair = make_user("police", "panel_chair")
    browser_sign_in(page, live_server, chair, owner_session_factory)
    page.goto(live_server + "/panel")
    page.wait_for_selector("#pnl-shared[data-ready='1']", state="attached", timeout=30_000)
    expect(page.locator("#pnl-share option").first).to_contain_text("Children's Services")
    expect(page.locator("#pnl-share-precision")).to_contain_text(PRECISION)
    sides = page.locator("#pnl-shared .compare-side[data-total]")
    expect(sides).to_have_count(2, timeout=30_000)
    names = [page.locator(f"#compare-{s} option:checked").inner_text() for s in ("a", "b")]
    assert names == ["Wrenmouth council wards", "Wrenmouth Police neighbourhoods"]
    totals = [sides.nth(i).get_attribute("data-total") for i in range(2)]
    assert totals[0] == totals[1] and int(totals[0] or 0) > 0
    page.locator("#pnl-shared").scroll_into_view_if_needed()
    screenshot(page, "panel-shared-by-boundaries")
