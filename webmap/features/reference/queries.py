"""Reference geography that is not agency data: the demo base map and boundary sets.

GeoJSON is assembled inside PostGIS (``ST_AsGeoJSON`` + ``json_agg``): one round trip, no
per-row Python, and 6 decimal places (about 0.1 m) so no false precision is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.vocabulary import BOUNDARY_SET_KINDS

_FEATURE_COLLECTION = """
SELECT json_build_object(
  'type', 'FeatureCollection',
  'features', coalesce(json_agg(json_build_object(
      'type', 'Feature',
      'geometry', ST_AsGeoJSON(f.geom, 6)::json,
      'properties', {properties}
  ) ORDER BY {order}), '[]'::json)
)::text
FROM ({source}) AS f
"""


def _feature_collection(
    session: Session, source: str, properties: str, order: str, params: dict[str, Any] | None = None
) -> str:
    query = _FEATURE_COLLECTION.format(source=source, properties=properties, order=order)
    result: str = session.execute(text(query), params or {}).scalar_one()
    return result


def basemap_geojson(session: Session) -> str:
    """The base map as a GeoJSON FeatureCollection (text), drawing order kept."""
    return _feature_collection(
        session,
        "SELECT layer, name, kind, geom FROM basemap_feature",
        "json_build_object('layer', f.layer, 'name', f.name, 'kind', f.kind)",
        # Draw large areas first, lines over them, labels last.
        "array_position(ARRAY['land','residential','park','retail','river','road','rail',"
        "'station','place_label']::text[], f.layer::text), f.kind, f.name",
    )


#: The one order boundary sets are listed in, everywhere: the map's default set (chosen by a
#: system admin) first, then wards, police neighbourhoods, health areas, … (the vocabulary's
#: order), then by name. ``{b}`` is the boundary_set table's alias.
SET_ORDER: Final = (
    "{b}.map_default DESC, array_position(ARRAY["
    + ",".join(f"'{k}'" for k in BOUNDARY_SET_KINDS)
    + "]::text[], {b}.kind::text), {b}.name"
)


#: Only what lies over the service area is offered: an area holding cells of the lattice
#: (which covers the service area; shares, panels and packs are made of its cells), and a
#: set with such an area. A set imported for somewhere else stays out of every list but the
#: admin's. ``{b}``/``{a}`` are the boundary_set and area tables' aliases.
SET_OVER_SERVICE_AREA: Final = (
    "EXISTS (SELECT 1 FROM area sa JOIN cell_area sc ON sc.area_id = sa.id"
    " WHERE sa.boundary_set_id = {b}.id)"
)
AREA_OVER_SERVICE_AREA: Final = "EXISTS (SELECT 1 FROM cell_area ac WHERE ac.area_id = {a}.id)"


def current_boundary_sets(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of each current boundary set over the service area, in the one order."""
    order = SET_ORDER.format(b="b")
    over = SET_OVER_SERVICE_AREA.format(b="b")
    rows = session.execute(
        text(
            f"SELECT b.slug, b.name FROM boundary_set b WHERE b.is_current AND {over}"  # noqa: S608 - constants
            f" ORDER BY {order}"
        )
    ).all()
    return [(slug, name) for slug, name in rows]


def areas_by_set(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Each current boundary set's name → its areas over the service area as (id, "code
    name"), in the one order."""
    order = SET_ORDER.format(b="b")
    over = AREA_OVER_SERVICE_AREA.format(a="a")
    rows = session.execute(
        text(
            "SELECT b.name, a.id, a.code, a.name FROM boundary_set b"  # noqa: S608 - constants
            f" JOIN area a ON a.boundary_set_id = b.id WHERE b.is_current AND {over}"
            f" ORDER BY {order}, a.code"
        )
    ).all()
    sets: dict[str, list[tuple[str, str]]] = {}
    for set_name, area_id, code, area_name in rows:
        sets.setdefault(set_name, []).append((str(area_id), f"{code} {area_name}"))
    return sets


def agency_names(session: Session) -> dict[Any, str]:
    """Every agency's id → name (the directory every signed-in user may read)."""
    return dict(session.execute(text("SELECT id, name FROM agency")).tuples().all())


def agencies_except(session: Session, agency_id: Any) -> list[tuple[str, str]]:
    """(slug, name) of every other agency, by name."""
    return [
        (slug, name)
        for slug, name in session.execute(
            text("SELECT slug, name FROM agency WHERE id <> :a ORDER BY name"), {"a": agency_id}
        )
    ]


def agencies_of_kinds(session: Session, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """(slug, name) of the agencies of these kinds, by name."""
    return [
        (slug, name)
        for slug, name in session.execute(
            text("SELECT slug, name FROM agency WHERE kind::text = ANY(:k) ORDER BY name"),
            {"k": list(kinds)},
        )
    ]


def panels_of(session: Session, agency_id: Any) -> list[tuple[str, str]]:
    """(id, name) of the panels the agency sits on, by name."""
    return [
        (str(pid), name)
        for pid, name in session.execute(
            text(
                "SELECT p.id, p.name FROM panel p JOIN panel_member m ON m.panel_id = p.id"
                " WHERE m.agency_id = :a ORDER BY p.name"
            ),
            {"a": agency_id},
        )
    ]


def vocabulary(session: Session, table: str) -> list[tuple[str, str]]:
    """(code, label) of the active entries of ``category`` or ``place_feature``, in order."""
    if table not in {"category", "place_feature"}:
        raise ValueError(f"table: {table!r} is not a vocabulary table")
    return [
        (code, label)
        for code, label in session.execute(
            text(f"SELECT code, label FROM {table} WHERE active ORDER BY sort, label")  # noqa: S608 - checked above
        )
    ]


def list_boundary_sets(session: Session) -> list[dict[str, Any]]:
    """The current generation of each boundary set over the service area, with its area
    count."""
    rows = session.execute(
        text(
            """
            SELECT bs.id, bs.slug, bs.name, bs.kind::text AS kind, bs.generation, bs.map_default,
                   count(a.id) AS area_count
            FROM boundary_set bs LEFT JOIN area a ON a.boundary_set_id = bs.id
            WHERE bs.is_current AND """  # noqa: S608 - constants
            + SET_OVER_SERVICE_AREA.format(b="bs")
            + """
            GROUP BY bs.id
            ORDER BY """
            + SET_ORDER.format(b="bs")
        )
    ).mappings()
    return [
        {
            "id": str(r["id"]),
            "slug": r["slug"],
            "name": r["name"],
            "kind": r["kind"],
            "generation": r["generation"],
            "map_default": r["map_default"],
            "area_count": r["area_count"],
            "areas_url": f"/api/v1/boundary-sets/{r['slug']}/areas",
        }
        for r in rows
    ]


def boundary_set_areas_geojson(session: Session, slug: str) -> str | None:
    """Areas of the current generation of ``slug`` as GeoJSON text; None if no such set."""
    set_id = session.execute(
        text("SELECT id FROM boundary_set WHERE slug = :slug AND is_current"), {"slug": slug}
    ).scalar_one_or_none()
    if set_id is None:
        return None
    return _feature_collection(
        session,
        "SELECT code, name, geom FROM area WHERE boundary_set_id = :set_id",
        "json_build_object('code', f.code, 'name', f.name)",
        "f.code",
        {"set_id": set_id},
    )


#: The police.uk columns, as GeoJSON properties (snake case of the published headers).
_POLICE_PROPERTIES = """json_build_object('crime_id', f.crime_id, 'month', f.month,
  'reported_by', f.reported_by, 'falls_within', f.falls_within, 'longitude', f.longitude,
  'latitude', f.latitude, 'location', f.location, 'lsoa_code', f.lsoa_code,
  'lsoa_name', f.lsoa_name, 'crime_type', f.crime_type, 'last_outcome_category', f.outcome,
  'context', f.context)"""

_POLICE_MATCHED = """
FROM reference_crime r
WHERE (CAST(:month AS text) IS NULL OR r.month = to_date(:month, 'YYYY-MM'))
  AND (CAST(:west AS float8) IS NULL
       OR r.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326))
"""


def police_uk_page(
    session: Session,
    month: str | None,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
) -> tuple[str, int]:
    """One page of the police.uk layer (every published column; newest month first, then a
    stable order) as GeoJSON text, and how many features match in all: the caller pages, so
    nothing is ever cut off silently."""
    west, south, east, north = bbox if bbox is not None else (None, None, None, None)
    params = {"month": month, "west": west, "south": south, "east": east, "north": north}
    matched = int(session.execute(text("SELECT count(*)" + _POLICE_MATCHED), params).scalar_one())
    body = _feature_collection(
        session,
        "SELECT r.id, r.crime_id, to_char(r.month, 'YYYY-MM') AS month, r.reported_by,"
        " r.falls_within, round(ST_X(r.geom)::numeric, 6) AS longitude,"
        " round(ST_Y(r.geom)::numeric, 6) AS latitude, r.location, r.lsoa_code, r.lsoa_name,"
        " r.crime_type, r.outcome, r.context, r.geom"
        + _POLICE_MATCHED
        + " ORDER BY r.month DESC, r.id LIMIT :limit OFFSET :offset",
        _POLICE_PROPERTIES,
        "f.month DESC, f.id",
        {**params, "limit": limit, "offset": offset},
    )
    return body, matched
