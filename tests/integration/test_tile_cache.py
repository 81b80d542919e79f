"""The tile cache (issue 17): an agency's own tiles change on the very next request after a
record changes; a share's tiles never change; a cached tile is never served to another
audience — authorisation runs before every lookup, and keys and ETags name the audience.

The app under test is the session's (its cache already warm from other tests), plus fresh
apps on the same database where a cold cache must give the same answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import mapbox_vector_tile
import pytest
from flask import Flask

from tests.conftest import TestUser
from tests.factories import add_observations, scatter
from tests.integration.test_recording_api import Api
from tests.integration.test_sharing import _terms, _tile_of
from webmap import create_app

SPOT = (1.1731373, 54.5953117)  # in the health area, west of the town
PERIOD = "2026-08"  # a closed month: published once, whatever day the suite runs


@pytest.fixture(scope="module")
def api(app: Flask, make_user: Any, sign_in: Any) -> Any:
    def make(agency: str, role: str = "analyst", on: Flask | None = None) -> Api:
        user: TestUser = make_user(agency, role)
        return Api(sign_in((on or app).test_client(), user), user)

    return make


def _counts(body: bytes) -> dict[str, int]:
    layers = mapbox_vector_tile.decode(body) if body else {}
    return {
        str(f["properties"]["cell"]): int(f["properties"].get("n", f["properties"].get("count")))
        for layer in layers.values()
        for f in layer["features"]
    }


def _observation(when: datetime, spot: tuple[float, float]) -> dict[str, Any]:
    return {
        "occurred_at": when.isoformat(),
        "geometry": {"type": "Point", "coordinates": list(spot)},
        "category": "older_males_approaching",
    }


def _own_tile(z: int = 14) -> str:
    x, y = _tile_of(*SPOT, z)
    return f"/tiles/counts/{z}/{x}/{y}.mvt?from={PERIOD}&to={PERIOD}"


def test_a_changed_record_changes_the_own_tile_on_the_next_request(
    api: Any, make_agency: Any
) -> None:
    a = api(make_agency("police", "Own tile"))
    path = _own_tile()
    first = a("GET", path)
    assert first.status_code == 200 and _counts(first.data) == {}
    tag = first.headers["ETag"]
    assert a("GET", path, If_None_Match=tag).status_code == 304  # nothing changed

    made = a(
        "POST", "/api/v1/observations", _observation(datetime(2026, 8, 14, 20, tzinfo=UTC), SPOT)
    )
    assert made.status_code == 201, made.get_json()
    second = a("GET", path)
    assert second.status_code == 200 and sum(_counts(second.data).values()) == 1
    assert second.headers["ETag"] != tag
    assert a("GET", path, If_None_Match=tag).status_code == 200  # the old copy is stale

    # A note edit moves no count: the cached tile (and the browser's copy) stay current.
    oid, tag2 = made.get_json()["id"], second.headers["ETag"]
    noted = a("PATCH", f"/api/v1/observations/{oid}", {"note": "seen again"}, If_Match="1")
    assert noted.status_code == 200, noted.get_json()
    assert a("GET", path, If_None_Match=tag2).status_code == 304

    # Moving the point out of the tile empties it at once.
    moved = a(
        "PATCH",
        f"/api/v1/observations/{oid}",
        {"geometry": {"type": "Point", "coordinates": [1.2301, 54.6102]}},
        If_Match="2",
    )
    assert moved.status_code == 200, moved.get_json()
    third = a("GET", path)
    assert third.status_code == 200 and _counts(third.data) == {}
    assert third.headers["ETag"] not in (tag, tag2)


def test_own_tiles_are_never_served_to_another_audience(
    app: Flask, api: Any, make_agency: Any, owner_session_factory: Any
) -> None:
    busy, quiet = make_agency("police", "Busy"), make_agency("police", "Quiet")
    add_observations(
        owner_session_factory, busy, scatter(SPOT, datetime(2026, 8, 2, tzinfo=UTC), 1, 40, 5)
    )
    path = _own_tile(12)
    mine = api(busy)("GET", path)  # cached now, for the busy agency
    assert mine.status_code == 200 and sum(_counts(mine.data).values()) > 0

    # Another agency asking for the same z/x/y and filter gets its own (empty) counts, even
    # when it presents the busy agency's ETag.
    theirs = api(quiet)("GET", path, If_None_Match=mine.headers["ETag"])
    assert theirs.status_code == 200 and _counts(theirs.data) == {}
    assert theirs.headers["ETag"] != mine.headers["ETag"]
    # A role without layer.read at the busy agency, and nobody signed in, are refused first.
    assert api(busy, "trainer")("GET", path).status_code == 403
    assert app.test_client().get(path).status_code == 401
    # A cold cache (another app server) agrees with the warm one, byte for byte.
    cold = create_app({"mode": "test", "database_url": app.extensions["csmap.settings"].app_url()})
    assert api(busy, on=cold)("GET", path).data == mine.data


@pytest.fixture
def shares(api: Any, make_agency: Any, owner_session_factory: Any) -> dict[str, Any]:
    """A source with published activity at SPOT in PERIOD, shared (tier B) with health over
    its whole area, and with children's social care over one of those areas only. A new one
    for each test: one of them revokes its share."""
    from sqlalchemy import text

    slug = make_agency("police", "Tile share")
    add_observations(
        owner_session_factory, slug, scatter(SPOT, datetime(2026, 7, 3, tzinfo=UTC), 2, 160, 9)
    )
    with owner_session_factory() as s:
        areas = [
            str(a)
            for (a,) in s.execute(
                text(
                    "SELECT j.area_id FROM agency_jurisdiction j JOIN agency a"
                    " ON a.id = j.agency_id WHERE a.slug = 'health' ORDER BY j.area_id"
                )
            )
        ]
    source = api(slug)
    made = {}
    for name, recipients, chosen in (
        ("health", ["health"], areas),
        ("care", ["social_care"], areas[:1]),
    ):
        resp = source(
            "POST",
            "/api/v1/shares",
            _terms(
                chosen, recipient_agencies=recipients, period_from="2026-07", period_to="2026-09"
            ),
        )
        assert resp.status_code == 201, resp.get_json()
        made[name] = resp.get_json()["id"]
    return {"source": source, "slug": slug, **made}


def _shared_tile(share_id: str, z: int = 12) -> str:
    x, y = _tile_of(*SPOT, z)
    return f"/api/v1/shares/{share_id}/tiles/{z}/{x}/{y}.mvt?period={PERIOD}"


def test_a_shared_tile_never_changes(
    app: Flask, api: Any, shares: dict[str, Any], owner_session_factory: Any
) -> None:
    health = api("health")
    path = _shared_tile(shares["health"])
    first = health("GET", path)
    assert first.status_code == 200 and _counts(first.data), "nothing published at SPOT"
    tag = first.headers["ETag"]
    # Back-dated records in the published month change nothing a recipient can fetch ...
    add_observations(
        owner_session_factory,
        shares["slug"],
        scatter(SPOT, datetime(2026, 8, 5, tzinfo=UTC), 1, 30, 11),
    )
    again = health("GET", path)
    assert again.data == first.data and again.headers["ETag"] == tag
    assert health("GET", path, If_None_Match=tag).status_code == 304
    # ... from this app's cache or from a cold one: the ledger, not the cache, is the source.
    cold = create_app({"mode": "test", "database_url": app.extensions["csmap.settings"].app_url()})
    fresh = api("health", on=cold)("GET", path)
    assert fresh.data == first.data and fresh.headers["ETag"] == tag


def test_shared_tiles_are_never_served_to_another_audience(
    api: Any, shares: dict[str, Any]
) -> None:
    health, care, bus = api("health"), api("social_care"), api("bus")
    to_health, to_care = _shared_tile(shares["health"]), _shared_tile(shares["care"])
    cached = health("GET", to_health)
    assert cached.status_code == 200
    # The same z/x/y of the other share reaches only its own audience, with its own bytes.
    assert health("GET", to_care).status_code == 404
    theirs = care("GET", to_care, If_None_Match=cached.headers["ETag"])
    assert theirs.status_code == 200 and theirs.headers["ETag"] != cached.headers["ETag"]
    assert set(_counts(theirs.data)) <= set(_counts(cached.data))
    # Nobody outside the share, even for a tile in the cache.
    assert care("GET", to_health).status_code == 404
    assert bus("GET", to_health).status_code == 404
    # Revoked: the recipient is refused at once, though the tile is still cached.
    revoked = shares["source"](
        "POST", f"/api/v1/shares/{shares['health']}/revoke", {"reason": "test of the cache"}
    )
    assert revoked.status_code == 200, revoked.get_json()
    assert health("GET", to_health).status_code == 410
    assert health("GET", to_health, If_None_Match=cached.headers["ETag"]).status_code == 410
