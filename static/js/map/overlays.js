/*
 * csmap – the map page's overlays: boundary sets (loaded the first time they are shown), the
 * agency's own contexts (tier A: exact positions, its own users only), police.uk street-level
 * crimes (reference), and the layers other agencies share with the agency (published cells
 * only, never points).
 */
import { ApiError, getAllFeatures, getFeatures, getJSON } from '../lib/api.js';
import { cssVar, el } from '../lib/dom.js';
import { sentence } from '../lib/format.js';
import * as shared from '../lib/shared.js';
import { CONTEXT_LABELS } from './legend.js';

const FALLBACK_SETS = [
  ['#D55E00', 'none'], ['#0072B2', '10 6'], ['#CC79A7', '2 6'], ['#009E73', '12 4 2 4'],
  ['#000000', '5 5'], ['#E69F00', '14 4 2 4 2 4'], ['#56B4E9', '1 5'], ['#F0E442', '16 6'],
];

function palette(index) {
  const i = index % FALLBACK_SETS.length;
  const dash = cssVar(`--cs-set-${i}-dash`, FALLBACK_SETS[i][1]);
  return {
    color: cssVar(`--cs-set-${i}`, FALLBACK_SETS[i][0]),
    dash: dash === 'none' || dash === '' ? null : dash,
    swatchClass: `swatch-set-${i}`,
  };
}

function why(err, fallback) {
  return {
    message: sentence(err instanceof ApiError ? err.message : fallback),
    code: err instanceof ApiError ? err.code : 'draw_failed',
  };
}

function areaTooltip(setName, props) {
  const box = el('span', 'cs-area-tooltip__body');
  box.appendChild(el('strong', 'cs-area-tooltip__name', props.name || 'Unnamed area'));
  if (props.code) {
    box.appendChild(document.createTextNode(' '));
    box.appendChild(el('span', 'cs-area-tooltip__code', `(${props.code})`));
  }
  box.appendChild(el('span', 'cs-area-tooltip__set', setName));
  return box;
}

/** A boundary set's overlay; its areas are fetched the first time it is switched on. */
export function boundarySet(set, index, page) {
  const L = window.L;
  const colours = palette(index);
  const name = typeof set.name === 'string' && set.name ? set.name : (set.slug || 'Boundaries');
  const style = { color: colours.color, weight: 2.5, opacity: 1, dashArray: colours.dash,
    lineCap: 'round', lineJoin: 'round', fill: true, fillColor: colours.color, fillOpacity: 0.03 };
  const state = { set, name, palette: colours, loaded: false, loading: null, errorKey: `set:${index}` };
  state.layer = L.geoJSON(null, {
    pane: 'overlayPane',
    style: () => style,
    onEachFeature: (feature, layer) => {
      const props = feature.properties || {};
      layer.bindTooltip(() => areaTooltip(name, props),
        { sticky: true, direction: 'top', offset: [0, -6], className: 'cs-tooltip cs-area-tooltip' });
      layer.on('mouseover', () => layer.setStyle({ weight: 4, fillOpacity: 0.12 }));
      layer.on('mouseout', () => layer.setStyle({ weight: 2.5, fillOpacity: 0.03 }));
    },
  });
  state.ensureLoaded = () => {
    if (state.loaded) {
      return Promise.resolve();
    }
    if (state.loading) {
      return state.loading;
    }
    if (typeof set.areas_url !== 'string' || !set.areas_url) {
      page.status.report(state.errorKey, `Could not load ${name}: no address for its areas.`, 'bad_response');
      const missing = new ApiError('missing areas_url', 'bad_response');
      missing.csReported = true;
      return Promise.reject(missing);
    }
    state.loading = page.status.during(getFeatures(set.areas_url), `Loading ${name}…`)
      .then((fc) => {
        state.layer.addData(fc);
        state.loaded = true;
        page.status.clear(state.errorKey);
      })
      .catch((err) => {
        const w = why(err, 'The boundaries could not be drawn.');
        page.status.report(state.errorKey, `Could not load ${name}: ${w.message} Switch it off and on again to retry.`, w.code);
        if (err && typeof err === 'object') {
          err.csReported = true;
        }
        throw err;
      })
      .finally(() => { state.loading = null; });
    return state.loading;
  };
  state.layer.on('add', () => {
    state.ensureLoaded().catch(() => { /* reported above */ });
    page.legendChanged();
  });
  state.layer.on('remove', () => {
    if (!state.loaded && !state.loading) {
      page.status.clear(state.errorKey); // switched off after a failure: stop nagging
    }
    page.legendChanged();
  });
  return state;
}

/** The agency's own contexts, coloured by kind. */
export function drawContexts(fc, page) {
  const L = window.L;
  const kinds = {};
  const colour = (kind) => cssVar(`--cs-ctx-${kind.replace(/_/g, '-')}`, '#444444');
  const layer = L.geoJSON(fc, {
    style: (feature) => {
      const line = feature.geometry && /LineString/.test(feature.geometry.type);
      return { color: colour(feature.properties.kind), weight: line ? 4 : 2, opacity: 0.9,
        fillOpacity: 0.25, dashArray: line ? '8 4' : null };
    },
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, color: '#ffffff',
      weight: 2, fillColor: colour(feature.properties.kind), fillOpacity: 1 }),
    onEachFeature: (feature, l) => {
      const p = feature.properties;
      kinds[p.kind] = true;
      const label = `${p.name || 'Unnamed'} — ${CONTEXT_LABELS[p.kind] || p.kind}`;
      l.bindTooltip(() => el('span', null, label), { sticky: true });
    },
  }).addTo(page.map);
  page.contexts.layer = layer;
  page.contexts.kinds = Object.keys(CONTEXT_LABELS).filter((k) => kinds[k]);
  page.switcher.add('Our records', 'swatch-ctx swatch-ctx-hotspot', 'Contexts', layer);
  layer.on('add remove', page.legendChanged);
  page.legendChanged();
}

/** police.uk street-level crimes: reference, off by default, loaded when first shown. */
export function referenceLayer(url, page) {
  const L = window.L;
  const group = L.layerGroup();
  let loaded = false;
  group.on('add', () => {
    if (loaded) {
      return;
    }
    loaded = true;
    getAllFeatures(url)
      .then((fc) => {
        if (!fc.complete) {
          page.status.report('reference', `Showing the first ${fc.features.length.toLocaleString('en-GB')} `
            + 'police.uk crimes only; the API has them all.', 'partial');
        }
        L.geoJSON(fc, {
          pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 3, color: '#555555',
            weight: 1, fillColor: '#999999', fillOpacity: 0.8 }),
          onEachFeature: (feature, l) => {
            const p = feature.properties || {};
            const label = `${p.crime_type || 'Crime'}, ${p.month || ''}`;
            l.bindTooltip(() => el('span', null, label));
          },
        }).addTo(group);
      })
      .catch((err) => {
        loaded = false;
        const w = why(err, 'The reference layer could not be drawn.');
        page.status.report('reference', `Could not load police.uk crimes: ${w.message}`, w.code);
      });
  });
  page.switcher.add('Reference', 'swatch-reference', 'police.uk crimes', group);
  group.on('add remove', page.legendChanged);
  page.reference = group;
}

/** One layer shared with the agency: its latest published period's cells, in its source's
 * colours and outline, and its places. summary: the share as the list of shares gives it. */
export function drawShared(summary, style, page) {
  const L = window.L;
  const group = L.layerGroup();
  const entry = { label: summary.label, source: summary.source, precision: summary.precision,
    period: '', classes: [], layer: group, style, places: false,
    text: shared.layerLabel(summary.label, '', summary.agreement_ref) };
  page.shared.push(entry);
  page.switcher.add('Shared with us', `swatch-fill swatch-shared-${style.index}`, summary.label, group);
  group.on('add remove', page.legendChanged);
  return getJSON(summary.layer_url).then((doc) => {
    const periods = doc.periods_published || [];
    entry.period = periods.length ? periods[periods.length - 1] : '';
    entry.text = shared.layerLabel(summary.label, entry.period, summary.agreement_ref);
    const release = (doc.releases || []).filter((r) => r.period === entry.period)[0];
    entry.published = release ? release.published : '';
    entry.classes = shared.classes(doc, style.ramp);
    entry.doc = doc; // for the page's table (the same document the map draws)
    if (entry.period) {
      shared.cellLayer(doc, entry.period, entry.text, style).addTo(group);
    }
    const places = shared.contextLayer(doc);
    entry.places = places.getLayers().length > 0;
    places.addTo(group);
    // One layer per source is shown at first (stacked layers of one source would hide each
    // other); the rest are in the switcher.
    if (!page.shared.some((x) => x !== entry && x.label === entry.label && x.on)) {
      entry.on = true;
      group.addTo(page.map);
    }
  });
}

export { why };
