"""The briefing map as a raster PNG (Pillow), so no pack ever carries vector data geometry.

A PDF with vector cells could be mined for exact outlines and coordinates; a picture of the
map cannot give more than it shows. The projection is a plain equirectangular one scaled by
the cosine of the mean latitude: over a town it is indistinguishable from Web Mercator and
needs no projection library.

Everything is drawn at twice the size and scaled down, because Pillow does not antialias
polygons and lines.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from PIL import Image, ImageDraw, ImageFont

from webmap.features.packs.content import (
    BandScale,
    PackContent,
    cell_counts,
    data_bbox,
    features,
    parts,
)

FONT_DIR: Final = Path("/usr/share/fonts/truetype/dejavu")

#: Route colours: dark, saturated and far from the oranges of the cells.
ROUTE_COLOURS: Final = ("#1f4e9c", "#6a3d9a", "#0f7a72", "#9c1f5e")

_BASE_FILL: Final = {
    "land": "#f4eedf",
    "sea": "#cfe2ef",
    "water": "#a9cde6",
    "residential": "#e9e3d6",
    "park": "#d7e8cc",
    "retail": "#efdcd5",
}
_SEA: Final = "#cfe2ef"
_PLAIN: Final = "#f7f5f0"
_INK: Final = "#1d2b3a"
_SS: Final = 2  # supersampling factor
_LEGEND_H: Final = 150  # height of the legend strip under the map, in output pixels
_METRES_PER_DEGREE: Final = 111_320.0


@cache
def font(size: int, style: str = "") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (``style`` "", "Bold" or "Oblique"), or Pillow's own font if it is missing."""
    name = f"DejaVuSans-{style}.ttf" if style else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)


@dataclass(frozen=True)
class _Frame:
    """Equirectangular lon/lat → pixel transform for one drawing."""

    west: float
    north: float
    px_per_deg: float  # pixels per degree of latitude
    coslat: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.coslat * self.px_per_deg, (
            self.north - lat
        ) * self.px_per_deg

    @property
    def metres_per_px(self) -> float:
        return _METRES_PER_DEGREE / self.px_per_deg


def _fit(bbox: tuple[float, float, float, float], width: float, height: float) -> _Frame:
    west, south, east, north = bbox
    coslat = math.cos(math.radians((south + north) / 2))
    # A lone point still gets a neighbourhood around it (about 1 km).
    span_x = max((east - west) * coslat, 0.01)
    span_y = max(north - south, 0.01)
    cx, cy = (west + east) / 2, (south + north) / 2
    margin = 1.16  # a little room round the data for labels
    k = min(width / (span_x * margin), height / (span_y * margin))
    left = cx - width / 2 / k / coslat
    top = cy + height / 2 / k
    return _Frame(left, top, k, coslat)


# --- drawing -------------------------------------------------------------------------------


def render_map_png(content: PackContent, width: int = 1600, height: int = 1100) -> bytes:
    """Draw the pack's map, legend and scale bar; return PNG bytes.

    Parameters
    ----------
    content
        The pack; its cells, routes and places set the extent (the base map if all empty).
    width, height
        Size of the image in pixels, legend strip included. At the default size and printed
        18 cm wide the labels come out at about 9–10 pt.
    """
    s = _SS
    map_h = height - _LEGEND_H
    has_land = any(f["properties"].get("layer") == "land" for f in features(content.basemap))
    img = Image.new("RGB", (width * s, height * s), _SEA if has_land else _PLAIN)
    bbox = data_bbox(content) or (-0.01, -0.01, 0.01, 0.01)
    frame = _fit(bbox, width * s, map_h * s)
    draw = ImageDraw.Draw(img)
    taken: list[tuple[float, float, float, float]] = []

    _draw_basemap(draw, frame, content.basemap)
    img = _draw_cells(img, frame, content)
    draw = ImageDraw.Draw(img)
    labels = _draw_routes(draw, frame, content.routes)
    _draw_places(draw, frame, content, labels, taken, (width * s, map_h * s))
    _draw_basemap_labels(draw, frame, content, taken, map_h * s)
    _draw_legend(draw, frame, content, width * s, map_h * s)

    out = img.resize((width, height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _line(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], fill: str, w: int) -> None:
    if len(pts) >= 2:
        draw.line(pts, fill=fill, width=w, joint="curve")


def _draw_basemap(draw: ImageDraw.ImageDraw, frame: _Frame, basemap: dict[str, Any]) -> None:
    s = _SS
    feats = features(basemap)
    order = ["land", "sea", "water", "residential", "park", "retail"]
    for layer in order:
        for f in (f for f in feats if f["properties"].get("layer") == layer):
            for kind, coords in parts(f["geometry"]):
                if kind != "polygon":
                    continue
                draw.polygon([frame.xy(*p[:2]) for p in coords[0]], fill=_BASE_FILL[layer])
                for hole in coords[1:]:
                    draw.polygon([frame.xy(*p[:2]) for p in hole], fill=_SEA)
    for f in feats:
        layer, kind_prop = f["properties"].get("layer"), f["properties"].get("kind")
        for kind, coords in parts(f["geometry"]):
            if kind != "line":
                continue
            pts = [frame.xy(*p[:2]) for p in coords]
            if layer == "river":
                _line(draw, pts, "#8fbfe0", 7 * s)
            elif layer == "road":
                major = kind_prop in ("main", "primary", "trunk", "motorway")
                _line(draw, pts, "#c9c2b5" if major else "#d9d3c8", (5 if major else 2) * s)
            elif layer == "rail":
                _line(draw, pts, "#77736c", 5 * s)
                _dashes(draw, pts, "#ffffff", 2 * s, 14 * s)


def _dashes(
    draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], fill: str, w: int, step: float
) -> None:
    """Dashes of length ``step`` along a line, every other step: the usual railway symbol."""
    travelled = 0.0
    for (x0, y0), (x1, y1) in pairwise(pts):
        seg = math.hypot(x1 - x0, y1 - y0)
        a = 0.0
        while a < seg:
            phase = (travelled + a) // step
            # Guard against float rounding leaving b == a (which would never advance).
            b = max(min(seg, (phase + 1) * step - travelled), a + 1e-6)
            if phase % 2 == 0:
                ta, tb = a / seg, min(b, seg) / seg
                p0 = (x0 + (x1 - x0) * ta, y0 + (y1 - y0) * ta)
                p1 = (x0 + (x1 - x0) * tb, y0 + (y1 - y0) * tb)
                draw.line([p0, p1], fill=fill, width=w)
            a = b
        travelled += seg


def _draw_cells(img: Image.Image, frame: _Frame, content: PackContent) -> Image.Image:
    s = _SS
    scale = BandScale(cell_counts(content))
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    od = ImageDraw.Draw(overlay)
    cells = features(content.cells)
    for f in cells:
        colour = scale.band_for(f["properties"]["count"]).colour
        for _, coords in parts(f["geometry"]):
            od.polygon([frame.xy(*p[:2]) for p in coords[0]], fill=colour + "c0")
    for f in cells:
        for _, coords in parts(f["geometry"]):
            ring = [frame.xy(*p[:2]) for p in coords[0]]
            od.line([*ring, ring[0]], fill="#7f2704e6", width=2 * s, joint="curve")
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def _along(pts: list[tuple[float, float]], t: float) -> tuple[float, float]:
    """The point a fraction ``t`` of the way along a polyline."""
    lengths = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in pairwise(pts)]
    target = sum(lengths) * t
    for (a, b), seg in zip(pairwise(pts), lengths, strict=True):
        if target <= seg and seg > 0:
            return a[0] + (b[0] - a[0]) * target / seg, a[1] + (b[1] - a[1]) * target / seg
        target -= seg
    return pts[-1]


def _draw_routes(
    draw: ImageDraw.ImageDraw, frame: _Frame, routes: dict[str, Any]
) -> list[tuple[str, str, tuple[float, float]]]:
    """Draw the route lines; return (name, colour, anchor) for badges drawn over the places."""
    s = _SS
    badges = []
    for i, f in enumerate(features(routes)):
        colour = ROUTE_COLOURS[i % len(ROUTE_COLOURS)]
        lines = [[frame.xy(*p[:2]) for p in c] for k, c in parts(f["geometry"]) if k == "line"]
        for pts in lines:
            _line(draw, pts, "#ffffff", 15 * s)
        for pts in lines:
            _line(draw, pts, colour, 9 * s)
        name = str(f["properties"].get("name") or "")
        if lines and name:
            # Stagger badges along their lines so two routes sharing a road don't collide.
            badges.append((name, colour, _along(lines[0], 0.25 + 0.2 * (i % 3))))
    return badges


def _boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _draw_places(
    draw: ImageDraw.ImageDraw,
    frame: _Frame,
    content: PackContent,
    badges: list[tuple[str, str, tuple[float, float]]],
    taken: list[tuple[float, float, float, float]],
    bounds: tuple[float, float],
) -> None:
    """Place symbols, route badges over the lines, then place names beside their symbols."""
    s = _SS
    bold = font(30 * s, "Bold")
    points = [
        (str(f["properties"].get("name") or ""), frame.xy(*c[:2]), f["properties"].get("kind"))
        for f in features(content.places)
        for k, c in parts(f["geometry"])
        if k == "point"
    ]
    for _, (x, y), kind in points:
        r = 14 * s
        box = (x - r, y - r, x + r, y + r)
        if kind in ("transport_hub", "station", "bus_station"):
            draw.rounded_rectangle(box, radius=5 * s, fill=_INK, outline="#ffffff", width=4 * s)
        else:
            draw.ellipse(box, fill=_INK, outline="#ffffff", width=4 * s)
        taken.append(box)
    badge_font = font(26 * s, "Bold")
    for name, colour, (x, y) in badges:
        x0, y0, x1, y1 = draw.textbbox((x, y), name, font=badge_font, anchor="mm")
        pad = 8 * s
        box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        draw.rounded_rectangle(box, radius=8 * s, fill=colour, outline="#ffffff", width=3 * s)
        draw.text((x, y), name, font=badge_font, fill="#ffffff", anchor="mm")
        taken.append(box)
    for name, xy, _ in points:
        if name:
            _place_label(draw, name, xy, (bold, _INK, 22 * s), taken, bounds, force=True)


def _place_label(
    draw: ImageDraw.ImageDraw,
    text: str,
    xy: tuple[float, float],
    style: tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, str, float],
    taken: list[tuple[float, float, float, float]],
    bounds: tuple[float, float],
    force: bool = False,
) -> None:
    """Label a point beside it (right, left, above, below), in the first free spot.

    ``style`` is (font, colour, gap from the point). If no spot is free the label is skipped,
    unless ``force`` (the pack's own places must always be named): then the first spot inside
    the map is used even if it overlaps something.
    """
    (x, y), (f, fill, gap), halo = xy, style, 6 * _SS
    tries = [((x + gap, y), "lm"), ((x - gap, y), "rm"), ((x, y - gap), "md"), ((x, y + gap), "ma")]
    fits = []
    for pos, anchor in tries:
        box = draw.textbbox(pos, text, font=f, anchor=anchor, stroke_width=halo)
        if box[0] >= 0 and box[1] >= 0 and box[2] <= bounds[0] and box[3] <= bounds[1]:
            fits.append((pos, anchor, box))
    free = [t for t in fits if not any(_boxes_overlap(t[2], b) for b in taken)]
    chosen = free[0] if free else (fits or [(*tries[0], (0.0, 0.0, 0.0, 0.0))])[0]
    if not free and not force:
        return
    pos, anchor, box = chosen
    draw.text(pos, text, font=f, fill=fill, anchor=anchor, stroke_width=halo, stroke_fill="#fff")
    taken.append(box)


def _draw_basemap_labels(
    draw: ImageDraw.ImageDraw,
    frame: _Frame,
    content: PackContent,
    taken: list[tuple[float, float, float, float]],
    map_h: float,
) -> None:
    """District and station names, only where they don't hide the pack's own labels."""
    s = _SS
    named = {str(f["properties"].get("name")) for f in features(content.places)}
    width = draw.im.size[0]
    for f in features(content.basemap):
        props = f["properties"]
        name = str(props.get("name") or "")
        if props.get("layer") not in ("place_label", "station") or not name or name in named:
            continue
        for kind, c in parts(f["geometry"]):
            if kind != "point":
                continue
            x, y = frame.xy(*c[:2])
            if props.get("layer") == "station":
                draw.rectangle((x - 7 * s, y - 7 * s, x + 7 * s, y + 7 * s), fill="#5f5a52")
                style = (font(24 * s), "#4a463f", 14 * s)
                _place_label(draw, name, (x, y), style, taken, (width, map_h))
            else:
                f_it = font(25 * s, "Oblique")
                box = draw.textbbox((x, y), name, font=f_it, anchor="mm", stroke_width=5 * s)
                inside = box[0] > 0 and box[1] > 0 and box[2] < width and box[3] < map_h
                if inside and not any(_boxes_overlap(box, t) for t in taken):
                    draw.text((x, y), name, font=f_it, fill="#6e675c", anchor="mm",
                              stroke_width=5 * s, stroke_fill="#ffffff")  # fmt: skip
                    taken.append(box)


def _nice_distance(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not above ``max_m``."""
    exp = 10 ** math.floor(math.log10(max_m))
    return max(m * exp for m in (1, 2, 5) if m * exp <= max_m)


def _draw_legend(
    draw: ImageDraw.ImageDraw, frame: _Frame, content: PackContent, width: int, top: int
) -> None:
    """The legend strip: title and scale bar on one row, the count classes on the next."""
    s = _SS
    draw.rectangle((0, top, width, draw.im.size[1]), fill="#ffffff")
    draw.line((0, top, width, top), fill=_INK, width=2 * s)
    # Scale bar, top right of the strip: a round distance about a sixth of the map's width.
    metres = _nice_distance(frame.metres_per_px * width / 6)
    bar = metres / frame.metres_per_px
    bx1, by = width - 40 * s, top + 44 * s
    bx0 = bx1 - bar
    text = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    draw.text(((bx0 + bx1) / 2, by - 6 * s), text, font=font(24 * s), fill=_INK, anchor="md")
    draw.rectangle((bx0, by, bx1, by + 10 * s), fill=_INK)
    draw.rectangle(((bx0 + bx1) / 2, by + 3 * s, bx1 - 3 * s, by + 7 * s), fill="#ffffff")

    left = 28 * s
    title = f"Concerns recorded in each hexagon, {content.period_label}"
    title_f = _fitting(draw, [title], 27 * s, "Bold", bx0 - 40 * s - left, 0)
    draw.text((left, top + 18 * s), title, font=title_f, fill=_INK)

    bands = BandScale(cell_counts(content)).bands
    items = [(b.label, b.colour) for b in bands] + [("Not shaded: too few to show, or none", "")]
    cy, sw, sh, gap = top + 104 * s, 58 * s, 40 * s, 36 * s
    # Long band labels or many classes: shrink the text rather than run off the strip.
    extra = len(items) * (sw + 12 * s + gap)
    label_f = _fitting(draw, [i[0] for i in items], 26 * s, "", width - 2 * left, extra)
    x: float = left
    for label, colour in items:
        box = (x, cy - sh / 2, x + sw, cy + sh / 2)
        if colour:
            draw.rectangle(box, fill=colour, outline="#7f2704", width=2 * s)
        else:
            draw.rectangle(box, fill=_BASE_FILL["land"], outline="#9a9384", width=2 * s)
        draw.text((x + sw + 12 * s, cy), label, font=label_f, fill=_INK, anchor="lm")
        x += sw + 12 * s + draw.textlength(label, font=label_f) + gap


def _fitting(
    draw: ImageDraw.ImageDraw, texts: list[str], size: int, style: str, room: float, extra: float
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest font up to ``size`` at which ``texts`` plus ``extra`` fit in ``room``."""
    while True:
        f = font(size, style)
        if size <= 12 or sum(draw.textlength(t, font=f) for t in texts) + extra <= room:
            return f
        size -= 2
