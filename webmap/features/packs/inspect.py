"""Self-inspection of a rendered briefing pack, run before anyone is given it.

The renderers are meant to produce closed, raster-only documents from published data; these
checks look at the *output* to prove it. Problems are described by position only and never
quote a forbidden string: those strings are sentinels or personal data, and a report that
echoed them would leak them into logs.

Examples
--------
>>> inspect_html('<img src="https://example.org/x.png">', set(), [])
['external URL in the page (1 reference)']
>>> inspect_html("<p>ok</p>", set(), ["secret"])
[]
"""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from collections.abc import Iterable
from typing import Final

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

#: More path objects than this on one page means vector drawing, not text and a few rules.
MAX_PATHS_PER_PAGE: Final = 200
#: Metadata keys that could carry a person's name or a machine's details.
_PERSONAL_METADATA: Final = ("Author", "Creator", "Subject", "Keywords")

_EXTERNAL: Final = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|background|data|xlink:href)\s*=\s*["']?\s*"""
    r"""|url\(\s*["']?\s*|@import\s+["']?\s*|sourceMappingURL=\s*)(?:https?:)?//""",
    re.IGNORECASE,
)
_CELL: Final = re.compile(r'"cell"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')
_UNICODE_ESCAPE: Final = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE: Final = re.compile(r"\s+")


def _squash(text: str) -> str:
    """Lower case with all white space removed: line wrapping must not hide a match."""
    return _SPACE.sub("", text).casefold()


def _needles(forbidden: Iterable[str]) -> list[str]:
    return [n for n in (_squash(f) for f in forbidden) if n]


def inspect_pdf(pdf: bytes, forbidden: Iterable[str]) -> list[str]:
    """Problems with a rendered pack PDF; an empty list means it passed.

    Checks the text of every page and the metadata for forbidden strings (case and white
    space ignored), metadata fields that could carry personal data, vector drawing on any
    page (more than :data:`MAX_PATHS_PER_PAGE` path objects: the map must be a picture) and
    that page 1 has an image (the map).
    """
    needles = _needles(forbidden)
    problems: list[str] = []
    doc = pdfium.PdfDocument(pdf)
    try:
        metadata = doc.get_metadata_dict(skip_empty=True)
        for key in _PERSONAL_METADATA:
            if metadata.get(key):
                problems.append(f"metadata field {key} is set (only the title is allowed)")
        for key, value in sorted(metadata.items()):
            for i, needle in enumerate(needles, start=1):
                if needle in _squash(str(value)):
                    problems.append(f"forbidden string #{i} found in metadata field {key}")
        for number, page in enumerate(doc, start=1):
            textpage = page.get_textpage()
            text = _squash(textpage.get_text_range())
            textpage.close()
            for i, needle in enumerate(needles, start=1):
                if needle in text:
                    problems.append(f"forbidden string #{i} found on page {number}")
            kinds = [obj.type for obj in page.get_objects()]
            paths = kinds.count(pdfium_c.FPDF_PAGEOBJ_PATH)
            if paths > MAX_PATHS_PER_PAGE:
                problems.append(
                    f"page {number} has {paths} vector paths (at most {MAX_PATHS_PER_PAGE}): "
                    "the map must be an image"
                )
            if number == 1 and pdfium_c.FPDF_PAGEOBJ_IMAGE not in kinds:
                problems.append("page 1 has no image: the map is missing")
            page.close()
    finally:
        doc.close()
    return problems


def _decoded(text: str) -> str:
    """``text`` with JSON ``\\uXXXX`` escapes and HTML entities decoded.

    Folium writes GeoJSON with non-ASCII characters escaped and the page escapes HTML, so a
    forbidden string can hide behind either.
    """
    unescaped = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # Surrogate pairs from \\ud83d\\ude00-style escapes: recombine, drop what cannot be.
    unescaped = unescaped.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return html_lib.unescape(unescaped.replace('\\"', '"').replace("\\/", "/"))


def embedded_cells(html: str) -> set[str]:
    """Every value of a ``"cell"`` property in the page's embedded GeoJSON, as strings."""
    cells: set[str] = set()
    for text in (html, _decoded(html)):
        for match in _CELL.finditer(text):
            try:
                cells.add(str(json.loads(match.group(1))))
            except ValueError:  # not valid JSON once decoded: compare it as written
                cells.add(match.group(1).strip('"'))
    return cells


def external_references(html: str) -> int:
    """How many ``src``/``href``/``url()``-style references point outside the page."""
    return len(_EXTERNAL.findall(html))


def inspect_html(html: str, allowed_cells: set[str], forbidden: Iterable[str]) -> list[str]:
    """Problems with a rendered offline pack page; an empty list means it passed.

    Checks for references to anything outside the page (``src``/``href``/``url()`` and the
    like to ``http:``, ``https:`` or protocol-relative ``//``), forbidden strings in the
    page (raw, HTML-decoded and JSON-decoded; case and white space ignored) and that every
    embedded GeoJSON feature with a ``cell`` property is one of ``allowed_cells``.
    """
    problems: list[str] = []
    external = external_references(html)
    if external:
        problems.append(f"external URL in the page ({external} reference{'s' * (external > 1)})")
    views = {_squash(html), _squash(_decoded(html))}
    for i, needle in enumerate(_needles(forbidden), start=1):
        if any(needle in view for view in views):
            problems.append(f"forbidden string #{i} found in the page")
    unexpected = embedded_cells(html) - {str(c) for c in allowed_cells}
    if unexpected:
        problems.append(f"{len(unexpected)} embedded cell(s) not among the published cells")
    return problems


def render_page_png(pdf: bytes, page: int = 0, scale: float = 1.0) -> bytes:
    """One page of a PDF as PNG bytes (``scale`` 1 is 72 dpi)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        bitmap = doc[page].render(scale=scale)
        image = bitmap.to_pil()
    finally:
        doc.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def is_blank(png: bytes, share: float = 0.99) -> bool:
    """Whether at least ``share`` of an image's pixels are one colour."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        total = rgb.width * rgb.height
        colours = rgb.getcolors(maxcolors=total)
    if not colours or total == 0:
        return True
    return max(count for count, _ in colours) >= share * total
