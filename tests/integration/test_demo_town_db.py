"""The demo town in PostGIS: loaded completely, deterministic, boundaries really overlap."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.conftest import DEMO_END_MONTH, pg_url
from webmap.config import Settings
from webmap.demo.load import load_town
from webmap.infra import db

DIGEST = """
SELECT md5(string_agg(row_text, '|' ORDER BY row_text)) FROM (
  SELECT concat_ws(',', id, agency_id, occurred_at, ST_AsEWKT(geom), category, note, context_id,
                   young_person_refs, source_grade, info_grade, vehicle_id, cell_r8) AS row_text
  FROM observation
  UNION ALL SELECT concat_ws(',', id, code, ST_AsEWKT(geom)) FROM area
  UNION ALL SELECT concat_ws(',', layer, name, ST_AsEWKT(geom)) FROM basemap_feature
) t
"""


def test_loaded_counts_match_the_generated_town(
    owner_conn: psycopg.Connection[Any], demo_town: Any
) -> None:
    # Count the town's own ids: other tests add records of their own to this database.
    ids = {
        "agency": [str(a.id) for a in demo_town.agencies],
        "boundary_set": [str(b.id) for b in demo_town.boundary_sets],
        "context": [str(c.id) for c in demo_town.contexts],
        "vehicle": [str(v.id) for v in demo_town.vehicles],
        "observation": list(demo_town.observations["id"]),
    }
    counts = {
        t: owner_conn.execute(
            f"SELECT count(*) FROM {t} WHERE id = ANY(%s::uuid[])", (wanted,)
        ).fetchone()[0]  # type: ignore[index]
        for t, wanted in ids.items()
    }
    assert counts == {t: len(wanted) for t, wanted in ids.items()}
    assert counts["agency"] == 6 and counts["boundary_set"] >= 5


def test_stored_cells_agree_with_postgis_positions(owner_conn: psycopg.Connection[Any]) -> None:
    import h3

    from spatial.cells import cell_key

    rows = owner_conn.execute(
        "SELECT ST_X(geom), ST_Y(geom), cell_r7, cell_r8, cell_r9 FROM observation "
        "ORDER BY id LIMIT 200"
    ).fetchall()
    for lon, lat, r7, r8, r9 in rows:
        fine = cell_key(lon, lat, 9)
        # Coarser keys are the H3 parents of the fine cell (a strict hierarchy), which is not
        # always the coarse hexagon the point falls in geometrically.
        parents = [int(h3.cell_to_parent(format(fine, "x"), r), 16) for r in (7, 8)]
        assert (r7, r8, r9) == (*parents, fine)


def test_same_seed_same_rows_in_the_database(fresh_database: Any, settings: Settings) -> None:
    from spatial.demotown import generate_town

    owner_url, _ = fresh_database("csmap_determinism")
    db.upgrade(settings, "head", url=owner_url)
    digests = []
    with psycopg.connect(pg_url(owner_url)) as conn:
        for seed in (11, 11, 12):
            load_town(
                conn,
                generate_town(seed=seed, size=1500, end_month=DEMO_END_MONTH),
                settings.secret("hmac_key"),
            )
            digests.append(conn.execute(DIGEST).fetchone()[0])  # type: ignore[index]
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_a_ward_is_split_by_the_health_border(owner_conn: psycopg.Connection[Any]) -> None:
    split = owner_conn.execute(
        """
        SELECT w.code FROM area w
        JOIN boundary_set ws ON ws.id = w.boundary_set_id AND ws.kind = 'council_ward'
        JOIN area h ON ST_Intersects(w.geom, h.geom)
        JOIN boundary_set hs ON hs.id = h.boundary_set_id AND hs.kind = 'health_area'
        -- at least 5% of the ward on each side of the border
        WHERE ST_Area(ST_Intersection(w.geom, h.geom)::geography)
              > 0.05 * ST_Area(w.geom::geography)
        GROUP BY w.code HAVING count(*) >= 2
        """
    ).fetchall()
    assert split, "no ward is split by the health-area border"


def test_a_police_neighbourhood_crosses_a_ward_line(owner_conn: psycopg.Connection[Any]) -> None:
    crossing = owner_conn.execute(
        """
        SELECT n.code FROM area n
        JOIN boundary_set ns ON ns.id = n.boundary_set_id AND ns.kind = 'police_neighbourhood'
        JOIN area w ON ST_Intersects(n.geom, w.geom)
        JOIN boundary_set ws ON ws.id = w.boundary_set_id AND ws.kind = 'council_ward'
        WHERE ST_Area(ST_Intersection(n.geom, w.geom)::geography)
              > 0.05 * ST_Area(w.geom::geography)
          AND ST_Area(ST_Difference(w.geom, n.geom)::geography)
              > 0.05 * ST_Area(w.geom::geography)
        """
    ).fetchall()
    assert crossing, "every ward nests inside a neighbourhood: the sets are co-terminous"
