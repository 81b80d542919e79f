/*
 * csmap – the panel's configuration (data-* attributes on #pnl, see
 * templates/panel/_data.html) and its classes: counts, trends and change, with their colours
 * read from the design tokens (--pnl-*), so the map and the legend swatches always agree.
 */
import { cssVar } from '../lib/dom.js';
import { isMonth } from '../lib/months.js';

export function readConfig(root) {
  const ds = root.dataset;
  return {
    mode: ds.mode === 'print' ? 'print' : 'panel',
    res: /^[789]$/.test(ds.res || '') ? ds.res : '8',
    urls: {
      basemap: ds.urlBasemap || '/api/v1/basemap',
      sets: ds.urlSets || '/api/v1/boundary-sets',
      setAreas: ds.urlSetAreas || '/api/v1/boundary-sets/__slug__/areas',
      categories: ds.urlCategories || '/api/v1/categories',
      series: ds.urlSeries || '/api/v1/layers/series',
      counts: ds.urlCounts || '/api/v1/layers/counts',
      change: ds.urlChange || '/api/v1/layers/change',
      emerging: ds.urlEmerging || '/api/v1/layers/emerging',
      areas: ds.urlAreas || '/api/v1/layers/areas/__slug__',
      topContexts: ds.urlTopContexts || '/api/v1/layers/top-contexts',
      tiles: ds.urlTiles || '/tiles/counts/{z}/{x}/{y}.mvt',
      panel: ds.urlPanel || '/panel',
      print: ds.urlPrint || '/panel/print',
    },
    asked: {
      month: isMonth(ds.month) ? ds.month : '',
      meeting: isMonth(ds.meeting) ? ds.meeting : '',
      category: ds.category || '',
    },
    // The month in progress on the server's calendar ('' if the page did not say).
    current: isMonth(ds.currentMonth) ? ds.currentMonth : '',
  };
}

/** Counts and areas: ColorBrewer RdPu, 5 classes (colour-blind safe, sequential). */
export function sequentialColours() {
  return ['#fcc5c0', '#fa9fb5', '#f768a1', '#c51b8a', '#7a0177']
    .map((fb, i) => cssVar(`--pnl-seq-${i}`, fb));
}

/** Trends: plain words first, the ArcGIS name in brackets; short explanations. */
export const TRENDS = [
  { key: 'new', label: 'New', help: 'A hot spot in the latest month, for the first time.', fb: '#d55e00' },
  { key: 'consecutive', label: 'Recent run (consecutive)',
    help: 'A hot spot for the last few months in a row, not before.', fb: '#e69f00' },
  { key: 'intensifying', label: 'Growing (intensifying)',
    help: 'A hot spot nearly every month, and getting stronger.', fb: '#a50f15' },
  { key: 'persistent', label: 'Persistent', help: 'A hot spot nearly every month, steady.', fb: '#7a0177' },
  { key: 'diminishing', label: 'Fading (diminishing)',
    help: 'A hot spot nearly every month, but getting weaker.', fb: '#f0e442' },
  { key: 'sporadic', label: 'Sporadic', help: 'A hot spot now; on and off before.', fb: '#cc79a7' },
  { key: 'oscillating', label: 'Flipping (oscillating)',
    help: 'A hot spot now, but a quiet spot in some earlier months.', fb: '#009e73' },
  { key: 'historical', label: 'Historical',
    help: 'A hot spot nearly every month, but not in the latest month.', fb: '#8c8c8c' },
  { key: 'cold', label: 'Quiet spot (cold)',
    help: 'With its neighbours, clearly fewer records than the town as a whole.', fb: '#0072b2' },
];
export const TREND = {};
TRENDS.forEach((t) => { TREND[t.key] = t; });

/** What the panel watches, in the order they are listed. */
export const WATCH = ['new', 'intensifying', 'consecutive', 'diminishing'];
/** Clear hot spots: their dropping out is news (sporadic and oscillating come and go). */
export const STRONG = ['new', 'consecutive', 'intensifying', 'persistent', 'diminishing'];

/** Change: ColorBrewer RdBu (diverging, colour-blind safe), and a darker red for "new". */
export const CHANGE = [
  { key: 'new', label: 'New (none in the period before)', fb: '#67001f' },
  { key: 'up2', label: 'Up by half or more', fb: '#ca0020' },
  { key: 'up1', label: 'Up 10% to 50%', fb: '#f4a582' },
  { key: 'same', label: 'About the same (within 10%)', fb: '#f7f7f7' },
  { key: 'down1', label: 'Down 10% to 50%', fb: '#92c5de' },
  { key: 'down2', label: 'Down by half or more (or to none)', fb: '#0571b0' },
];

/** The map's colours, read once the stylesheet is in. */
export function colours() {
  const trend = {};
  TRENDS.forEach((t) => { trend[t.key] = cssVar(`--pnl-trend-${t.key}`, t.fb); });
  const change = {};
  CHANGE.forEach((c) => { change[c.key] = cssVar(`--pnl-div-${c.key}`, c.fb); });
  return {
    seq: sequentialColours(),
    trend,
    change,
    outline: cssVar('--pnl-outline', '#4d4d4d'),
    selected: cssVar('--pnl-selected', '#000000'),
  };
}

/** A trend pattern's key in TRENDS ("cold …" patterns are all "cold"), or null. */
export function trendKey(pattern) {
  if (!pattern) {
    return null;
  }
  if (pattern.indexOf('cold') === 0) {
    return 'cold';
  }
  return TREND[pattern] ? pattern : null;
}
