"""The check on every text written for a panel: no young people's references, and nothing that
looks like a name, a registration mark or an address.

A referral's summary, an action's title, a decision, an agenda item and a progress note are
read by every member agency of the panel, so they must say what is happening at a *place*
without identifying a child, a family, a home or a vehicle. This module is pure (no Flask,
no database): the service passes in what it knows — the public names the panel may use
(areas, agencies, public places, the base map's place names) and the referring agency's own
young people's references at the place — and gets back plain-English problems, one per
finding, for the message beside the field.

The checks are heuristics, tuned to refuse what a careful chair would strike out:

- a young person's reference: a word mixing letters and at least two digits (``YP-0042``),
  other than a road number (``A1068``), a time, an ordinal or a measure; or any of the
  agency's own references at that place, however written;
- a name: a title and a capitalised word (``Mr Smith``), an initial and a surname
  (``J. Smith``), or two or more capitalised words in a row that are not common words, not a
  kind of place and not one of the allowed public names;
- a registration mark: a UK current, prefix or suffix format mark;
- an address: a postcode, a house number and a street, or "flat 3".

A single first name ("Jay was seen") cannot be told from an ordinary word without a list of
names; the form's hint asks writers never to use one.

Examples
--------
>>> text_problems("Older males seen approaching children near the bus station after school.")
[]
>>> text_problems("YP-0042 seen with Mr Grant at 12 Harbour Road, WR19 XKZ parked nearby.")
... # doctest: +NORMALIZE_WHITESPACE
['"YP-0042" looks like a young person\\'s reference',
 '"Mr Grant" looks like a name',
 '"12 Harbour Road" looks like an address',
 '"WR19 XKZ" looks like a registration mark']
>>> text_problems("Ferry Hill Park: Jordan Hale hangs around", allowed=["Ferry Hill Park"])
['"Jordan Hale" looks like a name']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

_TITLE: Final = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Master|Sir|Dame|Lady|Lord)\.?\s+[A-Z][A-Za-z'’-]+"
)
_INITIAL: Final = re.compile(r"\b[A-Z]\.\s?[A-Z][a-z'’-]{2,}")
# The current format in any case; the older prefix and suffix formats in capitals only, as
# in lower case they match ordinary phrases ("X5 and").
_MARK: Final = re.compile(
    r"\b(?:(?i:[A-Z]{2}\d{2}\s?[A-Z]{3})|[A-Z]\d{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?\d{1,3}[A-Z])\b"
)
_POSTCODE: Final = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_STREETS: Final = (
    "road|rd|street|st|lane|ln|avenue|ave|close|drive|dr|way|terrace|court|crescent|gardens"
    "|place|walk|row|square|grove|hill|mews|parade|view|rise|estate|green|park"
)
_HOUSE: Final = re.compile(
    rf"\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Za-z'’-]+\s+){{0,3}}(?:{_STREETS})\b", re.IGNORECASE
)
_FLAT: Final = re.compile(r"\b(?:flat|apartment|apt|unit|room|house)\s+\d+[A-Za-z]?\b", re.I)
_TOKEN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/-]*")
#: Letter-and-digit words that are not references: roads, times, ordinals and measures.
_NOT_A_REF: Final = re.compile(
    r"^(?:[ABM]\d{1,4}|\d{1,2}(?:am|pm)|\d+(?:st|nd|rd|th)|\d+(?:km|mph|kg|hrs|mins|yrs|m|h|s|k)"
    r"|\d{1,2}-\d{1,2}(?:am|pm)|[Qq][1-4]|\d{4}-[Qq][1-4]|20\d\d/\d\d)$",
    re.IGNORECASE,
)


def _words(block: str) -> list[str]:
    return block.split()


_CAPITALISED: Final = re.compile(r"[A-Z][a-z'’-]+")
#: Capitalised words that are not names: sentence openers, calendar words, the Four Ps,
#: agencies' and panels' words.
COMMON_WORDS: Final = frozenset(
    _words(
        """a an and as at by for from has have he her his i if in is it its no not of on or our
    she so that the their then there these they this those to was we were what when where
    which who with after before during since until about above below near next last this
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december prevent prepare pursue protect mace
    ldsm panel police council children's childrens social care health education youth justice
    vcse transport operator business agency partner partners chair action
    actions referral review plan assessment weighting closed open done high medium low
    concern concerns update progress officer officers team worker workers pcso dsl nhs"""
    )
)
#: Words that make a capitalised run the name of a place, an organisation or a law, not a
#: person.
PLACE_WORDS: Final = frozenset(
    _words(
        """station park road street lane hill centre center school academy college club bus rail
    train taxi hotel shop shops takeaway market square library hospital church mosque
    temple gardens garden estate stop rank route line interchange retail precinct parade
    quay harbour beach pier bridge car river wood woods common green field fields court
    avenue close drive way terrace crescent place walk row grove mews view rise hall house
    arcade mall cafe café pub bar leisure pool gym surgery clinic depot yard works buses
    coaches taxis trains cabs cars travel services trust council ltd limited group company
        act acts regulations section schedule guidance article order code practice policy
        protocol agreement strategy partnership board service unit safeguarding department
        office programme team network forum"""
    )
)


def _strip_allowed(text: str, allowed: Iterable[str]) -> str:
    """``text`` with every allowed public name blanked out (longest first, any case)."""
    for name in sorted({a.strip() for a in allowed if a and a.strip()}, key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    return text


def _refs(text: str, known_refs: Iterable[str]) -> list[str]:
    found = []
    for token in _TOKEN.findall(text):
        token = token.strip("-/")
        letters = any(c.isalpha() for c in token)
        digits = sum(c.isdigit() for c in token)
        if letters and digits >= 2 and not _NOT_A_REF.match(token):
            found.append(token)
    squashed = re.sub(r"[^a-z0-9]", "", text.lower())
    for ref in known_refs:
        key = re.sub(r"[^a-z0-9]", "", ref.lower())
        if len(key) >= 3 and key in squashed and ref not in found:
            found.append(ref)
    return found


def _name_runs(text: str) -> list[str]:
    """Runs of two or more capitalised words, less common words, with no place word."""
    runs: list[list[str]] = [[]]
    for word in re.split(r"(\s+|[^\w'’-])", text):
        if not word or word.isspace():
            continue
        if _CAPITALISED.fullmatch(word) and word.lower() not in COMMON_WORDS:
            runs[-1].append(word)
        else:
            runs.append([])
    out = []
    for run in runs:
        if len(run) >= 2 and not any(w.lower() in PLACE_WORDS for w in run):
            out.append(" ".join(run))
    return out


def text_problems(
    text: str,
    *,
    allowed: Iterable[str] = (),
    known_refs: Iterable[str] = (),
    withheld: Iterable[str] = (),
) -> list[str]:
    """Every finding in ``text``, in plain English; an empty list means it may be shared.

    ``allowed`` are public names the panel may read (areas, agencies, public places);
    ``known_refs`` the young people's references the writer's agency holds at the place;
    ``withheld`` names the panel must not read (the place's own name, if it is not public),
    found however they are spaced or cased.

    >>> text_problems("Concerns at flat 3b harbour court", withheld=["Flat 3B Harbour Court"])
    ... # doctest: +NORMALIZE_WHITESPACE
    ['"Flat 3B Harbour Court" is the name of a place that is not public',
     '"3b harbour court" looks like an address', '"flat 3b" looks like an address']
    """
    problems: list[str] = []
    squashed = re.sub(r"[^a-z0-9]", "", text.lower())
    for name in withheld:
        key = re.sub(r"[^a-z0-9]", "", name.lower())
        if len(key) >= 4 and key in squashed:
            problems.append(f'"{name}" is the name of a place that is not public')
    masked = _strip_allowed(text, allowed)
    marks = [m.group(0) for m in _MARK.finditer(masked)]
    masked = _MARK.sub(" ", masked)  # a mark is reported as a mark, not also as a reference
    addresses = [m.group(0) for m in _POSTCODE.finditer(masked)]
    addresses += [m.group(0) for m in _HOUSE.finditer(masked)]
    addresses += [m.group(0) for m in _FLAT.finditer(masked)]
    for ref in _refs(_POSTCODE.sub(" ", masked), known_refs):
        problems.append(f'"{ref}" looks like a young person\'s reference')
    names = [m.group(0) for m in _TITLE.finditer(masked)]
    names += [m.group(0) for m in _INITIAL.finditer(masked)]
    names += [r for r in _name_runs(masked) if not any(r in n or n in r for n in names)]
    problems += [f'"{n}" looks like a name' for n in dict.fromkeys(names)]
    problems += [f'"{a}" looks like an address' for a in dict.fromkeys(addresses)]
    problems += [f'"{m}" looks like a registration mark' for m in dict.fromkeys(marks)]
    return problems


def problem_sentence(problems: list[str]) -> str:
    """One message for the field: the findings and what to do instead.

    >>> problem_sentence(['"Mr Grant" looks like a name'])[:60]
    '"Mr Grant" looks like a name. Describe the place and what ha'
    """
    return (
        "; ".join(problems) + ". Describe the place and what happens there; leave out names,"
        " young people's references, registration marks and addresses."
    )
