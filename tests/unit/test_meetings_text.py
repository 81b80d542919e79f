"""The check on texts written for a panel (pure): property tests that it refuses what
identifies someone, wherever it sits in otherwise ordinary text, and lets ordinary text by."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webmap.features.meetings.text_check import text_problems

#: Ordinary words a panel writes (lower case, no digits): never a finding.
_ORDINARY = """older males seen near the bus station after school most evenings children
gathering takeaway lighting poor cctv none guardianship patrols briefing staff drivers signs
exploitation parade underpass shelter late at night weekends route partners agreed"""
WORDS = st.sampled_from(sorted(set(_ORDINARY.split())))
PLAIN = st.lists(WORDS, min_size=0, max_size=25).map(" ".join)
FIRST = st.sampled_from(["Jordan", "Kayla", "Tyrese", "Amelia", "Connor", "Leah", "Mason"])
LAST = st.sampled_from(["Hale", "Okafor", "Price", "Nowak", "Briggs", "Daley", "Shah"])
STREETS = st.sampled_from(["Road", "Street", "Lane", "Close", "Avenue", "Terrace", "Court"])


def _inside(before: str, thing: str, after: str) -> str:
    return " ".join(p for p in (before, thing, after) if p)


@given(PLAIN)
def test_ordinary_text_passes(text: str) -> None:
    assert text_problems(text) == []


@given(st.text(max_size=400))
def test_never_raises(text: str) -> None:
    assert isinstance(text_problems(text, allowed=["Harbour"], known_refs=["YP-1"]), list)


@given(PLAIN, PLAIN, st.from_regex(r"[A-Z]{1,4}-?[0-9]{2,5}", fullmatch=True))
def test_a_young_persons_reference_is_refused(before: str, after: str, ref: str) -> None:
    if ref[0] in "ABM" and ref[1:].isdigit() and len(ref) <= 5:
        ref = "YP-" + ref[1:]  # a road number (A1068) is not a reference
    found = text_problems(_inside(before, ref, after))
    assert any("young person" in f or "registration" in f for f in found), (ref, found)


@given(PLAIN, PLAIN, st.from_regex(r"[A-Z]{2}-?[0-9]{3,5}", fullmatch=True))
def test_a_known_reference_is_refused_however_written(before: str, after: str, ref: str) -> None:
    written = ref.lower().replace("-", " ")
    found = text_problems(_inside(before, written, after), known_refs=[ref])
    assert any("young person" in f for f in found), (written, found)


@given(PLAIN, PLAIN, FIRST, LAST, st.sampled_from(["", "Mr ", "Ms ", "Dr "]))
def test_a_name_is_refused(before: str, after: str, first: str, last: str, title: str) -> None:
    found = text_problems(_inside(before, f"{title}{first} {last}", after))
    assert any("looks like a name" in f for f in found), found


@given(PLAIN, PLAIN, LAST)
def test_an_initial_and_a_surname_is_refused(before: str, after: str, last: str) -> None:
    found = text_problems(_inside(before, f"J. {last}", after))
    assert any("looks like a name" in f for f in found), found


@given(PLAIN, PLAIN, st.from_regex(r"[A-Z]{2}[0-9]{2} ?[A-Z]{3}", fullmatch=True))
def test_a_registration_mark_is_refused(before: str, after: str, mark: str) -> None:
    found = text_problems(_inside(before, mark, after))
    assert any("registration mark" in f for f in found), found


@given(PLAIN, PLAIN, st.integers(1, 999), LAST, STREETS)
def test_a_house_number_and_street_is_refused(
    before: str, after: str, number: int, name: str, street: str
) -> None:
    found = text_problems(_inside(before, f"{number} {name} {street}", after))
    assert any("address" in f for f in found), found


@given(PLAIN, PLAIN, st.from_regex(r"[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}", fullmatch=True))
def test_a_postcode_is_refused(before: str, after: str, postcode: str) -> None:
    found = text_problems(_inside(before, postcode, after))
    assert any("address" in f or "registration" in f for f in found), found


@given(PLAIN, PLAIN)
def test_allowed_public_names_pass(before: str, after: str) -> None:
    text = _inside(before, "Ferry Hill Park and Coastline Buses", after)
    assert text_problems(text, allowed=["Ferry Hill Park", "Coastline Buses"]) == []


@given(PLAIN, PLAIN, st.sampled_from(["Flat 4B Marsh Court", "the back room"]))
def test_the_places_own_name_is_refused(before: str, after: str, name: str) -> None:
    found = text_problems(_inside(before, name.upper(), after), withheld=[name])
    assert any("not public" in f for f in found), found
