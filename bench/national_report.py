"""The national benchmark's section of bench/RESULTS.md (between its markers; `make bench`
keeps it when it rewrites the rest)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.national import BEGIN, END
from bench.report import _g, _num


def _mb(n: Any) -> str:
    return f"{n / 1024**2:,.0f} MB" if isinstance(n, (int, float)) else "–"


def _row(name: str, s: dict[str, Any] | None, target: str = "", ok: bool | None = None) -> str:
    med, p95 = _g(s, "median_ms"), _g(s, "p95_ms")
    met = {True: "yes", False: "**NO**", None: ""}[ok]
    return f"| {name} | {_num(med)} | {_num(p95)} | {target} | {met} |"


def section(r: dict[str, Any]) -> str:
    load, sz, m = r.get("load") or {}, r.get("sizes") or {}, r.get("machine") or {}
    n_obs = _g(sz, "observation", "rows") or 0
    towns = load.get("towns", 0)
    out = [
        BEGIN,
        "## National scale (`make bench-national`)",
        "",
        f"Written by `python -m bench.national` on {m.get('date', '?')}, on the machine above"
        f" (PostgreSQL {m.get('postgresql', '?')}); load average (1 / 5 / 15 min): "
        + "; ".join(f"{k} {v}" for k, v in (r.get("loadavg") or {}).items())
        + f". The whole run took {r.get('wall_s', 0) / 60:.0f} min.",
        "",
        f"- Dataset: {towns} fictional towns × {load.get('per_town', 0):,} observations ="
        f" **{n_obs:,} observations** over 24 months, {sz.get('agencies', '?')} agencies"
        " (ten seeds of the demo town, stacked over open sea; town 0 complete, the others"
        " their agencies and observations)."
        + (
            f" Asked for {r.get('asked_towns')} towns; only {towns} fitted on the disk"
            f" ({r.get('disk_free_gb')} GB free)."
            if towns and towns < (r.get("asked_towns") or towns)
            else f" Disk free before the run: {r.get('disk_free_gb')} GB."
        ),
        f"- Load: {load.get('load_s', 0) / 60:.1f} min through the cube's trigger (COPY into a"
        " staging table, one INSERT … SELECT per town; per town "
        + ", ".join(f"{t['load']:.0f} s" for t in load.get("per_town_s", []))
        + f"), then VACUUM ANALYZE {load.get('vacuum_analyze_s', 0):.0f} s.",
        "- Sizes: "
        + "; ".join(
            f"`{t}` {_g(sz, t, 'rows') or 0:,} rows, table {_mb(_g(sz, t, 'table'))}, indexes"
            f" {_mb(_g(sz, t, 'indexes'))}"
            for t in ("observation", "record_version", "cell_month", "cell_month_generation")
        )
        + f"; the whole database {_mb(sz.get('database'))}"
        + (f" ({sz['database'] / n_obs:,.0f} bytes per observation)." if n_obs else "."),
        "",
        "| measurement (town 0's police, its latest month) | median | p95 | target | met |",
        "|---|---:|---:|---|---|",
    ]
    lay = _g(r, "layer", "function")
    out.append(
        _row("filtered layer: server time (cell_counts_geojson in-process)", lay,
             "≤ 50 ms", _ok(lay, "median_ms", 50))
    )  # fmt: skip
    for z in ("z12", "z14"):
        t = _g(r, "tiles", z) or {}
        for key, label in (("cached", "cached"), ("uncached", "uncached (a new filter each)")):
            w = t.get(key) or {}
            out.append(_row(f"tiles {z}, {label}: 1 request at a time", w.get("sequential")))
            out.append(
                _row(f"tiles {z}, {label}: 4 client threads", w.get("pooled"), "p95 ≤ 50 ms",
                     _ok(w.get("pooled"), "p95_ms", 50))
            )  # fmt: skip
            rate = _g(w, "tiles_per_s", "median")
            out.append(f"| tiles {z}, {label}: throughput | {_num(rate, '/s')} | | | |")
    b = _g(r, "browser", "wall")
    out.append(_row("panel page ready in headless Chromium", b, "< 3 s", _ok(b, "median_ms", 3000)))
    pub = r.get("publication")
    out.append(_row("one month's share publication (ledger write, tier B, 3 months)", pub))
    reb = r.get("rebuild") or {}
    ratio = (
        _g(reb, "rebuild", "median_ms") / _g(reb, "group_by", "median_ms")
        if _g(reb, "group_by", "median_ms")
        else None
    )
    out += [
        _row("full rebuild: recount and repair", reb.get("rebuild")),
        _row("anchor: its own GROUP BY in psql", reb.get("group_by")),
        _row("anchor: bare count(*) seq scan", reb.get("seqscan")),
        f"| rebuild ÷ its own GROUP BY | {ratio:.2f}× | | | |" if ratio else "",
    ]
    part = r.get("partitions") or {}
    if part.get("queries"):
        out += [
            "",
            f"Partitioning `observation` by month (a copy, 24 monthly partitions and a default,"
            f" the same (agency, time) index; the copy took {part.get('copy_s', 0):.0f} s):",
            "",
            "| query | unpartitioned | partitioned by month | after ÷ before |",
            "|---|---:|---:|---:|",
        ]
        for name, q in part["queries"].items():
            a, b2 = _g(q, "before", "median_ms"), _g(q, "after", "median_ms")
            out.append(f"| {name} | {_num(a)} | {_num(b2)} | {b2 / a:.2f}× |" if a and b2 else "")
    for key, err in (r.get("errors") or {}).items():
        out.append(f"\n**Not measured** ({key}): {err.splitlines()[0][:300]}")
    out += ["", *notes(r), END]
    return "\n".join(line for line in out if line is not None)


def _ok(s: Any, key: str, limit: float) -> bool | None:
    v = _g(s, key)
    return None if v is None else v <= limit


def notes(r: dict[str, Any]) -> list[str]:
    part = (r.get("partitions") or {}).get("queries") or {}
    helped = [n for n, q in part.items() if _g(q, "after", "median_ms") and
              _g(q, "after", "median_ms") < 0.8 * _g(q, "before", "median_ms")]  # fmt: skip
    lines = [
        "Notes: the layer, tiles and panel read the cube, never the observations, so they do"
        " not grow with the row count; the load, the sizes and the full recount grow linearly."
    ]
    if part:
        lines.append(
            "Partitioning by month helps only the queries that touch a few months of every"
            " agency at once (" + (", ".join(helped) or "none here") + "); the per-agency"
            " queries already use the (agency, time) index, and the full recount reads"
            " everything either way. It would cost a primary key including the month, foreign"
            " keys to observation redone, and moving a record across partitions when its date"
            " is corrected — so the observation table stays unpartitioned; a month-scoped"
            " repair of the cube would be the first reason to revisit it."
        )
    return lines


def write(path: Path, results: dict[str, Any]) -> None:
    """Put the national section into ``path``, replacing the previous one."""
    text = path.read_text() if path.exists() else "# csmap benchmark results\n"
    block = section(results)
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
