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
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import TestUser, pg_url
from tests.e2e.conftest import Watched
from tests.integration.test_packs import Forms
from webmap.features.layers.queries import add_months
from webmap.features.packs.service import today
from webmap.features.reference.boundaries import import_boundaries

pytestmark = pytest.mark.e2e

MARK = (
    "<img src=x onerror=window.__xss=1><b class=xss-injected>x</b><script>window.__xss=1</script>"
)
QUOTE = "\"'><svg onload=window.__xss=1>"
SHORT = "<img src=x onerror=window.__xss=1><b class=xss-injected>x</b>"  # fits 64 characters
#: Markup as a JavaScript escape: plain text, unless a name is pasted into a script's string.
JS_ESCAPED = r"\x3cimg src=x onerror=window.__xss=1\x3e"


def planted_names(uid: str) -> dict[str, str]:
    """Every name this module plants: each unique to the run, each carrying markup."""
    return {
        # the boundary import
        "set": f"Zz markup {uid} {MARK}",
        "west": f"West {uid} {MARK}",
        "east": f"East {uid} {QUOTE}",
        # the admin forms
        "source": f"Source {uid} {MARK}",
        "recipient": f"Recipient {uid} {QUOTE}",
        "panel": f"Panel {uid} {MARK}",
        "person": f"Analyst {uid} {MARK}",
        # records (the vehicle's make, model and colour are SHORT and QUOTE)
        "hub": f"Hub {uid} {JS_ESCAPED} {MARK}",
        "route": f"Route {uid} {QUOTE} {SHORT}",
        "private": f"Private {uid} {QUOTE} {MARK}",
        "operator": f"Operator {uid} {QUOTE}",
        "note": f"Note {uid} {MARK} {QUOTE}",
        # shares
        "purpose": f"Purpose {uid} {MARK}",
        "basis": f"Basis {QUOTE}",
        "agreement": f"ISA {MARK}",
        "external": f"External {uid} {MARK}",
        "organisation": f"Organisation {uid} {QUOTE}",
        # briefing packs
        "area_signs": f"Area signs {uid}: {QUOTE} {MARK}",
        "title": f"Pack {uid} {MARK}",
        "pack_for": f"Pack recipient {uid} {QUOTE}",
        "pack_org": f"Pack organisation {uid} {MARK}",
        "signs": f"Signs {uid}: {MARK} {QUOTE}",
        "report": f"Call 999. {QUOTE} {MARK}",
    }


@dataclass
class World:
    uid: str
    names: dict[str, str]
    analyst: TestUser  # of the source agency; made through the admin form (name: "person")
    recipient: TestUser  # an analyst of the agency on the panel with the source
    admin: TestUser
    set_slug: str
    areas: list[str]  # west, east
    records: list[str]  # /records/<kind>/<id>
    shares: dict[str, str]  # panel, external, pack -> share id
    link: str  # /s/<token> of the external share
    pack_id: str
    pack_html: Path
    pack_pdf: bytes


def _external(name: str, organisation: str) -> dict[str, str]:
    """A named external recipient: its name and its organisation."""
    return {
        "recipient_kind": "external",
        "external_name": name,
        "external_organisation": organisation,
    }


def _ok(resp: Any, status: int = 201) -> Any:
    assert resp.status_code == status, resp.get_data(as_text=True)[-2000:]
    return resp


def _scalar(owner_session_factory: Any, sql: str, **params: Any) -> Any:
    """One value, read as the owner."""
    with owner_session_factory() as s:
        return s.execute(text(sql), params).scalar_one()


def _import_areas(owner_url: str, n: dict[str, str]) -> tuple[str, list[str], tuple[float, float]]:
    """Two areas over the demo town, with markup in their names and a code, imported as the
    owner (there is no import form). Returns the set's slug, the area ids (west, east) and a
    spot on land for the records."""
    with psycopg.connect(pg_url(owner_url)) as conn:
        wards = (
            "FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
            " WHERE b.slug = 'wards' AND b.is_current"
        )
        x0, y0, x1, y1, lon, lat = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), ST_X(p), ST_Y(p) FROM"
            f" (SELECT ST_Extent(a.geom) AS e {wards}) t,"
            f" (SELECT ST_PointOnSurface(a.geom) AS p {wards} ORDER BY a.code LIMIT 1) s"
        ).fetchone()  # type: ignore[misc]
        mid = (x0 + x1) / 2
        frame = gpd.GeoDataFrame(
            {"code": [f"XW {QUOTE}", "XE"], "name": [n["west"], n["east"]]},
            geometry=[box(x0 - 0.01, y0 - 0.01, mid, y1 + 0.01),
                      box(mid, y0 - 0.01, x1 + 0.01, y1 + 0.01)],
            crs=4326,
        )  # fmt: skip
        engine = create_engine(owner_url)
        with Session(engine) as owner:  # the import service, as the CLI runs it
            slug = import_boundaries(owner, frame, n["set"], kind="other").set_slug
            owner.commit()
        engine.dispose()
        areas = conn.execute(
            "SELECT a.id::text FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
            " WHERE b.slug = %s AND b.is_current ORDER BY a.code DESC",
            (slug,),
        ).fetchall()
    return slug, [a for (a,) in areas], (float(lon), float(lat))


def _directory(admin: Forms, n: dict[str, str], uid: str, owners: Any) -> tuple[str, TestUser]:
    """The agencies, the panel and the analyst, made by a system admin through the forms;
    returns the panel's id and the analyst (given a second factor to sign in with)."""
    ids = []
    for key, kind in (("source", "vcse"), ("recipient", "health")):
        form = {"name": n[key], "slug": f"xss-{key}-{uid}", "kind": kind}
        _ok(admin.post("/admin/agencies", form), 302)
        ids.append(str(_scalar(owners, "SELECT id FROM agency WHERE slug = :s", s=form["slug"])))
    _ok(admin.post("/admin/panels", {"name": n["panel"], "kind": "ldsm", "members": ids}), 302)
    email, password = f"analyst.{uid}@xss.test.example", f"long enough password {uid}"
    form = {"display_name": n["person"], "email": email, "role": "analyst",
            "agency_id": ids[0], "password": password}  # fmt: skip
    user_id = _ok(admin.post("/admin/users", form), 302).headers["Location"].rsplit("/", 1)[1]
    secret = pyotp.random_base32()
    with owners() as s:
        s.execute(
            text("UPDATE app_user SET totp_secret = :t WHERE id = :id"),
            {"t": secret, "id": user_id},
        )
        s.commit()
    analyst = TestUser(uuid.UUID(user_id), uuid.UUID(ids[0]), f"xss-source-{uid}", "analyst",
                       email, password, secret)  # fmt: skip
    panel = _scalar(owners, "SELECT id::text FROM panel WHERE name = :n", n=n["panel"])
    return panel, analyst


def _records(
    a1: Forms, n: dict[str, str], spot: tuple[float, float], month: date
) -> dict[str, Any]:
    """Contexts (public and not), a vehicle, twelve observations in ``month`` at one spot (a
    tier C cell needs ten) and a sighting, recorded through the API."""
    lon, lat = spot

    def point(dx: float = 0.0) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [lon + dx, lat]}

    line = {"type": "LineString", "coordinates": [[lon - 0.004, lat], [lon + 0.004, lat + 0.002]]}
    bodies = {
        "hub": {"kind": "transport_hub", "name": n["hub"], "public_place": True,
                "geometry": point()},
        "route": {"kind": "transport_route", "name": n["route"], "public_place": True,
                  "geometry": line, "operator": n["operator"], "route_name": f"R {QUOTE}"},
        "private": {"kind": "hotspot", "name": n["private"], "geometry": point(5e-4)},
    }  # fmt: skip
    ids = {k: _ok(a1("POST", "/api/v1/contexts", v)).get_json()["id"] for k, v in bodies.items()}
    paths = [f"/records/context/{c}" for c in ids.values()]
    mark = f"XS{uuid.uuid4().hex[:5]}".upper()
    vehicle = {"registration_mark": mark, "make": SHORT, "model": QUOTE, "colour": QUOTE}
    vehicle_id = _ok(a1("POST", "/api/v1/vehicles", vehicle)).get_json()["id"]
    when = datetime(month.year, month.month, 10, 18, tzinfo=UTC)
    for i in range(12):
        body = {"occurred_at": (when + timedelta(hours=i)).isoformat(), "geometry": point(i * 1e-5),
                "category": "suspected_drug_running", "note": f"{n['note']} {i}",
                "context_id": ids["hub"]}  # fmt: skip
        obs = _ok(a1("POST", "/api/v1/observations", body)).get_json()["id"]
        paths += [f"/records/observation/{obs}"] if i == 0 else []
    body = {"vehicle_id": vehicle_id, "occurred_at": when.isoformat(), "geometry": point(),
            "note": n["note"]}  # fmt: skip
    paths.append(
        f"/records/observation/{_ok(a1('POST', '/api/v1/sightings', body)).get_json()['id']}"
    )
    return {"contexts": ids, "paths": paths}


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
    n = planted_names(uid)
    set_slug, areas, spot = _import_areas(test_db["owner"], n)

    def client(user: TestUser) -> Forms:
        return Forms(sign_in(app.test_client(), user), user)

    admin = make_user("police", "system_admin")
    panel_id, analyst = _directory(client(admin), n, uid, owner_session_factory)
    a1 = client(analyst)
    # A month of the quarter two back: closed, and published at tier C too.
    now = today()
    quarter = add_months(date(now.year, (now.month - 1) // 3 * 3 + 1, 1), -6)
    month = add_months(quarter, 1)
    planted = _records(a1, n, spot, month)

    # Tier B shares: to the panel (so to the recipient agency), and to an external recipient.
    terms = {"tier": "B", "areas": areas, "layers": ["observations", "contexts", "vehicles"],
             "period_from": month.strftime("%Y-%m"), "period_to": month.strftime("%Y-%m"),
             "purpose": n["purpose"], "lawful_basis": n["basis"], "agreement_ref": n["agreement"],
             "expires_on": (now + timedelta(days=60)).isoformat()}  # fmt: skip
    recipients = {
        "panel": {"recipient_kind": "panel", "panel_id": panel_id},
        "external": _external(n["external"], n["organisation"]),
    }
    shares = {
        k: _ok(a1("POST", "/api/v1/shares", {**terms, **v})).get_json()["id"]
        for k, v in recipients.items()
    }
    link = _ok(a1("GET", f"/api/v1/shares/{shares['external']}/link"), 200).get_json()["url"]

    # Wording for the west area, and a pack for a named recipient, approved by a second person.
    texts = {"area": areas[0], "signs": n["area_signs"], "how_to_report": f"Call 101. {MARK}"}
    _ok(a1.post("/packs/texts", texts), 302)
    pack = {**_external(n["pack_for"], n["pack_org"]), "title": n["title"],
            "marking": "OFFICIAL", "routes": [planted["contexts"]["route"]],
            "hubs": [planted["contexts"]["hub"]], "areas": areas,
            "period_from": quarter.strftime("%Y-%m"),
            "period_to": add_months(quarter, 2).strftime("%Y-%m"),
            "review_on": (now + timedelta(days=60)).isoformat(),
            "signs": n["signs"], "how_to_report": n["report"]}  # fmt: skip
    pack_id = _ok(a1.post("/packs/new", pack), 302).headers["Location"].rsplit("/", 1)[1]
    approver = client(make_user(analyst.agency_slug, "analyst"))
    decision = {"approve": "yes", "note": f"Checked {uid} {MARK}"}
    _ok(approver.post(f"/packs/{pack_id}/decision", decision), 302)
    found = re.search(
        r'https?://[^/"]+(/s/[^/"]+)/pack\.html', a1.get(f"/packs/{pack_id}").get_data(as_text=True)
    )
    assert found, "an approved pack for a named recipient has a link"
    pack_html = tmp_path_factory.mktemp("pack") / "pack.html"
    pack_html.write_bytes(_ok(app.test_client().get(found.group(1) + "/pack.html"), 200).data)
    sql = "SELECT share_id::text FROM briefing_pack WHERE id = :p"
    shares["pack"] = _scalar(owner_session_factory, sql, p=pack_id)
    yield World(
        uid=uid,
        names=n,
        analyst=analyst,
        recipient=make_user(f"xss-recipient-{uid}", "analyst"),
        admin=admin,
        set_slug=set_slug,
        areas=areas,
        records=planted["paths"],
        shares=shares,
        link=urlsplit(link).path,
        pack_id=pack_id,
        pack_html=pack_html,
        pack_pdf=_ok(app.test_client().get(found.group(1) + "/pack.pdf"), 200).data,
    )
    # The imported set leaves the maps again (the rest stays: other tests never count it).
    with owner_session_factory() as s:
        s.execute(
            text("UPDATE boundary_set SET is_current = false WHERE slug = :s"), {"s": set_slug}
        )
        s.commit()


MAP_READY = "body[data-map-ready='1']"


def _map_with_our_set(b: Watched, w: World, ready: str) -> str:
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


def test_every_signed_in_page_shows_names_as_text(world: World, watched: Any) -> None:
    w, n = world, world.names

    # The source agency's analyst: its own records, shares, packs and account.
    b = watched(w.analyst)
    tips = _map_with_our_set(b, w, MAP_READY + "[data-contexts-ready='1']")
    assert n["hub"] in tips and n["west"] in tips
    expect(b.page.locator(".site-user")).to_have_text(n["person"])
    b.open("/record", "body[data-record-ready='1']")
    b.check("record")
    options = b.text_of("#f-context_id option, #f-vehicle_id option")
    assert n["hub"] in options and SHORT in options
    b.open("/records", "body[data-records-ready='1']")
    b.check("records")
    assert f"Note {w.uid} {SHORT}" in b.text_of("#obs-rows")
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

    # The recipient agency: the shared layer on its map, the share page and the panel.
    b = watched(w.recipient)
    tips = _map_with_our_set(b, w, MAP_READY + "[data-shared-ready]")
    assert n["source"] in tips and n["hub"] in tips
    expect(b.page.locator(".cs-legend")).to_contain_text(n["source"])
    b.open("/shares")
    b.check("shares (recipient)")
    b.open(f"/shares/{w.shares['panel']}", "#share-map[data-ready='1']")
    b.page.select_option("#compare-b", w.set_slug)
    b.settle()
    # A real pointer over each area of the side-by-side map (SVG, so it can be aimed at).
    hovered: list[str] = []
    for area in b.page.locator("#compare-map-b path.leaflet-interactive").all():
        area.hover(force=True)
        hovered += b.page.locator("#compare-map-b .leaflet-tooltip").all_inner_texts()
    assert any(n["west"] in t for t in hovered) and any(n["east"] in t for t in hovered)
    assert n["hub"] in (tips := b.check("share (recipient)")) and n["east"] in tips
    assert n["purpose"] in b.text_of(".share-terms") and n["panel"] in b.text_of(".share-terms")
    b.open("/panel", "#pnl-shared[data-ready='1']")
    b.page.select_option("#compare-b", w.set_slug)
    b.settle()
    b.check("panel (recipient)")
    assert n["source"] in b.text_of("#pnl-share option")

    # The system admin: every admin page, and a rename that is flashed back.
    b = watched(w.admin)
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


def test_link_pages_and_the_offline_pack_show_names_as_text(world: World, watched: Any) -> None:
    w, n = world, world.names
    b = watched()
    b.open(w.link, "#share-map[data-ready='1']")
    assert n["hub"] in b.check("link page")
    expect(b.page.locator("h1")).to_contain_text(n["source"])

    # The offline pack, opened from disk with no network: it has no CSP to fall back on.
    b = watched()
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

    # The PDF prints the title as text (pdfium reads a hyphen that ends a line as U+FFFE).
    pdf = pdfium.PdfDocument(w.pack_pdf)
    words = "".join(p.get_textpage().get_text_range() for p in pdf).replace("\ufffe", "-")
    assert "".join(n["title"].split()) in "".join(words.split())
