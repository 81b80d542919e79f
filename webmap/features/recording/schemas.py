"""Validation models for the recording API; the OpenAPI document is generated from them.

Each model checks what it can alone (types, ranges, formats, dates); checks that need the
database (is the category known? is the context ours?) live in the services. Every problem
is reported against the field it concerns.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from spatial.vocabulary import CONTEXT_KINDS, CONTEXT_STATUSES

#: Pseudonymous references only: letters, digits and dashes, and at least one digit, so a
#: name ("JohnSmith", "Jane Doe") does not pass.
YP_REF = re.compile(r"^(?=.*[0-9])[A-Za-z0-9-]{2,32}$")
#: A clock a little fast on a phone is not "the future".
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

GeoJSONGeometry = Annotated[
    dict[str, Any],
    Field(
        description="GeoJSON geometry (RFC 7946), WGS84 [longitude, latitude].",
        json_schema_extra={"example": {"type": "Point", "coordinates": [1.2, 54.6]}},
    ),
]
Note = Annotated[str, Field(max_length=4000, description="What was seen. Never a child's name.")]
Grade = Literal["A", "B", "C", "D", "E"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("occurred_at", "last_confirmed", mode="before", check_fields=False)
    @classmethod
    def _iso_text(cls, v: Any) -> Any:
        # JSON has no dates: one is ISO 8601 text, never a number read as a Unix time.
        if v is not None and not isinstance(v, str):
            raise ValueError("must be ISO 8601 text, e.g. 2026-11-20T18:30:00Z or 2026-11-20")
        return v


def _check_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2026-11-20T18:30:00Z")
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("is in the future")
    if value < EARLIEST:
        raise ValueError("is before 2000")
    return value


def _check_refs(refs: list[str]) -> list[str]:
    for number, ref in enumerate(refs, start=1):
        if not YP_REF.match(ref):
            # Do not echo the value back: it may be a child's name.
            raise ValueError(
                f"item {number} is not a pseudonymous reference (letters, digits, dashes, with "
                "a digit, e.g. YP-3F9A): never record a name"
            )
    return refs


class ObservationFields(_Strict):
    occurred_at: datetime | None = None
    geometry: GeoJSONGeometry | None = None
    category: Annotated[str, Field(max_length=64)] | None = None
    note: Note | None = None
    context_id: str | None = None
    young_person_refs: Annotated[list[str], Field(max_length=20)] | None = None
    source_grade: Grade | None = None
    info_grade: Annotated[int, Field(ge=1, le=5, strict=True)] | None = None
    vehicle_id: str | None = None

    @field_validator("occurred_at")
    @classmethod
    def _time(cls, v: datetime | None) -> datetime | None:
        return None if v is None else _check_time(v)

    @field_validator("young_person_refs")
    @classmethod
    def _refs(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_refs(v)


class ObservationIn(ObservationFields):
    """A new observation."""

    occurred_at: datetime
    geometry: GeoJSONGeometry
    category: Annotated[str, Field(max_length=64)]
    note: Note = ""
    young_person_refs: Annotated[list[str], Field(max_length=20)] = []
    source_grade: Grade = "C"
    info_grade: Annotated[int, Field(ge=1, le=5, strict=True)] = 3


class ObservationPatch(ObservationFields):
    """Changes to an observation: only the fields sent are changed."""


# Checked by the validators below (with a message naming the choices); the enums are for the
# OpenAPI document.
ContextKind = Annotated[
    str,
    Field(
        description="One of: " + ", ".join(CONTEXT_KINDS),
        json_schema_extra={"enum": list(CONTEXT_KINDS)},
    ),
]
ContextStatus = Annotated[
    str,
    Field(
        description="One of: " + ", ".join(CONTEXT_STATUSES),
        json_schema_extra={"enum": list(CONTEXT_STATUSES)},
    ),
]


class ContextFields(_Strict):
    kind: ContextKind | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    geometry: GeoJSONGeometry | None = None
    public_place: StrictBool | None = None
    features: Annotated[list[str], Field(max_length=30)] | None = None
    status: ContextStatus | None = None
    last_confirmed: date | None = None
    operator: Annotated[str, Field(max_length=200)] | None = None
    route_name: Annotated[str, Field(max_length=100)] | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str | None) -> str | None:
        if v is not None and v not in CONTEXT_KINDS:
            raise ValueError(f"must be one of {', '.join(CONTEXT_KINDS)}")
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str | None) -> str | None:
        if v is not None and v not in CONTEXT_STATUSES:
            raise ValueError(f"must be one of {', '.join(CONTEXT_STATUSES)}")
        return v

    @field_validator("last_confirmed")
    @classmethod
    def _confirmed(cls, v: date | None) -> date | None:
        if v is not None and v > (datetime.now(UTC) + CLOCK_SKEW).date():
            raise ValueError("is in the future")
        return v


class ContextIn(ContextFields):
    """A new context: a place or space of concern or protection."""

    kind: ContextKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    geometry: GeoJSONGeometry
    public_place: StrictBool = False
    features: Annotated[list[str], Field(max_length=30)] = []
    status: ContextStatus = "referred"


class ContextPatch(ContextFields):
    """Changes to a context: only the fields sent are changed."""


class VehicleIn(_Strict):
    """A vehicle of interest."""

    registration_mark: Annotated[str, Field(min_length=2, max_length=20)]
    make: Annotated[str, Field(max_length=64)] | None = None
    model: Annotated[str, Field(max_length=64)] | None = None
    colour: Annotated[str, Field(max_length=32)] | None = None

    @field_validator("registration_mark")
    @classmethod
    def _mark(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9 -]{2,20}", v) or not re.search(r"[A-Za-z0-9]{2}", v):
            raise ValueError("must be letters and digits (spaces and dashes allowed)")
        return v


class SightingIn(ObservationFields):
    """A sighting: an observation of a vehicle (the category is set by the server). Name the
    agency's vehicle by ``vehicle_id``, or give a new one in ``vehicle`` (reused if the agency
    already has the mark): either way the sighting, the vehicle and the match are one
    transaction, and nothing is written if the match limit is reached (429)."""

    vehicle_id: str | None = None
    vehicle: VehicleIn | None = None
    occurred_at: datetime
    geometry: GeoJSONGeometry
    note: Note = ""
    young_person_refs: Annotated[list[str], Field(max_length=20)] = []
    source_grade: Grade = "C"
    info_grade: Annotated[int, Field(ge=1, le=5, strict=True)] = 3


# -- responses (documented in the OpenAPI document) -----------------------------------------


class MatchingAgency(BaseModel):
    """Another agency that has recorded the same mark: whom to contact, nothing of its record."""

    agency: str
    contact: str


class SightingOut(BaseModel):
    """A saved sighting (GeoJSON Feature) and the match run as it was saved."""

    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]
    also_reported_by: list[MatchingAgency] = Field(
        description="Other agencies holding the same mark (found when this sighting was saved)."
    )


class MatchNotice(BaseModel):
    """Someone in another agency matched this vehicle (by saving a sighting of the same mark)."""

    agency: str
    user: str
    role: str
    at: datetime


class VehicleOut(BaseModel):
    """A vehicle of the user's agency. Creating one runs no match."""

    id: str
    registration_mark: str
    make: str | None
    model: str | None
    colour: str | None
    version: int
    sightings: int
    created_at: datetime
    matched_by: list[MatchNotice] | None = Field(
        None, description="One vehicle only: the most recent matches by other agencies."
    )
    matched_by_total: int | None = Field(
        None, description="How many times other agencies have matched this vehicle."
    )


class VehicleList(BaseModel):
    vehicles: list[VehicleOut]


class DeleteIn(_Strict):
    """Why a record is being deleted (kept with it: deletion is soft)."""

    reason: Annotated[str, Field(min_length=3, max_length=500)]


class RedactIn(_Strict):
    """Text to remove from a note; it is replaced by a marker, the original kept for admins."""

    text: Annotated[str, Field(min_length=1, max_length=4000)]


#: Geometry types each context kind may have.
CONTEXT_GEOMETRY: dict[str, tuple[str, ...]] = {
    "hotspot": ("Point", "Polygon"),
    "transport_route": ("LineString",),
    "transport_hub": ("Point",),
    "place_of_concern": ("Point", "Polygon"),
    "protective_space": ("Point", "Polygon"),
}
