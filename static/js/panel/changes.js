/*
 * csmap – what changed since the last meeting, in complete months only: the cells to watch
 * (new, growing, on a recent run, fading, or no longer a hot spot), grouped by area, each
 * cell named so it can be told apart and listed once; and the top contexts, now against
 * before. The meeting pack numbers the cells on its map.
 */
import { $, clear, el, swatch } from '../lib/dom.js';
import { percentWords, plural } from '../lib/format.js';
import { monthName, monthShort, periodName } from '../lib/months.js';
import { STRONG, TREND, WATCH, trendKey } from './config.js';

/** The watch list: cells flagged now, then clear hot spots at the meeting no longer hot.
 * Each cell once; most urgent first (by class, then by strength). */
export function watchList(trends, trendsMeeting) {
  const rows = [];
  Object.keys(trends).forEach((cell) => {
    const k = trendKey(trends[cell].pattern);
    if (WATCH.indexOf(k) >= 0) {
      rows.push({ cell, key: k, z: trends[cell].z });
    }
  });
  Object.keys(trendsMeeting).forEach((cell) => {
    const was = trendKey(trendsMeeting[cell].pattern);
    const now = trends[cell] ? trendKey(trends[cell].pattern) : null;
    if (STRONG.indexOf(was) >= 0 && (!now || now === 'historical' || now === 'cold')) {
      rows.push({ cell, key: 'dropped', was, z: 0 });
    }
  });
  const rank = (k) => {
    const i = WATCH.indexOf(k);
    return i < 0 ? WATCH.length : i;
  };
  rows.sort((a, b) => rank(a.key) - rank(b.key) || b.z - a.z);
  return rows;
}

/**
 * The rows grouped by the area holding each cell (names: from places.nameCells), the group
 * with the most urgent row first; rows keep their order within a group and are numbered in
 * the order shown (the numbers the meeting pack puts on its map).
 */
export function groupByArea(rows, names, outside) {
  const groups = [];
  const byKey = {};
  rows.forEach((row) => {
    const named = names[row.cell];
    const key = named ? named.areaKey : '';
    if (!byKey[key]) {
      byKey[key] = { area: named ? named.area : outside, areaKey: key, rows: [] };
      groups.push(byKey[key]);
    }
    byKey[key].rows.push(row);
  });
  let n = 0;
  groups.forEach((g) => g.rows.forEach((row) => {
    n += 1;
    row.number = n;
  }));
  return groups;
}

/** What the cell was at the last meeting, in words. */
export function thenText(row, was) {
  if (row.key === 'dropped') {
    return `was ${TREND[row.was].label}`;
  }
  if (!was) {
    return 'not flagged at the last meeting';
  }
  return was === row.key ? 'the same at the last meeting' : `was ${TREND[was].label} at the last meeting`;
}

function item(P, row, complete) {
  const { state } = P;
  const li = el('li', 'pnl-watch__item');
  const dropped = row.key === 'dropped';
  const what = dropped ? 'No longer a hot spot' : TREND[row.key].label;
  const named = P.cellName(row.cell);
  if (P.cfg.mode === 'print') {
    li.appendChild(el('span', 'pnl-watch__num', String(row.number)));
  }
  li.appendChild(swatch(`pnl-sw ${dropped ? 'pnl-sw-none' : `pnl-sw-trend-${row.key}`}`));
  const text = el('div', 'pnl-watch__text');
  text.appendChild(el('strong', 'pnl-watch__place', named.short));
  text.appendChild(el('span', 'pnl-watch__what', ` · ${what}`));
  const i = state.months.indexOf(complete);
  const count = state.series[row.cell] && i >= 0 ? state.series[row.cell][i] : 0;
  const was = state.trendsMeeting[row.cell] ? trendKey(state.trendsMeeting[row.cell].pattern) : null;
  text.appendChild(el('span', 'pnl-watch__then',
    `${plural(count, 'record')} in ${monthShort(complete)}; ${thenText(row, was)}.`));
  li.appendChild(text);
  if (P.cfg.mode === 'panel') {
    const btn = el('button', 'btn btn-secondary pnl-btn-small pnl-zoom', 'Zoom to');
    btn.type = 'button';
    btn.setAttribute('aria-label', `Zoom to ${named.name} (${dropped ? 'no longer a hot spot' : what})`);
    btn.addEventListener('click', () => {
      if (state.layer === 'areas') {
        P.setLayer('trends');
      }
      P.select('cell', row.cell, true);
    });
    li.appendChild(btn);
  }
  return li;
}

export function renderChanges(P) {
  const box = $('pnl-watch');
  if (!box) {
    return;
  }
  const { state } = P;
  clear(box);
  const complete = P.complete();
  const scope = $('pnl-changes-scope');
  if (scope) {
    scope.textContent = `Complete months only: hot spots to the end of ${monthName(complete)} against `
      + `the end of ${monthName(state.meeting)}.`;
  }
  const groups = groupByArea(watchList(state.trends, state.trendsMeeting), P.cellNames, P.outside());
  $('pnl-watch-empty').hidden = groups.length > 0;
  groups.forEach((g) => {
    const section = el('section', 'pnl-watch__group');
    const heading = el('h4', 'pnl-watch__area', g.area);
    heading.appendChild(el('span', 'pnl-watch__count', ` (${plural(g.rows.length, 'cell')})`));
    section.appendChild(heading);
    const list = el('ul', 'pnl-watch__list');
    g.rows.forEach((row) => list.appendChild(item(P, row, complete)));
    section.appendChild(list);
    box.appendChild(section);
  });
  P.view.markCells(groups.flatMap((g) => g.rows));
  renderContexts(P);
}

export function renderContexts(P) {
  const body = $('pnl-contexts');
  const data = P.state.contexts;
  if (!body || !data) {
    return;
  }
  clear(body);
  $('pnl-contexts-period').textContent = `Now: ${periodName(data.from, data.to)}. Before: ${
    periodName(data.prevFrom, data.prevTo)}.`;
  $('pnl-contexts-empty').hidden = data.contexts.length > 0;
  $('pnl-contexts-note').hidden = !P.state.category;
  data.contexts.forEach((c) => {
    const tr = el('tr');
    const th = el('th', 'pnl-contexts__name');
    th.setAttribute('scope', 'row');
    th.appendChild(el('span', null, c.name));
    th.appendChild(el('span', 'pnl-contexts__kind', String(c.kind || '').replace(/_/g, ' ')));
    tr.appendChild(th);
    tr.appendChild(el('td', 'num', String(c.current)));
    tr.appendChild(el('td', 'num', String(c.previous)));
    const words = percentWords(c.percent_change, c.current);
    const td = el('td', 'pnl-contexts__change', words);
    let trend = 'is-same';
    if (/^up|^new/.test(words)) {
      trend = 'is-up';
    } else if (/^down/.test(words)) {
      trend = 'is-down';
    }
    td.classList.add(trend);
    tr.appendChild(td);
    body.appendChild(tr);
  });
}
