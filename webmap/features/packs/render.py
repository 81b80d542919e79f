"""Render a briefing pack: an A4 PDF (WeasyPrint) and an offline HTML map (folium).

Both outputs are handed to people outside the partnership, so both are closed: the PDF loads
nothing but ``data:`` URIs and carries its map only as a raster image; the HTML page inlines
Leaflet and references no URL at all, so it opens on a laptop with no network and tells no
server that it was opened.
"""

from __future__ import annotations

import base64
import copy
import re
from functools import cache
from pathlib import Path
from typing import Any, Final

import folium
import jinja2
from branca.element import Element, Figure
from markupsafe import Markup, escape
from weasyprint import HTML, URLFetcher

from webmap.features.packs.content import (
    BandScale,
    PackContent,
    cell_counts,
    data_bbox,
    long_date,
    text_blocks,
)
from webmap.features.packs.inspect import external_references
from webmap.features.packs.mapimage import ROUTE_COLOURS, render_map_png
from webmap.features.packs.offline import PAGE_CSS, SIDEBAR, cell_rows, open_to_everyone

TEMPLATE_DIR: Final = Path(__file__).resolve().parents[2] / "templates" / "packs"

#: Telephone numbers worth making bold: 999, 101 and UK numbers such as 01632 960 000.
_PHONE: Final = re.compile(r"(?<![\d-])(999|101|0\d{3,4}(?: ?\d{3}){1,2}(?: ?\d{1,4})?)(?![\d-])")


# --- PDF -----------------------------------------------------------------------------------


class _DataOnlyFetcher(URLFetcher):
    """Refuse every URL but ``data:``; a refused URL stops the render (fail_on_errors)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), fail_on_errors=True)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url.startswith("data:"):
            raise ValueError("briefing packs load nothing from outside")
        return super().fetch(url, headers)


def css_string(value: object) -> Markup:
    """A CSS string literal; every character but letters and digits hex-escaped.

    Safe inside ``<style>``, where HTML escaping does not apply. Escapes always have six
    digits, and spaces are escaped too: CSS swallows one space after an escape.

    >>> str(css_string('A "b"'))
    '"A\\\\000020\\\\000022b\\\\000022"'
    """
    text = str(value)
    body = "".join(ch if ch.isalnum() else f"\\{ord(ch):06x}" for ch in text)
    return Markup('"{}"').format(body)


def emphasise_numbers(value: object) -> Markup:
    """Escape ``value`` and make telephone numbers bold and unbreakable."""
    text, out, pos = str(value), Markup(""), 0
    for match in _PHONE.finditer(text):
        out += text[pos : match.start()]  # plain str: escaped by Markup's +
        out += Markup('<strong class="tel">{}</strong>').format(match.group(1))
        pos = match.end()
    return out + text[pos:]


@cache
def _environment() -> jinja2.Environment:
    # A standalone environment: packs render in CLI jobs and tests with no Flask app.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True)
    env.filters["css"] = css_string
    env.filters["numbers"] = emphasise_numbers
    return env


def _title_only(document: Any, pdf: Any) -> None:
    """WeasyPrint finisher: keep the title, drop everything else from the Info dictionary."""
    del document
    for key in [k for k in pdf.info if k != "Title"]:
        del pdf.info[key]


#: Heights of the 1600-pixel-wide map tried in turn: the first keeps the default wording on
#: one page; shorter maps make room when a pack's own wording is longer.
_MAP_HEIGHTS: Final = (1020, 900, 780)


def render_pdf(content: PackContent) -> bytes:
    """The pack as an A4 portrait PDF: a poster on page 1, notes on page 2.

    The marking is printed at the top and bottom of every page and the share reference in
    the footer and as a faint diagonal watermark on every page. If the signs and the
    reporting box do not fit under the map on page 1, the map is made shorter (down to a
    limit; past it the signs continue on the next page).
    """
    template = _environment().get_template("pack_pdf.html")
    for height in _MAP_HEIGHTS:
        png = render_map_png(content, width=1600, height=height)
        html = template.render(
            c=content,
            map_src="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            issued=long_date(content.issued),
            review=long_date(content.review),
            signs=text_blocks(content.signs),
            report=text_blocks(content.how_to_report),
        )
        document = HTML(string=html, url_fetcher=_DataOnlyFetcher()).render()
        if len(document.pages) <= 2:  # the poster fitted on page 1, the notes on page 2
            break
    pdf: bytes = document.write_pdf(finisher=_title_only)
    return pdf


@cache
def _documents() -> jinja2.Environment:
    # Other printed documents (the meeting pack) keep their templates in their own feature's
    # folder, so this environment is rooted at the templates folder itself.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR.parent), autoescape=True)
    env.filters["css"] = css_string
    env.filters["numbers"] = emphasise_numbers
    return env


def render_document_pdf(template: str, **context: Any) -> bytes:
    """Another printed document (``template`` under ``webmap/templates``) through the same
    closed renderer as a briefing pack: only ``data:`` URIs load, and the PDF keeps only its
    title in its metadata. The caller inspects the result with
    :func:`webmap.features.packs.inspect.inspect_pdf`, as a pack's approval does."""
    html = _documents().get_template(template).render(**context)
    document = HTML(string=html, url_fetcher=_DataOnlyFetcher()).render()
    pdf: bytes = document.write_pdf(finisher=_title_only)
    return pdf


# --- offline HTML ----------------------------------------------------------------------------

_BASE_STYLE: Final[dict[str, dict[str, Any]]] = {
    "land": {"fillColor": "#f4eedf", "fillOpacity": 1, "weight": 0},
    "sea": {"fillColor": "#cfe2ef", "fillOpacity": 1, "weight": 0},
    "water": {"fillColor": "#a9cde6", "fillOpacity": 1, "weight": 0},
    "residential": {"fillColor": "#e9e3d6", "fillOpacity": 1, "weight": 0},
    "park": {"fillColor": "#d7e8cc", "fillOpacity": 1, "weight": 0},
    "retail": {"fillColor": "#efdcd5", "fillOpacity": 1, "weight": 0},
    "river": {"color": "#8fbfe0", "weight": 4, "fill": False},
    "road": {"color": "#cfc8bb", "weight": 2, "fill": False},
    "rail": {"color": "#77736c", "weight": 2, "dashArray": "6 4", "fill": False},
}


def _text(value: object) -> str:
    r"""HTML-escaped text that is also safe inside folium's JavaScript template literals.

    The literal is read as JavaScript before the tooltip parses it as HTML, so no backslash
    may reach it: a name holding ``\x3cimg …\x3e`` would become an element.

    >>> _text("\\x3cb\\x3e `${x}`")
    '&#92;x3cb&#92;x3e &#96;&#36;{x}&#96;'
    """
    text = str(escape(str(value)))
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    # Every feature gets its index as id, so folium never picks a property (such as the
    # cell key) as the identifier it writes into its style function.
    for i, f in enumerate(features):
        f["id"] = i
    return {"type": "FeatureCollection", "features": features}


def _copy(
    fc: dict[str, Any], keep: tuple[str, ...], types: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Deep copies of the features of ``types``, with only the ``keep`` properties."""
    out = []
    for f in fc.get("features", []):
        geom = f.get("geometry") or {}
        if geom.get("type") in types:
            props = f.get("properties") or {}
            out.append(
                {
                    "type": "Feature",
                    "geometry": copy.deepcopy(geom),
                    "properties": {k: props.get(k) for k in keep},
                }
            )
    return out


def _leaflet_assets(vendor_dir: Path) -> tuple[str, str]:
    """Leaflet's CSS (images inlined as data: URIs) and JS, ready to inline."""
    leaflet = vendor_dir / "leaflet"
    css = (leaflet / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        image = leaflet / match.group(1)
        if not image.is_file():
            return "none"
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    css = re.sub(r"url\((?:['\"])?(images/[\w.-]+\.png)(?:['\"])?\)", inline, css)
    js = (leaflet / "leaflet.js").read_text(encoding="utf-8")
    # The attribution control is off, but its prefix is a link to leafletjs.com written into
    # the script; neutralise it so the page holds no external link at all.
    js = re.sub(r"href=\\?\"https?://[^\"\\]*\\?\"", 'href="#"', js)
    # A source map comment would make developer tools fetch leaflet.js.map.
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)
    return css, js.replace("</script", "<\\/script")


def render_html(content: PackContent, vendor_dir: Path) -> str:
    """The pack as one self-contained HTML page that works offline.

    Parameters
    ----------
    content
        The pack.
    vendor_dir
        Directory holding the vendored ``leaflet/leaflet.js``, ``leaflet.css`` and images.
    """
    scale = BandScale(cell_counts(content))
    bbox = data_bbox(content) or (-0.01, -0.01, 0.01, 0.01)
    centre = [(bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2]
    m = folium.Map(
        location=centre, tiles=None, zoom_start=13, control_scale=True, attribution_control=False
    )
    # No CDN: folium's default jQuery, Bootstrap, awesome-markers and Leaflet links go.
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    assert isinstance(root, Figure)
    root.title = _text(content.title)
    css, js = _leaflet_assets(vendor_dir)
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js")
    root.header.add_child(Element(f"<style>{PAGE_CSS}</style>"), name="pack_css")
    sidebar = (
        _environment()
        .from_string(SIDEBAR)
        .render(
            c=content,
            bands=scale.bands,
            rows=cell_rows(content, scale),
            issued=long_date(content.issued),
            review=long_date(content.review),
            signs=text_blocks(content.signs),
            report=text_blocks(content.how_to_report),
        )
    )
    root.html.add_child(Element(sidebar), name="pack_sidebar")

    base = _copy(
        content.basemap, ("layer",), ("Polygon", "MultiPolygon", "LineString", "MultiLineString")
    )
    order = {k: i for i, k in enumerate(_BASE_STYLE)}
    base = [f for f in base if f["properties"]["layer"] in order]
    base.sort(key=lambda f: order[f["properties"]["layer"]])
    folium.GeoJson(
        _collection(base),
        style_function=lambda f: _BASE_STYLE[f["properties"]["layer"]],
        interactive=False,
        control=False,
    ).add_to(m)

    cells = _copy(content.cells, ("cell", "period", "count"), ("Polygon", "MultiPolygon"))
    for f in cells:
        p = f["properties"]
        p["cell"] = str(p["cell"])
        p["tip"] = _text(f"Concerns recorded: {p['count']} ({content.period_label})")
    colours = {str(c): scale.band_for(c).colour for c in cell_counts(content)}
    # folium's GeoJsonTooltip refuses a layer without features (it checks the fields against
    # the first one), so an empty layer is left out rather than drawn.
    if cells:
        folium.GeoJson(
            _collection(cells),
            style_function=lambda f: {
                "fillColor": colours[str(f["properties"]["count"])],
                "fillOpacity": 0.72,
                "color": "#7f2704",
                "weight": 1.5,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
            control=False,
        ).add_to(m)

    routes = _copy(content.routes, ("name",), ("LineString", "MultiLineString"))
    for i, f in enumerate(routes):
        f["properties"] = {"tip": _text(f"Route {f['properties']['name'] or ''}"), "n": i}
    if routes:  # optional on the form
        folium.GeoJson(
            _collection(routes),
            style_function=lambda f: {
                "color": ROUTE_COLOURS[f["properties"]["n"] % len(ROUTE_COLOURS)],
                "weight": 6,
                "opacity": 0.95,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
            control=False,
        ).add_to(m)

    for f in _copy(content.basemap, ("layer", "name"), ("Point",)):
        if f["properties"]["layer"] == "place_label" and f["properties"]["name"]:
            lon, lat = f["geometry"]["coordinates"][:2]
            marker = folium.CircleMarker([lat, lon], radius=0, opacity=0, interactive=False)
            marker.add_child(
                folium.Tooltip(
                    _text(f["properties"]["name"]),
                    permanent=True,
                    direction="center",
                    class_name="pack-label pack-district",
                )
            )
            marker.add_to(m)
    for f in _copy(content.places, ("name",), ("Point",)):
        lon, lat = f["geometry"]["coordinates"][:2]
        marker = folium.CircleMarker(
            [lat, lon], radius=8, color="#ffffff", weight=3, fill_color="#1d2b3a", fill_opacity=1
        )
        name = _text(f["properties"]["name"] or "")
        marker.add_child(
            folium.Tooltip(name, permanent=True, direction="right", class_name="pack-label")
        )
        marker.add_to(m)

    m.fit_bounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], padding=(24, 24))
    html: str = open_to_everyone(root.render())
    # Belt and braces: a folium upgrade that adds a CDN link must fail here, not leak.
    if external_references(html):
        raise RuntimeError("render_html: the page references something outside itself")
    return html
