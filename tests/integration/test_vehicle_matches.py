"""Issue 11, finding 3: registration marks cannot be recovered by guessing.

Matching runs only when a sighting is saved; it is limited per user and per agency (429 with
Retry-After, and nothing written); every match is audited; and the agency whose vehicle
matched is told who asked and when, while nobody else sees any of it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from spatial.vehicles import normalise_mark
from tests.conftest import pg_url
from tests.factories import agency_name, unique_mark
from tests.integration.test_recording_api import OBS, Api

SIGHTING = {k: v for k, v in OBS.items() if k != "category"}


CONTACT = "duty desk, 01632 960000"


@pytest.fixture()
def new_agency(make_agency: Any) -> Callable[..., str]:
    """Factory: a fresh agency (with a lead contact), so that matches and the per-agency
    limit count nobody else's marks and queries."""

    def make(kind: str = "police") -> str:
        slug: str = make_agency(kind, "Match test", contact=CONTACT)
        return slug

    return make


@pytest.fixture()
def person(
    app: Flask, make_user: Any, sign_in: Any, new_agency: Callable[..., str]
) -> Callable[..., Api]:
    """Factory: a signed-in user of ``agency`` (by default a police force made for them)."""

    def make(agency: str = "", role: str = "practitioner", on: Flask | None = None) -> Api:
        user = make_user(agency or new_agency(), role)
        return Api(sign_in((on or app).test_client(), user), user)

    return make


def name_of(owner_session_factory: Any, who: Api) -> str:
    return agency_name(owner_session_factory, who.user.agency_slug)


def sight(who: Api, mark: str | None = None, vehicle_id: str | None = None) -> Any:
    body: dict[str, Any] = dict(SIGHTING)
    if vehicle_id:
        body["vehicle_id"] = vehicle_id
    else:
        body["vehicle"] = {"registration_mark": mark, "make": "Ford"}
    return who("POST", "/api/v1/sightings", body)


def scalar(owner_session_factory: Any, sql: str, **params: Any) -> Any:
    with owner_session_factory() as s:
        return s.execute(text(sql), params).scalar_one()


def traces(owner_session_factory: Any, user: Any, marks: list[str]) -> dict[str, int]:
    """Everything a sighting and its match could have written, for this user and these marks."""
    params = {"u": user.id, "a": user.agency_id, "marks": [normalise_mark(m) for m in marks]}
    queries = {
        "observation": "SELECT count(*) FROM observation WHERE recorded_by = :u",
        "vehicle": "SELECT count(*) FROM vehicle WHERE agency_id = :a"
        " AND registration_normalised = ANY(:marks)",
        "query": "SELECT count(*) FROM vehicle_match_query WHERE user_id = :u",
        "notice": "SELECT count(*) FROM vehicle_match_notice WHERE from_user_id = :u",
        "audit": "SELECT count(*) FROM audit_log WHERE user_id = :u"
        " AND action NOT IN ('auth.login', 'auth.second_factor')",
        "idempotency": "SELECT count(*) FROM idempotency_key WHERE user_id = :u",
    }
    with owner_session_factory() as s:
        return {k: int(s.execute(text(q), params).scalar_one()) for k, q in queries.items()}


def test_creating_a_vehicle_alone_answers_no_match(
    person: Callable[..., Api], new_agency: Callable[..., str], owner_session_factory: Any
) -> None:
    mark = unique_mark()
    police = person()
    theirs = sight(police, mark)
    assert theirs.status_code == 201, theirs.get_json()
    health = person(new_agency("health"))
    created = health("POST", "/api/v1/vehicles", {"registration_mark": mark.lower()})
    assert created.status_code == 201, created.get_json()
    assert "also_reported_by" not in created.get_json()
    assert name_of(owner_session_factory, police) not in created.get_data(as_text=True)
    # No match ran: no query recorded, police not notified, nothing audited as a match.
    after = traces(owner_session_factory, health.user, [mark])
    assert (after["query"], after["notice"]) == (0, 0)
    assert (
        scalar(
            owner_session_factory,
            "SELECT count(*) FROM audit_log WHERE user_id = :u AND action LIKE 'vehicle.match%'",
            u=health.user.id,
        )
        == 0
    )
    # Saving a sighting of it is what matches.
    seen = sight(health, vehicle_id=created.get_json()["id"])
    matches = seen.get_json()["also_reported_by"]
    assert matches == [{"agency": name_of(owner_session_factory, police), "contact": CONTACT}]


def test_every_match_query_is_audited_found_or_not(
    person: Callable[..., Api], new_agency: Callable[..., str], owner_session_factory: Any
) -> None:
    police, health = person(), person(new_agency("health"))
    shared, lonely = unique_mark(), unique_mark()
    assert sight(police, shared).status_code == 201
    found = sight(health, shared)
    not_found = sight(health, lonely)
    assert len(found.get_json()["also_reported_by"]) == 1
    assert not_found.get_json()["also_reported_by"] == []
    with owner_session_factory() as s:
        entries = s.execute(
            text(
                "SELECT object_ids, details, subject_agency_id FROM audit_log"
                " WHERE user_id = :u AND action = 'vehicle.match_queried' ORDER BY id"
            ),
            {"u": health.user.id},
        ).all()
        vehicles = {
            r[0]: str(r[1])
            for r in s.execute(
                text("SELECT registration_normalised, id FROM vehicle WHERE agency_id = :a"),
                {"a": health.user.agency_id},
            )
        }
        queries = s.execute(
            text("SELECT vehicle_id, matched FROM vehicle_match_query WHERE user_id = :u"),
            {"u": health.user.id},
        ).all()
    ids = {mark: vehicles[normalise_mark(mark)] for mark in (shared, lonely)}
    assert [(e[0], e[1]["count"]) for e in entries] == [([ids[shared]], 1), ([ids[lonely]], 0)]
    assert all(e[2] == health.user.agency_id for e in entries)
    # The trail names no mark and no other agency.
    assert shared not in str(entries) and name_of(owner_session_factory, police) not in str(entries)
    assert sorted((str(q[0]), q[1]) for q in queries) == sorted(
        [(ids[shared], 1), (ids[lonely], 0)]
    )


def test_mark_guessing_is_refused_after_the_user_limit_and_nothing_is_written(
    person: Callable[..., Api], new_agency: Callable[..., str], owner_session_factory: Any
) -> None:
    """Ten guesses in an hour (the default), then 429: no sighting, no vehicle, no match."""
    police = person()
    target = unique_mark()
    assert sight(police, target).status_code == 201
    guesser = person(new_agency())
    guesses = [unique_mark() for _ in range(10)]
    answers = [sight(guesser, g) for g in guesses]
    assert [a.status_code for a in answers] == [201] * 10
    before = traces(owner_session_factory, guesser.user, [target])
    police_notices = scalar(
        owner_session_factory,
        "SELECT count(*) FROM vehicle_match_notice WHERE agency_id = :a",
        a=police.user.agency_id,
    )

    refused = guesser(
        "POST",
        "/api/v1/sightings",
        {**SIGHTING, "vehicle": {"registration_mark": target}},
        Idempotency_Key=str(uuid.uuid4()),
    )
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "match_limit_reached"
    assert error["fields"] == {"limit": "CSMAP_VEHICLE_MATCH_PER_USER_HOUR=10"}
    assert "10 registration marks" in error["message"] and "Nothing was saved" in error["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    # The answer says nothing about the guessed mark, and nothing at all was written.
    assert name_of(owner_session_factory, police) not in refused.get_data(as_text=True)
    assert traces(owner_session_factory, guesser.user, [target]) == before
    assert before["vehicle"] == 0
    assert police_notices == scalar(
        owner_session_factory,
        "SELECT count(*) FROM vehicle_match_notice WHERE agency_id = :a",
        a=police.user.agency_id,
    )
    # The limit cannot be side-stepped through /observations with an existing vehicle.
    spare = guesser("POST", "/api/v1/vehicles", {"registration_mark": target}).get_json()
    via_observations = guesser(
        "POST",
        "/api/v1/observations",
        {**OBS, "category": "vehicle_of_interest", "vehicle_id": spare["id"]},
    )
    assert via_observations.status_code == 429
    # A vehicle already matched in the hour asks about no new mark: recording goes on.
    repeat = sight(guesser, guesses[0])
    assert repeat.status_code == 201 and repeat.get_json()["also_reported_by"] == []
    # Observations without a vehicle are not limited.
    assert guesser("POST", "/api/v1/observations", OBS).status_code == 201


def test_the_agency_limit_counts_all_its_users(
    app: Flask,
    test_db: dict[str, str],
    person: Callable[..., Api],
    new_agency: Callable[..., str],
    owner_session_factory: Any,
) -> None:
    from webmap import create_app

    tight = create_app(
        {
            "mode": "test",
            "database_url": test_db["app"],
            "vehicle_match_per_user_hour": 2,
            "vehicle_match_per_agency_hour": 3,
        }
    )
    agency = new_agency()
    first, second = person(agency, on=tight), person(agency, "analyst", on=tight)
    assert [sight(first, unique_mark()).status_code for _ in range(2)] == [201, 201]
    assert sight(first, unique_mark()).status_code == 429  # the user's own limit
    assert sight(second, unique_mark()).status_code == 201  # the agency's third mark
    before = traces(owner_session_factory, second.user, [])
    refused = sight(second, unique_mark())
    assert refused.status_code == 429
    assert refused.get_json()["error"]["fields"] == {
        "limit": "CSMAP_VEHICLE_MATCH_PER_AGENCY_HOUR=3"
    }
    assert "Your agency has checked 3 registration marks" in refused.get_json()["error"]["message"]
    assert traces(owner_session_factory, second.user, []) == before
    # Once the oldest query leaves the hour, a place frees (moved back in time, as the owner).
    with owner_session_factory() as s:
        s.execute(
            text(
                "UPDATE vehicle_match_query SET at = at - interval '61 minutes' WHERE user_id = :u"
            ),
            {"u": first.user.id},
        )
        s.commit()
    assert sight(second, unique_mark()).status_code == 201


def test_two_concurrent_guesses_cannot_both_take_the_last_place(
    test_db: dict[str, str], make_user: Any, sign_in: Any, new_agency: Callable[..., str]
) -> None:
    """Two workers, one place left: the per-agency lock makes the second see the first."""
    from webmap import create_app

    tight = create_app(
        {"mode": "test", "database_url": test_db["app"], "vehicle_match_per_user_hour": 1}
    )
    user = make_user(new_agency(), "practitioner")
    clients = [Api(sign_in(tight.test_client(), user), user) for _ in range(2)]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def guess(who: Api) -> None:
        barrier.wait()
        codes.append(sight(who, unique_mark()).status_code)

    threads = [threading.Thread(target=guess, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 429]


def test_the_matched_agency_sees_who_matched_and_when(
    person: Callable[..., Api], new_agency: Callable[..., str], owner_session_factory: Any
) -> None:
    mark = unique_mark()
    police, health = person(), person(new_agency("health"), "analyst")
    ours = sight(police, mark).get_json()["properties"]["vehicle_id"]
    assert police("GET", f"/api/v1/vehicles/{ours}").get_json()["matched_by"] == []
    started = datetime.now(UTC) - timedelta(minutes=1)
    sight(health, mark)
    got = police("GET", f"/api/v1/vehicles/{ours}")
    assert got.status_code == 200
    body = got.get_json()
    health_name = scalar(
        owner_session_factory, "SELECT name FROM agency WHERE id = :a", a=health.user.agency_id
    )
    assert body["matched_by_total"] == 1
    (notice,) = body["matched_by"]
    assert (notice["agency"], notice["user"], notice["role"]) == (
        health_name,
        "Test analyst",
        "analyst",
    )
    assert (
        started <= datetime.fromisoformat(notice["at"]) <= datetime.now(UTC) + timedelta(minutes=1)
    )
    listed = {v["id"]: v for v in police("GET", "/api/v1/vehicles").get_json()["vehicles"]}
    assert listed[ours]["matched_by_total"] == 1
    # Mutual: police's next sighting tells health in turn; the asker's own view is unchanged.
    theirs = health("GET", "/api/v1/vehicles").get_json()["vehicles"]
    (their_vehicle,) = [v for v in theirs if v["registration_mark"] == mark]
    assert health("GET", f"/api/v1/vehicles/{their_vehicle['id']}").get_json()["matched_by"] == []
    sight(police, vehicle_id=ours)
    told = health("GET", f"/api/v1/vehicles/{their_vehicle['id']}").get_json()["matched_by"]
    assert [n["agency"] for n in told] == [name_of(owner_session_factory, police)]
    assert police("GET", f"/api/v1/vehicles/{ours}").get_json()["matched_by_total"] == 1
    # The record page exists for the owner, and is a 404 for anyone else.
    assert police.client.get(f"/records/vehicle/{ours}").status_code == 200
    assert health.client.get(f"/records/vehicle/{ours}").status_code == 404


def test_an_unrelated_agency_sees_none_of_it(
    person: Callable[..., Api],
    new_agency: Callable[..., str],
    test_db: dict[str, str],
    owner_session_factory: Any,
) -> None:
    mark = unique_mark()
    police, health, bus = (
        person(),
        person(new_agency("health")),
        person(new_agency("transport_operator")),
    )
    ours = sight(police, mark).get_json()["properties"]["vehicle_id"]
    sight(health, mark)
    for who in (bus, health):
        assert who("GET", f"/api/v1/vehicles/{ours}").status_code == 404
        assert who.client.get(f"/records/vehicle/{ours}").status_code == 404
        listed = who("GET", "/api/v1/vehicles").get_data(as_text=True)
        assert ours not in listed
    assert sum(
        v["matched_by_total"] for v in bus("GET", "/api/v1/vehicles").get_json()["vehicles"]
    ) == scalar(
        owner_session_factory,
        "SELECT count(*) FROM vehicle_match_notice WHERE agency_id = :a",
        a=bus.user.agency_id,
    )
    # Under the app role: the notice about police's vehicle is police's alone, and nobody can
    # write a notice or a query row except through the match function.
    with psycopg.connect(pg_url(test_db["app"])) as conn:
        for who in (bus, health):
            with conn.transaction(force_rollback=True):
                _as(conn, who)
                seen = conn.execute(
                    "SELECT count(*) FROM vehicle_match_notice WHERE vehicle_id = %s", (ours,)
                ).fetchone()
                assert seen == (0,)
                # The function ignores another agency's vehicle: no answer, nothing written.
                assert (
                    conn.execute("SELECT * FROM csmap_vehicle_match(%s)", (ours,)).fetchall() == []
                )
        notice = (
            "vehicle_match_notice (agency_id, vehicle_id, from_agency_id, from_user_id,"
            " from_agency_name, from_user_name, from_role) VALUES (%s, %s, %s, %s, 'x', 'x', 'x')"
        )
        query = (
            "vehicle_match_query (agency_id, user_id, vehicle_id, matched) VALUES (%s, %s, %s, 0)"
        )
        forgeries = {
            notice: (police.user.agency_id, ours, bus.user.agency_id, bus.user.id),
            query: (bus.user.agency_id, bus.user.id, ours),
        }
        for into, args in forgeries.items():
            with conn.transaction(force_rollback=True):
                _as(conn, bus)
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"INSERT INTO {into}", args)
    bus_queries = "SELECT count(*) FROM vehicle_match_query WHERE user_id = :u"
    assert scalar(owner_session_factory, bus_queries, u=bus.user.id) == 0


def _as(conn: psycopg.Connection[Any], who: Api) -> None:
    conn.execute(
        "SELECT set_config('csmap.user_id', %s, true), set_config('csmap.agency_id', %s, true),"
        " set_config('csmap.role', %s, true)",
        (str(who.user.id), str(who.user.agency_id), who.user.role),
    )


def test_the_api_document_describes_matches_and_the_limit(person: Callable[..., Api]) -> None:
    doc = person()("GET", "/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]

    def response(path: str, method: str, status: str) -> dict[str, Any]:
        answer: dict[str, Any] = doc["paths"][path][method]["responses"][status]
        return answer

    for path in ("/api/v1/sightings", "/api/v1/observations"):
        limited = response(path, "post", "429")
        assert "Retry-After" in limited["headers"] and "nothing" in limited["description"]
    created = response("/api/v1/sightings", "post", "201")["content"]["application/json"]
    sighting = schemas[created["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert "also_reported_by" in sighting["properties"]
    one = response("/api/v1/vehicles/{vehicle_id}", "get", "200")["content"]["application/json"]
    assert "matched_by" in schemas[one["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert "429" not in doc["paths"]["/api/v1/vehicles"]["post"]["responses"]
    body = doc["paths"]["/api/v1/sightings"]["post"]["requestBody"]["content"]["application/json"]
    assert {"vehicle_id", "vehicle"} <= set(
        schemas[body["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    )


@pytest.mark.parametrize(
    ("vehicle", "field"),
    [
        ({"vehicle": {"registration_mark": "<b>!</b>"}}, "vehicle.registration_mark"),
        ({"vehicle": {"make": "Ford"}}, "vehicle.registration_mark"),
        ({"vehicle": {"registration_mark": "AB12CDE", "wheels": 4}}, "vehicle.wheels"),
        ({}, "vehicle_id"),
        ({"vehicle_id": "not-an-id"}, "vehicle_id"),
        ({"vehicle_id": str(uuid.uuid4()), "vehicle": {"registration_mark": "AB1"}}, "vehicle"),
        # Found bad only after the new vehicle was written: the vehicle goes with the rest.
        (
            {
                "vehicle": {"registration_mark": "AB12CDE"},
                "geometry": {"type": "Point", "coordinates": [-0.12, 51.5]},
            },
            "geometry",
        ),
    ],
)
def test_a_bad_sighting_names_its_vehicle_field_and_writes_nothing(
    person: Callable[..., Api], owner_session_factory: Any, vehicle: Any, field: str
) -> None:
    who = person()
    before = traces(owner_session_factory, who.user, ["AB12CDE", "AB1"])
    resp = who("POST", "/api/v1/sightings", {**SIGHTING, **vehicle})
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"], resp.get_json()
    assert traces(owner_session_factory, who.user, ["AB12CDE", "AB1"]) == before
