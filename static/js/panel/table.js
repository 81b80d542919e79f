/*
 * csmap – the panel's map as a table: the cells (or areas) the map colours for the month
 * shown, each with its records, its class in words (never colour alone) and its change. Read
 * from the very state the map is drawn from (panel/mapview.js fillFor), so the two agree.
 */
import { changeClass, classWords } from '../lib/classes.js';
import { percentWords } from '../lib/format.js';
import { fillTable, whenOpen } from '../lib/maptable.js';
import { monthName } from '../lib/months.js';
import { CHANGE, TREND, trendKey } from './config.js';

const ID = 'pnl-table';

/** "up 3 from 2", "down 1 from 4", "no change"; '—' where there is no month before. */
export function monthChange(now, before) {
  if (before === null || before === undefined) {
    return '—';
  }
  const d = now - before;
  if (d === 0) {
    return 'no change';
  }
  return `${d > 0 ? 'up' : 'down'} ${Math.abs(d)} from ${before}`;
}

function byRecords(a, b) {
  return b.n - a.n || a.name.localeCompare(b.name);
}

/** The rows of the layer shown: {key, n, name, cells}. */
function rows(P) {
  const { state } = P;
  const before = state.idx > 0 ? state.idx - 1 : null;
  const change = (series) => monthChange(series ? series[state.idx] : 0,
    before === null ? null : (series ? series[before] : 0));
  if (state.layer === 'areas') {
    const a = state.areas;
    return a ? Object.keys(a.series).map((code) => {
      const n = a.series[code][state.idx];
      const name = a.names[code] || code;
      return { key: code, n, name,
        cells: [name, String(n), classWords(a.breaks, n), change(a.series[code])] };
    }) : [];
  }
  const cellClass = {
    counts: (cell) => (P.countAt(cell) > 0 ? classWords(state.breaks, P.countAt(cell)) : null),
    tiles: (cell) => (P.countAt(cell) > 0 ? classWords(state.breaks, P.countAt(cell)) : null),
    trends: (cell) => {
      const k = state.trends[cell] ? trendKey(state.trends[cell].pattern) : null;
      return k ? TREND[k].label : null;
    },
    change: (cell) => {
      const k = state.change ? changeClass(state.change.cells[cell]) : null;
      return k ? CHANGE.find((c) => c.key === k).label : null;
    },
  }[state.layer];
  return Object.keys(P.view.cellsByKey).map((cell) => {
    const cls = cellClass(cell);
    if (!cls) {
      return null;
    }
    const name = P.cellName(cell);
    if (state.layer === 'change') {
      const c = state.change.cells[cell];
      return { key: cell, n: c.current, name: name.name, cells: [name.short || name.name, name.area,
        String(c.current), cls, `${c.previous} (${percentWords(c.percent_change, c.current)})`] };
    }
    const n = P.countAt(cell);
    return { key: cell, n, name: name.name,
      cells: [name.short || name.name, name.area, String(n), cls, change(state.series[cell])] };
  }).filter(Boolean);
}

function columns(P) {
  const { state } = P;
  const prev = state.idx > 0 ? monthName(state.months[state.idx - 1]) : 'the month before';
  const changeCol = state.layer === 'change'
    ? { label: 'The period before', num: true } : { label: `Change on ${prev}`, num: true };
  const cls = { trends: 'Trend', change: 'Change class' }[state.layer] || 'Class';
  const lead = state.layer === 'areas'
    ? [{ label: 'Area' }] : [{ label: 'Cell' }, { label: 'Area' }];
  return lead.concat([{ label: 'Records', num: true }, { label: cls }, changeCol]);
}

/** Wire the table to the panel: returns refresh(), to call whenever the map is redrawn. */
export function createTable(P) {
  const draw = () => {
    const list = rows(P).sort(byRecords);
    const what = P.state.layer === 'areas' ? 'Records per area' : {
      counts: 'Records per cell', tiles: 'Records per cell (the Counts layer’s cells)',
      trends: 'Cells with a trend pattern', change: 'Change against the period before',
    }[P.state.layer];
    fillTable(ID, `${what}, ${P.monthText()}, ${P.categoryLabel()}`, columns(P), list,
      'No cell has a record this month.');
  };
  return whenOpen(ID, draw);
}
