"""The test factories make their data through the services, as the user they are given: what
they make is that agency's, audited as that user, and a user cannot make what their role may
not."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from tests import factories


def test_records_are_the_actors_and_audited_as_them(
    app: Flask, make_agency: Any, make_user: Any, owner_session_factory: Any
) -> None:
    slug = make_agency("police", "Factory test")
    who = make_user(slug, "analyst")
    made = {
        "observation": factories.make_observation(app, who, note="factory"),
        "context": factories.make_context(app, who),
        "vehicle": factories.make_vehicle(app, who),
        "share": factories.make_share(app, who),
    }
    with owner_session_factory() as s:
        for table, object_id in made.items():
            column = "from_agency_id" if table == "share" else "agency_id"
            owner = s.execute(
                text(f"SELECT {column} FROM {table} WHERE id = :i"), {"i": object_id}
            ).scalar_one()
            assert owner == who.agency_id, table
            audited = s.execute(
                text("SELECT user_id FROM audit_log WHERE :i = ANY(object_ids) ORDER BY id"),
                {"i": object_id},
            ).scalars()
            assert who.id in set(audited), table


def test_a_factory_cannot_make_what_the_role_may_not(
    app: Flask, make_agency: Any, make_user: Any
) -> None:
    trainer = make_user(make_agency("police", "Factory test"), "trainer")
    # A trainer makes tier C only (a pack), never tier B: row-level security refuses it.
    with pytest.raises(ProgrammingError, match="row-level security"):
        factories.make_share(app, trainer)


def test_a_pack_is_made_and_approved_by_two_people(
    app: Flask, make_agency: Any, make_user: Any, owner_session_factory: Any
) -> None:
    from webmap.features.packs.inspect import embedded_cells

    slug = make_agency("police", "Factory test")
    trainer, analyst = make_user(slug, "trainer"), make_user(slug, "analyst")
    start, _ = factories.pack_quarter()
    when = datetime.combine(start, time(20), UTC)
    spot = factories.cell_centre(app, analyst)
    cluster = [(*spot, when + timedelta(days=i), ()) for i in range(12)]
    factories.add_observations(owner_session_factory, slug, cluster)  # ≥ k for tier C
    pack_id = factories.make_pack(app, trainer, analyst)
    with owner_session_factory() as s:
        status, pdf, html = s.execute(
            text("SELECT status, pdf, html FROM briefing_pack WHERE id = :i"), {"i": pack_id}
        ).one()
    assert status == "approved" and pdf.startswith(b"%PDF")
    assert len(embedded_cells(html)) == 1  # the cluster's cell, published


def test_marks_and_addresses_are_unique() -> None:
    marks = {factories.unique_mark() for _ in range(2000)}
    assert len(marks) == 2000
    assert all(len(m) == 8 and m[4] == " " and m[2:4].isdigit() for m in marks)
    assert len({factories.client_address() for _ in range(2000)}) == 2000
