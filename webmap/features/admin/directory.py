"""The directory, as plain functions over a Session: agencies, panels and boundary sets
(system admins only; row-level security allows no one else to change them). Every change is
audited in the same transaction; bad input raises :class:`~webmap.infra.errors.Invalid`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spatial.vocabulary import AGENCY_KINDS, BOUNDARY_SET_KINDS
from webmap.features.admin.service import PANEL_KINDS, audit_admin
from webmap.infra.errors import Invalid, NotFound
from webmap.infra.values import SLUG, form_text, parse_uuid

# -- agencies ------------------------------------------------------------------------------


def list_agencies(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        text("SELECT id, name, slug, kind::text AS kind FROM agency ORDER BY name")
    ).mappings()
    return [
        {**r, "id": str(r["id"]), "kind_label": AGENCY_KINDS.get(r["kind"], r["kind"])}
        for r in rows
    ]


def create_agency(session: Session, form: Mapping[str, str]) -> uuid.UUID:
    name, slug, kind = form_text(form, "name"), form_text(form, "slug"), form_text(form, "kind")
    problems: dict[str, str] = {}
    if not 1 <= len(name) <= 200:
        problems["name"] = "Enter a name of 1 to 200 characters."
    if not SLUG.match(slug):
        problems["slug"] = (
            "Use 1 to 64 lower-case letters, digits and hyphens, starting and ending with a"
            " letter or digit."
        )
    if kind not in AGENCY_KINDS:
        problems["kind"] = "Choose a kind from the list."
    taken = session.execute(
        text(
            "SELECT bool_or(lower(name) = lower(:name)), bool_or(slug = :slug) FROM agency"
            " WHERE lower(name) = lower(:name) OR slug = :slug"
        ),
        {"name": name, "slug": slug},
    ).one()
    if taken[0]:
        problems.setdefault("name", "Another agency already has this name.")
    if taken[1]:
        problems.setdefault("slug", "Another agency already has this slug.")
    if problems:
        raise Invalid.of(problems)
    try:
        with session.begin_nested():
            agency_id: uuid.UUID = session.execute(
                text("INSERT INTO agency (name, slug, kind) VALUES (:n, :s, :k) RETURNING id"),
                {"n": name, "s": slug, "k": kind},
            ).scalar_one()
    except IntegrityError as exc:  # a concurrent insert won the race
        session.rollback()
        field = "slug" if "agency_slug_key" in str(exc.orig) else "name"
        raise Invalid.of({field: f"Another agency already has this {field}."}) from None
    audit_admin(session, "agency.created", [agency_id], agency_id)
    return agency_id


# -- panels --------------------------------------------------------------------------------


def list_panels(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            """
            SELECT p.id, p.name, p.kind::text AS kind,
                   coalesce(array_agg(a.id::text ORDER BY a.name)
                            FILTER (WHERE a.id IS NOT NULL), '{}') AS member_ids,
                   coalesce(array_agg(a.name ORDER BY a.name)
                            FILTER (WHERE a.id IS NOT NULL), '{}') AS member_names
            FROM panel p
            LEFT JOIN panel_member m ON m.panel_id = p.id
            LEFT JOIN agency a ON a.id = m.agency_id
            GROUP BY p.id ORDER BY p.name
            """
        )
    ).mappings()
    return [
        {**r, "id": str(r["id"]), "kind_label": PANEL_KINDS.get(r["kind"], r["kind"])} for r in rows
    ]


def _members(session: Session, raw: Sequence[str]) -> set[uuid.UUID]:
    known = set(session.execute(text("SELECT id FROM agency")).scalars())
    chosen = {parse_uuid(r) for r in raw}
    if None in chosen or not chosen <= known:
        raise Invalid.of({"members": "Choose member agencies from the list."})
    return {c for c in chosen if c is not None}


def create_panel(session: Session, form: Mapping[str, str], members: Sequence[str]) -> uuid.UUID:
    name, kind = form_text(form, "name"), form_text(form, "kind")
    problems: dict[str, str] = {}
    if not 1 <= len(name) <= 200:
        problems["name"] = "Enter a name of 1 to 200 characters."
    elif session.execute(
        text("SELECT EXISTS (SELECT 1 FROM panel WHERE lower(name) = lower(:n))"), {"n": name}
    ).scalar_one():
        problems["name"] = "Another panel already has this name."
    if kind not in PANEL_KINDS:
        problems["kind"] = "Choose MACE or LDSM."
    try:
        chosen = _members(session, members)
    except Invalid as exc:
        problems.update(exc.fields)
        chosen = set()
    if problems:
        raise Invalid.of(problems)
    try:
        with session.begin_nested():
            panel_id: uuid.UUID = session.execute(
                text("INSERT INTO panel (name, kind) VALUES (:n, :k) RETURNING id"),
                {"n": name, "k": kind},
            ).scalar_one()
    except IntegrityError:
        session.rollback()
        raise Invalid.of({"name": "Another panel already has this name."}) from None
    _add_members(session, panel_id, chosen)
    audit_admin(session, "panel.created", [panel_id], count=len(chosen))
    return panel_id


def _add_members(session: Session, panel_id: uuid.UUID, agencies: set[uuid.UUID]) -> None:
    for agency_id in sorted(agencies):
        # One audience, one tier: a new member must not receive through this panel a tier of
        # a source's data other than the one it already receives.
        clash = session.execute(
            text("SELECT * FROM csmap_panel_member_clash(:p, :a)"),
            {"p": panel_id, "a": agency_id},
        ).first()
        if clash is not None:
            name = session.execute(
                text("SELECT name FROM agency WHERE id = :a"), {"a": agency_id}
            ).scalar_one()
            source, panel_tier, held_tier = clash
            raise Invalid.of(
                {
                    "members": f"{name} already receives tier {held_tier} of {source}'s data;"
                    f" this panel receives tier {panel_tier} of it, and one audience receives"
                    " one tier. Ask the source agency to revoke one of the shares first."
                }
            )
        session.execute(
            text("INSERT INTO panel_member (panel_id, agency_id) VALUES (:p, :a)"),
            {"p": panel_id, "a": agency_id},
        )


def set_panel_members(session: Session, raw_id: str, members: Sequence[str]) -> str:
    """Make the panel's members exactly ``members``; returns the panel's name."""
    panel_id = parse_uuid(raw_id)
    if panel_id is None:
        raise NotFound()
    name = session.execute(
        text("SELECT name FROM panel WHERE id = :id"), {"id": panel_id}
    ).scalar_one_or_none()
    if name is None:
        raise NotFound()
    chosen = _members(session, members)
    current = set(
        session.execute(
            text("SELECT agency_id FROM panel_member WHERE panel_id = :id"), {"id": panel_id}
        ).scalars()
    )
    removed, added = current - chosen, chosen - current
    if removed:
        session.execute(
            text("DELETE FROM panel_member WHERE panel_id = :p AND agency_id = ANY(:a)"),
            {"p": panel_id, "a": sorted(removed)},
        )
    _add_members(session, panel_id, added)
    audit_admin(
        session, "panel.members_changed", [panel_id], count=len(chosen),
        changed=len(added) + len(removed),
    )  # fmt: skip
    return str(name)


# -- boundary sets -------------------------------------------------------------------------


def list_boundary_sets(session: Session) -> list[dict[str, Any]]:
    """Every generation of every set, newest generation first; the first row of each slug
    carries the rename form."""
    rows = session.execute(
        text(
            """
            SELECT b.id, b.slug, b.name, b.kind::text AS kind, b.generation, b.is_current,
                   b.map_default, b.retired_at, count(a.id) AS area_count
            FROM boundary_set b LEFT JOIN area a ON a.boundary_set_id = b.id
            GROUP BY b.id ORDER BY lower(b.name), b.slug, b.generation DESC
            """
        )
    ).mappings()
    out: list[dict[str, Any]] = []
    for r in rows:
        first = all(o["slug"] != r["slug"] for o in out)
        out.append(
            {**r, "kind_label": BOUNDARY_SET_KINDS.get(r["kind"], r["kind"]), "first": first}
        )
    return out


def rename_boundary_set(session: Session, slug: str, form: Mapping[str, str]) -> str:
    """Rename a set (every generation of it: the slug names the set). NotFound if unknown."""
    exists = session.execute(
        text("SELECT EXISTS (SELECT 1 FROM boundary_set WHERE slug = :s)"), {"s": slug}
    ).scalar_one()
    if not exists:
        raise NotFound()
    name = form_text(form, "name")
    if not 1 <= len(name) <= 200:
        raise Invalid.of({slug: "Enter a name of 1 to 200 characters."})
    ids = list(
        session.execute(
            text("UPDATE boundary_set SET name = :n WHERE slug = :s RETURNING id"),
            {"n": name, "s": slug},
        ).scalars()
    )
    audit_admin(session, "boundary_set.renamed", ids)
    return name
