"""What people read on the pages: form errors in plain English and the one date style.

The GOV.UK Design System's patterns, which UK police, council and NHS staff already know: an
error says what to do ("Choose at least one area"), never the validator's words ("List should
have at least 1 item after validation, not 0"); dates are written "6 December 2026".
(The scripts' forms use the same wording rules: static/js/lib/messages.js.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

#: The validator's stock phrases → plain words, given the field's name ("The title").
_STOCK: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), words)
    for pattern, words in (
        (r"^string should have at least (\d+) char", "{name} must be {0} characters or more"),
        (r"^string should have at most (\d+) char", "{name} must be {0} characters or fewer"),
        (r"^list should have at most (\d+) items?", "Choose no more than {0}"),
        (r"^input should be a valid (?:date|datetime)", "{name} must be a real date"),
        (r"^input should be a valid (?:integer|number)", "{name} must be a whole number"),
        (r"^input should be (?:greater|less) than", "Choose one of the options"),
        (r"^string should match pattern", "{name} must be a month, like 2026-04"),
    )
)
#: What "nothing given" looks like, however the validator says it.
_MISSING = re.compile(
    r"^(field required|list should have at least 1 item|input should be '|"
    r"input should be a valid uuid|string should have at least 1 character)",
    re.I,
)
#: A service's own words that continue a sentence about the field ("must be after today").
_CONTINUES = re.compile(r"^(must|is|are|should|cannot|does)\b")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def plain_errors(
    fields: Mapping[str, str],
    names: Mapping[str, str],
    missing: Mapping[str, str],
    given: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Each field's problem in plain English.

    ``names``: how a sentence names each field ("The expiry date"); ``missing``: what to do
    when a field was left empty ("Choose at least one area"); ``given``: what the form sent,
    so that an empty field is asked for rather than measured ("Enter the lawful basis", not
    "must be 3 characters or more").

    >>> errors = plain_errors(
    ...     {"areas": "List should have at least 1 item after validation, not 0",
    ...      "expires_on": "must be after today",
    ...      "title": "String should have at least 5 characters"},
    ...     {"expires_on": "The expiry date", "title": "The title"},
    ...     {"areas": "Choose at least one area"})
    >>> for field, message in errors.items():
    ...     print(f"{field}: {message}")
    areas: Choose at least one area.
    expires_on: The expiry date must be after today.
    title: The title must be 5 characters or more.
    """
    out: dict[str, str] = {}
    for field, raw in fields.items():
        text = raw.strip().removeprefix("Value error, ")
        name = names.get(field, "This")
        if _MISSING.match(text) or (given is not None and given.get(field) in ("", None, [])):
            out[field] = _sentence(missing.get(field, f"Enter {name[:1].lower()}{name[1:]}"))
            continue
        for pattern, words in _STOCK:
            found = pattern.match(text)
            if found:
                out[field] = _sentence(words.format(*found.groups(), name=name))
                break
        else:
            out[field] = _sentence(f"{name} {text}" if _CONTINUES.match(text) else text)
    return out


def long_date(value: date | datetime | str | None) -> str:
    """A date in the one style every page uses: ``6 December 2026``.

    >>> long_date(date(2026, 12, 6)), long_date("2027-01-31T10:00:00+00:00"), long_date(None)
    ('6 December 2026', '31 January 2027', '')
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def long_datetime(value: str | datetime | None) -> str:
    """An instant in the one style, to the minute, in the zone it was given in (the pages
    that show these say "UTC"): ``6 December 2026, 10:19``.

    >>> long_datetime("2026-12-06T10:19Z"), long_datetime(None)
    ('6 December 2026, 10:19', '')
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{long_date(value)}, {value:%H:%M}"


def month_name(value: date) -> str:
    """``November 2026``."""
    return f"{MONTHS[value.month - 1]} {value.year}"
