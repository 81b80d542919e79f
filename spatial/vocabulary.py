"""The controlled vocabulary of DESIGN.md §3, held in one place.

Everything that names a kind of agency, context, category or status reads it from here, so
the database enums, the validation models, the demo town and the UI cannot drift apart.

Examples
--------
>>> "police" in AGENCY_KINDS
True
>>> CATEGORIES["vehicle_of_interest"]
'Vehicle of interest'
"""

from __future__ import annotations

from typing import Final

#: Kinds of agency (DESIGN.md §3), value → label.
AGENCY_KINDS: Final[dict[str, str]] = {
    "police": "Police",
    "childrens_social_care": "Children's social care",
    "health": "Health",
    "education": "Education",
    "youth_justice": "Youth justice",
    "vcse": "Voluntary and community (VCSE)",
    "transport_operator": "Transport operator",
    "business": "Business",
}

#: Kinds of context, value → label.
CONTEXT_KINDS: Final[dict[str, str]] = {
    "hotspot": "Hotspot",
    "transport_route": "Transport route",
    "transport_hub": "Transport hub",
    "place_of_concern": "Place of concern",
    "protective_space": "Protective space",
}

#: Context workflow status, in order.
CONTEXT_STATUSES: Final[tuple[str, ...]] = ("referred", "assessing", "plan", "review", "closed")

#: Default place-feature tick-list (StreetSafe style); deployments may extend it.
PLACE_FEATURES: Final[dict[str, str]] = {
    "poor_lighting": "Poor lighting",
    "no_cctv": "No CCTV",
    "poor_sightlines": "Poor sightlines",
    "isolated": "Isolated",
    "derelict": "Derelict or empty buildings",
    "drug_use_signs": "Signs of drug use",
    "young_people_gathering": "Young people gathering",
    "older_people_loitering": "Older people loitering",
    "late_night_trade": "Late-night trade",
}

#: Default observation taxonomy, code → label. Held in the ``category`` table so that a
#: deployment can add its own; these are the codes seeded by the first schema migration.
CATEGORIES: Final[dict[str, str]] = {
    "suspected_drug_running": "Suspected drug running",
    "weapon_found": "Weapon found",
    "missing_child_found": "Missing child found here",
    "older_males_approaching": "Older males approaching children",
    "vehicle_of_interest": "Vehicle of interest",
    "unexplained_goods": "Child with unexplained money or goods",
    "cuckooing_concern": "Cuckooing concern",
    "child_out_late": "Child out late, unaccompanied",
}

#: Source grading (UK intelligence style): A reliable … E untested.
SOURCE_GRADES: Final[tuple[str, ...]] = ("A", "B", "C", "D", "E")
#: Information grading: 1 known directly … 5 suspected false.
INFORMATION_GRADES: Final[tuple[int, ...]] = (1, 2, 3, 4, 5)

#: Kinds of boundary set (no set is assumed to nest in another).
BOUNDARY_SET_KINDS: Final[dict[str, str]] = {
    "council_ward": "Council wards",
    "police_neighbourhood": "Police neighbourhoods",
    "health_area": "Health areas",
    "school_catchment": "School catchments",
    "ldsm_area": "LDSM areas",
    "other": "Other",
}

#: Base map layers drawn instead of web tiles in the demo.
BASEMAP_LAYERS: Final[tuple[str, ...]] = (
    "land",
    "park",
    "retail",
    "residential",
    "river",
    "road",
    "rail",
    "station",
    "place_label",
)
