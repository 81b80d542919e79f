"""Stored markup is never interpreted (issue 11, security finding 3).

Markup is planted in every name a user or an admin can write: through the real forms and API,
and as the owner where no form exists (a boundary import). Then every page and link page that
shows those names is opened in Chromium, with every tooltip of its maps opened and its layer
switcher and legend shown. Nothing may run (no dialog, ``window.__xss`` never set, no CSP
violation, no request for the planted ``<img src=x>``), no planted element may reach the DOM,
and where a name is shown its markup is shown as text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import psycopg
import pyotp
import pypdfium2 as pdfium
import pytest
from flask import Flask
from playwright.sync_api import expect
from shapely.geometry import box
from sqlalchemy import text

from tests.conftest import TestUser, pg_url
from tests.e2e.conftest import browser_sign_in
from tests.integration.test_packs import Forms
from webmap.services.boundaries import import_boundaries
from webmap.services.layers import add_months
from webmap.services.packs import today

pytestmark = pytest.mark.e2e

MARK = (
    "<img src=x onerror=window.__xss=1><b class=xss-injected>x</b><script>window.__xss=1</script>"
)
QUOTE = "\"'><svg onload=window.__xss=1>"
SHORT = "<img src=x onerror=window.__xss=1><b class=xss-injected>x</b>"  # fits 64 characters
#: Markup as a JavaScript escape: plain text, unless a name is pasted into a script's string.
JS_ESCAPED = r"\x3cimg src=x onerror=window.__xss=1\x3e"

#: Injected elements: the planted ones, and any inline handler (CSP forbids them anyway).
INJECTED = '.xss-injected, img[src="x"], [onerror], [onload]'

#: Before any page script: record every injected element as it is attached, every CSP
#: violation, and every Leaflet map made (to open all of its tooltips later).
WATCH_JS = """(() => {
  const SEL = '__SEL__';
  const seen = window.__xssSeen = [];
  const note = (n) => seen.push((n.outerHTML || String(n)).slice(0, 200));
  const planted = (n) => n.tagName === 'SCRIPT' && n.textContent.trim() === 'window.__xss=1';
  const scan = (n) => {
    if (n.nodeType !== 1) return;
    if (n.matches(SEL) || planted(n)) note(n);
    n.querySelectorAll(SEL).forEach(note);
  };
  new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach(scan)))
    .observe(document, { childList: true, subtree: true });
  document.addEventListener('securitypolicyviolation',
    (e) => seen.push('CSP ' + e.violatedDirective + ' ' + e.sample));
  window.__maps = [];
  const hook = function () { window.__maps.push(this); };
  let leaflet;
  Object.defineProperty(window, 'L', { configurable: true, get: () => leaflet, set: (v) => {
    leaflet = v;
    if (v && v.Map && v.Map.addInitHook) v.Map.addInitHook(hook);
  } });
})();""".replace("__SEL__", INJECTED.replace("'", "\\'"))


#: Open (and close again) every tooltip and popup of every map; their texts as shown.
OPEN_ALL_JS = """() => {
  const texts = [];
  const show = (layer, get, open, close, isOpen) => {
    const item = layer[get] && layer[get]();
    if (!item) return;
    const was = layer[isOpen]();
    try { layer[open](); } catch (e) { return; }
    const node = item.getElement && item.getElement();
    if (node) texts.push(node.textContent);
    if (!was) layer[close]();
  };
  (window.__maps || []).forEach((map) => map.eachLayer((layer) => {
    show(layer, 'getTooltip', 'openTooltip', 'closeTooltip', 'isTooltipOpen');
    show(layer, 'getPopup', 'openPopup', 'closePopup', 'isPopupOpen');
  }));
  return texts;
}"""

STATE_JS = """(sel) => ({ xss: typeof window.__xss, seen: window.__xssSeen || [],
  now: Array.from(document.querySelectorAll(sel)).map((n) => n.outerHTML.slice(0, 200)) })"""


@dataclass
class World:
    uid: str
    analyst: TestUser  # of the source agency; their display name carries markup
    recipient: TestUser  # an analyst of the agency that shares a panel with the source
    admin: TestUser
    names: dict[str, str]
    areas: list[str]
    set_slug: str
    records: list[str]  # /records/<kind>/<id> paths
    shares: dict[str, str]
    link: str  # /s/<token> of the external share
    pack_id: str
    pack_html: Path
    pack_pdf: bytes


def _ok(resp: Any, status: int = 201) -> Any:
    assert resp.status_code == status, resp.get_data(as_text=True)[-2000:]
    return resp


def _totp_user(owner_session_factory: Any, user_id: str, email: str, password: str) -> TestUser:
    """A user made through the admin form, given a second factor so the browser can sign in."""
    secret = pyotp.random_base32()
    with owner_session_factory() as s:
        s.execute(
            text("UPDATE app_user SET totp_secret = :t WHERE id = :id"),
            {"t": secret, "id": user_id},
        )
        agency = s.execute(
            text("SELECT a.id, a.slug, u.role::text FROM app_user u JOIN agency a"
                 " ON a.id = u.agency_id WHERE u.id = :id"),
            {"id": user_id},
        ).one()  # fmt: skip
        s.commit()
    return TestUser(uuid.UUID(user_id), agency[0], agency[1], agency[2], email, password, secret)


def _import_areas(
    owner_url: str, uid: str
) -> tuple[str, list[str], dict[str, str], tuple[float, float]]:
    """A two-area boundary set over the demo town whose names and codes carry markup, imported
    as the owner (there is no import form). Returns its slug, area ids (west first), their
    names, and a spot on land for the records."""
    with psycopg.connect(pg_url(owner_url)) as conn:
        x0, y0, x1, y1 = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(a.geom)"
            " AS e FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
            " WHERE b.slug = 'wards' AND b.is_current) t"
        ).fetchone()  # type: ignore[misc]
        mid = (x0 + x1) / 2
        names = {"set": f"Zz markup {uid} {MARK}", "west": f"West {uid} {MARK}"}
        names["east"] = f"East {uid} {QUOTE}"
        frame = gpd.GeoDataFrame(
            {"code": [f"XW{uid[:4]} {QUOTE}", f"XE{uid[:4]}"],
             "name": [names["west"], names["east"]]},
            geometry=[box(x0 - 0.01, y0 - 0.01, mid, y1 + 0.01),
                      box(mid, y0 - 0.01, x1 + 0.01, y1 + 0.01)],
            crs=4326,
        )  # fmt: skip
        report = import_boundaries(conn, frame, names["set"], kind="other")
        conn.commit()
        areas = [
            str(i)
            for (i,) in conn.execute(
                "SELECT a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
                " WHERE b.slug = %s AND b.is_current ORDER BY a.code DESC",
                (report.set_slug,),
            )
        ]
        spot = conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(a.geom) p FROM area a"
            " JOIN boundary_set b ON b.id = a.boundary_set_id WHERE b.slug = 'wards'"
            " AND b.is_current ORDER BY a.code LIMIT 1) t"
        ).fetchone()  # type: ignore[misc]
    return report.set_slug, areas, names, (float(spot[0]), float(spot[1]))


def _scalar(owner_session_factory: Any, sql: str, **params: Any) -> str:
    """One value, read as the owner."""
    with owner_session_factory() as s:
        return str(s.execute(text(sql), params).scalar_one())


@pytest.fixture(scope="module")
def world(
    app: Flask,
    make_user: Any,
    sign_in: Any,
    owner_session_factory: Any,
    test_db: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    uid = uuid.uuid4().hex[:8]
    set_slug, areas, names, (lon, lat) = _import_areas(test_db["owner"], uid)

    # A system admin makes the agencies, the panel and a user through the admin forms.
    admin_user = make_user("police", "system_admin")
    admin = Forms(sign_in(app.test_client(), admin_user), admin_user)
    names |= {"source": f"Source {uid} {MARK}", "recipient": f"Recipient {uid} {QUOTE}"}
    ids = {}
    for key, kind in (("source", "vcse"), ("recipient", "health")):
        form = {"name": names[key], "slug": f"xss-{key}-{uid}", "kind": kind}
        _ok(admin.post("/admin/agencies", form), 302)
        ids[key] = _scalar(
            owner_session_factory, "SELECT id FROM agency WHERE slug = :s", s=form["slug"]
        )
    names["panel"] = f"Panel {uid} {MARK}"
    form = {"name": names["panel"], "kind": "ldsm", "members": [ids["source"], ids["recipient"]]}
    _ok(admin.post("/admin/panels", form), 302)
    names["person"] = f"Analyst {uid} {MARK}"
    email, password = f"analyst.{uid}@xss.test.example", f"long enough password {uid}"
    made = admin.post(
        "/admin/users",
        {"display_name": names["person"], "email": email, "role": "analyst",
         "agency_id": ids["source"], "password": password},
    )  # fmt: skip
    user_id = _ok(made, 302).headers["Location"].rsplit("/", 1)[1]
    analyst = _totp_user(owner_session_factory, user_id, email, password)
    a1 = Forms(sign_in(app.test_client(), analyst), analyst)

    # The analyst records contexts, a vehicle, observations and a sighting through the API.
    def point(dx: float = 0.0) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [lon + dx, lat]}

    names |= {
        "hub": f"Hub {uid} {JS_ESCAPED} {MARK}",
        "route": f"Route {uid} {QUOTE} {SHORT}",
        "private": f"Private {uid} {QUOTE} {MARK}",
        "operator": f"Operator {uid} {QUOTE}",
    }
    line = {"type": "LineString", "coordinates": [[lon - 0.004, lat], [lon + 0.004, lat + 0.002]]}
    contexts = {
        key: _ok(a1("POST", "/api/v1/contexts", body)).get_json()["id"]
        for key, body in (
            ("hub", {"kind": "transport_hub", "name": names["hub"], "public_place": True,
                     "geometry": point()}),
            ("route", {"kind": "transport_route", "name": names["route"], "public_place": True,
                       "geometry": line, "operator": names["operator"],
                       "route_name": f"R{uid[:4]} {QUOTE}"}),
            ("private", {"kind": "hotspot", "name": names["private"], "geometry": point(5e-4)}),
        )
    }  # fmt: skip
    vehicle = {"registration_mark": f"XS{uid[:6]}".upper(), "make": SHORT, "model": QUOTE}
    vehicle_id = _ok(a1("POST", "/api/v1/vehicles", {**vehicle, "colour": QUOTE})).get_json()["id"]
    # A month of a quarter that tier C publishes (two quarters back), enough for k = 10.
    now = today()
    quarter = add_months(date(now.year, (now.month - 1) // 3 * 3 + 1, 1), -6)
    month = add_months(quarter, 1)
    when = datetime(month.year, month.month, 10, 18, tzinfo=UTC)
    records = [f"/records/context/{c}" for c in contexts.values()]
    for i in range(12):
        body = {"occurred_at": (when + timedelta(hours=i)).isoformat(), "geometry": point(i * 1e-5),
                "category": "suspected_drug_running", "note": f"Note {uid}-{i} {MARK} {QUOTE}",
                "context_id": contexts["hub"]}  # fmt: skip
        obs = _ok(a1("POST", "/api/v1/observations", body)).get_json()["id"]
        records += [f"/records/observation/{obs}"] if i == 0 else []
    sighting = {"vehicle_id": vehicle_id, "occurred_at": when.isoformat(), "geometry": point(),
                "note": f"Sighting {uid} {MARK}"}  # fmt: skip
    records.append(
        f"/records/observation/{_ok(a1('POST', '/api/v1/sightings', sighting)).get_json()['id']}"
    )

    # Tier B shares: to the panel (so to the recipient agency), and to an external recipient.
    names |= {"purpose": f"Purpose {uid} {MARK}", "agreement": f"ISA {MARK}"}
    names["external"] = f"External {uid} {MARK}"
    terms = {"tier": "B", "areas": areas, "layers": ["observations", "contexts", "vehicles"],
             "period_from": month.strftime("%Y-%m"), "period_to": month.strftime("%Y-%m"),
             "purpose": names["purpose"], "lawful_basis": f"Basis {QUOTE}",
             "agreement_ref": names["agreement"],
             "expires_on": (now + timedelta(days=60)).isoformat()}  # fmt: skip
    panel_id = _scalar(
        owner_session_factory, "SELECT id FROM panel WHERE name = :n", n=names["panel"]
    )
    shares = {
        "panel": {**terms, "recipient_kind": "panel", "panel_id": panel_id},
        "external": {**terms, "recipient_kind": "external", "external_name": names["external"]},
    }
    shares = {k: _ok(a1("POST", "/api/v1/shares", v)).get_json()["id"] for k, v in shares.items()}
    link = _ok(a1("GET", f"/api/v1/shares/{shares['external']}/link"), 200).get_json()["url"]

    # Wording for one area, and a pack to a named recipient, approved by a second person.
    names |= {"area_signs": f"Area signs {uid}: {QUOTE} {MARK}", "title": f"Pack {uid} {MARK}"}
    texts = {"area": areas[0], "signs": names["area_signs"], "how_to_report": f"Call 101. {MARK}"}
    _ok(a1.post("/packs/texts", texts), 302)
    names["pack_for"] = f"Pack recipient {uid} {QUOTE}"
    pack = {"recipient_kind": "external", "external_name": names["pack_for"],
            "title": names["title"], "marking": "OFFICIAL", "routes": [contexts["route"]],
            "hubs": [contexts["hub"]], "areas": areas, "period_from": quarter.strftime("%Y-%m"),
            "period_to": add_months(quarter, 2).strftime("%Y-%m"),
            "review_on": (now + timedelta(days=60)).isoformat(),
            "signs": f"Signs {uid}: {MARK} {QUOTE}",
            "how_to_report": f"Call 999. {QUOTE} {MARK}"}  # fmt: skip
    location = _ok(a1.post("/packs/new", pack), 302).headers["Location"]
    pack_id = location.rsplit("/", 1)[1]
    approver_user = make_user(f"xss-source-{uid}", "analyst")
    approver = Forms(sign_in(app.test_client(), approver_user), approver_user)
    decision = {"approve": "yes", "note": f"Checked {uid} {MARK}"}
    _ok(approver.post(f"/packs/{pack_id}/decision", decision), 302)
    detail = a1.get(f"/packs/{pack_id}").get_data(as_text=True)
    found = re.search(r'https?://[^/"]+(/s/[^/"]+)/pack\.html', detail)
    assert found, "an approved pack for a named recipient has a link"
    anonymous = app.test_client()
    pack_html = tmp_path_factory.mktemp("pack") / "pack.html"
    pack_html.write_bytes(_ok(anonymous.get(found.group(1) + "/pack.html"), 200).data)
    pack_pdf = _ok(anonymous.get(found.group(1) + "/pack.pdf"), 200).data
    sql = "SELECT share_id FROM briefing_pack WHERE id = :p"
    shares["pack"] = _scalar(owner_session_factory, sql, p=pack_id)
    yield World(
        uid=uid,
        analyst=analyst,
        recipient=make_user(f"xss-recipient-{uid}", "analyst"),
        admin=admin_user,
        names=names,
        areas=areas,
        set_slug=set_slug,
        records=records,
        shares=shares,
        link=urlsplit(link).path,
        pack_id=pack_id,
        pack_html=pack_html,
        pack_pdf=pack_pdf,
    )
    # Only the set this module imported leaves the maps (other tests count what is shown).
    with owner_session_factory() as s:
        s.execute(
            text("UPDATE boundary_set SET is_current = false WHERE slug = :s"), {"s": set_slug}
        )
        s.commit()


# -- the browser ------------------------------------------------------------------------------


class Browsing:
    """A browser context that records anything run or injected by planted markup."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.add_init_script(WATCH_JS)
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # The planted <img src=x> asks for /x as soon as it is parsed, attached or not.
        self.context.on("request", self._request)

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def _request(self, request: Any) -> None:
        if urlsplit(request.url).path.endswith("/x"):
            self.problems.append(f"request for {request.url}")

    def open(self, path: str, ready: str | None = None) -> Any:
        self.page.goto(path if "://" in path else self.base + path)
        if ready:
            self.page.wait_for_selector(ready, state="attached", timeout=30_000)
        return self.page

    def settle(self) -> None:
        self.page.wait_for_load_state("networkidle")

    def check(self, where: str) -> str:
        """Open every tooltip of every map, then assert that nothing ran and nothing was
        injected; returns the tooltips' texts."""
        texts = self.page.evaluate(OPEN_ALL_JS)
        state = self.page.evaluate(STATE_JS, INJECTED)
        assert state["xss"] == "undefined", f"{where}: window.__xss was set"
        assert not state["seen"] and not state["now"], f"{where}: {state}"
        assert not self.problems, f"{where}: {self.problems}"
        return "\n".join(texts)

    def text_of(self, selector: str) -> str:
        """Every match's text (option labels and field values included)."""
        return str(
            self.page.evaluate(
                "(s) => Array.from(document.querySelectorAll(s))"
                ".map((n) => n.value !== undefined && n.tagName !== 'LI' ? n.value + ' ' +"
                " n.textContent : n.textContent).join('\\n')",
                selector,
            )
        )

    def close(self) -> None:
        self.context.close()


def browse_as(browser: Any, base: str, user: TestUser, owner_session_factory: Any) -> Browsing:
    b = Browsing(browser, base)
    browser_sign_in(b.page, base, user, owner_session_factory)
    return b


MAP_READY = "body[data-map-ready='1']"


def _map_with_our_set(b: Browsing, w: World, ready: str) -> str:
    """The map page: the planted set switched on in the layer switcher; the switcher, the
    legend and every tooltip checked."""
    b.open("/", ready)
    legend = b.page.locator(".cs-legend__toggle")
    legend.click()  # folded away, so that it does not cover the switcher
    switcher = b.page.locator(".leaflet-control-layers")
    switcher.hover()  # a collapsed switcher opens on hover
    label = switcher.locator("label", has_text=f"Zz markup {w.uid}")
    expect(label).to_contain_text(w.names["set"])
    label.locator("input").check()
    b.settle()
    legend.click()
    expect(b.page.locator(".cs-legend")).to_contain_text(w.names["set"])
    return b.check("map")


def test_every_signed_in_page_shows_names_as_text(
    world: World, browser: Any, live_server: str, owner_session_factory: Any
) -> None:
    w, n = world, world.names

    # The source agency's analyst: its own records, shares, packs and account.
    b = browse_as(browser, live_server, w.analyst, owner_session_factory)
    tips = _map_with_our_set(b, w, MAP_READY + "[data-contexts-ready='1']")
    assert n["hub"] in tips and n["west"] in tips
    expect(b.page.locator(".site-user")).to_have_text(n["person"])
    b.open("/record", "body[data-record-ready='1']")
    b.check("record")
    options = b.text_of("#f-context_id option, #f-vehicle_id option")
    assert n["hub"] in options and SHORT in options
    b.open("/records", "body[data-records-ready='1']")
    b.check("records")
    assert f"Note {w.uid}-0 {SHORT}" in b.text_of("#obs-rows")
    assert n["private"] in b.text_of("#ctx-rows")
    for path in w.records:
        b.open(path, "body[data-detail-ready='1']")
        b.check(path)
        assert w.uid in b.text_of("#detail-fields") and n["person"] in b.text_of("#history")
    b.open("/panel", "body[data-panel-ready='1']")
    b.page.check("input[name=pnl-layer][value=areas]")
    b.page.select_option("#pnl-set", w.set_slug)
    b.settle()
    assert n["west"] in b.check("panel")
    b.open("/panel/print", "body[data-panel-ready='1']")
    b.check("panel print")
    b.open("/shares")
    b.check("shares")
    b.open("/shares/new")
    b.check("new share")
    assert n["panel"] in b.text_of("form") and n["west"] in b.text_of("form")
    for key, to in (("panel", "panel"), ("external", "external"), ("pack", "pack_for")):
        b.open(f"/shares/{w.shares[key]}", "#share-map[data-ready='1']")
        b.check(f"share {key}")
        assert n["source"] in b.text_of(".share-terms") and n[to] in b.text_of(".share-terms")
    b.open("/packs")
    b.check("packs")
    assert n["title"] in b.text_of("main")
    b.open(f"/packs/{w.pack_id}")
    b.check("pack")
    assert n["title"] in b.text_of("main") and n["pack_for"] in b.text_of("main")
    assert n["hub"] in b.text_of("main") and n["person"] in b.text_of("main")
    b.open("/packs/new")
    b.page.locator("summary", has_text=f"Zz markup {w.uid}").click()
    b.page.check(f"input[name=areas][value='{w.areas[0]}']")
    expect(b.page.locator("#texts-note")).to_contain_text(n["west"])
    expect(b.page.locator("#f-signs")).to_have_value(n["area_signs"])
    b.check("new pack")
    b.open(f"/packs/texts?area={w.areas[0]}")
    expect(b.page.locator("#f-signs")).to_have_value(n["area_signs"])
    b.check("pack wording")
    b.open("/account/recovery-codes")
    b.check("recovery codes")
    b.close()

    # The recipient agency: the shared layer on its map, the share page and the panel.
    b = browse_as(browser, live_server, w.recipient, owner_session_factory)
    tips = _map_with_our_set(b, w, MAP_READY + "[data-shared-ready]")
    assert n["source"] in tips and n["hub"] in tips
    expect(b.page.locator(".cs-legend")).to_contain_text(n["source"])
    b.open("/shares")
    b.check("shares (recipient)")
    b.open(f"/shares/{w.shares['panel']}", "#share-map[data-ready='1']")
    b.page.select_option("#compare-b", w.set_slug)
    b.settle()
    assert n["hub"] in (tips := b.check("share (recipient)")) and n["east"] in tips
    assert n["purpose"] in b.text_of(".share-terms") and n["panel"] in b.text_of(".share-terms")
    b.open("/panel", "#pnl-shared[data-ready='1']")
    b.page.select_option("#compare-b", w.set_slug)
    b.settle()
    b.check("panel (recipient)")
    assert n["source"] in b.text_of("#pnl-share option")
    b.close()

    # The system admin: every admin page, and a rename that is flashed back.
    b = browse_as(browser, live_server, w.admin, owner_session_factory)
    for path in ("/admin/agencies", "/admin/panels", "/admin/users", "/admin/audit"):
        b.open(path)
        b.check(path)
    assert n["source"] in b.text_of("main")  # the audit filter lists agencies
    b.open(f"/admin/users/{w.analyst.id}")
    b.check("user")
    assert n["person"] in b.text_of("main")
    b.open("/admin/boundary-sets")
    form = b.page.locator("form", has=b.page.locator(f"input[value*='Zz markup {w.uid}']"))
    form.locator("input[name=name]").fill(f"Zz renamed {w.uid} {QUOTE} {MARK}")
    form.get_by_role("button").click()
    expect(b.page.locator(".flashes")).to_contain_text(f"Zz renamed {w.uid} {QUOTE} {MARK}")
    b.check("boundary sets")
    b.close()


def test_link_pages_and_the_offline_pack_show_names_as_text(
    world: World, browser: Any, live_server: str
) -> None:
    w, n = world, world.names
    b = Browsing(browser, live_server)
    b.open(w.link, "#share-map[data-ready='1']")
    assert n["hub"] in b.check("link page")
    expect(b.page.locator("h1")).to_contain_text(n["source"])
    b.close()

    # The offline pack, opened from disk with no network: it has no CSP to fall back on.
    b = Browsing(browser, live_server)
    b.context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:", "about:"))
            else (b.problems.append(f"request for {route.request.url}"), route.abort())
        ),
    )
    b.open(w.pack_html.as_uri(), ".leaflet-container")
    tips = b.check("offline pack")
    assert n["hub"] in tips  # the JavaScript escape too, as typed
    expect(b.page.locator("h1")).to_have_text(n["title"])
    assert n["pack_for"] in b.text_of(".pack-for")
    b.close()

    # The PDF prints the title as text (pdfium reads a hyphen that ends a line as U+FFFE).
    pdf = pdfium.PdfDocument(w.pack_pdf)
    words = "".join(p.get_textpage().get_text_range() for p in pdf).replace("\ufffe", "-")
    assert "".join(n["title"].split()) in "".join(words.split())
