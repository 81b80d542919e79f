/*
 * csmap – what the map page's legend says: the base map's symbols (only those drawn and
 * switched on), the boundary sets shown, the agency's own contexts, police.uk crimes, and
 * each layer shared with the agency (its source, tier, period and agreement, its own colour
 * ramp and its places). Also the one-line summary the legend folds to, and the map's
 * precision caption.
 */
import { el } from '../lib/dom.js';
import { plural } from '../lib/format.js';
import { legendItem, legendSection } from '../lib/legend.js';
import * as shared from '../lib/shared.js';

const BASE = [
  { key: 'sea', label: 'Sea', swatch: 'swatch-fill swatch-sea' },
  { key: 'land', label: 'Land', swatch: 'swatch-fill swatch-land' },
  { key: 'residential', group: 'landuse', label: 'Housing', swatch: 'swatch-fill swatch-residential' },
  { key: 'park', group: 'landuse', label: 'Park or green space', swatch: 'swatch-fill swatch-park' },
  { key: 'retail', group: 'landuse', label: 'Shops and retail', swatch: 'swatch-fill swatch-retail' },
  { key: 'river', group: 'water', label: 'River', swatch: 'swatch-line swatch-river' },
  { key: 'mainRoad', group: 'roads', label: 'Main road', swatch: 'swatch-line swatch-road-main' },
  { key: 'minorRoad', group: 'roads', label: 'Minor road', swatch: 'swatch-line swatch-road-minor' },
  { key: 'rail', group: 'rail', label: 'Railway', swatch: 'swatch-line swatch-rail' },
  { key: 'station', group: 'rail', label: 'Station', swatch: 'swatch-station' },
  { key: 'place', group: 'labels', label: 'District name', swatch: 'swatch-place' },
];

export const CONTEXT_LABELS = {
  hotspot: 'Hotspot',
  transport_route: 'Transport route',
  transport_hub: 'Transport hub',
  place_of_concern: 'Place of concern',
  protective_space: 'Protective space',
};

/** The precision of each kind of layer the map page can show (the shared layers say theirs). */
export const PRECISION = {
  base: 'Reference geography only: no records are shown.',
  contexts: 'Our contexts: exact positions (your agency\'s own records).',
  reference: 'police.uk crimes: as police.uk publishes them, at anonymised points, by month.',
};

/** What is on the map now: {sets, contexts, reference, shared}. */
function shown(page) {
  const { map } = page;
  return {
    sets: page.sets.filter((s) => map.hasLayer(s.layer)),
    contexts: page.contexts.layer && map.hasLayer(page.contexts.layer) ? page.contexts.kinds : [],
    reference: Boolean(page.reference && map.hasLayer(page.reference)),
    shared: page.shared.filter((x) => map.hasLayer(x.layer)),
  };
}

/** The precision caption: one sentence per kind of data shown (shared layers: each distinct
 * precision statement, naming the sources it covers). */
export function precisionText(on) {
  const parts = [];
  if (on.contexts.length) {
    parts.push(PRECISION.contexts);
  }
  const bySentence = new Map();
  on.shared.forEach((x) => {
    const sources = bySentence.get(x.precision) || [];
    if (sources.indexOf(x.source) < 0) {
      sources.push(x.source);
    }
    bySentence.set(x.precision, sources);
  });
  bySentence.forEach((sources, sentence) => parts.push(`${sources.join(', ')}: ${sentence}`));
  if (on.reference) {
    parts.push(PRECISION.reference);
  }
  return parts.length ? parts.join(' ') : PRECISION.base;
}

/** The one line a folded legend shows: what the map shows, by kind. */
export function summaryText(on) {
  const parts = ['base map'];
  if (on.sets.length) {
    parts.push(plural(on.sets.length, 'boundary set'));
  }
  if (on.contexts.length) {
    parts.push(plural(on.contexts.length, 'kind', 'kinds') + ' of context');
  }
  if (on.reference) {
    parts.push('police.uk crimes');
  }
  if (on.shared.length) {
    parts.push(plural(on.shared.length, 'shared layer'));
  }
  return parts.join(', ');
}

export function summary(page) {
  return summaryText(shown(page));
}

export function precision(page) {
  return precisionText(shown(page));
}

/** page: {map, base, tilesVisible(), sets, contexts, reference, shared, demo} (pages/map.js). */
export function renderLegend(body, page) {
  const { map, base } = page;
  const on = shown(page);
  if (base) {
    const rows = BASE.filter((entry) => (entry.key === 'sea' ? page.tilesVisible() : base.present[entry.key]))
      .filter((entry) => !entry.group || map.hasLayer(base.groups[entry.group]))
      .map((entry) => legendItem(entry.swatch, entry.label));
    legendSection(body, 'Base map', rows, 'cs-legend__list--base');
  }

  if (on.sets.length) {
    legendSection(body, 'Boundaries', on.sets.map((s) => legendItem(`swatch-line ${s.palette.swatchClass}`, s.name)));
  } else {
    body.appendChild(el('h2', 'cs-legend__heading', 'Boundaries'));
    body.appendChild(el('p', 'cs-legend__empty',
      page.sets.length ? 'None shown. Use the layers button to add some.' : 'None available.'));
  }

  if (on.contexts.length) {
    legendSection(body, 'Our contexts', on.contexts.map(
      (kind) => legendItem(`swatch-ctx swatch-ctx-${kind}`, CONTEXT_LABELS[kind] || kind)));
    body.appendChild(el('p', 'cs-legend__note', 'Exact positions: your agency\'s own records.'));
  }

  if (on.reference) {
    legendSection(body, 'Reference', [legendItem('swatch-reference', 'police.uk street-level crime')]);
  }

  // Each shared layer: its label (source, tier, period, agreement), its own ramp, its places.
  if (on.shared.length) {
    body.appendChild(el('h2', 'cs-legend__heading', 'Shared with us'));
    on.shared.forEach((x) => {
      body.appendChild(el('p', 'cs-legend__layer', x.text));
      if (x.published) {
        body.appendChild(el('p', 'cs-legend__note cs-legend__published', `${shared.periodText(x.period)}: ${x.published}.`));
      }
      const ramp = el('ul', 'cs-legend__list cs-legend__list--shared');
      shared.legendItems(ramp, x.classes, x.style);
      body.appendChild(ramp);
      if (x.places) {
        const places = el('ul', 'cs-legend__list');
        shared.PLACE_SYMBOLS.forEach((sym) => places.appendChild(legendItem(sym.swatch, sym.label)));
        body.appendChild(places);
      }
    });
    Array.from(new Set(on.shared.map((x) => x.precision))).forEach((p) => {
      body.appendChild(el('p', 'cs-legend__note cs-legend__precision', p));
    });
    body.appendChild(el('p', 'cs-legend__note',
      'Each period is published once, after it has closed, and never changes. Cells under the '
      + 'threshold are hidden and look like cells with none.'));
  }

  if (page.demo) {
    body.appendChild(el('p', 'cs-legend__note', 'Demo town: fictional, drawn over open sea.'));
  }
}
