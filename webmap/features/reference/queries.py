"""Reference geography that is not agency data: the demo base map and boundary sets.

GeoJSON is assembled inside PostGIS (``ST_AsGeoJSON`` + ``json_agg``): one round trip, no
per-row Python, and 6 decimal places (about 0.1 m) so no false precision is sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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


def list_boundary_sets(session: Session) -> list[dict[str, Any]]:
    """The current generation of each boundary set, with its area count."""
    rows = session.execute(
        text(
            """
            SELECT bs.id, bs.slug, bs.name, bs.kind::text AS kind, bs.generation,
                   count(a.id) AS area_count
            FROM boundary_set bs LEFT JOIN area a ON a.boundary_set_id = bs.id
            WHERE bs.is_current
            GROUP BY bs.id
            -- Wards first (the map shows the first set by default), then the others.
            ORDER BY array_position(ARRAY['council_ward','police_neighbourhood','health_area',
                     'school_catchment','ldsm_area','other']::text[], bs.kind::text), bs.name
            """
        )
    ).mappings()
    return [
        {
            "id": str(r["id"]),
            "slug": r["slug"],
            "name": r["name"],
            "kind": r["kind"],
            "generation": r["generation"],
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


def police_uk_geojson(session: Session, month: str | None, limit: int = 20_000) -> str:
    """The police.uk reference layer (optionally one month) as GeoJSON text."""
    return _feature_collection(
        session,
        "SELECT crime_type, to_char(month, 'YYYY-MM') AS month, location, geom"
        " FROM reference_crime WHERE CAST(:month AS text) IS NULL"
        " OR month = to_date(:month, 'YYYY-MM') ORDER BY month DESC LIMIT :limit",
        "json_build_object('crime_type', f.crime_type, 'month', f.month, 'location', f.location)",
        "f.month DESC",
        {"month": month, "limit": limit},
    )
