"""Planting records that carry sentinel strings, for tests that scan shared outputs for them.

Positions are given to 7 decimal places: shared outputs carry at most 6, so any 7-place match
in an output is a leak of a recorded position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Sentinels:
    note: str
    ref: str
    mark: str
    place: str

    def strings(self) -> list[str]:
        """Every sentinel, plus the mark as the app normalises it (no space)."""
        return [self.note, self.ref, self.mark, self.mark.replace(" ", ""), self.place]


def plant(
    police: Any,
    s: Sentinels,
    spot: tuple[float, float],
    *,
    reports: int,
    people: int,
    first: datetime,
    note_suffix: str = "seen near the flats",
) -> list[str]:
    """Sightings of one vehicle at ``spot`` (a day apart, ``people`` young people in turn)
    carrying the sentinels, and a non-public context named with one; returns the 7-place
    coordinate strings that must never appear in a shared output."""
    vehicle = police("POST", "/api/v1/vehicles", {"registration_mark": s.mark})
    assert vehicle.status_code == 201, vehicle.get_json()
    lons = [round(spot[0] + i * 1e-7, 7) for i in range(reports)]
    for i, lon in enumerate(lons):
        body = {
            "occurred_at": (first + timedelta(days=i)).isoformat(),
            "geometry": {"type": "Point", "coordinates": [lon, spot[1]]},
            "note": f"{s.note} {note_suffix}",
            "young_person_refs": [f"{s.ref}{i % people}"],
            "vehicle_id": vehicle.get_json()["id"],
        }
        resp = police("POST", "/api/v1/sightings", body)
        assert resp.status_code == 201, resp.get_json()
    ctx = police(
        "POST",
        "/api/v1/contexts",
        {
            "kind": "place_of_concern",
            "name": s.place,
            "geometry": {"type": "Point", "coordinates": list(spot)},
        },
    )
    assert ctx.status_code == 201, ctx.get_json()
    return [f"{lon:.7f}" for lon in lons] + [f"{spot[1]:.7f}"]
