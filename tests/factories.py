"""Test data made through the app's own services, so it obeys every rule real data does.

Two ways in, as in the app itself:

- the directory (agencies, panels) and bulk imports as the schema owner, as the CLI and the
  demo loader make them;
- an agency's records, shares and briefing packs as one of its users: a session under the app
  role carrying that user's row-level-security context, as a request of theirs has
  (:func:`acting_as`), so a factory can make nothing that user could not.

Every name a factory makes up is unique (uuid4), so tests never meet each other's data.
"""

from __future__ import annotations

import itertools
import random
import string
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.access.actor import Actor
from webmap.features.recording.importing import GoodRow, insert_observations, observation_frame
from webmap.features.recording.schemas import ObservationIn

#: A time well inside the demo town's months and never in the future.
WHEN = "2026-09-15T18:30:00Z"
#: The town's centre (lon, lat).
CENTRE = (1.2, 54.6)
PURPOSE = "Made by a test factory, for a test of its own"


# -- who acts ------------------------------------------------------------------------------


def actor(user: Any) -> Actor:
    """The :class:`Actor` of a test user (anything with ``id``, ``agency_id`` and ``role``)."""
    return Actor(user.id, user.agency_id, user.role)


@contextmanager
def acting_as(app: Flask, who: Any) -> Iterator[Session]:
    """A session as ``who`` under the app role, committed at the end of the block: the same
    row-level security and audit context a request of theirs has."""
    from webmap.infra.db import DbContext, get_session, set_request_context

    with app.test_request_context():
        set_request_context(DbContext(str(who.id), str(who.agency_id), who.role))
        session = get_session()
        yield session
        session.commit()


# -- unique keys ---------------------------------------------------------------------------


def unique_key(length: int = 8) -> str:
    return uuid.uuid4().hex[:length]


#: Marks handed out in this run (a redraw makes them unique, not just very likely so).
_MARKS: set[str] = set()
#: Client addresses are numbered: unique within a run, and every run has a database of its own.
_ADDRESSES = itertools.count(1)


def unique_mark() -> str:
    """A registration mark in the current UK format (``AB12 CDE``) that no other test of the
    run has: drawn from uuid4 (not ``random``, which pytest-randomly reseeds to the same
    values on every run) out of about 10⁹, so none of the demo town's either."""
    while True:
        n = uuid.uuid4().int
        letters = []
        for _ in range(5):
            n, i = divmod(n, 26)
            letters.append(string.ascii_uppercase[i])
        mark = f"{letters[0]}{letters[1]}{n % 100:02d} {''.join(letters[2:])}"
        if mark not in _MARKS:
            _MARKS.add(mark)
            return mark


def client_address(prefix: int = 10) -> str:
    """A client address of the test's own (throttles and caps count per address)."""
    n = next(_ADDRESSES)
    return f"{prefix}.{(n >> 16) % 256}.{(n >> 8) % 256}.{n % 256}"


# -- the directory, as the owner -----------------------------------------------------------


def agency_id(session: Session, slug: str) -> uuid.UUID:
    found: uuid.UUID = session.execute(
        text("SELECT id FROM agency WHERE slug = :s"), {"s": slug}
    ).scalar_one()
    return found


def make_agency(
    owner_session_factory: Any, kind: str = "police", label: str = "Test", contact: str = ""
) -> str:
    """A new agency of ``kind`` with a unique slug and name (and a lead contact, the
    number vehicle matches give, if ``contact``); returns its slug."""
    from webmap.features.admin.directory import create_agency

    key = unique_key()
    slug = f"{kind.replace('_', '-')}-{key}"
    name = f"{label} {kind.replace('_', ' ')} {key}"
    with owner_session_factory() as s:
        new_id = create_agency(s, {"name": name, "slug": slug, "kind": kind})
        if contact:  # no form sets it: the demo's people loader writes it the same way
            s.execute(
                text("UPDATE agency SET lead_contact = :c WHERE id = :a"),
                {"c": contact, "a": new_id},
            )
        s.commit()
    return slug


def agency_name(owner_session_factory: Any, slug: str) -> str:
    with owner_session_factory() as s:
        name: str = s.execute(
            text("SELECT name FROM agency WHERE slug = :s"), {"s": slug}
        ).scalar_one()
    return name


def make_panel(
    owner_session_factory: Any, slugs: Iterable[str], kind: str = "ldsm", name: str = ""
) -> uuid.UUID:
    """A new panel whose members are the agencies ``slugs``; returns its id."""
    from webmap.features.admin.directory import create_panel

    with owner_session_factory() as s:
        members = [str(agency_id(s, slug)) for slug in slugs]
        panel_id = create_panel(
            s, {"name": name or f"Test panel {unique_key()}", "kind": kind}, members
        )
        s.commit()
    return panel_id


# -- an agency's records, as one of its users ------------------------------------------------


def _settings(app: Flask) -> Any:
    return app.extensions["csmap.settings"]


def make_observation(app: Flask, who: Any, **fields: Any) -> str:
    """An observation of ``who``'s agency (at the town's centre in September 2026 unless
    told otherwise); returns its id."""
    from webmap.features.recording.service import create_observation
    from webmap.infra.validation import validated

    body = {
        "occurred_at": WHEN,
        "geometry": {"type": "Point", "coordinates": list(CENTRE)},
        "category": "older_males_approaching",
        **fields,
    }
    with acting_as(app, who) as s:
        new_id = create_observation(s, actor(who), _settings(app), validated(ObservationIn, body))
    return str(new_id)


def make_context(app: Flask, who: Any, **fields: Any) -> str:
    """A context of ``who``'s agency (a hotspot at the town's centre unless told otherwise);
    returns its id."""
    from webmap.features.recording.schemas import ContextIn
    from webmap.features.recording.service import create_context
    from webmap.infra.validation import validated

    body = {
        "kind": "hotspot",
        "name": f"Test place {unique_key()}",
        "geometry": {"type": "Point", "coordinates": list(CENTRE)},
        **fields,
    }
    with acting_as(app, who) as s:
        new_id = create_context(s, actor(who), _settings(app), validated(ContextIn, body), False)
    return str(new_id)


def make_vehicle(app: Flask, who: Any, **fields: Any) -> str:
    """A vehicle of interest of ``who``'s agency, with a mark of its own unless told
    otherwise (making one runs no match); returns its id."""
    from webmap.features.recording.schemas import VehicleIn
    from webmap.features.recording.vehicles import create_vehicle
    from webmap.infra.validation import validated

    body = {"registration_mark": unique_mark(), **fields}
    settings = _settings(app)
    with acting_as(app, who) as s:
        key = settings.secret("hmac_key")
        new_id = create_vehicle(s, actor(who), key, validated(VehicleIn, body))
    return str(new_id)


def wards(app: Flask, who: Any) -> list[str]:
    """The ids of the town's current wards, by code."""
    with acting_as(app, who) as s:
        return [
            str(i)
            for (i,) in s.execute(
                text(
                    "SELECT a.id FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
                    " WHERE b.slug = 'wards' AND b.is_current ORDER BY a.code"
                )
            )
        ]


def make_share(app: Flask, who: Any, **terms: Any) -> str:
    """A share made by ``who`` through the share service: unless told otherwise, tier B of
    observations over the first ward (by code) since November 2024, to a named external recipient of
    its own, for 30 days (tier B is active at once; tier C waits for a second person).
    Returns its id."""
    from webmap.features.sharing.service import ShareIn, create_share
    from webmap.infra.validation import validated

    key = unique_key()
    body = {
        "tier": "B",
        "recipient_kind": "external",
        "external_name": f"Recipient {key}",
        "external_organisation": f"Organisation {key}",
        "layers": ["observations"],
        "period_from": "2024-11",
        "purpose": PURPOSE,
        "lawful_basis": "Test basis",
        "agreement_ref": f"ISA-TEST-{key}",
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        **terms,
    }
    body.setdefault("areas", wards(app, who)[:1])
    with acting_as(app, who) as s:
        share = create_share(s, actor(who), validated(ShareIn, body))
        share_id = str(share.id)
    return share_id


def cell_centre(app: Flask, who: Any, res: int = 7) -> tuple[float, float]:
    """(lon, lat) of the centre of a lattice cell at ``res`` that lies wholly in the wards: a
    town-wide share or pack publishes what is recorded there."""
    import h3

    with acting_as(app, who) as s:
        cell = s.execute(
            text(
                "SELECT min(ca.cell) FROM cell_area ca JOIN area a ON a.id = ca.area_id"
                " JOIN boundary_set b ON b.id = a.boundary_set_id"
                " WHERE b.slug = 'wards' AND b.is_current AND ca.res = :r"
            ),
            {"r": res},
        ).scalar_one()
    lat, lon = h3.cell_to_latlng(format(int(cell), "x"))
    return round(lon, 6), round(lat, 6)


def pack_quarter() -> tuple[date, date]:
    """The latest quarter tier C may publish today: (its first day, the day after it)."""
    from webmap.features.packs.service import quarters

    return quarters(1)[0]


def make_pack(app: Flask, maker: Any, approver: Any = None, **form: Any) -> str:
    """A briefing pack made by ``maker`` through the pack service (for a named external
    recipient of its own, over the whole town, in the latest quarter tier C may publish,
    with a public bus route of the agency's own, unless told otherwise), approved by
    ``approver`` if given (which builds, checks and renders it: the agency needs records
    published in that quarter). Returns its id."""
    from webmap.features.layers.queries import add_months
    from webmap.features.packs.content import DEFAULT_HOW_TO_REPORT, DEFAULT_SIGNS
    from webmap.features.packs.service import create_pack, decide, get_pack
    from webmap.infra.db import side_sessions

    key = unique_key()
    start, end = pack_quarter()
    data = {
        "recipient_kind": "external",
        "external_name": f"Pack recipient {key}",
        "external_organisation": f"Pack organisation {key}",
        "title": f"Test pack {key}",
        "marking": "OFFICIAL",
        "period_from": start.strftime("%Y-%m"),
        "period_to": add_months(end, -1).strftime("%Y-%m"),
        "review_on": (date.today() + timedelta(days=30)).isoformat(),
        "signs": DEFAULT_SIGNS,
        "how_to_report": DEFAULT_HOW_TO_REPORT,
        **form,
    }
    data.setdefault("areas", wards(app, maker))
    if "routes" not in data:
        line = [[CENTRE[0] - 0.01, CENTRE[1]], [CENTRE[0] + 0.01, CENTRE[1] + 0.005]]
        route = {"type": "LineString", "coordinates": line}
        kind = {"kind": "transport_route", "public_place": True, "route_name": f"T{key[:3]}"}
        # Recorded by the approver when there is one: a trainer records no contexts.
        data["routes"] = [make_context(app, approver or maker, geometry=route, **kind)]
    with acting_as(app, maker) as s:
        pack_id = str(create_pack(s, actor(maker), data).id)
    if approver is not None:
        with acting_as(app, approver) as s:
            decide(s, actor(approver), get_pack(s, pack_id), True, "", side_sessions())
    return pack_id


# -- many observations at once, as the owner (``csmap import``) -----------------------------


def add_observations(
    owner_session_factory: Any,
    agency_slug: str,
    rows: Iterable[tuple[float, float, datetime, tuple[str, ...]]],
    category: str = "older_males_approaching",
) -> int:
    """Insert observations (lon, lat, time, young people's refs) for an agency through the bulk
    import service, as the schema owner does for ``csmap import``."""
    with owner_session_factory() as s:
        owner = agency_id(s, agency_slug)
        good = [
            GoodRow(
                ObservationIn.model_validate(
                    {
                        "occurred_at": when.isoformat(),
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "category": category,
                        "young_person_refs": list(refs),
                    }
                ),
                lon,
                lat,
            )
            for lon, lat, when, refs in rows
        ]
        n = insert_observations(s, observation_frame(good, owner, None), owner, None)
        s.commit()
    return n


def scatter(
    centre: tuple[float, float], first: datetime, months: int, per_month: int, seed: int
) -> list[tuple[float, float, datetime, tuple[str, ...]]]:
    """Observations scattered within about 2 km of ``centre``, ``per_month`` a month for
    ``months`` months from ``first``: enough that some cells pass k and some do not. Seeded,
    so the same seed gives the same records whatever order the tests run in."""
    rng = random.Random(seed)
    out = []
    for m in range(months):
        for _ in range(per_month):
            lon = centre[0] + rng.gauss(0, 0.012)
            lat = centre[1] + rng.gauss(0, 0.007)
            when = first + timedelta(days=30 * m + rng.randint(0, 25), hours=rng.randint(8, 22))
            out.append((round(lon, 6), round(lat, 6), when, ()))
    return out


def make_boundary_generation(owner_session_factory: Any, settings: Any) -> str:
    """A throwaway boundary set of one small square out at sea, east of the service area (so
    it covers no cell the town's tests count), through the checked import; its id."""
    import geopandas as gpd
    import shapely

    from webmap.features.reference.boundaries import import_boundaries

    west = settings.service_area[2] + 0.5
    frame = gpd.GeoDataFrame(
        {"code": ["X1"], "name": ["Far square"]},
        geometry=[shapely.box(west, 54.5, west + 0.01, 54.51)],
        crs="EPSG:4326",
    )
    with owner_session_factory() as s:
        report = import_boundaries(s, frame, f"Throwaway {unique_key()}", "other")
        set_id = s.execute(
            text("SELECT id FROM boundary_set WHERE slug = :s AND is_current"),
            {"s": report.set_slug},
        ).scalar_one()
        s.commit()
    return str(set_id)
