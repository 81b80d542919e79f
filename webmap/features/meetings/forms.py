"""The meeting pages' forms, read into the same bodies the API takes (no Flask here: a form is
any mapping of names to values), and the labels their error summaries link to.

Examples
--------
>>> from werkzeug.datastructures import MultiDict
>>> action_body(MultiDict({"four_p": "pursue", "title": "Patrols", "link": "cell",
...                        "cell": "88194e6b0bfffff", "owner_agency_id": "", "due_on": ""}))
... # doctest: +NORMALIZE_WHITESPACE
{'four_p': 'pursue', 'title': 'Patrols', 'owner_agency_id': None, 'owner_name': None,
 'due_on': None, 'cell': '88194e6b0bfffff'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Field → label, for the error summary at the top of each form.
LABELS = {
    "held_on": "Date of the meeting",
    "kind": "Kind of meeting",
    "four_p": "Which of the Four Ps",
    "title": "What will be done",
    "owner_agency_id": "Owner agency",
    "owner_name": "Named owner",
    "due_on": "Due date",
    "link": "Linked to",
    "referral_id": "Linked to",
    "cell": "Cell",
    "area_id": "Linked to",
    "body": "Decision or minute",
    "reason": "Why it is corrected",
    "corrects": "Record corrected",
    "version": "Version",
    "context_id": "Place",
    "summary": "Summary for the panel",
    "purpose": "Purpose",
    "lawful_basis": "Lawful basis",
    "stage": "Next stage",
    "weighting": "Context weighting",
    "reasons": "Why",
    "next_review_on": "Next review",
    "note": "Progress",
    "status": "Status",
    "meeting": "Meeting",
    "form": "Form",
}
#: Errors about an action's link all belong beside its one "Linked to" field.
LINK_FIELDS = {"referral_id": "link", "cell": "link", "area_id": "link"}


Form = Mapping[str, Any]


def _text(form: Form, name: str) -> str:
    return str(form.get(name, "") or "").strip()


def _or_none(form: Form, name: str) -> str | None:
    return _text(form, name) or None


def _int(form: Form, name: str) -> int | str | None:
    raw = _text(form, name)
    return int(raw) if raw.isdigit() else (raw or None)


def meeting_body(form: Form) -> dict[str, Any]:
    return {"held_on": _or_none(form, "held_on"), "kind": _text(form, "kind") or "regular"}


def agenda_body(form: Form) -> dict[str, Any]:
    """The kept items (each ``title-N``, ``detail-N``, ``section-N``, ``ref-N``, unless
    ``remove-N`` is ticked), then a new item if one was typed."""
    items = []
    count = int(_text(form, "count")) if _text(form, "count").isdigit() else 0
    for n in range(min(count, 100)):
        if form.get(f"remove-{n}"):
            continue
        items.append(
            {
                "section": _text(form, f"section-{n}"),
                "title": _text(form, f"title-{n}"),
                "detail": _text(form, f"detail-{n}"),
                "ref": _or_none(form, f"ref-{n}"),
            }
        )
    if _text(form, "new-title"):
        items.append(
            {
                "section": _text(form, "new-section") or "other",
                "title": _text(form, "new-title"),
                "detail": _text(form, "new-detail"),
                "ref": None,
            }
        )
    return {"version": _int(form, "version"), "items": items}


def attendance_body(form: Form, agency_ids: list[str]) -> dict[str, Any]:
    return {
        "entries": [
            {
                "agency_id": a,
                "status": _text(form, f"status-{a}") or None,
                "people": _text(form, f"people-{a}"),
            }
            for a in agency_ids
            if _text(form, f"status-{a}")
        ]
    }


def action_body(form: Form) -> dict[str, Any]:
    """An action; ``link`` is ``referral:<id>``, ``area:<id>`` or ``cell`` (with ``cell``)."""
    body: dict[str, Any] = {
        "four_p": _or_none(form, "four_p"),
        "title": _text(form, "title"),
        "owner_agency_id": _or_none(form, "owner_agency_id"),
        "owner_name": _or_none(form, "owner_name"),
        "due_on": _or_none(form, "due_on"),
    }
    kind, _, value = _text(form, "link").partition(":")
    if kind == "referral":
        body["referral_id"] = value
    elif kind == "area":
        body["area_id"] = value
    elif kind == "cell":
        body["cell"] = _text(form, "cell").lower() or None
    return body


def decision_body(form: Form) -> dict[str, Any]:
    body = {"kind": _text(form, "kind") or "decision", "body": _text(form, "body")}
    if _text(form, "corrects"):
        body |= {"corrects": _text(form, "corrects"), "reason": _text(form, "reason")}
    return body


def referral_body(form: Form) -> dict[str, Any]:
    return {
        "context_id": _or_none(form, "context_id"),
        "summary": _text(form, "summary"),
        "purpose": _text(form, "purpose"),
        "lawful_basis": _text(form, "lawful_basis"),
    }


def stage_body(form: Form) -> dict[str, Any]:
    return {
        "version": _int(form, "version"),
        "stage": _or_none(form, "stage"),
        "reasons": _text(form, "reasons"),
        "weighting": _or_none(form, "weighting"),
        "next_review_on": _or_none(form, "next_review_on"),
    }


def progress_body(form: Form) -> dict[str, Any]:
    return {
        "note": _text(form, "note"),
        "status": _or_none(form, "status"),
        "version": _int(form, "version"),
    }


#: Validation messages as a person reads them (GOV.UK style), by their opening words.
_PLAIN = (
    ("Input should be a valid date", "Enter a date, for example 2026-11-12."),
    ("Input should be a valid UUID", "Choose one from the list."),
    ("Input should be a valid integer", "Reload the page and try again."),
    ("Input should be", "Choose one of the options."),
    ("String should have at least 20", "Write at least 20 characters."),
    ("String should have at least", "Enter some text."),
    ("String should have at most", "That is too long: shorten it."),
    ("String should match pattern", "Enter a cell key of 15 letters and digits."),
    ("Field required", "Enter or choose something here."),
    ("List should have at least 1", "Choose at least one."),
)


def plain(problem: str) -> str:
    """A validation message in plain English.

    >>> plain("Input should be a valid date or datetime, input is too short")
    'Enter a date, for example 2026-11-12.'
    >>> plain("is not a member of this panel")
    'is not a member of this panel'
    """
    for start, words in _PLAIN:
        if problem.startswith(start):
            return words
    return problem


def field_errors(fields: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the form's own field names (an action's link fields become ``link``;
    a list item's ``items.3`` stays as it is, the page shows it beside that item), in plain
    English."""
    out: dict[str, str] = {}
    for name, problem in fields.items():
        out.setdefault(LINK_FIELDS.get(name, name), plain(problem))
    return out
