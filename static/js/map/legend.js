/*
 * csmap – what the map page's legend says: the base map's symbols (only those drawn and
 * switched on), the boundary sets shown, the agency's own contexts, and the layers shared
 * with the agency.
 */
import { el } from '../lib/dom.js';
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

/** page: {map, base, tilesVisible(), sets, contexts, shared, demo} as pages/map.js keeps it. */
export function renderLegend(body, page) {
  const { map, base } = page;
  if (base) {
    const rows = BASE.filter((entry) => (entry.key === 'sea' ? page.tilesVisible() : base.present[entry.key]))
      .filter((entry) => !entry.group || map.hasLayer(base.groups[entry.group]))
      .map((entry) => legendItem(entry.swatch, entry.label));
    legendSection(body, 'Base map', rows, 'cs-legend__list--base');
  }

  const shown = page.sets.filter((s) => map.hasLayer(s.layer));
  if (shown.length) {
    legendSection(body, 'Boundaries', shown.map((s) => legendItem(`swatch-line ${s.palette.swatchClass}`, s.name)));
  } else {
    body.appendChild(el('h2', 'cs-legend__heading', 'Boundaries'));
    body.appendChild(el('p', 'cs-legend__empty',
      page.sets.length ? 'None shown. Use the layers button to add some.' : 'None available.'));
  }

  const ctx = page.contexts;
  if (ctx.layer && map.hasLayer(ctx.layer) && ctx.kinds.length) {
    legendSection(body, 'Our contexts', ctx.kinds.map(
      (kind) => legendItem(`swatch-ctx swatch-ctx-${kind}`, CONTEXT_LABELS[kind] || kind)));
    body.appendChild(el('p', 'cs-legend__note', 'Exact positions: your agency\'s own records.'));
  }

  // Shared layers: one heading, the class ramp once, each layer with its period, and each
  // distinct precision statement (layers of one tier share one).
  const shownShared = page.shared.filter((x) => map.hasLayer(x.layer));
  if (shownShared.length) {
    legendSection(body, 'Shared with us', shownShared.map((x) => el('li', 'cs-legend__item',
      x.label + (x.period
        ? `, ${shared.periodText(x.period)}${x.published ? ` (${x.published})` : ''}`
        : ', nothing published yet'))), 'cs-legend__list--shared-layers');
    const ramp = el('ul', 'cs-legend__list cs-legend__list--shared');
    shared.legendItems(ramp, shownShared[0].classes);
    body.appendChild(ramp);
    Array.from(new Set(shownShared.map((x) => x.precision))).forEach((p) => {
      body.appendChild(el('p', 'cs-legend__note cs-legend__precision', p));
    });
    body.appendChild(el('p', 'cs-legend__note',
      'Each period is published once, after it has closed, and never changes.'));
  }

  if (page.demo) {
    body.appendChild(el('p', 'cs-legend__note', 'Demo town: fictional, drawn over open sea.'));
  }
}
