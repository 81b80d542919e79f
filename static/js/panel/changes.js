/*
 * csmap – what changed since the last meeting: the cells to watch (new, growing, on a recent
 * run, fading, or no longer a hot spot) and the top contexts, now against before.
 */
import { $, clear, el, swatch } from '../lib/dom.js';
import { percentWords, plural } from '../lib/format.js';
import { monthShort, periodName } from '../lib/months.js';
import { STRONG, TREND, WATCH, trendKey } from './config.js';

/** The watch list: cells flagged now, then clear hot spots at the meeting no longer hot. */
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

function thenText(row, was) {
  if (row.key === 'dropped') {
    return `was ${TREND[row.was].label}`;
  }
  if (!was) {
    return 'not flagged at the last meeting';
  }
  return was === row.key ? 'the same at the last meeting' : `was ${TREND[was].label} at the last meeting`;
}

export function renderChanges(P) {
  const list = $('pnl-watch');
  if (!list) {
    return;
  }
  const { state, view } = P;
  const L = window.L;
  clear(list);
  view.markLayer.clearLayers();
  const rows = watchList(state.trends, state.trendsMeeting);
  $('pnl-watch-empty').hidden = rows.length > 0;
  const latest = state.months.length - 1;
  rows.forEach((row, n) => {
    const li = el('li', 'pnl-watch__item');
    const dropped = row.key === 'dropped';
    li.appendChild(swatch(`pnl-sw ${dropped ? 'pnl-sw-none' : `pnl-sw-trend-${row.key}`}`));
    const text = el('div', 'pnl-watch__text');
    text.appendChild(el('strong', null, dropped ? 'No longer a hot spot' : TREND[row.key].label));
    text.appendChild(el('span', 'pnl-watch__place', ` · ${P.placeOf(row.cell)}`));
    const nowCount = state.series[row.cell] ? state.series[row.cell][latest] : 0;
    const was = state.trendsMeeting[row.cell] ? trendKey(state.trendsMeeting[row.cell].pattern) : null;
    text.appendChild(el('span', 'pnl-watch__then',
      `${plural(nowCount, 'record')} in ${monthShort(state.months[latest])}; ${thenText(row, was)}.`));
    li.appendChild(text);
    if (P.cfg.mode === 'panel') {
      const btn = el('button', 'btn btn-secondary pnl-btn-small pnl-zoom', 'Zoom to');
      btn.type = 'button';
      btn.setAttribute('aria-label', `Zoom to cell ${P.placeOf(row.cell)} (${
        dropped ? 'no longer a hot spot' : TREND[row.key].label})`);
      btn.addEventListener('click', () => {
        if (state.layer === 'areas') {
          P.setLayer('trends');
        }
        P.select('cell', row.cell, true);
      });
      li.appendChild(btn);
    } else if (view.centreOf(row.cell)) {
      // The meeting pack: the list's numbers on the map.
      const c = view.centreOf(row.cell);
      L.marker([c[1], c[0]], {
        pane: 'pnl-marks', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'pnl-mark', html: el('span', 'pnl-mark__text', String(n + 1)), iconSize: null }),
      }).addTo(view.markLayer);
    }
    list.appendChild(li);
  });
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
    td.classList.add(/^up|^new/.test(words) ? 'is-up' : (/^down/.test(words) ? 'is-down' : 'is-same'));
    tr.appendChild(td);
    body.appendChild(tr);
  });
}
