"""Briefing packs: the PDF and offline HTML renderers and their self-inspection (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from shapely.geometry import mapping
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from spatial.cells import cell_boundary, cell_key
from spatial.demotown import generate_town
from webmap.features.packs.content import BandScale, PackContent, text_blocks
from webmap.features.packs.inspect import (
    embedded_cells,
    inspect_html,
    inspect_pdf,
    is_blank,
    render_page_png,
)
from webmap.features.packs.mapimage import render_map_png
from webmap.features.packs.render import _DataOnlyFetcher, css_string, render_html, render_pdf

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "static" / "vendor"
ARTIFACTS = ROOT / "tests" / "artifacts"
SHARE_ID = "SH-7Q4K-29XD"
SENTINEL = "SENTINEL-NOTE-123"
#: Strings that must never reach a pack: a sentinel and made-up personal data.
FORBIDDEN = [SENTINEL, "Jordan Whitlock", "WR19 XKZ", "07700 900123"]


def _cells() -> tuple[dict[str, Any], set[str]]:
    """A handful of resolution-7 cells over Wrenmouth with tier C band labels."""
    spots = [
        ((1.196, 54.601), "50+"),
        ((1.204, 54.604), "20–49"),
        ((1.180, 54.590), "10–19"),
        ((1.240, 54.594), "10–19"),
        ((1.216, 54.613), "20–49"),
        ((1.163, 54.592), "10–19"),
    ]
    features, keys = [], set()
    for (lon, lat), band in spots:
        key = cell_key(lon, lat, 7)
        if str(key) in keys:
            continue
        keys.add(str(key))
        ring = [[x, y] for x, y in cell_boundary(key)]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"cell": str(key), "period": "2026-Q3", "count": band},
            }
        )
    return {"type": "FeatureCollection", "features": features}, keys


def _point(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


@pytest.fixture(scope="module")
def cells() -> tuple[dict[str, Any], set[str]]:
    return _cells()


@pytest.fixture(scope="module")
def content(cells: tuple[dict[str, Any], set[str]]) -> PackContent:
    town = generate_town(seed=7, size=1_000, end_month=dt.date(2026, 9, 1))
    basemap = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(f.geom),
                "properties": {"layer": f.layer, "name": f.name, "kind": f.kind},
            }
            for f in town.basemap
        ],
    }
    route = {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [
                [1.1962, 54.6013],
                [1.2015, 54.5995],
                [1.215, 54.596],
                [1.2398, 54.5936],
            ],
        },
        "properties": {"name": "X7"},
    }
    return PackContent(
        share_id=SHARE_ID,
        title="Keeping children safe on Wrenmouth's buses",
        recipient="Wrenmouth Coastal Buses",
        marking="OFFICIAL",
        issued=dt.date(2026, 10, 12),
        review=dt.date(2027, 1, 12),
        period_label="July to September 2026",
        precision="Cells of about 5.2 km², counts under 10 hidden, by quarter, in bands.",
        cells=cells[0],
        places={
            "type": "FeatureCollection",
            "features": [
                _point(1.19624, 54.60127, name="Wrenmouth Bus Station", kind="transport_hub"),
                _point(1.20419, 54.60394, name="Wrenmouth Central", kind="transport_hub"),
            ],
        },
        routes={"type": "FeatureCollection", "features": [route]},
        basemap=basemap,
    )


@pytest.fixture(scope="module")
def pdf(content: PackContent) -> bytes:
    return render_pdf(content)


@pytest.fixture(scope="module")
def html(content: PackContent) -> str:
    return render_html(content, VENDOR)


def _page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    texts = [page.get_textpage().get_text_range() for page in doc]
    doc.close()
    return texts


# --- content helpers ---------------------------------------------------------------------------


def test_text_blocks_split_paragraphs_and_bullets() -> None:
    text = "Intro line one\nline two\n\n- first\n- second\nAfter\n\n- only"
    assert text_blocks(text) == [
        ("p", ["Intro line one line two"]),
        ("ul", ["first", "second"]),
        ("p", ["After"]),
        ("ul", ["only"]),
    ]


def test_band_scale_orders_bands_and_groups_rounded_counts() -> None:
    bands = BandScale(["50+", "10–19", "20–49"])
    assert [b.label for b in bands.bands] == ["10–19", "20–49", "50+"]
    assert len({b.colour for b in bands.bands}) == 3
    rounded = BandScale([10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 80])
    assert len(rounded.bands) <= 5
    assert rounded.band_for(10) == rounded.bands[0] and rounded.band_for(80) == rounded.bands[-1]


def test_css_string_cannot_break_out_of_a_style_block() -> None:
    assert "<" not in css_string("</style><script>") and '"' not in css_string('"')[1:-1]


def test_map_png_has_the_requested_size(content: PackContent) -> None:
    with Image.open(io.BytesIO(render_map_png(content, width=800, height=600))) as img:
        assert img.size == (800, 600)
    bare = dataclasses.replace(content, cells={"type": "FeatureCollection", "features": []})
    assert render_map_png(bare, width=400, height=300).startswith(b"\x89PNG")


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_is_a4(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF")
    doc = pdfium.PdfDocument(pdf)
    for page in doc:
        width, height = page.get_size()
        assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1
    doc.close()


def test_pdf_page1_is_a_poster_not_a_blank(pdf: bytes) -> None:
    png = render_page_png(pdf, 0, scale=2.0)
    assert not is_blank(png)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "pack_page1.png").write_bytes(png)
    assert is_blank(_blank_png())


def _blank_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 300), "white").save(buf, format="PNG")
    return buf.getvalue()


def test_every_page_carries_share_id_and_marking(pdf: bytes) -> None:
    texts = _page_texts(pdf)
    assert len(texts) >= 2
    for text in texts:
        assert SHARE_ID in text
        assert text.count("OFFICIAL") >= 2  # top and bottom
    assert "Signs to look for" in texts[0] and "How to report" in texts[0]
    assert "999" in texts[0] and "101" in texts[0]


def test_pdf_passes_inspection_and_has_only_a_title(pdf: bytes) -> None:
    assert inspect_pdf(pdf, FORBIDDEN) == []
    doc = pdfium.PdfDocument(pdf)
    metadata = doc.get_metadata_dict(skip_empty=True)
    doc.close()
    assert metadata == {"Title": "Keeping children safe on Wrenmouth's buses"}


def test_inspect_pdf_flags_a_planted_sentinel_without_echoing_it(content: PackContent) -> None:
    leaky = dataclasses.replace(content, signs=content.signs + f"\n- Case note {SENTINEL}")
    problems = inspect_pdf(render_pdf(leaky), FORBIDDEN)
    assert len(problems) == 1
    assert re.fullmatch(r"forbidden string #1 found on page \d+", problems[0])
    assert not any(SENTINEL.lower() in p.lower() for p in problems)


def test_inspect_pdf_flags_a_vector_map() -> None:
    paths = "".join(
        f'<path d="M{i % 40 * 10} {i // 40 * 10} h8 v8 h-8 z" fill="#fd8d3c"/>' for i in range(1000)
    )
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="250">{paths}</svg>'
    vector = HTML(string=f"<p>Map</p>{svg}", url_fetcher=_DataOnlyFetcher()).write_pdf()
    problems = inspect_pdf(vector, [])
    assert any("vector paths" in p and p.startswith("page 1") for p in problems)
    assert "page 1 has no image: the map is missing" in problems


def test_pdf_render_refuses_external_urls() -> None:
    with pytest.raises(FatalURLFetchingError):
        HTML(string='<img src="http://192.0.2.1/x.png">', url_fetcher=_DataOnlyFetcher()).render()


# --- offline HTML --------------------------------------------------------------------------------


def test_html_references_nothing_outside(html: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", html, re.IGNORECASE)
    assert "cdn." not in html and "sourceMappingURL" not in html
    assert SHARE_ID in html and "OFFICIAL" in html


def test_html_passes_inspection(html: str, cells: tuple[dict[str, Any], set[str]]) -> None:
    assert inspect_html(html, cells[1], FORBIDDEN) == []
    assert embedded_cells(html) == cells[1]


def test_inspect_html_flags_problems(html: str, cells: tuple[dict[str, Any], set[str]]) -> None:
    allowed = set(cells[1])
    allowed.discard(next(iter(allowed)))
    assert inspect_html(html, allowed, []) == ["1 embedded cell(s) not among the published cells"]
    script = html.replace("</head>", '<script src="https://cdn.example.org/x.js"></script></head>')
    assert inspect_html(script, cells[1], []) == ["external URL in the page (1 reference)"]
    relative = html.replace("</head>", '<link rel="stylesheet" href="//example.org/x.css"></head>')
    assert inspect_html(relative, cells[1], []) == ["external URL in the page (1 reference)"]
    # A name hidden behind a JSON escape (ë written as \u00eb) is still found.
    escaped = html.replace(
        "</body>", '<script>var x = {"name": "Zo\\u00eb Marsh"};</script></body>'
    )
    assert inspect_html(escaped, cells[1], ["zoë marsh"]) == [
        "forbidden string #1 found in the page"
    ]


def test_html_opens_offline_in_chromium(
    browser: Any, html: str, cells: tuple[dict[str, Any], set[str]]
) -> None:
    from playwright.sync_api import Route

    attempted: list[str] = []
    errors: list[str] = []

    def only_inline(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "about:")):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.route("**/*", only_inline)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_content(html, wait_until="load")
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator(".leaflet-container").count() == 1
        # Cells, the route and the place markers are all interactive paths.
        assert page.locator("path.leaflet-interactive").count() >= len(cells[1])
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "pack_html.png"))
    finally:
        context.close()
    assert attempted == []
    assert errors == []


#: The cells the offline map draws ({cell: count}) and the table's rows ({cell: [texts]}).
PACK_MAP_AND_TABLE_JS = """() => {
  const cells = {};
  const maps = Object.keys(window).filter((k) => k.startsWith('map_')).map((k) => window[k]);
  maps.filter((v) => v instanceof L.Map).forEach((map) => map.eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (p && p.cell !== undefined) cells[p.cell] = String(p.count);
  }));
  const rows = Object.fromEntries([...document.querySelectorAll('.pack-numbers tbody tr')]
    .map((tr) => [tr.dataset.cell, [...tr.cells].map((c) => c.textContent)]));
  return { cells, rows, caption: document.querySelector('.pack-numbers caption').textContent };
}"""


def test_html_table_carries_the_maps_numbers(browser: Any, html: str) -> None:
    """Issue 18: the offline pack's table lists the very cells its map shades, each with its
    count as published and its shade in words (never colour alone), read in the browser."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.set_content(html, wait_until="load")
        page.wait_for_selector("path.leaflet-interactive")
        seen = page.evaluate(PACK_MAP_AND_TABLE_JS)
    finally:
        context.close()
    assert seen["cells"] and {k: r[1] for k, r in seen["rows"].items()} == seen["cells"]
    assert all(re.fullmatch(r"Shade \d of \d: .+", r[2]) for r in seen["rows"].values())
    assert all(r[0].startswith("Near ") for r in seen["rows"].values())
    assert seen["caption"].startswith("Concerns recorded, July to September 2026")


def test_html_passes_axe(browser: Any, html: str) -> None:
    """The offline pack is a page people open too: WCAG 2.2 AA by axe, as every page is."""
    from tests.e2e import axe

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.set_content(html, wait_until="load")
        page.wait_for_selector("path.leaflet-interactive")
        page.locator(".pack-numbers > summary").click()  # the table open too
        axe.assert_accessible(page, "offline pack")
    finally:
        context.close()
