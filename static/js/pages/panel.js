/*
 * csmap – the MACE panel page (/panel) and its meeting pack (/panel/print).
 *
 * The components: panel/mapview.js (the map), slider.js, layers.js, legend.js, changes.js,
 * sparkline.js, data.js (what is read) and shared.js (partners' layers by boundary set).
 * This module holds the page's state and draws the chosen layer for the chosen month.
 *
 * Signals for browser tests, on <body>:
 *   data-panel-ready="1"   once the first layer is drawn
 *   data-panel-error="…"   an error code if a request failed
 */
import { liveRegion } from '../lib/announce.js';
import { ApiError, getJSON } from '../lib/api.js';
import { loadBasemap } from '../lib/basemap.js';
import { $, fillSelect, withQuery } from '../lib/dom.js';
import { plural } from '../lib/format.js';
import { precisionCaption } from '../lib/legend.js';
import { addMonths, isInProgress, monthLabel, monthName } from '../lib/months.js';
import { StatusLine } from '../lib/status.js';
import { renderChanges } from '../panel/changes.js';
import { TREND, colours, readConfig, trendKey } from '../panel/config.js';
import { createData } from '../panel/data.js';
import { chooseLayer, wireLayers } from '../panel/layers.js';
import { renderLegend } from '../panel/legend.js';
import { createMapView } from '../panel/mapview.js';
import { markCells } from '../panel/marks.js';
import { nameCells } from '../panel/places.js';
import { startShared } from '../panel/shared.js';
import { createSlider } from '../panel/slider.js';
import { createTable } from '../panel/table.js';
import { renderSelected } from '../panel/sparkline.js';
import { percentWords } from '../lib/format.js';

const root = $('pnl');
const mapEl = $('pnl-map');

function createPanel(L) {
  const cfg = readConfig(root);
  const status = new StatusLine($('pnl-status'), 'panel');
  const P = {
    cfg, mapEl, status, colours: colours(),
    state: {
      months: [], idx: 0, layer: 'counts', category: '', period: 'month', set: '', sets: [],
      meeting: '', categories: [], series: {}, breaks: [], precision: '', trends: {},
      trendsMeeting: {}, trendsRange: null, change: null, areas: null, selected: null,
      contexts: null, range: null,
    },
    cellNames: {}, // cell -> its name (panel/places.js), by the first boundary set's areas
    base: null,
  };
  const { state } = P;
  let token = 0; // guards against a slow answer overwriting a newer one

  P.month = () => state.months[state.idx];
  P.latest = () => state.months[state.months.length - 1];
  /** The last month shown that has ended: what trends and "What changed" are about. */
  P.complete = () => {
    const done = state.months.filter((m) => !isInProgress(m, cfg.current));
    return done.length ? done[done.length - 1] : state.months[0];
  };
  /** The month shown, marked "in progress — incomplete" while it has not ended. */
  P.monthText = () => monthLabel(P.month(), cfg.current);
  P.countAt = (cell) => (state.series[cell] ? state.series[cell][state.idx] : 0);
  /** Meetings fall in the complete months before the last one. */
  P.meetingMonths = () => state.months.filter((m) => m < P.complete()).reverse();
  P.categoryLabel = () => {
    const c = state.categories.find((x) => x.code === state.category);
    return state.category ? (c ? c.label : state.category) : 'All categories';
  };
  P.fail = (err) => {
    status.report('panel', err && err.message ? err.message : 'Something went wrong. Try reloading the page.',
      (err && err.code) || 'error');
    if (!(err instanceof ApiError)) {
      window.console.warn(err); // a bug, not a server answer: keep it visible to developers
    }
  };

  // -- names and descriptions of shapes

  /** What the cells no area holds are called. */
  P.outside = () => {
    const set = state.sets.find((s) => s.slug === state.set);
    return set ? `Outside the ${set.name}` : 'Elsewhere';
  };
  /** A cell's name ({name, short, area}); by its position until the areas are known. */
  P.cellName = (cell) => {
    if (P.cellNames[cell]) {
      return P.cellNames[cell];
    }
    const c = P.view.centreOf(cell);
    const where = c ? `at ${c[1].toFixed(3)}° N, ${Math.abs(c[0]).toFixed(3)}${c[0] >= 0 ? '° E' : '° W'}`
      : `${cell}`;
    return { name: `Cell ${where}`, short: `Cell ${where}`, area: P.outside(), areaKey: '' };
  };
  P.shapeName = (kind, key) => (kind === 'area'
    ? (state.areas && state.areas.names[key]) || key : P.cellName(key).name);
  P.describe = (kind, key) => {
    const name = P.shapeName(kind, key);
    if (kind === 'area') {
      const a = state.areas;
      const n = a && a.series[key] ? a.series[key][state.idx] : 0;
      return `${name}: ${plural(n, 'record')} in ${P.monthText()}`;
    }
    if (state.layer === 'trends') {
      const tk = state.trends[key] ? trendKey(state.trends[key].pattern) : null;
      return `${name}: ${tk ? TREND[tk].label + (tk === 'cold' ? '' : ' hot spot') : 'no trend pattern'}`;
    }
    if (state.layer === 'change' && state.change) {
      const c = state.change.cells[key];
      const cur = c ? c.current : 0;
      return `${name}: ${cur} against ${c ? c.previous : 0} (${percentWords(c ? c.percent_change : null, cur)})`;
    }
    return `${name}: ${plural(P.countAt(key), 'record')} in ${P.monthText()}`;
  };
  P.tileTipText = (props) => {
    const cell = String(props.cell);
    const where = state.series[cell] ? P.cellName(cell).name : 'This cell';
    return `${where}: ${plural(Number(props.n) || 0, 'record')} in ${P.monthText()}`;
  };

  // -- components

  P.view = createMapView(P);
  P.caption = precisionCaption(mapEl, 'pnl-map-precision');
  P.data = createData(P);
  P.slider = cfg.mode === 'panel' ? createSlider(P) : null;
  P.renderLegend = () => renderLegend(P);
  P.renderChanges = () => renderChanges(P);
  P.refreshTable = createTable(P);
  // The meeting pack numbers the cells of "What changed" on its map; the panel does not.
  P.view.markCells = cfg.mode === 'print' ? (rows) => markCells(P, rows) : () => {};
  P.view.map.on('zoomend', () => {
    if (state.layer === 'tiles') {
      P.renderLegend();
    }
  });

  // Polite, and at most once a second with the last value winning (lib/announce.js).
  P.announce = liveRegion($('pnl-announce'));

  /** Select a shape; moveFocus (chosen on the map): focus goes to its details. */
  P.select = (kind, key, zoom, moveFocus) => {
    state.selected = { kind, id: key };
    if (zoom) {
      P.view.zoomTo(kind, key);
    }
    P.view.restyle();
    renderSelected(P);
    P.announce(`Selected ${P.describe(kind, key)}.`);
    const details = $('pnl-selected-title');
    if (moveFocus && details) {
      details.focus();
    }
  };
  P.clearSelection = () => {
    state.selected = null;
    P.view.restyle();
    renderSelected(P);
  };

  /** Draw the chosen layer for the chosen month (loading what it needs first). */
  P.draw = () => {
    const mine = ++token;
    let ready = Promise.resolve();
    if (state.layer === 'change') {
      ready = P.data.loadChange();
    } else if (state.layer === 'areas') {
      ready = P.data.loadAreas().then((a) => {
        if (mine !== token || state.areas === a) {
          return;
        }
        state.areas = a;
        if (state.selected && state.selected.kind === 'area' && !a.series[state.selected.id]) {
          state.selected = null;
        }
        P.view.buildAreas(a.fc);
      });
    }
    return ready.then(() => {
      if (mine !== token) {
        return;
      }
      if (state.layer === 'change') {
        state.change = P.data.cachedChange();
      }
      status.clear('panel');
      P.view.showShapes();
      P.view.showTiles();
      P.view.restyle();
      P.renderLegend();
      P.refreshTable();
      renderSelected(P);
    }).catch(P.fail);
  };

  P.syncPrintLink = () => {
    const link = $('pnl-print-link');
    if (link && state.months.length) {
      link.href = withQuery(cfg.urls.print, { month: P.month(), meeting: state.meeting, category: state.category });
    }
  };

  P.syncMonth = () => {
    const label = $('pnl-month-label');
    if (label) {
      label.textContent = P.monthText();
    }
    if (P.slider) {
      P.slider.sync(P.monthText());
    }
    const printMonth = $('pnl-print-month');
    if (printMonth) {
      printMonth.textContent = P.monthText();
    }
    P.syncPrintLink();
  };

  P.setMonth = (i) => {
    state.idx = Math.max(0, Math.min(state.months.length - 1, i));
    P.syncMonth();
    return P.draw().then(() => {
      const total = state.layer === 'counts'
        ? `: ${$('pnl-total').textContent.replace(/^Total this month: /, '')}` : '';
      P.announce(P.monthText() + total);
    });
  };

  P.setLayer = (name) => {
    chooseLayer(P, name);
    return P.draw();
  };
  return P;
}

/** Names for cells, by the areas of the first boundary set (panel/places.js). */
function nameAllCells(P, fc) {
  const centres = {};
  Object.keys(P.view.cellsByKey).forEach((cell) => { centres[cell] = P.view.centreOf(cell); });
  P.cellNames = nameCells(centres, fc.features || [], P.outside());
}

/**
 * The months to show. The panel: the twelve complete months and the month in progress (the
 * server's calendar says which). The meeting pack: twelve months to the month asked for, or
 * to the last complete month.
 */
function seriesRange(cfg) {
  if (!cfg.current) {
    return { from: '', to: cfg.mode === 'print' ? cfg.asked.month : '' };
  }
  const lastComplete = addMonths(cfg.current, -1);
  if (cfg.mode === 'print') {
    const to = cfg.asked.month && cfg.asked.month <= cfg.current ? cfg.asked.month : lastComplete;
    return { from: addMonths(to, -11), to };
  }
  return { from: addMonths(cfg.current, -12), to: cfg.current };
}

function start(P) {
  const { state, cfg } = P;
  state.category = cfg.asked.category;
  state.range = seriesRange(cfg);
  const basemap = loadBasemap(P.view.map, cfg.urls.basemap).then((base) => {
    P.base = base;
    return base;
  }).catch((err) => {
    P.fail(new ApiError((err && err.message) || 'The base map could not be loaded.', 'basemap'));
    return null;
  });
  const reference = Promise.all([
    getJSON(cfg.urls.categories).catch(() => ({ categories: [] })),
    getJSON(cfg.urls.sets).catch(() => ({ boundary_sets: [] })),
  ]).then(([cats, sets]) => {
    state.categories = cats.categories || [];
    state.sets = sets.boundary_sets || [];
    if (state.category && !state.categories.some((c) => c.code === state.category)) {
      state.category = '';
    }
    state.set = state.sets.length ? state.sets[0].slug : '';
    const catSel = $('pnl-category');
    if (catSel) {
      fillSelect(catSel, state.categories.map((c) => ({ value: c.code, label: c.label })), state.category);
    }
    const setSel = $('pnl-set');
    if (setSel) {
      fillSelect(setSel, state.sets.map((s) => ({ value: s.slug, label: s.name })), state.set);
    }
    const catText = $('pnl-print-category');
    if (catText) {
      catText.textContent = P.categoryLabel();
    }
  });

  return reference.then(() => P.data.loadSeries())
    .then(() => {
      if (!state.months.length) {
        throw new ApiError('There are no months to show yet.', 'no_months');
      }
      const latest = P.latest();
      const complete = P.complete();
      // The panel opens on the last complete month, not on the month in progress.
      const askedIdx = cfg.mode === 'panel' && cfg.asked.month ? state.months.indexOf(cfg.asked.month) : -1;
      state.idx = askedIdx >= 0 ? askedIdx : state.months.indexOf(complete);
      const m = cfg.asked.meeting;
      state.meeting = m && m < complete && m >= state.months[0] ? m : addMonths(complete, -1);
      const meetingText = $('pnl-meeting-text');
      if (meetingText) {
        meetingText.textContent = `Last meeting: ${monthName(state.meeting)}. Trends now are compared `
          + 'with trends at the end of that month.';
      }
      P.syncMonth();
      // Outlines of every cell with a record in the window (and the quarter before it, for
      // the Change layer), whatever the category: the layers only recolour them.
      const outlines = P.status.during(getJSON(withQuery(cfg.urls.counts, {
        res: cfg.res, from: addMonths(state.months[0], -3), to: latest })), 'Loading the cells…');
      return Promise.all([outlines, P.data.loadTrends(), P.data.loadContexts(), basemap]);
    })
    .then(([outlines, , , base]) => {
      P.view.buildCells(outlines);
      const bounds = P.view.cellLayer.getBounds();
      if (bounds.isValid()) {
        P.view.map.fitBounds(bounds, { padding: cfg.mode === 'print' ? [8, 8] : [16, 16], animate: false });
      } else if (base && base.bounds) {
        P.view.map.fitBounds(base.bounds, { animate: false });
      }
      if (cfg.mode === 'panel') {
        P.slider.wire();
        wireLayers(P);
        $('pnl-clear').addEventListener('click', () => {
          P.clearSelection();
          $('pnl-selected-title').focus();
        });
        $('pnl-selected-title').setAttribute('tabindex', '-1');
      }
      return state.set ? P.data.loadSetAreas(state.set).then((fc) => nameAllCells(P, fc))
        .catch(() => { /* names are a nicety: cells fall back to their position */ }) : null;
    })
    .then(() => {
      P.renderChanges();
      return P.draw();
    })
    .catch(P.fail)
    .finally(() => { document.body.dataset.panelReady = '1'; });
}

function printControls(cfg) {
  const printBtn = $('pnl-print-button');
  if (printBtn) {
    printBtn.addEventListener('click', () => window.print());
  }
  const back = $('pnl-back-link');
  if (back && cfg.asked.month) {
    back.href = withQuery(cfg.urls.panel, { month: cfg.asked.month, meeting: cfg.asked.meeting,
      category: cfg.asked.category });
  }
}

if (root && mapEl) {
  if (window.L) {
    const P = createPanel(window.L);
    if (P.cfg.mode === 'print') {
      printControls(P.cfg);
    }
    start(P);
  } else {
    new StatusLine($('pnl-status'), 'panel').report('init',
      'The map cannot be shown: the map library did not load. Try reloading the page.', 'leaflet_missing');
  }
}
const sharedRoot = $('pnl-shared');
if (sharedRoot) {
  startShared(sharedRoot);
}
