"""The offline HTML pack's own parts: its sidebar (the wording, the legend and the map's
numbers as a table) and its style. The table is read from the very cells the map draws, so a
person who cannot see the map, or would rather read numbers, gets the same picture."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

from webmap.features.packs.content import BandScale, PackContent, features, parts


@dataclass(frozen=True)
class CellRow:
    """One shaded cell of the pack's map, as its table lists it."""

    cell: str
    where: str
    count: str
    shade: str


def _centre(geometry: dict[str, Any]) -> tuple[float, float] | None:
    rings = [coords[0] for kind, coords in parts(geometry) if kind == "polygon" and coords]
    points = [p for ring in rings for p in ring[:-1]] or [p for ring in rings for p in ring]
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _nearest_name(content: PackContent, lon: float, lat: float) -> str:
    """The nearest district or station name of the base map (distances on the ground)."""
    best, name = math.inf, ""
    scale = math.cos(math.radians(lat))
    for f in features(content.basemap):
        label = f["properties"].get("name")
        if f["properties"].get("layer") == "place_label" and label:
            x, y = f["geometry"]["coordinates"][:2]
            d = ((x - lon) * scale) ** 2 + (y - lat) ** 2
            if d < best:
                best, name = d, str(label)
    return name


def open_to_everyone(html: str) -> str:
    """folium's page, made WCAG-clean (issue 18): the page says its language, and people may
    zoom it (folium's viewport forbids pinch zoom)."""
    html = re.sub(r"<html>", '<html lang="en-GB">', html, count=1)
    return re.sub(
        r'<meta name="viewport"[^>]*>',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        html,
        flags=re.S,
    )


def cell_rows(content: PackContent, scale: BandScale) -> list[CellRow]:
    """The map's shaded cells: where (the nearest name, and the cell's centre), the count as
    published and its shade in words ("shade 2 of 3: 20–49"); most first."""
    rows = []
    for f in features(content.cells):
        centre = _centre(f["geometry"])
        if centre is None:
            continue
        lon, lat = centre
        count = f["properties"].get("count", "")
        band = scale.band_for(count)
        near = _nearest_name(content, lon, lat)
        position = f"{abs(lat):.3f}° {'NS'[lat < 0]}, {abs(lon):.3f}° {'EW'[lon < 0]}"
        rank = scale.bands.index(band) + 1
        row = CellRow(
            cell=str(f["properties"].get("cell", "")),
            where=f"Near {near} ({position})" if near else position,
            count=str(count),
            shade=f"Shade {rank} of {len(scale.bands)}: {band.label}",
        )
        rows.append((-rank, row.where, row))
    return [row for *_, row in sorted(rows, key=lambda r: (r[0], r[1]))]


SIDEBAR: Final = """
{%- macro blocks(items, lead) -%}
  {%- for kind, lines in items -%}
    {%- if kind == "ul" -%}<ul>{% for l in lines %}<li>{{ l|numbers }}</li>{% endfor %}</ul>
    {%- else -%}<p{% if lead and loop.first %} class="lead"{% endif %}>{{ lines[0]|numbers }}</p>
    {%- endif -%}
  {%- endfor -%}
{%- endmacro -%}
<aside class="pack-side">
  <div class="pack-marking">{{ c.marking }}</div>
  <p class="pack-for">For drivers and staff of {{ c.recipient }}</p>
  <h1>{{ c.title }}</h1>
  <p class="pack-period">Where concerns about children were recorded, {{ c.period_label }}</p>
  <ul class="pack-legend">
    {%- for b in bands %}<li><i style="background:{{ b.colour }}"></i>{{ b.label }}</li>{% endfor %}
    <li><i class="none"></i>Not shaded: too few to show, or none</li>
  </ul>
  <p class="pack-precision">{{ c.precision }}</p>
  <details class="pack-numbers"><summary>Show as a table</summary>
    <table><caption>Concerns recorded, {{ c.period_label }}: the map's shaded cells</caption>
      <thead><tr><th scope="col">Where</th><th scope="col">Concerns recorded</th>
        <th scope="col">Shade</th></tr></thead>
      <tbody>{% for r in rows %}<tr data-cell="{{ r.cell }}"><th scope="row">{{ r.where }}</th>
        <td>{{ r.count }}</td><td>{{ r.shade }}</td></tr>{% else %}<tr><td colspan="3">No cell is
        shaded.</td></tr>{% endfor %}</tbody>
    </table>
  </details>
  <section class="pack-report"><h2>How to report</h2>{{ blocks(report, True) }}</section>
  <section><h2>Signs to look for</h2>{{ blocks(signs, False) }}</section>
  <dl class="pack-meta">
    <dt>Issued</dt><dd>{{ issued }}</dd><dt>Review by</dt><dd>{{ review }}</dd>
    <dt>Reference</dt><dd>{{ c.share_id }}</dd>
  </dl>
  <div class="pack-marking">{{ c.marking }}</div>
</aside>
<div class="pack-watermark" aria-hidden="true">{{ c.share_id }}</div>
"""

PAGE_CSS: Final = """
html, body { height: 100%; margin: 0; }
body { display: grid; grid-template-columns: minmax(300px, 390px) 1fr; font: 15px/1.4
  "DejaVu Sans", system-ui, sans-serif; color: #1d2b3a; }
.folium-map { height: 100% !important; width: 100% !important; }
.leaflet-container { background: #cfe2ef; }
.pack-side { order: -1; overflow-y: auto; padding: 0 18px; border-right: 2px solid #1d2b3a; }
.pack-marking { font-weight: bold; text-align: center; padding: 6px; background: #1d2b3a;
  color: #fff; margin: 0 -18px; position: sticky; top: 0; z-index: 1; }
.pack-marking:last-child { position: static; margin-top: 16px; }
.pack-for { color: #a63603; font-weight: bold; margin: 14px 0 4px; }
.pack-side h1 { font-size: 24px; line-height: 1.15; margin: 0 0 6px; }
.pack-side h2 { font-size: 18px; margin: 14px 0 6px; }
.pack-legend { list-style: none; padding: 0; margin: 12px 0 6px; }
.pack-legend li { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
.pack-legend i { width: 28px; height: 18px; border: 1px solid #7f2704; opacity: .85; }
.pack-legend i.none { background: #f4eedf; border-color: #9a9384; }
.pack-precision { font-size: 13px; color: #374151; }
.pack-numbers summary { cursor: pointer; color: #0b57b0; font-weight: bold; }
.pack-numbers table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
.pack-numbers caption { text-align: left; font-weight: bold; padding: 4px 0; }
.pack-numbers th, .pack-numbers td { text-align: left; padding: 3px 6px;
  border-bottom: 1px solid #d0d4da; vertical-align: top; }
.pack-report { border: 3px solid #b91c1c; border-radius: 6px; padding: 0 12px 8px;
  margin-top: 14px; }
.pack-report h2 { background: #b91c1c; color: #fff; margin: 0 -12px 8px; padding: 6px 12px; }
.pack-report .lead { font-size: 18px; font-weight: bold; color: #b91c1c; }
.pack-report .lead .tel { font-size: 28px; }
.tel { white-space: nowrap; }
.pack-side ul { padding-left: 20px; }
.pack-meta { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; font-size: 13px; }
.pack-meta dt { font-weight: bold; } .pack-meta dd { margin: 0; }
.pack-watermark { position: fixed; left: 390px; right: 0; top: 45%; text-align: center;
  transform: rotate(-30deg); font: bold 48px "DejaVu Sans", sans-serif; pointer-events: none;
  color: rgba(29, 43, 58, .10); z-index: 1100; }
.leaflet-tooltip.pack-label { background: none; border: 0; box-shadow: none; padding: 0;
  font: bold 14px "DejaVu Sans", sans-serif; color: #1d2b3a;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.leaflet-tooltip.pack-label::before { display: none; }
.leaflet-tooltip.pack-district { font: italic 13px "DejaVu Sans", sans-serif; color: #6e675c; }
@media (max-width: 760px) {
  body { display: block; height: auto; }
  .folium-map { height: 70vh !important; }
  .pack-side { border-right: 0; }
  .pack-watermark { left: 0; }
}
"""
