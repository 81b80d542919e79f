/*
 * csmap – what the panel reads from the JSON API (the user's own agency, audited there):
 *   series    monthly counts per cell: the slider plays these, no refetch;
 *   emerging  emerging hot spot classes now, and at the end of the last meeting's month;
 *   change    this month (or quarter) against the one before, fetched per month, cached;
 *   areas     per area of one boundary set, every month at once (cached);
 *   top-contexts  since the last meeting against the same number of months before.
 */
import { getJSON } from '../lib/api.js';
import { breaksFor } from '../lib/classes.js';
import { withQuery } from '../lib/dom.js';
import { addMonths, monthsBetween } from '../lib/months.js';

export function createData(P) {
  const { state, cfg } = P;
  const { urls } = cfg;
  const res = cfg.res;
  let changeCache = {};
  const areaCache = {};
  const load = (url, message) => P.status.during(getJSON(url), message);

  const data = {
    forgetChange() {
      changeCache = {};
      state.change = null;
    },

    /** The months of state.range ({from, to}; the server's default window when empty). */
    loadSeries() {
      const range = state.range || {};
      return load(withQuery(urls.series, { res, from: range.from || '', to: range.to || '',
        category: state.category }),
        'Loading the months…').then((body) => {
        state.months = body.months || [];
        state.series = body.cells || {};
        state.breaks = breaksFor(body.max || 0);
        state.precision = body.precision || '';
        return body;
      });
    },

    /** Hot spots now (to the last complete month) and at the end of the last meeting's. */
    loadTrends() {
      const latest = P.complete();
      const now = load(withQuery(urls.emerging, { res, to: latest, category: state.category }),
        'Loading the trends…');
      const then = state.meeting
        ? load(withQuery(urls.emerging, { res, to: state.meeting, category: state.category }),
          'Loading the trends…')
        : Promise.resolve({ cells: [] });
      return Promise.all([now, then]).then(([a, b]) => {
        const toMap = (body) => {
          const out = {};
          (body.cells || []).forEach((c) => { out[String(c.cell)] = c; });
          return out;
        };
        state.trends = toMap(a);
        state.trendsRange = [a.from || state.months[0], a.to || latest];
        state.trendsMeeting = toMap(b);
      });
    },

    /** Contexts since the last meeting (complete months), against as many months before. */
    loadContexts() {
      const latest = P.complete();
      const from = addMonths(state.meeting || addMonths(latest, -1), 1);
      const n = monthsBetween(from, latest).length;
      return load(withQuery(urls.topContexts, { from, to: latest }), 'Loading the contexts…')
        .then((body) => {
          state.contexts = { contexts: body.contexts || [], from, to: latest,
            prevFrom: addMonths(from, -n), prevTo: addMonths(from, -1) };
        });
    },

    changeRange() {
      const to = P.month();
      return { from: state.period === 'quarter' ? addMonths(to, -2) : to, to };
    },

    changeKey() {
      const r = data.changeRange();
      return [r.from, r.to, state.category].join('|');
    },

    loadChange() {
      const r = data.changeRange();
      const key = data.changeKey();
      if (changeCache[key]) {
        state.change = changeCache[key];
        return Promise.resolve(state.change);
      }
      return load(withQuery(urls.change, { res, from: r.from, to: r.to, category: state.category }),
        'Loading the change…').then((body) => {
        const cells = {};
        (body.cells || []).forEach((c) => { cells[String(c.cell)] = c; });
        const cur = body.current || [r.from, r.to];
        const prev = body.previous || [r.from, r.to];
        changeCache[key] = { from: cur[0], to: cur[1], prevFrom: prev[0], prevTo: prev[1], cells,
          precision: body.precision };
        if (key === data.changeKey()) {
          state.change = changeCache[key];
        }
        return changeCache[key];
      });
    },

    cachedChange() {
      return changeCache[data.changeKey()] || state.change;
    },

    loadAreas() {
      const slug = state.set;
      const key = `${slug}|${state.category}`;
      if (areaCache[key]) {
        return Promise.resolve(areaCache[key]);
      }
      const url = urls.areas.replace('__slug__', encodeURIComponent(slug));
      const all = Promise.all(state.months.map(
        (m) => getJSON(withQuery(url, { res, month: m, category: state.category }))));
      return P.status.during(all, 'Loading the areas…').then((answers) => {
        const series = {};
        const names = {};
        let max = 0;
        answers.forEach((fc, i) => {
          (fc.features || []).forEach((f) => {
            const code = String(f.properties.code);
            if (!series[code]) {
              series[code] = state.months.map(() => 0);
            }
            series[code][i] = f.properties.n || 0;
            names[code] = f.properties.name || code;
            max = Math.max(max, series[code][i]);
          });
        });
        const set = state.sets.find((s) => s.slug === slug);
        areaCache[key] = { slug, name: set ? set.name : slug, fc: answers[answers.length - 1],
          series, names, breaks: breaksFor(max), precision: answers[0] ? answers[0].precision : '' };
        return areaCache[key];
      });
    },

    /** The areas of a boundary set (outlines and names), for naming cells. */
    loadSetAreas(slug) {
      return getJSON(urls.setAreas.replace('__slug__', encodeURIComponent(slug)));
    },
  };
  return data;
}
