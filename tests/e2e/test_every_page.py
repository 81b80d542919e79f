"""Every page at 390 and 1280 px (issue 13): no page scrolls sideways, every map states its
precision inside the viewport and uncovered, axe-core finds no WCAG 2.2 AA violation (issue
18), and a screenshot of each is saved under var/screenshots/ for a person to look at.

The list of pages is compared with the app's URL map, as the permission table is: a new
HTML page that is not here (or excluded, with the reason) fails the suite.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from tests.e2e import axe
from tests.e2e.conftest import browser_sign_in
from tests.e2e.test_packs import build_pack
from tests.integration import meetings_world as mw
from tests.integration.test_recording_api import Api

pytestmark = pytest.mark.e2e

SIZES = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 800}}

#: Routes that are not pages a person reads, and why.
NOT_PAGES = {
    "health.healthz": "JSON for monitoring",
    "metrics.metrics": "Prometheus text for monitoring",
    "ogc.landing": "JSON for GIS clients (OGC API – Features)",
    "ogc.api": "JSON for GIS clients (OGC API – Features)",
    "ogc.collections": "JSON for GIS clients (OGC API – Features)",
    "ogc.collection": "JSON for GIS clients (OGC API – Features)",
    "ogc.items": "JSON for GIS clients (OGC API – Features)",
    "ogc.item": "JSON for GIS clients (OGC API – Features)",
    "ogc.conformance": "JSON for GIS clients (OGC API – Features)",
    "packs.html": "a download (the offline pack)",
    "packs.pdf": "a download",
    "packs.preview": "an image inside the pack's page",
    "share_link.basemap": "data for the link page's map",
    "share_link.export": "a download",
    "share_link.layer": "data for the link page's map",
    "pack_link.html": "a download, by link",
    "pack_link.pdf": "a download, by link",
}


@dataclass
class Page:
    name: str  # the screenshot's name
    endpoint: str
    path: str
    who: str  # a key of `people`, or "anonymous"
    ready: str | None = None  # a selector that says the page's scripts are done
    map: str | None = None  # the map whose precision must be on screen


@dataclass
class World:
    people: dict[str, Any]
    pages: list[Page]


def _one(owner: Any, sql: str, **params: Any) -> str:
    with owner() as s:
        return str(s.execute(text(sql), params).scalar_one())


#: Readiness signals: the page's scripts have drawn what they draw.
MAP, PANEL, SHARE = (
    "body[data-map-ready='1']",
    "body[data-panel-ready='1']",
    "#share-map[data-ready='1']",
)
RECORD, RECORDS = "body[data-record-ready='1']", "body[data-records-ready='1']"
DETAIL = "body[data-detail-ready='1']"


def _police_ids(owner: Any) -> dict[str, str]:
    """A police observation, context, vehicle and standing tier B share to open."""
    police = "agency_id = (SELECT id FROM agency WHERE slug = 'police')"
    live = f"{police} AND deleted_at IS NULL"
    sql = {
        "obs": f"SELECT id FROM observation WHERE {live} AND vehicle_id IS NULL LIMIT 1",
        "ctx": f"SELECT id FROM context WHERE {live} ORDER BY name LIMIT 1",
        "veh": f"SELECT id FROM vehicle WHERE {police} LIMIT 1",
        "share": f"SELECT id FROM share WHERE from_{police} AND revoked_at IS NULL"
        " AND tier = 'B' ORDER BY created_at LIMIT 1",
        "area": "SELECT a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
        " AND b.is_current AND b.kind = 'council_ward' ORDER BY a.code LIMIT 1",
    }
    return {k: _one(owner, q) for k, q in sql.items()}


def _external_link(page: Any, base: str, area: str) -> str:
    """An external recipient's link (/s/<token>), made through the API as the analyst."""
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    terms = {
        "tier": "B", "recipient_kind": "external", "external_name": "Duty manager",
        "external_organisation": f"Every-page test {uuid.uuid4().hex[:8]}", "areas": [area],
        "layers": ["observations", "contexts"], "period_from": month, "period_to": month,
        "purpose": "Seeing every page at two widths", "lawful_basis": "Children Act 2004 s.11",
        "agreement_ref": "ISA-TEST-1",
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
    }  # fmt: skip
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    made = page.request.post(base + "/api/v1/shares", headers={"X-CSRFToken": token}, data=terms)
    assert made.status == 201, made.text()
    url = page.request.get(f"{base}/api/v1/shares/{made.json()['id']}/link").json()["url"]
    return re.sub(r"^https?://[^/]+", "", str(url))


def _meeting_ids(app: Flask, sign_in: Any, chair: Any, analyst: Any, m: mw.World) -> dict[str, str]:
    """A meeting with an agreed action, and a referral, on a panel of the test's own."""
    held_on = date.today().isoformat()
    api = Api(sign_in(app.test_client(), chair), chair)
    made = api("POST", f"/api/v1/panels/{m.panel_id}/meetings", {"held_on": held_on})
    assert made.status_code == 201, made.get_json()
    meeting = str(made.get_json()["id"])
    due = (date.today() + timedelta(days=20)).isoformat()
    action = api("POST", f"/api/v1/meetings/{meeting}/actions", {
        "four_p": "pursue", "title": "Patrols at the bus station on school nights",
        "owner_agency_id": m.agency_ids["police"], "due_on": due,
        "area_id": m.area_id})  # fmt: skip
    assert action.status_code == 201, action.get_json()
    refer = Api(sign_in(app.test_client(), analyst), analyst)
    referral = refer("POST", f"/api/v1/panels/{m.panel_id}/referrals", {
        "context_id": m.contexts[("police", "the qzxvbolt den")],
        "summary": "Older males meet children here most evenings after school.",
        "purpose": "Disruption", "lawful_basis": "Children Act 2004 s.11"})  # fmt: skip
    assert referral.status_code == 201, referral.get_json()
    return {"meeting": meeting, "action": str(action.get_json()["id"]),
            "referral": str(referral.get_json()["id"])}  # fmt: skip


@pytest.fixture(scope="module")
def world(
    app: Flask, browser: Any, live_server: str, make_user: Any, make_agency: Any, sign_in: Any,
    owner_session_factory: Any,
) -> World:  # fmt: skip
    roles = ("agency_admin", "analyst", "trainer", "practitioner", "panel_chair", "system_admin")
    people = {role: make_user("police", role) for role in roles}
    # The meeting pages, on a panel of this module's own (mw.build: new agencies).
    m = mw.build(make_agency, make_user, owner_session_factory)
    people["chair"] = mw.user(m, make_user, "police", "panel_chair")
    analyst = mw.user(m, make_user, "police", "analyst")
    meet = _meeting_ids(app, sign_in, people["chair"], analyst, m)
    panel = f"/meetings/panels/{m.panel_id}"
    ids = _police_ids(owner_session_factory)
    # A pack (through the trainer's form) and an external recipient's link.
    made = {}
    for who, make in (("trainer", build_pack), ("analyst", _external_link)):
        context = browser.new_context(viewport=SIZES[1280])
        page = context.new_page()
        browser_sign_in(page, live_server, people[who], owner_session_factory)
        made[who] = (
            make(page, live_server, ids["area"]) if who == "analyst" else make(page, live_server)
        )
        context.close()
    pack, link = made["trainer"], made["analyst"]
    obs, ctx, veh = ids["obs"], ids["ctx"], ids["veh"]
    user = str(people["practitioner"].id)
    pages = [
        Page("login", "auth.login", "/login", "anonymous"),
        Page("accessibility", "accessibility.statement", "/accessibility", "anonymous"),
        Page("login-code", "auth.second_factor", "/login/code", "password-only"),
        Page("login-enrol", "auth.enrol", "/login/enrol", "enrolling"),
        Page("map", "pages.map_page", "/", "agency_admin", MAP, "#map"),
        Page("record", "recording.record", "/record", "practitioner", RECORD, "#record-map"),
        Page("records", "recording.records", "/records", "practitioner", RECORDS, "#records-map"),
        Page("record-observation", "recording.record_detail", f"/records/observation/{obs}",
             "practitioner", DETAIL, "#detail-map"),
        Page("record-context", "recording.record_detail", f"/records/context/{ctx}",
             "practitioner", DETAIL, "#detail-map"),
        Page("record-vehicle", "recording.record_detail", f"/records/vehicle/{veh}",
             "practitioner", DETAIL),
        Page("panel", "panel.panel", "/panel", "panel_chair", PANEL, "#pnl-map"),
        Page("panel-print", "panel.print_view", "/panel/print", "panel_chair", PANEL, "#pnl-map"),
        Page("shares", "shares.index", "/shares", "analyst"),
        Page("shares-new", "shares.new", "/shares/new", "analyst"),
        Page("share", "shares.detail", f"/shares/{ids['share']}", "analyst", SHARE, "#share-map"),
        Page("share-link", "share_link.page", link, "anonymous", SHARE, "#share-map"),
        Page("packs", "packs.index", "/packs", "analyst"),
        Page("packs-new", "packs.new", "/packs/new", "trainer"),
        Page("packs-texts", "packs.texts", "/packs/texts", "trainer"),
        Page("pack", "packs.detail", f"/packs/{pack}", "analyst"),
        Page("sessions", "auth.sessions", "/account/sessions", "practitioner"),
        Page("recovery-codes", "auth.recovery_codes", "/account/recovery-codes", "practitioner"),
        Page("admin-users", "admin.users", "/admin/users", "agency_admin"),
        Page("admin-user", "admin.user_detail", f"/admin/users/{user}", "agency_admin"),
        Page("admin-audit", "admin.audit", "/admin/audit", "agency_admin"),
        Page("admin-agencies", "admin.agencies", "/admin/agencies", "system_admin"),
        Page("admin-panels", "admin.panels", "/admin/panels", "system_admin"),
        Page("admin-boundary-sets", "admin.boundary_sets", "/admin/boundary-sets", "system_admin"),
        Page("admin-boundary-compare", "admin.boundary_set_compare",
             "/admin/boundary-sets/wards/compare?from=1&to=1", "system_admin"),
        Page("tokens", "tokens.index", "/account/tokens", "analyst"),
        Page("meetings", "meetings.index", "/meetings", "chair"),
        Page("meetings-panel", "meetings.panel", panel, "chair"),
        Page("meetings-places", "meetings.places", f"{panel}/places", "chair"),
        Page("meetings-partnership", "meetings.partnership", f"{panel}/partnership", "chair"),
        Page("meeting", "meetings.meeting", f"/meetings/{meet['meeting']}", "chair"),
        Page("meetings-actions", "meetings.my_actions", "/meetings/actions", "chair"),
        Page("meetings-action", "meetings.action", f"/meetings/actions/{meet['action']}", "chair"),
        Page("meetings-referral", "meetings.referral", f"/meetings/referrals/{meet['referral']}",
             "chair"),
        Page("api-docs", "api.docs", "/api/v1/docs", "analyst"),
        Page("not-found", "", "/no-such-page", "analyst"),
    ]  # fmt: skip
    return World(people=people, pages=pages)


def test_every_page_is_on_the_list(app: Flask, world: World) -> None:
    """Every HTML page the app serves is looked at below, or excluded with its reason."""
    html_routes = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or set()) and not r.rule.startswith(("/api/", "/static", "/tiles"))
    } | {"api.docs"}
    listed = {p.endpoint for p in world.pages if p.endpoint}
    assert html_routes - listed - set(NOT_PAGES) == set(), "pages nobody looked at"
    assert listed <= html_routes and set(NOT_PAGES) <= html_routes


#: Where the map is on screen, its precision caption is too, and nothing covers it. (The
#: caption lets clicks through to the map, so it takes them for a moment to be found.)
PRECISION_JS = """(sel) => {
  const map = document.querySelector(sel);
  const caption = map && map.querySelector('.map-precision');
  if (!caption || !caption.textContent.trim()) return 'no precision caption';
  let r = caption.getBoundingClientRect();
  if (r.bottom > innerHeight || r.top < 0) {
    map.scrollIntoView({ block: 'start' });
    r = caption.getBoundingClientRect();
  }
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)
    return 'outside the viewport ' + JSON.stringify([r.left, r.top, r.right, r.bottom]);
  caption.style.pointerEvents = 'auto';
  const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  caption.style.pointerEvents = '';
  return caption.contains(at) ? '' : 'covered by ' + (at && (at.className || at.tagName));
}"""

#: Every map is named, says how to use it (aria-describedby → instructions on the page) and
#: takes focus for Leaflet's keys; a print map is a picture (role=img) and needs only a name.
MAPS_JS = r"""() => [...document.querySelectorAll('.leaflet-container')].map((m) => {
  const role = m.getAttribute('role'); const id = m.id || m.className;
  if (!['region', 'application', 'img'].includes(role)) return id + ': role ' + role;
  if (!(m.getAttribute('aria-label') || '').trim()) return id + ': no name';
  if (role === 'img') return '';
  const help = (m.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)
    .map((h) => document.getElementById(h)).filter((h) => h && /arrow keys/.test(h.textContent));
  if (!help.length) return id + ': no instructions';
  return m.tabIndex === 0 ? '' : id + ': not focusable';
}).filter(Boolean)"""

#: What is wider than its box, to say why a page scrolls sideways.
WIDE_JS = """() => [...document.querySelectorAll('main *')]
  .filter((n) => n.scrollWidth > n.clientWidth + 1 && n.clientWidth > 0)
  .filter((n) => getComputedStyle(n).overflowX === 'visible')
  .slice(0, 5).map((n) => `${n.tagName}.${n.className} ${n.scrollWidth}`)"""


def _open_as(browser: Any, base: str, world: World, who: str, size: int, owner: Any) -> Any:
    mobile = size == 390
    context = browser.new_context(viewport=SIZES[size], is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    # Script errors and CSP refusals, page by page (the favicon and the 404 page's own
    # status are not errors of a script).
    page.csmap_errors = []
    page.on("pageerror", lambda e: page.csmap_errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            page.csmap_errors.append(m.text)
            if m.type == "error" and "404" not in m.text and "favicon" not in m.text
            else None
        ),
    )
    if who in world.people:
        browser_sign_in(page, base, world.people[who], owner)
    return page


def _password_step(page: Any, base: str, user: Any) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("size", [390, 1280])
def test_every_page_fits_states_its_precision_and_passes_axe(
    browser: Any,
    live_server: str,
    world: World,
    make_user: Any,
    owner_session_factory: Any,
    settings: Any,
    size: int,
) -> None:
    shots = Path(settings.var_dir) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    pages: dict[str, Any] = {}
    try:
        for p in world.pages:
            if p.who not in pages:
                pages[p.who] = _open_as(
                    browser, live_server, world, p.who, size, owner_session_factory
                )
                if p.who == "password-only":
                    _password_step(pages[p.who], live_server, make_user("police", "practitioner"))
                elif p.who == "enrolling":
                    _password_step(
                        pages[p.who], live_server, make_user("police", "practitioner", totp=False)
                    )
            page = pages[p.who]
            if page.url != live_server + p.path:
                page.goto(live_server + p.path)
            if p.ready:
                page.wait_for_selector(p.ready, state="attached", timeout=30_000)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(150)  # fonts and the last paint
            if page.csmap_errors:
                problems.append(f"{p.name} at {size}: script errors {page.csmap_errors}")
                page.csmap_errors.clear()
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > size:
                wide = page.evaluate(WIDE_JS)
                problems.append(f"{p.name} at {size}: {width} px wide, scrolls sideways: {wide}")
            problems.extend(f"{p.name} at {size}: map {m}" for m in page.evaluate(MAPS_JS))
            if not page.locator("footer a[href='/accessibility']").count():
                problems.append(f"{p.name} at {size}: no link to the accessibility statement")
            if p.map:
                why = page.evaluate(PRECISION_JS, p.map)
                if why:
                    problems.append(f"{p.name} at {size}: precision {why}")
                page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots / f"{p.name}-{size}.png"), full_page=True)
            problems.extend(axe.violations(page, f"{p.name} at {size}"))
    finally:
        for page in pages.values():
            page.context.close()
    assert not problems, "\n".join(problems)
