"""Briefing packs against the real database: a police trainer makes a pack for the demo bus
operator over planted police records carrying sentinels; a second person approves it; the
stored PDF and offline page pass their own inspection and hold no sentinel, no vector map and
only tier C cells; a creator cannot approve, a rejection needs a comment, a withdrawn pack is
gone (410) by every path, an unrelated agency sees nothing (404), every step is audited, and
bad input names its field and writes nothing.

The source is a police force of this module's own, with its own public routes and hubs, and
its records are planted in the latest quarter tier C may publish today: the ledger publishes
each quarter once, so a force whose quarters other tests had read would show theirs."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pypdfium2 as pdfium
import pytest
from flask import Flask

from spatial.redaction import FLOORS, ObservationFact, PublishedCell, publish_cells
from tests import factories
from tests.conftest import TestUser
from tests.factories import add_observations, scatter
from tests.integration.sentinels import Sentinels, plant
from tests.integration.test_recording_api import Api
from webmap.features.layers.queries import add_months
from webmap.features.packs.build import disclosure_problems
from webmap.features.packs.content import DEFAULT_HOW_TO_REPORT, DEFAULT_SIGNS, PackContent
from webmap.features.packs.inspect import embedded_cells, inspect_html, inspect_pdf
from webmap.features.packs.service import quarters, today
from webmap.features.sharing.output import Publication

PLANTED = Sentinels("SENTINEL-NOTE-P7K", "YP-SENTP7", "ZZ98 PKS", "SENTINEL-FLAT-P7")
SENTINELS = PLANTED.strings()
#: In the south of the town (a ward the pack covers); 7 decimal places, which no shared
#: output carries, so a match would be a leak.
SPOT = (1.2061373, 54.5853117)


class Forms(Api):
    """The signed-in client, posting forms with the CSRF header as well."""

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data=data, headers={"X-CSRFToken": self.token})

    def get(self, url: str) -> Any:
        return self.client.get(url)


@pytest.fixture(scope="module")
def person(app: Flask, make_user: Any, sign_in: Any) -> Any:
    def make(agency: str = "police", role: str = "trainer") -> Forms:
        user: TestUser = make_user(agency, role)
        return Forms(sign_in(app.test_client(), user), user)

    return make


#: The two latest quarters tier C may publish today (newest first), and the form's months.
QUARTERS = quarters(2)
PERIOD_FROM = QUARTERS[1][0].strftime("%Y-%m")
PERIOD_TO = add_months(QUARTERS[0][1], -1).strftime("%Y-%m")


@pytest.fixture(scope="module")
def source(make_agency: Any, owner_session_factory: Any, person: Any) -> str:
    """A police force of this module's own: records scattered over the pack's two quarters,
    and public routes and hubs of its own for the pack to draw."""
    slug: str = make_agency("police", "Pack test")
    start = datetime.combine(QUARTERS[1][0], datetime.min.time(), UTC)
    add_observations(owner_session_factory, slug, scatter(SPOT, start, 6, 120, seed=21))
    analyst = person(slug, "analyst")
    for kind, name, geometry in (
        ("transport_route", "Harbour loop (test)", [[1.19, 54.58], [1.21, 54.6], [1.23, 54.6]]),
        ("transport_hub", "Harbour stop (test)", [1.2, 54.59]),
        ("transport_hub", "Market stop (test)", [1.21, 54.595]),
        ("transport_hub", "Station stop (test)", [1.22, 54.6]),
    ):
        body = {
            "kind": kind,
            "name": name,
            "public_place": True,
            "geometry": {
                "type": "LineString" if kind == "transport_route" else "Point",
                "coordinates": geometry,
            },
        }
        made = analyst("POST", "/api/v1/contexts", body)
        assert made.status_code == 201, made.get_json()
    return slug


@pytest.fixture(scope="module")
def places(owner_session_factory: Any, source: str) -> dict[str, Any]:
    from sqlalchemy import text

    with owner_session_factory() as s:
        rows = s.execute(
            text(
                "SELECT c.id, c.kind::text, c.public_place, a.slug FROM context c"
                " JOIN agency a ON a.id = c.agency_id WHERE c.deleted_at IS NULL"
                " AND c.kind IN ('transport_route', 'transport_hub') ORDER BY c.name"
            )
        ).all()
        wards = [
            str(i)
            for (i,) in s.execute(
                text(
                    "SELECT a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
                    " WHERE b.slug = 'wards' AND b.is_current ORDER BY a.code"
                )
            )
        ]

    def pick(kind: str, slug: str) -> list[str]:
        return [str(i) for i, k, public, a in rows if k == kind and a == slug and public]

    return {
        "routes": pick("transport_route", source),
        "hubs": pick("transport_hub", source),
        "bus_routes": pick("transport_route", "bus"),
        "wards": wards,
    }


def _form(places: dict[str, Any], **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient_kind": "agencies",
        "recipient_agency": "bus",
        "title": "Keeping children safe on Wrenmouth's buses",
        "marking": "OFFICIAL",
        "routes": places["routes"][:1],
        "hubs": places["hubs"][:3],
        "areas": places["wards"],
        "period_from": PERIOD_FROM,
        "period_to": PERIOD_TO,
        "review_on": (date.today() + timedelta(days=90)).isoformat(),
        "signs": DEFAULT_SIGNS,
        "how_to_report": DEFAULT_HOW_TO_REPORT,
    }
    body.update(over)
    return body


@pytest.fixture(scope="module")
def planted(person: Any, source: str) -> dict[str, Any]:
    """The force's records at SPOT in the newest quarter carrying sentinels — enough to be
    published at tier C (12 reports, 6 young people) — and a non-public context with a
    sentinel name."""
    police = person(source, "analyst")
    when = datetime.combine(QUARTERS[0][0], datetime.min.time(), UTC) + timedelta(days=35, hours=21)
    coords = plant(
        police,
        PLANTED,
        SPOT,
        reports=12,
        people=6,
        first=when,
        note_suffix="boarded with an older man",
    )
    hidden_route = police(
        "POST",
        "/api/v1/contexts",
        {
            "kind": "transport_route",
            "name": "Private minibus run",
            "public_place": False,
            "geometry": {"type": "LineString", "coordinates": [[1.2, 54.59], [1.21, 54.6]]},
        },
    )
    assert hidden_route.status_code == 201, hidden_route.get_json()
    return {"coords": coords, "hidden_route": hidden_route.get_json()["id"]}


def _make(maker: Forms, form: dict[str, Any]) -> str:
    resp = maker.post("/packs/new", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    match = re.search(r"/packs/([0-9a-f-]{36})$", resp.headers["Location"])
    assert match, resp.headers["Location"]
    return match.group(1)


@pytest.fixture(scope="module")
def approved(
    person: Any, source: str, places: dict[str, Any], planted: dict[str, Any]
) -> dict[str, Any]:
    trainer, analyst = person(source, "trainer"), person(source, "analyst")
    pack_id = _make(trainer, _form(places))
    page = trainer.get(f"/packs/{pack_id}")
    assert page.status_code == 200 and b"second person" in page.data
    preview = trainer.get(f"/packs/{pack_id}/preview.png")
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")
    # A trainer may not approve at all; the analyst (a second person) may.
    assert trainer.post(f"/packs/{pack_id}/decision", {"approve": "yes"}).status_code == 403
    resp = analyst.post(f"/packs/{pack_id}/decision", {"approve": "yes", "note": "Checked."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    return {"id": pack_id, "trainer": trainer, "analyst": analyst, "source": source}


def _publication_cells(owner_conn: psycopg.Connection[Any], pack_id: str, source: str) -> set[str]:
    """The tier C publication of the pack's share, recomputed from the raw rows as the owner
    through the redaction module (not through the app)."""
    share_id, start, end = owner_conn.execute(
        "SELECT s.id, s.period_from, s.period_to FROM briefing_pack p"
        " JOIN share s ON s.id = p.share_id WHERE p.id = %s",
        (pack_id,),
    ).fetchone()  # type: ignore[misc]
    rows = owner_conn.execute(
        """SELECT o.cell_r9, o.occurred_at, o.young_person_refs FROM observation o
           JOIN agency a ON a.id = o.agency_id AND a.slug = %s
           WHERE o.deleted_at IS NULL
             AND o.occurred_at >= (%s::timestamp AT TIME ZONE 'Europe/London')
             AND o.occurred_at < (%s::timestamp AT TIME ZONE 'Europe/London')
             AND o.cell_r7 IN (SELECT cell FROM share_cell WHERE share_id = %s AND res = 7)""",
        (source, start, end, share_id),
    ).fetchall()
    facts = [ObservationFact(c, t, "", tuple(r), "", "", None, 0, 0) for c, t, r in rows]
    return {str(c.cell) for c in publish_cells(facts, FLOORS["C"], datetime.now(UTC))}


def test_approved_pack_passes_its_inspection_and_holds_no_sentinel(
    approved: dict[str, Any], planted: dict[str, Any], owner_conn: psycopg.Connection[Any]
) -> None:
    trainer, pack_id = approved["trainer"], approved["id"]
    pdf = trainer.get(f"/packs/{pack_id}/pack.pdf")
    html = trainer.get(f"/packs/{pack_id}/pack.html")
    for resp, kind in ((pdf, "application/pdf"), (html, "text/html")):
        assert resp.status_code == 200 and resp.mimetype == kind
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert resp.headers["Cache-Control"] == "no-store"
    page = html.get_data(as_text=True)
    # Its own inspection, again, with the sentinels: no text, metadata or vector map.
    assert inspect_pdf(pdf.data, SENTINELS) == []
    published = _publication_cells(owner_conn, pack_id, approved["source"])
    assert inspect_html(page, published, SENTINELS) == []
    # And independently: every page's text and the metadata, the raw bytes and the page.
    doc = pdfium.PdfDocument(pdf.data)
    text_ = "".join(p.get_textpage().get_text_range() for p in doc).upper()
    meta = " ".join(str(v) for v in doc.get_metadata_dict().values()).upper()
    assert "KEEPING CHILDREN SAFE" in text_ and "COASTLINE BUSES" in text_
    for blob in (text_, meta, pdf.data.decode("latin-1").upper(), page.upper()):
        for sentinel in SENTINELS:
            assert sentinel.upper() not in blob
    for c in planted["coords"]:
        assert c not in page and c not in text_
    assert all(k in {"Title"} for k in doc.get_metadata_dict(skip_empty=True))
    # The offline page holds only the publication's cells, all tier C (res 7), and the map.
    cells = embedded_cells(page)
    assert cells and cells <= published
    assert all((int(c) >> 52) & 0xF == 7 for c in cells)
    assert "L.geoJson" in page or "L.geoJSON" in page
    stored = owner_conn.execute(
        "SELECT status, pdf_sha256, html_sha256, issued_on, pdf = %s FROM briefing_pack"
        " WHERE id = %s",
        (pdf.data, pack_id),
    ).fetchone()
    assert stored is not None and stored[0] == "approved" and stored[4] is True
    assert len(stored[1]) == len(stored[2]) == 64 and stored[3] == today()  # London's date
    share_state = owner_conn.execute(
        "SELECT s.status, s.tier, s.approved_by <> s.created_by FROM share s"
        " JOIN briefing_pack p ON p.share_id = s.id WHERE p.id = %s",
        (pack_id,),
    ).fetchone()
    assert share_state == ("active", "C", True)


def test_the_recipient_gets_it_and_an_unrelated_agency_does_not(
    approved: dict[str, Any], person: Any, owner_conn: psycopg.Connection[Any]
) -> None:
    pack_id = approved["id"]
    bus = person("bus", "trainer")
    listing = bus.get("/packs")
    assert listing.status_code == 200 and pack_id.encode() in listing.data
    assert bus.get(f"/packs/{pack_id}").status_code == 200
    got = bus.get(f"/packs/{pack_id}/pack.pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    assert bus.get(f"/packs/{pack_id}/preview.png").status_code == 200
    for agency, role in (("education", "analyst"), ("social_care", "analyst"), ("vcse", "trainer")):
        other = person(agency, role)
        for suffix in ("", "/pack.pdf", "/pack.html", "/preview.png"):
            assert other.get(f"/packs/{pack_id}{suffix}").status_code == 404
    assert person("bus", "practitioner").get(f"/packs/{pack_id}").status_code == 403
    actions = [
        a
        for (a,) in owner_conn.execute(
            "SELECT action FROM audit_log WHERE %s = ANY(object_ids) ORDER BY id", (pack_id,)
        )
    ]
    assert actions[0] == "pack.create" and "pack.approve" in actions
    assert "pack.download" in actions
    details = owner_conn.execute(
        "SELECT details FROM audit_log WHERE %s = ANY(object_ids) AND action = 'pack.download'",
        (pack_id,),
    ).fetchall()
    assert {d[0]["format"] for d in details} >= {"pdf"}


def test_a_creator_cannot_approve_and_a_rejection_needs_a_comment(
    person: Any, source: str, places: dict[str, Any], owner_conn: psycopg.Connection[Any]
) -> None:
    analyst = person(source, "analyst")
    pack_id = _make(analyst, _form(places, recipient_agency="bus", hubs=[]))
    own = analyst.post(f"/packs/{pack_id}/decision", {"approve": "yes"})
    assert own.status_code == 422 and b'id="f-approver-error"' in own.data
    chair = person(source, "panel_chair")
    empty = chair.post(f"/packs/{pack_id}/decision", {})
    assert empty.status_code == 422 and b'id="f-approve-error"' in empty.data
    bare = chair.post(f"/packs/{pack_id}/decision", {"approve": "no"})
    assert bare.status_code == 422 and b'id="f-note-error"' in bare.data
    state = "SELECT p.status, s.status FROM briefing_pack p JOIN share s ON s.id = p.share_id"
    state += " WHERE p.id = %s"
    assert owner_conn.execute(state, (pack_id,)).fetchone() == ("pending", "pending")
    resp = chair.post(f"/packs/{pack_id}/decision", {"approve": "no", "note": "Wrong areas."})
    assert resp.status_code == 302
    assert owner_conn.execute(state, (pack_id,)).fetchone() == ("rejected", "rejected")
    # A rejected pack has nothing to download, and never reaches its recipient.
    assert analyst.get(f"/packs/{pack_id}/pack.pdf").status_code == 409
    assert person("bus", "trainer").get(f"/packs/{pack_id}").status_code == 404
    audited = owner_conn.execute(
        "SELECT justification FROM audit_log WHERE %s = ANY(object_ids) AND action = 'pack.reject'",
        (pack_id,),
    ).fetchall()
    assert audited == [("Wrong areas.",)]


def test_the_inspection_refuses_a_pack_carrying_a_recorded_note(
    person: Any,
    source: str,
    places: dict[str, Any],
    planted: dict[str, Any],
    owner_conn: psycopg.Connection[Any],
) -> None:
    trainer = person(source, "trainer")
    signs = f"Look out for this:\n\n- {PLANTED.note} boarded with an older man"
    pack_id = _make(trainer, _form(places, signs=signs))
    resp = person(source, "analyst").post(f"/packs/{pack_id}/decision", {"approve": "yes"})
    assert resp.status_code == 422 and b'id="f-inspection-error"' in resp.data
    report = re.search(r'id="f-inspection-error">([^<]*)<', resp.get_data(as_text=True))
    assert report and "forbidden string" in report.group(1)
    for sentinel in SENTINELS:
        assert sentinel not in report.group(1)  # the report never quotes what it found
    row = owner_conn.execute(
        "SELECT p.status, p.pdf IS NULL, s.status FROM briefing_pack p"
        " JOIN share s ON s.id = p.share_id WHERE p.id = %s",
        (pack_id,),
    ).fetchone()
    assert row == ("pending", True, "pending")


def test_a_withdrawn_pack_is_gone_everywhere(
    app: Flask,
    person: Any,
    source: str,
    places: dict[str, Any],
    owner_conn: psycopg.Connection[Any],
) -> None:
    trainer = person(source, "trainer")
    form = _form(
        places,
        recipient_kind="external",
        recipient_agency="",
        external_name="Safeguarding lead",
        external_organisation="Wrenmouth Taxis",
    )
    pack_id = _make(trainer, form)
    approve = person(source, "panel_chair").post(f"/packs/{pack_id}/decision", {"approve": "yes"})
    assert approve.status_code == 302
    page = trainer.get(f"/packs/{pack_id}").get_data(as_text=True)
    links = re.findall(r'value="https?://[^/"]+(/s/[^"]+/pack\.(?:pdf|html))"', page)
    assert len(links) == 2, page[-3000:]
    anonymous = app.test_client()
    assert anonymous.get(links[0]).status_code == 200
    assert anonymous.get(links[0]).data.startswith(b"%PDF")
    assert anonymous.get(links[1]).status_code == 200
    tampered = re.sub(r"/s/([^/]+)/", lambda m: f"/s/{m.group(1)[:-3]}xyz/", links[0])
    assert anonymous.get(tampered).status_code == 404
    refused = trainer.post(f"/packs/{pack_id}/withdraw", {})
    assert refused.status_code == 422 and b'id="f-reason-error"' in refused.data
    resp = trainer.post(f"/packs/{pack_id}/withdraw", {"reason": "Replaced by the new pack"})
    assert resp.status_code == 302
    for url in (f"/packs/{pack_id}/pack.pdf", f"/packs/{pack_id}/pack.html"):
        assert trainer.get(url).status_code == 410
    for link in links:
        gone = anonymous.get(link)
        assert gone.status_code == 410 and b"no longer available" in gone.data
    assert person("education", "analyst").get(f"/packs/{pack_id}/pack.pdf").status_code == 404
    row = owner_conn.execute(
        "SELECT p.status, s.revoked_at IS NOT NULL, s.link_nonce FROM briefing_pack p"
        " JOIN share s ON s.id = p.share_id WHERE p.id = %s",
        (pack_id,),
    ).fetchone()
    assert row == ("withdrawn", True, None)
    actions = {
        a
        for (a,) in owner_conn.execute(
            "SELECT action FROM audit_log WHERE %s = ANY(object_ids)", (pack_id,)
        )
    }
    assert {"pack.create", "pack.approve", "pack.download", "pack.withdraw"} <= actions
    via_link = owner_conn.execute(
        "SELECT count(*) FROM audit_log WHERE %s = ANY(object_ids) AND action = 'pack.download'"
        " AND details->>'via' = 'link'",
        (pack_id,),
    ).fetchone()
    assert via_link is not None and via_link[0] >= 2


def _quarter_now() -> str:
    """The last month of the quarter in progress in London, as the app counts it."""
    now = today()
    return f"{now.year:04d}-{(now.month - 1) // 3 * 3 + 3:02d}"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"areas": []}, "areas"),
        ({"areas": ["00000000-0000-0000-0000-000000000000"]}, "areas"),
        ({"routes": "hidden"}, "routes"),  # the agency's own, but not a public place
        ({"routes": "bus"}, "routes"),  # public, but another agency's
        ({"routes": "hub"}, "routes"),  # a hub is not a route
        ({"hubs": ["not-a-uuid"]}, "hubs"),
        ({"period_from": "2025-11"}, "period_from"),  # not the first month of a quarter
        ({"period_to": "2026-02"}, "period_to"),  # not the last month of a quarter
        ({"period_to": "now"}, "period_to"),  # the quarter in progress is never shown
        ({"period_to": "lagged"}, "period_to"),  # closed, but published a quarter later
        ({"review_on": "2020-01-01"}, "review_on"),
        ({"review_on": (date.today() + timedelta(days=400)).isoformat()}, "review_on"),
        ({"recipient_agency": "health"}, "recipient_agency"),  # not an operator or business
        ({"recipient_kind": "external", "recipient_agency": ""}, "external_name"),
        (
            {"recipient_kind": "external", "recipient_agency": "", "external_name": "Lead"},
            "external_organisation",
        ),
        ({"title": ""}, "title"),
        ({"marking": "SECRET"}, "marking"),
        ({"signs": "Be careful."}, "signs"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    person: Any,
    source: str,
    places: dict[str, Any],
    planted: dict[str, Any],
    owner_conn: psycopg.Connection[Any],
    change: dict[str, Any],
    field: str,
) -> None:
    special = {
        "hidden": [planted["hidden_route"]],
        "bus": places["bus_routes"][:1],
        "hub": places["hubs"][:1],
        "now": _quarter_now(),
        "lagged": add_months(QUARTERS[0][1], 2).strftime("%Y-%m"),
    }
    form = _form(places, **{k: special.get(v, v) if isinstance(v, str) else v
                            for k, v in change.items()})  # fmt: skip
    count = (
        "SELECT (SELECT count(*) FROM briefing_pack p JOIN agency a ON a.id = p.agency_id"
        " WHERE a.slug = %(s)s), (SELECT count(*) FROM share s JOIN agency a"
        " ON a.id = s.from_agency_id WHERE a.slug = %(s)s), (SELECT count(*) FROM share_cell c"
        " JOIN share s ON s.id = c.share_id JOIN agency a ON a.id = s.from_agency_id"
        " WHERE a.slug = %(s)s)"
    )
    before = owner_conn.execute(count, {"s": source}).fetchone()
    resp = person(source, "trainer").post("/packs/new", form)
    assert resp.status_code == 422, resp.get_data(as_text=True)[-2000:]
    assert f'id="f-{field}-error"'.encode() in resp.data, (field, resp.data[-3000:])
    owner_conn.commit()
    assert owner_conn.execute(count, {"s": source}).fetchone() == before


def test_default_wording_per_area_fills_the_form(
    person: Any, source: str, places: dict[str, Any], owner_conn: psycopg.Connection[Any]
) -> None:
    analyst = person(source, "analyst")
    area = places["wards"][0]
    empty = analyst.post("/packs/texts", {})
    assert empty.status_code == 422 and b'id="f-signs-error"' in empty.data
    text = "Drivers on the harbour loop: watch for children travelling alone late at night."
    saved = analyst.post(
        "/packs/texts", {"area": area, "signs": text, "how_to_report": DEFAULT_HOW_TO_REPORT}
    )
    assert saved.status_code == 302
    form = analyst.get("/packs/new").get_data(as_text=True)
    assert "harbour loop" in form  # offered to the page's script for that area
    assert person(source, "panel_chair").get("/packs/texts").status_code == 403
    row = owner_conn.execute(
        "SELECT signs FROM briefing_text WHERE area_id = %s AND agency_id ="
        " (SELECT id FROM agency WHERE slug = %s)",
        (area, source),
    ).fetchone()
    assert row == (text,)


def test_the_disclosure_check_refuses_what_tier_c_never_publishes() -> None:
    from spatial.cells import cell_key
    from spatial.redaction import PublishedContext, precision_statement

    profile = FLOORS["C"]
    good = PublishedCell(cell_key(1.2, 54.6, 7), "2026-Q3", 15)
    pub = Publication(
        "s", "Police", "C", profile, precision_statement(profile),
        datetime.now(UTC), "2026-07 to 2026-09", [good], [], [],
    )  # fmt: skip
    content = PackContent("SH-1", "T", "R", "OFFICIAL", date.today(), date.today(), "Q", "p")
    assert disclosure_problems(pub, content) == []
    bad = [
        PublishedCell(cell_key(1.2, 54.6, 8), "2026-Q3", 15),
        PublishedCell(good.cell, "2026-08", 15),
        PublishedCell(good.cell, "2026-Q3", 5),
        PublishedCell(good.cell, "2026-Q3", 13),
        PublishedCell(good.cell, "2026-Q3", "10–19"),
    ]
    for cell in bad:
        assert disclosure_problems(dataclasses.replace(pub, cells=[cell]), content), cell
    marks = dataclasses.replace(pub, vehicle_marks=["WR19 ***"])
    snapped = PublishedContext("c", "place_of_concern", "Place of concern", 1.2, 54.6, False)
    for wrong in (marks, dataclasses.replace(pub, contexts=[snapped])):
        assert disclosure_problems(wrong, content)
    b_tier = dataclasses.replace(pub, tier="B", profile=FLOORS["B"])
    assert disclosure_problems(b_tier, content)
    unlisted = dataclasses.replace(
        content,
        cells={"type": "FeatureCollection", "features": [{"properties": {"cell": "1"}}]},
    )
    assert disclosure_problems(pub, unlisted)


def test_the_builder_examples_hold() -> None:
    import doctest

    from webmap.features.packs import build as packs_build

    result = doctest.testmod(packs_build)
    assert result.attempted > 0 and result.failed == 0


def test_row_level_security_gives_a_trainer_tier_c_only(
    app: Flask,
    app_conn: psycopg.Connection[Any],
    make_agency: Any,
    make_user: Any,
) -> None:
    """As the app role: a trainer may make a tier C share but not a tier B one, sees its
    agency's tier C shares but not its tier B ones, and may revoke only a pack's share."""
    slug, audience = make_agency("police", "Pack RLS test"), make_agency("health", "Pack RLS test")
    trainer, analyst = make_user(slug, "trainer"), make_user(slug, "analyst")
    to_audience = {"recipient_kind": "agencies", "recipient_agencies": [audience]}
    tier_b = factories.make_share(app, analyst, **to_audience)  # the agency's tier B share
    insert = (
        "INSERT INTO share (from_agency_id, tier, profile, resolution, recipient_kind,"
        " external_name, layers, period_from, purpose, lawful_basis, agreement_ref, expires_at,"
        " status, created_by) VALUES (%s, %s, '{}', 7, 'external', 'x', '{observations}',"
        " '2025-01-01', 'probe', 'x', 'x', now() + interval '1 day', 'pending', %s)"
    )

    def as_trainer() -> None:
        app_conn.execute(
            "SELECT set_config('csmap.user_id', %s, true), set_config('csmap.agency_id', %s,"
            " true), set_config('csmap.role', 'trainer', true)",
            (str(trainer.id), str(trainer.agency_id)),
        )

    as_trainer()
    app_conn.execute(insert, (trainer.agency_id, "C", trainer.id))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_conn.execute(insert, (trainer.agency_id, "B", trainer.id))
    app_conn.rollback()
    as_trainer()
    seen = app_conn.execute(
        "SELECT id::text, tier FROM share WHERE from_agency_id = %s", (trainer.agency_id,)
    ).fetchall()
    assert tier_b not in {i for i, _ in seen} and {t for _, t in seen} <= {"C"}
    start, end = factories.pack_quarter()
    quarter = {"period_from": f"{start:%Y-%m}", "period_to": f"{add_months(end, -1):%Y-%m}"}
    plain_c = factories.make_share(app, analyst, tier="C", **quarter)  # made without a pack
    done = app_conn.execute(
        "UPDATE share SET revoked_at = now(), revoked_reason = 'x' WHERE id = %s RETURNING 1",
        (plain_c,),
    ).fetchall()
    assert done == []
    profiles = app_conn.execute(
        "SELECT tier FROM csmap_share_audience_tiers(ARRAY[(SELECT id FROM agency"
        " WHERE slug = %s)], NULL, NULL)",
        (audience,),
    ).fetchall()
    assert profiles == [("B",)]  # the tier B share to the audience, seen by its tier only


def test_a_pack_without_routes_can_be_approved(
    person: Any, source: str, places: dict[str, Any], planted: dict[str, Any]
) -> None:
    trainer = person(source, "trainer")
    pack_id = _make(trainer, _form(places, routes=[]))
    resp = person(source, "analyst").post(f"/packs/{pack_id}/decision", {"approve": "yes"})
    assert resp.status_code == 302
    pdf = trainer.get(f"/packs/{pack_id}/pack.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert inspect_pdf(pdf.data, SENTINELS) == []
    assert len(pdfium.PdfDocument(pdf.data)) >= 1
