"""Test data made through the app's own services, so it obeys every rule real data does."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from webmap.features.recording.importing import GoodRow, insert_observations, observation_frame
from webmap.features.recording.schemas import ObservationIn


def add_observations(
    owner_session_factory: Any,
    agency_slug: str,
    rows: Iterable[tuple[float, float, datetime, tuple[str, ...]]],
    category: str = "older_males_approaching",
) -> int:
    """Insert observations (lon, lat, time, young people's refs) for an agency through the bulk
    import service, as the schema owner does for ``csmap import``."""
    with owner_session_factory() as s:
        agency_id = s.execute(
            text("SELECT id FROM agency WHERE slug = :s"), {"s": agency_slug}
        ).scalar_one()
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
        n = insert_observations(s, observation_frame(good, agency_id, None), agency_id, None)
        s.commit()
    return n


def scatter(
    centre: tuple[float, float], first: datetime, months: int, per_month: int, seed: int
) -> list[tuple[float, float, datetime, tuple[str, ...]]]:
    """Observations scattered within about 2 km of ``centre``, ``per_month`` a month for
    ``months`` months from ``first``: enough that some cells pass k and some do not."""
    rng = random.Random(seed)
    out = []
    for m in range(months):
        for _ in range(per_month):
            lon = centre[0] + rng.gauss(0, 0.012)
            lat = centre[1] + rng.gauss(0, 0.007)
            when = first + timedelta(days=30 * m + rng.randint(0, 25), hours=rng.randint(8, 22))
            out.append((round(lon, 6), round(lat, 6), when, ()))
    return out
