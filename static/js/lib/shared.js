/*
 * csmap – shared (redacted) layers, drawn the same way on every map: the map page, a share's
 * page and its external link page, and the panel's side-by-side boundary totals.
 *
 * Everything drawn comes from a share's published GeoJSON: counts per published cell, never
 * points. Names (a partner's, a place's, an area's) come from users, so every label is text.
 */
import { getJSON } from './api.js';
import { sharedClasses, sharedClassOf, sharedClassWords } from './classes.js';
import { clear, cssVar, el, swatch } from './dom.js';
import { ringCentre } from './geo.js';
import { precisionCaption } from './legend.js';
import { monthName } from './months.js';

/** Fallbacks of the sources' ramps in tokens.css (--shared-N-*): YlOrRd, Blues, Greens,
 * Purples; each source also has its own outline dash. */
const FALLBACK = [
  [['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'], '#7a2e0e', 'none'],
  [['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'], '#08306b', '6 4'],
  [['#edf8e9', '#bae4b3', '#74c476', '#31a354', '#006d2c'], '#00441b', '2 4'],
  [['#f2f0f7', '#cbc9e2', '#9e9ac8', '#756bb1', '#54278f'], '#3f007d', '10 3 2 3'],
];
export const STYLES = FALLBACK.length;

/** The colours and outline of source number i: {index, ramp, edge, dash}. */
export function sourceStyle(i) {
  const n = ((i % STYLES) + STYLES) % STYLES;
  const [ramp, edge, dash] = FALLBACK[n];
  const d = cssVar(`--shared-${n}-dash`, dash);
  return {
    index: n,
    ramp: ramp.map((fb, k) => cssVar(`--shared-${n}-${k}`, fb)),
    edge: cssVar(`--shared-${n}-edge`, edge),
    dash: d === 'none' ? null : d,
  };
}

/** A number for each source, by name, so a source keeps its colours on every page. */
export function sourceNumbers(sources) {
  const out = {};
  Array.from(new Set(sources)).sort().forEach((name, i) => { out[name] = i; });
  return out;
}

/** A share layer's classes, for its counts and precision statement. */
export function classes(doc, ramp) {
  return sharedClasses(doc.features.map((f) => f.properties.count), doc.precision,
    ramp || sourceStyle(0).ramp);
}

/** "2026-10" -> "October 2026"; a quarter or other period is left as it is. */
export function periodText(period) {
  return /^\d{4}-\d{2}$/.test(period || '') ? monthName(period) : String(period || '');
}

/** A tooltip's content as a DOM node (Leaflet parses a string tooltip as HTML). */
export function tip(text) {
  return () => el('span', null, text);
}

/** The published cells of one period, coloured by class in the source's style. */
export function cellLayer(doc, period, label, style) {
  const L = window.L;
  const look = style || sourceStyle(0);
  const cls = classes(doc, look.ramp);
  const features = doc.features.filter((f) => f.properties.period === period);
  return L.geoJSON({ type: 'FeatureCollection', features }, {
    style: (f) => ({ color: look.edge, weight: look.dash ? 2 : 1, opacity: 0.85, dashArray: look.dash,
      fillColor: sharedClassOf(f.properties.count, cls).colour, fillOpacity: 0.65 }),
    onEachFeature: (f, layer) => {
      const text = `${label ? `${label}: ` : ''}${f.properties.count} in ${periodText(f.properties.period)}`;
      layer.bindTooltip(tip(text), { sticky: true });
    },
  });
}

/** The shared places: public ones at their true position, others at their cell's centre. */
export function contextLayer(doc) {
  const L = window.L;
  return L.geoJSON(doc.contexts || { type: 'FeatureCollection', features: [] }, {
    pointToLayer: (f, latlng) => {
      const precise = f.properties.precise;
      const colour = cssVar('--shared-place', '#1d3557');
      return L.circleMarker(latlng, { radius: precise ? 6 : 7, color: colour, weight: 2,
        fillColor: precise ? colour : '#ffffff', fillOpacity: precise ? 0.9 : 0.6 });
    },
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.bindTooltip(tip(p.name + (p.precise ? '' : ' (shown at its cell’s centre)')));
    },
  });
}

/** Fill list with one item per class: a swatch in the class's colour (and the source's
 * outline) and its label. */
export function legendItems(list, cls, style) {
  clear(list);
  cls.forEach((c) => {
    const li = el('li', 'cs-legend__item');
    const sw = swatch(`swatch swatch-fill swatch-shared-${style ? style.index : 0}`);
    sw.style.backgroundColor = c.colour; // CSSOM, allowed under style-src 'self'
    li.appendChild(sw);
    li.appendChild(el('span', 'cs-legend__label', `${c.label} observations`));
    list.appendChild(li);
  });
}

/** What the places of a shared layer look like, and where they stand. */
export const PLACE_SYMBOLS = [
  { swatch: 'swatch-shared-place', label: 'Shared place at its true position (a public place)' },
  { swatch: 'swatch-shared-place swatch-shared-place--cell',
    label: 'Shared place shown at its cell’s centre, not where it is' },
];

/** A shared layer's table (lib/maptable.js): where, what, source, tier, period, count, class. */
export const TABLE_COLUMNS = [{ label: 'Where' }, { label: 'What' }, { label: 'Source' },
  { label: 'Tier' }, { label: 'Period' }, { label: 'Observations', num: true }, { label: 'Class' }];

const TIERS = { B: 'B (partner)', C: 'C (briefing)' };

/** "54.612° N, 1.203° E": where a published cell's centre is. */
function centreText(geometry) {
  const ring = geometry.type === 'Polygon' ? geometry.coordinates[0] : geometry.coordinates[0][0];
  const [lon, lat] = ringCentre(ring);
  return `${Math.abs(lat).toFixed(3)}° ${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lon).toFixed(3)}° ${lon >= 0 ? 'E' : 'W'}`;
}

/**
 * The rows of a shared layer's table: the published cells of `period` (as cellLayer draws
 * them, with their class in words) and the shared places (as contextLayer draws them), each
 * with its source, tier and period. From the same document the map draws, nothing finer.
 */
export function tableRows(doc, period, ramp) {
  const meta = doc.share || {};
  const source = String(meta.source || '');
  const tier = TIERS[meta.tier] || String(meta.tier || '');
  const cls = classes(doc, ramp);
  const cells = doc.features.filter((f) => f.properties.period === period).map((f) => ({
    key: `${source}|${f.properties.cell}|${period}`,
    n: typeof f.properties.count === 'number' ? f.properties.count : parseInt(f.properties.count, 10) || 0,
    cells: [centreText(f.geometry), 'Published cell', source, tier, periodText(period),
      String(f.properties.count), sharedClassWords(sharedClassOf(f.properties.count, cls))],
  }));
  cells.sort((a, b) => b.n - a.n || a.key.localeCompare(b.key));
  const places = ((doc.contexts && doc.contexts.features) || []).map((f, i) => ({
    key: `${source}|place|${i}`,
    cells: [f.properties.name + (f.properties.precise ? '' : ' (shown at its cell’s centre)'),
      'Shared place', source, tier, String(meta.periods || ''), '—', '—'],
  }));
  return cells.concat(places);
}

/** "Wrenmouth Police · tier B (partner) · October 2026 · ISA-WRN-2026-04". */
export function layerLabel(label, period, agreement) {
  return [label, period ? periodText(period) : 'nothing published yet', agreement]
    .filter(Boolean).join(' · ');
}

/** Fill a period select, newest first. */
export function fillPeriods(select, periods) {
  clear(select);
  periods.slice().reverse().forEach((p) => {
    const option = el('option', null, periodText(p));
    option.value = p;
    select.appendChild(option);
  });
  if (!periods.length) {
    select.appendChild(el('option', null, 'Nothing published yet')).value = '';
  }
  select.disabled = !periods.length;
}

function totalsRow(body, name, n) {
  const tr = el('tr');
  const th = el('th', null, name);
  th.scope = 'row';
  tr.appendChild(th);
  tr.appendChild(el('td', 'num', String(n)));
  body.appendChild(tr);
}

/**
 * The same layer by two boundary sets, side by side. compareEl: a .share-compare section (see
 * shares/_compare.html). source.doc() and source.period() give the share's layer and the
 * period shown; source.areasUrl(slug) the address of its totals. Returns {reload, draw}.
 */
export function compare(compareEl, source) {
  const L = window.L;
  const sides = Array.from(compareEl.querySelectorAll('.compare-side')).map((sideEl) => {
    const sel = sideEl.querySelector('select');
    const table = sideEl.querySelector('table');
    const mapEl = sideEl.querySelector('.compare-map');
    const smallMap = L.map(mapEl, { zoomControl: false,
      attributionControl: false, zoomSnap: 0.5 }).setView([54.6, 1.2], 11);
    const caption = precisionCaption(mapEl);
    let areaLayer = null;
    let totals = null;
    const side = {
      load() {
        totals = null;
        delete sideEl.dataset.total;
        const url = source.areasUrl(sel.value);
        if (!url) {
          return Promise.resolve();
        }
        return getJSON(url)
          .then((fc) => { totals = fc; side.draw(); })
          .catch((err) => { table.tBodies[0].textContent = err.message; });
      },
      draw() {
        const doc = source.doc();
        const period = source.period();
        if (!totals || !doc || !period) {
          return;
        }
        const cls = classes(doc);
        caption.set(doc.precision);
        if (areaLayer) {
          smallMap.removeLayer(areaLayer);
        }
        const body = table.tBodies[0];
        body.textContent = '';
        let sum = 0;
        areaLayer = L.geoJSON(totals, {
          style: (f) => {
            const n = f.properties.totals[period];
            return { color: '#333333', weight: 1.5, fillOpacity: n ? 0.75 : 0.9,
              fillColor: n ? sharedClassOf(n, cls).colour : '#ffffff' };
          },
          onEachFeature: (f, layer) => {
            const p = f.properties;
            const n = p.totals[period] || 0;
            sum += n;
            layer.bindTooltip(tip(`${p.name}: ${n}${p.partial ? ' (part of the area is outside the share)' : ''}`));
            totalsRow(body, p.name + (p.partial ? ' *' : ''), n);
          },
        }).addTo(smallMap);
        table.tFoot.rows[0].cells[1].textContent = String(sum);
        sideEl.dataset.partial = String(totals.features.some((f) => f.properties.partial));
        sideEl.dataset.total = String(sum);
        sideEl.dataset.period = period;
        if (areaLayer.getLayers().length) {
          smallMap.fitBounds(areaLayer.getBounds(), { padding: [4, 4] });
        }
      },
    };
    sel.addEventListener('change', side.load);
    return side;
  });
  // One legend for both maps, and "*" said in words wherever an area is only partly shared.
  const legendList = compareEl.querySelector('.compare-classes');
  const partial = compareEl.querySelector('#compare-partial');
  const explain = () => {
    const doc = source.doc();
    if (legendList && doc) {
      legendItems(legendList, classes(doc));
    }
    if (partial) {
      partial.hidden = !compareEl.querySelector('.compare-side[data-partial="true"]');
    }
  };
  return {
    reload: () => Promise.all(sides.map((x) => x.load())).then(explain),
    draw: () => {
      sides.forEach((x) => x.draw());
      explain();
    },
  };
}
