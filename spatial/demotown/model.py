"""Frozen records describing the Wrenmouth demo town.

Everything here is plain data in WGS84 (EPSG:4326, lon/lat order) so that the loader, the
tests and the map can consume it without knowing how it was generated. Identifiers are
:class:`uuid.UUID` values derived from the seed, so the same arguments always give the same ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pandas as pd
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

#: Observation columns, in order, with the dtype each is guaranteed to have.
OBSERVATION_DTYPES: dict[str, str] = {
    "id": "object",
    "occurred_at": "datetime64[ns, UTC]",
    "lon": "float64",
    "lat": "float64",
    "category": "object",
    "agency_key": "object",
    "context_id": "object",
    "young_person_refs": "object",
    "source_grade": "object",
    "info_grade": "int64",
    "vehicle_id": "object",
    "note": "object",
}

# Fixed namespace so that ids are a pure function of (seed, what the record is).
_NAMESPACE = uuid.UUID("6f1d6c2e-8f0b-5a57-9e0c-5d1e7a2b9c41")


def stable_id(seed: int, *parts: str) -> uuid.UUID:
    """A deterministic UUID (version 5) for a named demo record.

    Examples
    --------
    >>> stable_id(1, "agency", "police") == stable_id(1, "agency", "police")
    True
    >>> stable_id(1, "agency", "police") == stable_id(2, "agency", "police")
    False
    """
    return uuid.uuid5(_NAMESPACE, ":".join(["wrenmouth", str(seed), *parts]))


@dataclass(frozen=True)
class BasemapFeature:
    """One feature of the drawn base map (the demo does not use web tiles).

    ``layer`` is one of :data:`spatial.vocabulary.BASEMAP_LAYERS`; ``kind`` refines it
    (``"main"``/``"minor"`` for roads, ``"rail"``/``"bus"`` for stations, ``"district"`` for
    place labels).
    """

    layer: str
    name: str | None
    kind: str | None
    geom: BaseGeometry


@dataclass(frozen=True)
class AreaSpec:
    """One area of a boundary set, e.g. a council ward."""

    id: uuid.UUID
    code: str
    name: str
    geom: MultiPolygon


@dataclass(frozen=True)
class BoundarySetSpec:
    """A named set of areas that tiles the land exactly once.

    ``kind`` is a key of :data:`spatial.vocabulary.BOUNDARY_SET_KINDS`.
    """

    id: uuid.UUID
    slug: str
    name: str
    kind: str
    areas: tuple[AreaSpec, ...]


@dataclass(frozen=True)
class AgencySpec:
    """A partner agency; ``jurisdiction`` holds ``(boundary set slug, area code)`` pairs."""

    id: uuid.UUID
    key: str
    name: str
    kind: str
    jurisdiction: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ContextSpec:
    """A place or space that agencies work on (hotspot, route, hub, place, protective space).

    ``public_place`` is ``False`` for places inside residential buildings (a stairwell, a
    flat): those are the locations that must never be shown precisely to other agencies.
    """

    id: uuid.UUID
    agency_key: str
    kind: str
    name: str
    geom: BaseGeometry
    public_place: bool
    features: tuple[str, ...]
    status: str
    operator: str | None
    route_name: str | None


@dataclass(frozen=True)
class VehicleSpec:
    """A vehicle of interest. Marks use ``Q`` in the random letters, which DVLA never issues."""

    id: uuid.UUID
    agency_key: str
    registration_mark: str
    make: str
    model: str
    colour: str


@dataclass(frozen=True, eq=False)
class DemoTown:
    """The whole generated town.

    ``eq=False`` because a :class:`pandas.DataFrame` has no boolean equality; compare the
    fields (``observations.equals``) instead.
    """

    seed: int
    size: int
    end_month: dt.date
    service_area: Polygon
    basemap: tuple[BasemapFeature, ...]
    boundary_sets: tuple[BoundarySetSpec, ...]
    agencies: tuple[AgencySpec, ...]
    contexts: tuple[ContextSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    observations: pd.DataFrame
    single_child_clusters: tuple[Point, ...]
    named_places: dict[str, Point] = field(default_factory=dict)
