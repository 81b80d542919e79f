"""Registration marks: normalise, mask, and key-hash for cross-agency matching."""

from __future__ import annotations

import hashlib
import hmac
import re

_UK_CURRENT = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z]{3}$")


def normalise_mark(mark: str) -> str:
    """Upper-case, strip spaces and punctuation: the form marks are compared in.

    >>> normalise_mark(" wr19-xkz ")
    'WR19XKZ'
    """
    return re.sub(r"[^A-Z0-9]", "", mark.upper())


def display_mark(mark: str) -> str:
    """UK current-format marks shown as ``AB12 CDE``; others as entered (trimmed).

    >>> display_mark("wr19xkz"), display_mark("B-MW 1234")
    ('WR19 XKZ', 'B-MW 1234')
    """
    norm = normalise_mark(mark)
    if _UK_CURRENT.match(norm):
        return f"{norm[:4]} {norm[4:]}"
    return mark.strip()


def mask_mark(mark: str) -> str:
    """What anyone outside the owning agency sees: at most the first two characters of the
    normalised mark, in a fixed shape that never gives away the mark's length (every hidden
    character, and the count of them, is what a guesser would need).

    >>> mask_mark("WR19 XKZ"), mask_mark("wr1"), mask_mark("WR19XKZA99")
    ('WR** ***', 'WR** ***', 'WR** ***')
    >>> mask_mark("A1"), mask_mark("")
    ('**** ***', '**** ***')
    """
    norm = normalise_mark(mark)
    # Two characters of a two-character mark would be all of it.
    return f"{norm[:2]}** ***" if len(norm) >= 3 else "**** ***"


def mark_hmac(mark: str, key: str) -> bytes:
    """Keyed HMAC-SHA256 of the normalised mark (32 bytes).

    >>> mark_hmac("WR19 XKZ", "k" * 32) == mark_hmac("wr19xkz", "k" * 32)
    True
    """
    return hmac.new(key.encode(), normalise_mark(mark).encode(), hashlib.sha256).digest()
