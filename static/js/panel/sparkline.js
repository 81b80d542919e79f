/*
 * csmap – the selected cell or area: its months as a sparkline (SVG built with DOM calls)
 * and, for screen readers, the same numbers as a table.
 */
import { $, clear, el, svg } from '../lib/dom.js';
import { plural } from '../lib/format.js';
import { isInProgress, monthLabel, monthShort } from '../lib/months.js';
import { TREND, trendKey } from './config.js';

/** The sparkline of values, the month at index `now` marked, a month in progress (as of
 * `current`) drawn hollow: its count is not final. */
export function sparkline(values, months, now, current) {
  const W = 280;
  const H = 72;
  const padX = 8;
  const top = 14;
  const bottom = 18;
  const max = Math.max(1, ...values);
  const step = (W - 2 * padX) / Math.max(1, values.length - 1);
  const y = (v) => H - bottom - (v / max) * (H - top - bottom);
  const box = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, 'aria-hidden': 'true',
    focusable: 'false' }, 'pnl-spark');
  box.appendChild(svg('line', { x1: padX, x2: W - padX, y1: y(0), y2: y(0) }, 'pnl-spark__axis'));
  const cur = padX + now * step;
  box.appendChild(svg('line', { x1: cur, x2: cur, y1: top - 4, y2: y(0) }, 'pnl-spark__now'));
  const points = values.map((v, i) => `${(padX + i * step).toFixed(1)},${y(v).toFixed(1)}`);
  box.appendChild(svg('polyline', { points: points.join(' ') }, 'pnl-spark__line'));
  values.forEach((v, i) => {
    let cls = i === now ? 'pnl-spark__dot pnl-spark__dot--now' : 'pnl-spark__dot';
    if (isInProgress(months[i], current)) {
      cls += ' pnl-spark__dot--partial';
    }
    box.appendChild(svg('circle', { cx: padX + i * step, cy: y(v), r: i === now ? 4 : 2.25 }, cls));
  });
  const label = (x, yy, text, anchor) => {
    const t = svg('text', anchor ? { x, y: yy, 'text-anchor': anchor } : { x, y: yy }, 'pnl-spark__label');
    t.textContent = text;
    box.appendChild(t);
  };
  label(padX, 10, `max ${Math.max(...values)}`);
  label(padX, H - 4, monthShort(months[0]));
  label(W - padX, H - 4, monthShort(months[months.length - 1]), 'end');
  return box;
}

function table(values, months, name, current) {
  const t = el('table', 'sr-only');
  t.appendChild(el('caption', null, `Records per month, ${name}`));
  const head = el('tr');
  ['Month', 'Records'].forEach((text) => {
    const th = el('th', null, text);
    th.setAttribute('scope', 'col');
    head.appendChild(th);
  });
  const thead = el('thead');
  thead.appendChild(head);
  t.appendChild(thead);
  const tbody = el('tbody');
  values.forEach((v, i) => {
    const tr = el('tr');
    const th = el('th', null, monthLabel(months[i], current));
    th.setAttribute('scope', 'row');
    tr.appendChild(th);
    tr.appendChild(el('td', null, String(v)));
    tbody.appendChild(tr);
  });
  t.appendChild(tbody);
  return t;
}

function seriesOf(P, sel) {
  if (sel.kind === 'area') {
    return P.state.areas && P.state.areas.series[sel.id] ? P.state.areas.series[sel.id] : null;
  }
  return P.state.series[sel.id] || P.state.months.map(() => 0);
}

export function renderSelected(P) {
  const box = $('pnl-selected');
  if (!box) {
    return;
  }
  const { state } = P;
  const sel = state.selected;
  const values = sel ? seriesOf(P, sel) : null;
  const title = $('pnl-selected-title');
  if (!sel || !values) {
    box.hidden = true;
    title.textContent = 'Selected cell or area';
    return;
  }
  box.hidden = false;
  const name = P.shapeName(sel.kind, sel.id);
  title.textContent = `Selected: ${name}`;
  const sum = values.reduce((a, b) => a + b, 0);
  let summary = `${plural(values[state.idx], 'record')} in ${P.monthText()}; `
    + `${plural(sum, 'record')} over the ${values.length} months`;
  if (sel.kind === 'cell') {
    const tk = state.trends[sel.id] ? trendKey(state.trends[sel.id].pattern) : null;
    summary += `. Trend: ${tk ? TREND[tk].label : 'no pattern'}`;
  }
  $('pnl-selected-summary').textContent = `${summary}.`;
  const spark = $('pnl-spark');
  clear(spark);
  spark.appendChild(sparkline(values, state.months, state.idx, P.cfg.current));
  spark.appendChild(table(values, state.months, name, P.cfg.current));
}
