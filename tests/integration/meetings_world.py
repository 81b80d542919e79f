"""A panel of the meeting tests' own: new agencies of four kinds (police, children's social
care, education and a VCSE), an outsider that sits on no panel with them, their people and
places, and a panel over one ward — so no test depends on what another wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import text

from tests.conftest import TestUser
from tests.integration.test_recording_api import Api

KINDS = {
    "police": "police",
    "care": "childrens_social_care",
    "school": "education",
    "vcse": "vcse",
}


@dataclass
class World:
    panel_id: str
    kind: str
    slugs: dict[str, str]
    agency_ids: dict[str, str]
    area_id: str
    spot: tuple[float, float]
    #: (agency key, context name) → context id; "public" places are flagged public place.
    contexts: dict[tuple[str, str], str] = field(default_factory=dict)
    users: dict[tuple[str, str], TestUser] = field(default_factory=dict)


def build(
    make_agency: Any, make_user: Any, owner_session_factory: Any, kind: str = "ldsm"
) -> World:
    slugs = {key: make_agency(k, "Meetings") for key, k in KINDS.items()}
    slugs["outsider"] = make_agency("police", "Outsider")
    with owner_session_factory() as s:
        ids = {
            key: str(s.execute(text("SELECT id FROM agency WHERE slug = :s"), {"s": slug}).scalar())
            for key, slug in slugs.items()
        }
        area_id, lon, lat = s.execute(
            text(
                "SELECT a.id, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom))"
                " FROM area a JOIN boundary_set b ON b.id = a.boundary_set_id"
                " WHERE b.slug = 'wards' AND b.is_current ORDER BY a.code LIMIT 1"
            )
        ).one()
        panel = s.execute(
            text("INSERT INTO panel (name, kind) VALUES (:n, :k) RETURNING id"),
            {"n": f"Meetings test panel {uuid.uuid4().hex[:8]}", "k": kind},
        ).scalar_one()
        for key in KINDS:
            s.execute(
                text("INSERT INTO panel_member (panel_id, agency_id) VALUES (:p, :a)"),
                {"p": panel, "a": ids[key]},
            )
        s.execute(
            text("INSERT INTO panel_area (panel_id, area_id) VALUES (:p, :a)"),
            {"p": panel, "a": area_id},
        )
        world = World(str(panel), kind, slugs, ids, str(area_id), (lon, lat))
        for key in (*KINDS, "outsider"):
            for name, public, dx in (
                ("Harbour Bus Station", True, 0.0),
                ("the qzxvbolt den", False, 0.002),
                ("back of the parade", False, 0.004),
            ):
                world.contexts[(key, name)] = str(
                    s.execute(
                        text(
                            "INSERT INTO context (agency_id, kind, name, geom, public_place)"
                            " VALUES (:a, :k, :n, ST_SetSRID(ST_Point(:x, :y), 4326), :p)"
                            " RETURNING id"
                        ),
                        {
                            "a": ids[key],
                            "k": "transport_hub" if public else "place_of_concern",
                            "n": name,
                            "x": lon + dx,
                            "y": lat,
                            "p": public,
                        },
                    ).scalar_one()
                )
        s.commit()
    return world


def user(world: World, make_user: Any, key: str, role: str) -> TestUser:
    """One user per (agency key, role), made on first use."""
    if (key, role) not in world.users:
        world.users[(key, role)] = make_user(world.slugs[key], role)
    return world.users[(key, role)]


def client(app: Flask, sign_in: Any, person: TestUser) -> Api:
    return Api(sign_in(app.test_client(), person), person)
