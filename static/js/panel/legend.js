/*
 * csmap – the panel's legend: the classes of the layer shown (with how many cells or areas
 * each holds this month), the month and category, a total, a note, and the precision
 * statement (also on the map itself).
 */
import { changeClass, classLabel, classOf, seqIndex } from '../lib/classes.js';
import { $, clear, el, swatch } from '../lib/dom.js';
import { percentWords, plural } from '../lib/format.js';
import { periodName } from '../lib/months.js';
import { CHANGE, TRENDS, WATCH, trendKey } from './config.js';

/** One row: swatch, label, (count), help. */
export function legendRow(swatchClass, label, help, count, unit) {
  const li = el('li', 'pnl-legend__item');
  li.appendChild(swatch(`pnl-sw ${swatchClass}`));
  const text = el('span', 'pnl-legend__text');
  text.appendChild(el('span', 'pnl-legend__label', label));
  if (count !== undefined && count !== null) {
    text.appendChild(el('span', 'pnl-legend__count', ` (${plural(count, unit || 'cell')})`));
  }
  if (help) {
    text.appendChild(el('span', 'pnl-legend__help', help));
  }
  li.appendChild(text);
  if (count === 0) {
    li.classList.add('is-empty');
  }
  return li;
}

function countsLegend(P, items) {
  const { state } = P;
  const perClass = state.breaks.map(() => 0);
  let sum = 0;
  let cells = 0;
  Object.keys(state.series).forEach((cell) => {
    const n = state.series[cell][state.idx];
    sum += n;
    if (n > 0) {
      cells += 1;
      perClass[classOf(state.breaks, n)] += 1;
    }
  });
  for (let i = state.breaks.length - 1; i >= 0; i -= 1) {
    items.appendChild(legendRow(`pnl-sw-seq-${seqIndex(i, state.breaks.length)}`,
      `${classLabel(state.breaks, i)} records`, null, perClass[i]));
  }
  items.appendChild(legendRow('pnl-sw-none', 'None this month'));
  return {
    title: 'Records per cell',
    total: `Total this month: ${plural(sum, 'record')} in ${plural(cells, 'cell')}.`,
    note: 'The classes stay the same for every month, so colours compare across the year.',
  };
}

function tilesLegend(P, items) {
  const { state } = P;
  for (let i = state.breaks.length - 1; i >= 0; i -= 1) {
    items.appendChild(legendRow(`pnl-sw-seq-${seqIndex(i, state.breaks.length)}`,
      `${classLabel(state.breaks, i)} records`));
  }
  items.appendChild(legendRow('pnl-sw-none', 'None this month'));
  return {
    title: 'Records per cell: fine cells',
    note: 'Fine cells from vector tiles; cell size grows as you zoom out (about 0.1 km² when '
      + 'zoomed in). The classes are the Counts layer’s.',
    precision: P.view.tilePrecision(),
  };
}

function trendsLegend(P, items) {
  const { state } = P;
  const counts = {};
  Object.keys(state.trends).forEach((cell) => {
    const k = trendKey(state.trends[cell].pattern);
    if (k) {
      counts[k] = (counts[k] || 0) + 1;
    }
  });
  TRENDS.forEach((t) => items.appendChild(legendRow(`pnl-sw-trend-${t.key}`, t.label, t.help, counts[t.key] || 0)));
  const flagged = WATCH.reduce((acc, k) => acc + (counts[k] || 0), 0);
  const r = state.trendsRange || [state.months[0], P.month()];
  return {
    title: 'Trends: emerging hot spots',
    period: periodName(r[0], r[1]),
    total: `${plural(Object.keys(state.trends).length, 'cell')} with a pattern; ${flagged} new, on a recent run, growing or fading.`,
    note: 'A hot spot is a cell that, together with the cells around it, has clearly more '
      + 'records than the town as a whole (Getis-Ord Gi*, 90% confidence or more), so a cell with '
      + 'few records of its own can be one. Trends cover the whole 12 months: the month slider '
      + 'does not change them.',
  };
}

function changeLegend(P, items) {
  const ch = P.state.change;
  const out = { title: 'Change against the period before',
    note: 'Small numbers swing widely: from 1 to 2 is up 100%.' };
  if (!ch) {
    out.period = 'Loading…';
    return out;
  }
  const byClass = {};
  let cur = 0;
  let prev = 0;
  Object.keys(ch.cells).forEach((cell) => {
    const c = ch.cells[cell];
    cur += c.current;
    prev += c.previous;
    const k = changeClass(c);
    if (k) {
      byClass[k] = (byClass[k] || 0) + 1;
    }
  });
  CHANGE.forEach((c) => items.appendChild(legendRow(`pnl-sw-div-${c.key}`, c.label, null, byClass[c.key] || 0)));
  items.appendChild(legendRow('pnl-sw-none', 'None in either period'));
  out.period = `${periodName(ch.from, ch.to)} against ${periodName(ch.prevFrom, ch.prevTo)}`;
  out.precision = ch.precision;
  out.total = `This period: ${plural(cur, 'record')}; the period before: ${prev} (${
    percentWords(prev ? Math.round((cur - prev) / prev * 1000) / 10 : null, cur)}).`;
  return out;
}

function areasLegend(P, items) {
  const { state } = P;
  const a = state.areas;
  const out = { title: `Records per area${a ? `: ${a.name}` : ''}`,
    note: 'An area’s total is the sum of the cells assigned to it. The classes stay the same '
      + 'for every month.' };
  if (!a) {
    return out;
  }
  const perArea = a.breaks.map(() => 0);
  let sum = 0;
  let top = null;
  Object.keys(a.series).forEach((code) => {
    const n = a.series[code][state.idx];
    sum += n;
    if (n > 0) {
      perArea[classOf(a.breaks, n)] += 1;
    }
    if (!top || n > a.series[top][state.idx]) {
      top = code;
    }
  });
  for (let k = a.breaks.length - 1; k >= 0; k -= 1) {
    items.appendChild(legendRow(`pnl-sw-seq-${seqIndex(k, a.breaks.length)}`,
      `${classLabel(a.breaks, k)} records`, null, perArea[k], 'area'));
  }
  items.appendChild(legendRow('pnl-sw-none', 'None this month'));
  out.precision = a.precision;
  out.total = `Total this month: ${plural(sum, 'record')} in ${plural(Object.keys(a.series).length, 'area')}${
    top && sum ? `; most in ${a.names[top]} (${a.series[top][state.idx]}).` : '.'}`;
  return out;
}

const BUILDERS = { counts: countsLegend, tiles: tilesLegend, trends: trendsLegend,
  change: changeLegend, areas: areasLegend };

export function renderLegend(P) {
  const items = $('pnl-legend-items');
  if (!items || !P.state.months.length) {
    return;
  }
  clear(items);
  const out = BUILDERS[P.state.layer](P, items);
  const period = out.period || P.monthText();
  const precision = out.precision || P.state.precision;
  $('pnl-legend-title').textContent = out.title;
  $('pnl-legend-period').textContent = out.period === 'Loading…' ? period : `${period} · ${P.categoryLabel()}`;
  $('pnl-legend-note').textContent = out.note || '';
  $('pnl-total').textContent = out.total || '';
  $('pnl-precision-text').textContent = precision;
  P.caption.set(precision);
}
