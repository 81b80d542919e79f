"""The cube (``cell_month``): the full rebuild against its floors (a bare scan, its own GROUP BY
in psql), a rebuild into an empty cube, the fresh-table-swapped-in alternative, and what the
cube's trigger costs a bulk insert (the same INSERT … SELECT with the trigger disabled)."""

from __future__ import annotations

import importlib.util
import time
from typing import Any

from bench.common import say, summary, time_ms
from bench.database import connect_owner, planned_workers, psql_times
from webmap.config import REPO_ROOT, Settings


def migration() -> Any:
    """Revision 0016, whose SQL the app runs: imported, never copied."""
    path = REPO_ROOT / "migrations" / "versions" / "0016_lean_cube.py"
    spec = importlib.util.spec_from_file_location("bench_mig_0016", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def agg_sql() -> str:
    """The cube's aggregate of every live observation, as its triggers and rebuild run it."""
    m = migration()
    return str(m.agg(m.live("observation")))


def recount_sql() -> str:
    """The rebuild's recount alone (integer keys, no category codes joined back)."""
    return "WITH " + str(migration().RECOUNT) + " SELECT * FROM every_res"


#: The alternative the issue named: a fresh unindexed table filled by one statement, its keys
#: indexed, swapped in. Measured (rolled back), not used: see the rebuild's note.
SWAP = [
    "CREATE TABLE bench_cube_new AS {agg}",
    "ALTER TABLE bench_cube_new ADD PRIMARY KEY (res, cell, month, category, agency_id)",
    "CREATE INDEX ON bench_cube_new (agency_id, res, month)",
    "ALTER TABLE cell_month RENAME TO bench_cube_old",
    "ALTER TABLE bench_cube_new RENAME TO cell_month",
]


def cube_timings(settings: Settings, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    agg = agg_sql()
    with connect_owner(settings) as conn:
        say(f"rebuild_cell_month() x{repeats} (+1 warm-up): recount and repair")
        rows = conn.execute("SELECT rebuild_cell_month()").fetchone()
        out["rebuild_rows"] = rows[0] if rows else None
        out["rebuild"] = summary(
            time_ms(lambda: conn.execute("SELECT rebuild_cell_month()").fetchone(), repeats)
        )
        say("bare sequential scans of observation")
        out["seqscan_parallel"] = summary(
            time_ms(lambda: conn.execute("SELECT count(*) FROM observation").fetchone(), repeats)
        )
        plan = conn.execute("EXPLAIN (FORMAT JSON) SELECT count(*) FROM observation").fetchone()
        out["seqscan_parallel_workers"] = planned_workers(plan[0] if plan else None)
        conn.execute("SET max_parallel_workers_per_gather = 0")
        out["seqscan_serial"] = summary(
            time_ms(lambda: conn.execute("SELECT count(*) FROM observation").fetchone(), repeats)
        )
        conn.execute("RESET max_parallel_workers_per_gather")
        say("rebuild into an empty cube (x3)")
        cold = []
        for _ in range(3):
            conn.execute("BEGIN")
            conn.execute("TRUNCATE cell_month")
            t0 = time.perf_counter()
            conn.execute("SELECT rebuild_cell_month()").fetchone()
            cold.append((time.perf_counter() - t0) * 1000)
            conn.execute("ROLLBACK")
        out["rebuild_empty"] = summary(cold)
        say("what-if: a fresh table swapped in (x3, rolled back)")
        swap, index = [], []
        for _ in range(3):
            conn.execute("BEGIN")
            steps = []
            for stmt in SWAP:
                t0 = time.perf_counter()
                conn.execute(stmt.format(agg=agg))
                steps.append((time.perf_counter() - t0) * 1000)
            conn.execute("ROLLBACK")
            swap.append(sum(steps))
            index.append(steps[1] + steps[2])
        out["swap"] = summary(swap)
        out["swap_indexes"] = summary(index)
    say(f"the same GROUP BY in psql x{repeats} (+1 warm-up): parallel, serial, jit off")
    wrapped = "SELECT count(*) FROM (" + agg + ") g"
    out["psql_group_by"] = summary(psql_times(settings, wrapped, repeats))
    out["psql_group_by_serial"] = summary(
        psql_times(settings, wrapped, repeats, prelude="SET max_parallel_workers_per_gather = 0;\n")
    )
    out["psql_group_by_nojit"] = summary(
        psql_times(settings, wrapped, repeats, prelude="SET jit = off;\n")
    )
    out["psql_recount"] = summary(
        psql_times(settings, "SELECT count(*) FROM (" + recount_sql() + ") g", repeats)
    )
    out.update(trigger_cost(settings))
    return out


#: Every column a load writes (generated columns are computed, the id is new).
_COLUMNS = (
    "agency_id, recorded_by, occurred_at, geom, category, note, context_id, young_person_refs,"
    " source_grade, info_grade, vehicle_id, cell_r7, cell_r8, cell_r9"
)


def trigger_cost(settings: Settings) -> dict[str, Any]:
    """Every observation inserted again in one INSERT … SELECT from a staged copy (new ids),
    with the cube's trigger and with it disabled, alternately, each rolled back: what the
    statement-level trigger adds to a bulk load. PostgreSQL refuses COPY FROM into a table
    with row-level security, so every load (demo, import) is COPY into a staging table and
    this INSERT; the COPY itself is the same with or without the trigger."""
    out: dict[str, Any] = {}
    with connect_owner(settings) as conn:
        say("trigger cost: staging a copy of every observation")
        conn.execute("DROP TABLE IF EXISTS bench_stage")
        t0 = time.perf_counter()
        conn.execute(f"CREATE UNLOGGED TABLE bench_stage AS SELECT {_COLUMNS} FROM observation")
        out["stage_s"] = time.perf_counter() - t0
        n = conn.execute("SELECT count(*) FROM bench_stage").fetchone()
        out["trigger_rows"] = n[0] if n else 0
        insert = f"INSERT INTO observation ({_COLUMNS}) SELECT {_COLUMNS} FROM bench_stage"
        with_t, without_t, in_trigger = [], [], []
        for enabled in (False, True, False, True):
            conn.execute("BEGIN")
            if not enabled:
                conn.execute("ALTER TABLE observation DISABLE TRIGGER cell_month_on_insert")
            state = "on" if enabled else "off"
            say(f"trigger cost: INSERT of {out['trigger_rows']:,} rows, trigger {state}")
            t0 = time.perf_counter()
            plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + insert).fetchone()
            elapsed = time.perf_counter() - t0
            conn.execute("ROLLBACK")
            (with_t if enabled else without_t).append(elapsed * 1000)
            if enabled and plan:
                triggers = plan[0][0].get("Triggers", [])
                in_trigger.append(
                    sum(t["Time"] for t in triggers if "cell_month" in t["Trigger Name"])
                )
        conn.execute("DROP TABLE bench_stage")
    out["insert_with_trigger"] = summary(with_t)
    out["insert_without_trigger"] = summary(without_t)
    out["trigger_itself"] = summary(in_trigger)
    return out
