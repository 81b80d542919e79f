"""What a briefing pack says: the :class:`PackContent` record and the default wording.

A pack is handed to people outside the safeguarding partnership (bus and taxi drivers, hotel
staff), so everything in it must already be tier C published data: coarse cells with banded
or rounded counts, named public places and routes. Nothing here reads a database; the caller
assembles a :class:`PackContent` from published data and the renderers only draw it.

The helpers that read the published GeoJSON (extent, legend classes and their colours) live
here too, so the PDF map and the HTML map cannot disagree about them.

Examples
--------
>>> text_blocks("Look out for:\\n- cash\\n- phones\\n\\nTrust your instinct.")
[('p', ['Look out for:']), ('ul', ['cash', 'phones']), ('p', ['Trust your instinct.'])]
>>> long_date(date(2026, 10, 1))
'1 October 2026'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

#: The handling marking printed at the top and bottom of every page unless told otherwise.
DEFAULT_MARKING: Final = "OFFICIAL"

#: "Signs to look for", in plain words for drivers and front-desk staff. Written for this
#: project; one sign alone proves nothing, so the wording asks people to report, not judge.
DEFAULT_SIGNS: Final = """\
Exploitation is often hidden in plain sight. One sign on its own may mean nothing, but \
trust your instinct if something feels wrong.

- A child travelling alone, far from home, late at night or during school hours
- The same young person making the same trip again and again, often with a bag they guard
- Lots of cash, more than one phone, or new clothes they could not usually afford
- Being met, collected or told where to go by an older person
- Someone else paying the fare, the taxi or the room, often in cash
- Seeming scared, watchful or exhausted, or giving answers that sound rehearsed
- Adults booking rooms or taxis for young people who are not their children
"""

#: "How to report". The first paragraph is printed largest: the emergency instruction.
#: 01632 960xxx is in Ofcom's range reserved for drama, so the number is fictional.
DEFAULT_HOW_TO_REPORT: Final = """\
If a child is in immediate danger, call 999.

Otherwise tell your supervisor straight away, then call 101 or Wrenmouth Children's \
Services on 01632 960 000 (day and night).

- Note the time, the place, the route or vehicle number and what you saw
- Describe the young person and anyone with them
- Do not confront anyone and do not follow them
- If you are not sure, report it anyway: you may hold the missing piece
"""

BlockKind = Literal["p", "ul"]


@dataclass(frozen=True)
class PackContent:
    """Everything one briefing pack shows, already published at tier C.

    Attributes
    ----------
    share_id : str
        The share's reference, printed as a watermark and in the footer of every page so a
        leaked copy can be traced to the share it came from.
    title, recipient : str
        Headline, e.g. "Keeping children safe on Wrenmouth's buses", and who it is for.
    marking : str
        Handling marking, printed top and bottom of every page.
    issued, review : datetime.date
        Date of issue and the date by which the pack must be reviewed or withdrawn.
    period_label, precision : str
        The period the counts cover and the precision sentence of the published data.
    signs, how_to_report : str
        Plain text; paragraphs split by blank lines, lines starting ``"- "`` are bullets.
    cells : dict
        GeoJSON FeatureCollection of Polygons with properties ``cell`` (str), ``period``
        (str) and ``count`` (int, or a band label such as ``"10–19"``).
    places : dict
        GeoJSON FeatureCollection of Points with properties ``name`` and ``kind``.
    routes : dict
        GeoJSON FeatureCollection of LineStrings with property ``name``.
    basemap : dict
        GeoJSON FeatureCollection with properties ``layer``, ``name`` and ``kind``.
    """

    share_id: str
    title: str
    recipient: str
    marking: str
    issued: date
    review: date
    period_label: str
    precision: str
    signs: str = DEFAULT_SIGNS
    how_to_report: str = DEFAULT_HOW_TO_REPORT
    cells: dict[str, Any] = field(default_factory=lambda: empty_collection())
    places: dict[str, Any] = field(default_factory=lambda: empty_collection())
    routes: dict[str, Any] = field(default_factory=lambda: empty_collection())
    basemap: dict[str, Any] = field(default_factory=lambda: empty_collection())

    def __post_init__(self) -> None:
        # A pack without a reference or marking could not be traced or handled properly.
        if not self.share_id.strip():
            raise ValueError("share_id: required")
        if not self.marking.strip():
            raise ValueError("marking: required")
        if self.review < self.issued:
            raise ValueError("review: before the issue date")


def empty_collection() -> dict[str, Any]:
    """An empty GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": []}


def text_blocks(text: str) -> list[tuple[BlockKind, list[str]]]:
    """Split plain text into paragraphs and bullet lists.

    Blank lines separate paragraphs; consecutive lines starting ``"- "`` form one list;
    other consecutive lines are joined into one paragraph.

    >>> text_blocks("a\\nb\\n- c\\n- d")
    [('p', ['a b']), ('ul', ['c', 'd'])]
    """
    blocks: list[tuple[BlockKind, list[str]]] = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        prose: list[str] = []
        bullets: list[str] = []
        for raw in chunk.split("\n"):
            line = raw.strip()
            if line.startswith("- ") and line[2:].strip():
                if prose:
                    blocks.append(("p", [" ".join(prose)]))
                    prose = []
                bullets.append(line[2:].strip())
            elif line:
                if bullets:
                    blocks.append(("ul", bullets))
                    bullets = []
                prose.append(line)
        if prose:
            blocks.append(("p", [" ".join(prose)]))
        if bullets:
            blocks.append(("ul", bullets))
    return blocks


def long_date(d: date) -> str:
    """A date as people write it in the UK, without a leading zero."""
    return f"{d.day} {d:%B %Y}"


# --- reading the published data ------------------------------------------------------------


#: ColorBrewer "Oranges" (9 classes). The two palest steps are never used (invisible on the
#: sandy land once printed), nor the darkest (labels on it would be hard to read).
ORANGES: Final = (
    "#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c",
    "#f16913", "#d94801", "#a63603", "#7f2704",
)  # fmt: skip


@dataclass(frozen=True)
class Band:
    """One legend class of the cell counts."""

    label: str
    colour: str


class BandScale:
    """Legend classes for published counts: band labels as given, rounded counts grouped.

    >>> scale = BandScale(["10–19", "50+", "20–49", "10–19"])
    >>> [b.label for b in scale.bands]
    ['10–19', '20–49', '50+']
    >>> scale.band_for("50+").colour == scale.bands[-1].colour
    True
    """

    def __init__(self, counts: list[int | str], max_classes: int = 5) -> None:
        labels = sorted({str(c) for c in counts}, key=_lower_bound)
        numeric = all(isinstance(c, int) for c in counts)
        if numeric and len(labels) > max_classes:
            # Rounded counts: group the distinct values into about equal classes.
            values = sorted({int(c) for c in counts})
            size = math.ceil(len(values) / max_classes)
            groups = [values[i : i + size] for i in range(0, len(values), size)]
            self._lookup = {str(v): i for i, g in enumerate(groups) for v in g}
            names = [f"{g[0]}–{g[-1]}" if len(g) > 1 else str(g[0]) for g in groups]
        else:
            self._lookup = {label: i for i, label in enumerate(labels)}
            names = labels
        colours = _ramp(len(names))
        self.bands = [Band(n, c) for n, c in zip(names, colours, strict=True)]

    def band_for(self, count: int | str) -> Band:
        """The class a published count falls in."""
        return self.bands[self._lookup[str(count)]]


def _lower_bound(label: str) -> float:
    """Sort key of a count or band label: its first number; "<10" or "under 10" sorts first."""
    if re.match(r"\s*(<|under|fewer|less)", label, re.IGNORECASE):
        return -1.0
    found = re.search(r"\d+", label)
    return float(found.group()) if found else math.inf


def _ramp(n: int) -> list[str]:
    usable = ORANGES[2:8]
    if n <= 1:
        return [usable[2]] * n
    return [usable[round(i * (len(usable) - 1) / (n - 1))] for i in range(n)]


def cell_counts(content: PackContent) -> list[int | str]:
    """The count of every cell feature, as published."""
    return [f["properties"].get("count", "") for f in features(content.cells)]


# --- geometry ------------------------------------------------------------------------------


def features(fc: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of a FeatureCollection that have a geometry, ``properties`` never None."""
    return [
        {**f, "properties": f.get("properties") or {}}
        for f in fc.get("features", [])
        if f.get("geometry")
    ]


def parts(geometry: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(kind, coordinates) of each simple part: kind is "point", "line" or "polygon"."""
    kind, coords = geometry.get("type", ""), geometry.get("coordinates") or []
    simple = {"Point": "point", "LineString": "line", "Polygon": "polygon"}
    if kind in simple:
        yield simple[kind], coords
    elif kind.startswith("Multi") and kind[5:] in simple:
        for c in coords:
            yield simple[kind[5:]], c
    elif kind == "GeometryCollection":
        for g in geometry.get("geometries", []):
            yield from parts(g)


def _positions(fc: dict[str, Any]) -> Iterator[tuple[float, float]]:
    for f in features(fc):
        for kind, coords in parts(f["geometry"]):
            if kind == "point":
                yield coords[0], coords[1]
            elif kind == "line":
                yield from ((p[0], p[1]) for p in coords)
            else:
                yield from ((p[0], p[1]) for ring in coords for p in ring)


def data_bbox(content: PackContent) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of cells, routes and places, else of the base map."""
    for sources in ((content.cells, content.routes, content.places), (content.basemap,)):
        pts = [p for fc in sources for p in _positions(fc)]
        if pts:
            lons, lats = [p[0] for p in pts], [p[1] for p in pts]
            return min(lons), min(lats), max(lons), max(lats)
    return None
