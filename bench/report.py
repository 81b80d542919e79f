"""Turn the results dict into a console table and bench/RESULTS.md."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

TARGETS = {
    "rebuild": "full rebuild ≤ 500 ms",
    "rebuild_ratio": "rebuild ≤ 1.2× its own GROUP BY",
    "trigger": "insert with the cube's trigger ≤ 1.5× without it",
    "layer": "filtered layer ≤ 50 ms server time",
    "tile_p95": "tiles p95 ≤ 50 ms end to end",
    "tile_rate": "≥ 3× tipg's tiles/s",
    "tile_p50": "p50 no slower than tipg's",
    "panel": "panel page interactive < 3 s",
}

#: The tile targets measured, how each is labelled, and whether it is the one judged.
TILE_TARGETS = (
    ("ours_gthread", "csmap (gthread, as `csmap serve`), cached"),
    ("ours_uncached", "csmap (gthread), uncached: every request a new filter"),
    ("ours_sync", "csmap (sync workers), cached"),
    ("tipg", "tipg"),
)


@dataclass
class Row:
    section: str
    name: str
    median: float | None  # milliseconds unless unit says otherwise
    p95: float | None = None
    unit: str = "ms"
    target: str = ""
    met: bool | None = None


def _g(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _num(x: float | None, unit: str = "ms") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if unit == "s":
        return f"{x:,.1f} s"
    if unit == "/s":
        return f"{x:,.0f} /s"
    if unit == "ms" and x >= 10_000:
        return f"{x / 1000:,.1f} s"
    return f"{x:,.1f} ms" if x < 100 else f"{x:,.0f} ms"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "–"
    return f"{a / b:,.1f}×"


def rebuild_ok(s: dict[str, Any]) -> tuple[bool | None, bool | None]:
    reb, agg = _g(s, "rebuild", "median_ms"), _g(s, "psql_group_by", "median_ms")
    if reb is None:
        return None, None
    return reb <= 500, (reb <= 1.2 * agg) if agg else None


def trigger_ratio(s: dict[str, Any]) -> float | None:
    on, off = (
        _g(s, "insert_with_trigger", "median_ms"),
        _g(s, "insert_without_trigger", "median_ms"),
    )
    return on / off if on and off else None


def vs_tipg(t: dict[str, Any]) -> tuple[float | None, bool | None, bool | None]:
    """(tiles/s ratio, ≥ 3×, p50 no slower) of our judged target against tipg."""
    o, g = t.get("ours"), t.get("tipg")
    if not o or not g:
        return None, None, None
    ratio = o["tiles_per_s"]["median"] / g["tiles_per_s"]["median"]
    return ratio, ratio >= 3, o["sequential"]["median_ms"] <= g["sequential"]["median_ms"]


def rows(r: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    load = r.get("load") or {}
    if load:
        out += [
            Row("Load", "generate town (Python)", load.get("generate_s"), unit="s"),
            Row("Load", "COPY + triggers (load_town)", load.get("load_s"), unit="s"),
            Row("Load", "VACUUM ANALYZE", load.get("vacuum_analyze_s"), unit="s"),
        ]
    s = r.get("sql") or {}
    if s:
        out += _cube_rows(s)
    lay = r.get("layer") or {}
    if lay:
        fn = _g(lay, "server", "function", "median_ms")
        out += [
            Row("Layer", "counts layer over HTTP (end to end)", _g(lay, "http", "median_ms"),
                _g(lay, "http", "p95_ms")),
            Row("Layer", "server time: cell_counts_geojson() in-process", fn,
                _g(lay, "server", "function", "p95_ms"), target=TARGETS["layer"],
                met=fn is not None and fn <= 50),
            Row("Layer", "server time: EXPLAIN ANALYZE execution of its SQL",
                _g(lay, "server", "explain_execution", "median_ms"),
                _g(lay, "server", "explain_execution", "p95_ms")),
        ]  # fmt: skip
    for z in ("z12", "z14"):
        t = _g(r, "tiles", z)
        if t:
            out += _tile_rows(z, t, _g(r, "tile_sql", z))
    nv = r.get("naive") or {}
    if nv:
        out += [
            Row("Naive", f"geopandas+h3, the layer's month ({_g(nv, 'month', 'points') or 0:,}"
                " points): read + bin", _g(nv, "month", "total", "median_ms"),
                _g(nv, "month", "total", "p95_ms")),
            Row("Naive", f"geopandas+h3, all {_g(nv, 'all', 'points') or 0:,} points: read + bin",
                _g(nv, "all", "total", "median_ms"), _g(nv, "all", "total", "p95_ms")),
            Row("Naive", "  of which h3.latlng_to_cell loop", _g(nv, "all", "bin", "median_ms")),
        ]  # fmt: skip
    b = r.get("browser") or {}
    if b.get("wall"):
        med = _g(b, "wall", "median_ms")
        if b.get("path") == "/panel":
            label = "panel page /panel"
        elif b.get("panel_error"):
            label = "MAP PAGE / (/panel failed)"
        else:
            label = f"MAP PAGE / (/panel answered {b.get('panel_status')})"
        out.append(
            Row("Browser", f"{label} ready in headless Chromium", med, _g(b, "wall", "p95_ms"),
                target=TARGETS["panel"],
                met=(med is not None and med < 3000) if b.get("path") == "/panel" else None)
        )  # fmt: skip
    return out


def _cube_rows(s: dict[str, Any]) -> list[Row]:
    under, ratio = rebuild_ok(s)
    tr = trigger_ratio(s)
    return [
        Row("Rebuild", "SELECT rebuild_cell_month(): recount and repair (nothing to repair)",
            _g(s, "rebuild", "median_ms"), _g(s, "rebuild", "p95_ms"), target=TARGETS["rebuild"],
            met=under),
        Row("Rebuild", "  ÷ its own GROUP BY in psql (next row)", None,
            target=TARGETS["rebuild_ratio"], met=ratio),
        Row("Rebuild", "anchor: the same GROUP BY in psql (\\timing), parallel as configured",
            _g(s, "psql_group_by", "median_ms"), _g(s, "psql_group_by", "p95_ms")),
        Row("Rebuild", "anchor: the same GROUP BY in psql, no parallel workers",
            _g(s, "psql_group_by_serial", "median_ms"), _g(s, "psql_group_by_serial", "p95_ms")),
        Row("Rebuild", "anchor: the same GROUP BY in psql, jit = off",
            _g(s, "psql_group_by_nojit", "median_ms"), _g(s, "psql_group_by_nojit", "p95_ms")),
        Row("Rebuild", "  the rebuild's recount alone (integer keys, no codes joined), psql",
            _g(s, "psql_recount", "median_ms"), _g(s, "psql_recount", "p95_ms")),
        Row("Rebuild", f"anchor: bare count(*) seq scan, {s.get('seqscan_parallel_workers', '?')}"
            " parallel workers planned", _g(s, "seqscan_parallel", "median_ms"),
            _g(s, "seqscan_parallel", "p95_ms")),
        Row("Rebuild", "anchor: bare count(*) seq scan, no parallel workers",
            _g(s, "seqscan_serial", "median_ms"), _g(s, "seqscan_serial", "p95_ms")),
        Row("Rebuild", "rebuild into an empty cube (every row written), 3 runs",
            _g(s, "rebuild_empty", "median_ms"), _g(s, "rebuild_empty", "p95_ms")),
        Row("Rebuild", "what-if: fresh table + its two indexes + swap, 3 runs",
            _g(s, "swap", "median_ms"), _g(s, "swap", "p95_ms")),
        Row("Rebuild", "  of which building the two indexes", _g(s, "swap_indexes", "median_ms")),
        Row("Trigger", f"INSERT … SELECT of {s.get('trigger_rows', 0):,} staged rows, cube"
            " trigger on (2 runs)", _g(s, "insert_with_trigger", "median_ms"), None,
            target=TARGETS["trigger"], met=tr is not None and tr <= 1.5),
        Row("Trigger", "anchor: the same INSERT with the trigger disabled (the COPY path's"
            " insert, no cube)", _g(s, "insert_without_trigger", "median_ms")),
        Row("Trigger", "  of which in the trigger (EXPLAIN ANALYZE)",
            _g(s, "trigger_itself", "median_ms")),
    ]  # fmt: skip


def _tile_rows(z: str, t: dict[str, Any], sql_t: dict[str, Any] | None) -> list[Row]:
    out: list[Row] = []
    if sql_t:
        out.append(
            Row(f"Tiles {z}", f"csmap: csmap_counts_tile building each of the {t['tiles']} tiles"
                " (EXPLAIN ANALYZE)", sql_t["median_ms"], sql_t["p95_ms"])
        )  # fmt: skip
    ratio, rate_ok, p50_ok = vs_tipg(t)
    for key, label in TILE_TARGETS:
        w = t.get(key)
        if not w:
            continue
        judged = key == "ours_gthread"
        p95 = _g(w, "pooled", "p95_ms")
        out += [
            Row(f"Tiles {z}", f"{label}: latency, 1 request at a time",
                _g(w, "sequential", "median_ms"), _g(w, "sequential", "p95_ms"),
                target=TARGETS["tile_p50"] if judged else "", met=p50_ok if judged else None),
            Row(f"Tiles {z}", f"{label}: latency, {w['threads']} client threads",
                _g(w, "pooled", "median_ms"), p95, target=TARGETS["tile_p95"] if judged else "",
                met=(p95 is not None and p95 <= 50) if judged else None),
            Row(f"Tiles {z}", f"{label}: throughput, {w['threads']} client threads",
                _g(w, "tiles_per_s", "median"), unit="/s",
                target=TARGETS["tile_rate"] if judged else "", met=rate_ok if judged else None),
        ]  # fmt: skip
    if ratio is not None:
        out.append(Row(f"Tiles {z}", f"csmap ÷ tipg tiles/s: {ratio:.1f}×", None))
    return out


def _met(m: bool | None) -> str:
    return {True: "yes", False: "**NO**", None: ""}[m]


def console(r: dict[str, Any]) -> str:
    lines = [f"{'measurement':<70} {'median':>11} {'p95':>11}  target met"]
    section = ""
    for row in rows(r):
        if row.section != section:
            section = row.section
            lines.append(f"-- {section}")
        met = {True: "yes", False: "NO", None: ""}[row.met]
        p95 = _num(row.p95, row.unit) if row.p95 is not None else ""
        lines.append(f"{row.name[:70]:<70} {_num(row.median, row.unit):>11} {p95:>11}  {met}")
    for key, err in (r.get("errors") or {}).items():
        lines.append(f"!! {key}: not measured: {err.splitlines()[0][:200]}")
    return "\n".join(lines)


def ratios(r: dict[str, Any]) -> list[str]:
    s, lay, nv = r.get("sql") or {}, r.get("layer") or {}, r.get("naive") or {}
    reb = _g(s, "rebuild", "median_ms")
    out = [
        f"- rebuild ÷ bare parallel scan: {_ratio(reb, _g(s, 'seqscan_parallel', 'median_ms'))};"
        f" ÷ bare serial scan: {_ratio(reb, _g(s, 'seqscan_serial', 'median_ms'))};"
        f" ÷ its own GROUP BY in psql: {_ratio(reb, _g(s, 'psql_group_by', 'median_ms'))}"
        f" (serial GROUP BY: {_ratio(reb, _g(s, 'psql_group_by_serial', 'median_ms'))})",
        f"- rebuild into an empty cube ÷ its own GROUP BY:"
        f" {_ratio(_g(s, 'rebuild_empty', 'median_ms'), _g(s, 'psql_group_by', 'median_ms'))};"
        f" fresh table swapped in ÷ its own GROUP BY:"
        f" {_ratio(_g(s, 'swap', 'median_ms'), _g(s, 'psql_group_by', 'median_ms'))}",
        "- bulk insert with the cube's trigger ÷ without: "
        + (f"{trigger_ratio(s):.2f}×" if trigger_ratio(s) else "–"),
        f"- layer over HTTP ÷ its server time:"
        f" {_ratio(_g(lay, 'http', 'median_ms'), _g(lay, 'server', 'function', 'median_ms'))}",
        f"- naive month (geopandas + h3) ÷ layer over HTTP:"
        f" {_ratio(_g(nv, 'month', 'total', 'median_ms'), _g(lay, 'http', 'median_ms'))}",
        f"- naive all points, res 8 only ÷ full rebuild (all points, res 7+8+9):"
        f" {_ratio(_g(nv, 'all', 'total', 'median_ms'), reb)}",
    ]
    for z in ("z12", "z14"):
        t = _g(r, "tiles", z) or {}
        g = t.get("tipg")
        for key, label in TILE_TARGETS[:3]:
            o = t.get(key)
            if o and g:
                out.append(
                    f"- {z} {label} ÷ tipg: p50 sequential"
                    f" {_ratio(o['sequential']['median_ms'], g['sequential']['median_ms'])},"
                    f" p95 pooled {_ratio(o['pooled']['p95_ms'], g['pooled']['p95_ms'])},"
                    f" tiles/s {_ratio(o['tiles_per_s']['median'], g['tiles_per_s']['median'])}"
                )
    out.append("- (latency below 1× and tiles/s above 1× favour csmap)")
    return out


def markdown(r: dict[str, Any], notes: dict[str, str], method: list[str]) -> str:
    m, d = r.get("machine") or {}, r.get("load") or {}
    pk = m.get("packages") or {}
    md = [
        "# csmap benchmark results",
        "",
        "Written by `python -m bench.run`"
        + (" --quick" if r.get("quick") else "")
        + f" on {m.get('date', '?')}. Re-run with `make bench`.",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu')}, {m.get('cores')} cores; RAM {m.get('ram_gib')} GiB;"
        f" Linux {m.get('kernel')}",
        f"- PostgreSQL {m.get('postgresql')}, PostGIS {m.get('postgis')}; settings"
        f" {', '.join(f'{k}={v}' for k, v in (m.get('pg_settings') or {}).items())}",
        f"- Python {m.get('python')}; "
        + ", ".join(f"{k} {v}" for k, v in pk.items())
        + (f"; Chromium {_g(r, 'browser', 'chromium')}" if _g(r, "browser", "chromium") else ""),
        f"- Code: {r.get('code', '?')}",
        "- Load average (1 / 5 / 15 min): "
        + "; ".join(f"{k} {v}" for k, v in (r.get("loadavg") or {}).items())
        + f". The whole run took {r.get('wall_s', 0):.0f} s. Anything else running on the"
        " machine shares its cores with the servers, PostgreSQL and the client, and makes"
        " every number here worse.",
        "",
        "## Dataset",
        "",
        f"- Demo town `generate_town(seed={d.get('seed')}, size={d.get('size', 0):,},"
        f" end_month={d.get('end_month')})`: {d.get('observations', 0):,} observations"
        f" ({d.get('first_day')} … {d.get('last_day')}), {d.get('observation_size')} with indexes;"
        f" `cell_month` {d.get('cell_month_rows', 0):,} rows ({d.get('cell_month_size')});"
        f" {d.get('cells', 0):,} lattice cells (res 7–9).",
        f"- Filter used everywhere: agency `police`, month {r.get('month')}, category"
        f" `suspected_drug_running` — {_g(r, 'layer', 'features') or '?'} res-8 cells,"
        f" {_g(r, 'layer', 'total') or '?'} observations.",
        f"- Load: create + migrate {d.get('create_migrate_s', 0):.1f} s, generate"
        f" {d.get('generate_s', 0):.1f} s, load_town {d.get('load_s', 0):.1f} s,"
        f" VACUUM ANALYZE {d.get('vacuum_analyze_s', 0):.1f} s.",
        "",
        "## Results",
        "",
        "| | measurement | median | p95 | target | met |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in rows(r):
        p95 = _num(row.p95, row.unit) if row.p95 is not None else ""
        med = _num(row.median, row.unit) if row.median is not None else ""
        md.append(
            f"| {row.section} | {row.name} | {med} | {p95} | {row.target} | {_met(row.met)} |"
        )
    for key, err in (r.get("errors") or {}).items():
        md.append(f"| {key} | not measured: {err.splitlines()[0][:200]} | | | | |")
    md += ["", "## Ratios", "", *ratios(r), ""]
    md += ["## Targets", ""]
    for key, text in TARGETS.items():
        md.append(f"- {text}: {notes.get(key, '')}")
    md += ["", "## How each number was measured", "", *method, ""]
    return "\n".join(md)
