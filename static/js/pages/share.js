/*
 * csmap – one share's page (/shares/<id>) and an external recipient's link page (/s/<token>):
 * the share's redacted map for the period chosen, its legend and precision, and (on the share
 * page) the same layer by two boundary sets side by side.
 *
 * Signals for browser tests: #share-map[data-ready="1"] once drawn, data-period and
 * data-cells-shown on #share-map.
 */
import { getJSON } from '../lib/api.js';
import { loadBasemap } from '../lib/basemap.js';
import { $ } from '../lib/dom.js';
import { legendItem, precisionCaption } from '../lib/legend.js';
import { fillTable, whenOpen } from '../lib/maptable.js';
import { periodText } from '../lib/shared.js';
import * as shared from '../lib/shared.js';

const mapEl = $('share-map');
if (mapEl && window.L) {
  start(window.L);
}

function start(L) {
  const status = $('share-status');
  const select = $('share-period');
  const map = L.map(mapEl, { zoomSnap: 0.5, attributionControl: false }).setView([54.6, 1.2], 12);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  const caption = precisionCaption(mapEl, 'share-map-precision');
  let cells = null;
  let doc = null;
  // The map as a table: the same published cells and places, for the period shown.
  const refreshTable = whenOpen('share-table', () => {
    const period = mapEl.dataset.period;
    if (doc && period) {
      fillTable('share-table', `${(doc.share && doc.share.label) || 'Shared layer'}, ${periodText(period)}`,
        shared.TABLE_COLUMNS, shared.tableRows(doc, period), 'Nothing published for this period.');
    }
  });

  const compareEl = $('share-compare');
  const comparison = compareEl ? shared.compare(compareEl, {
    doc: () => doc,
    period: () => mapEl.dataset.period,
    areasUrl: (slug) => compareEl.dataset.areasUrl.replace('__slug__', encodeURIComponent(slug)),
  }) : null;

  function showPeriod(period) {
    if (cells) {
      map.removeLayer(cells);
    }
    cells = shared.cellLayer(doc, period).addTo(map);
    mapEl.dataset.period = period;
    // When this period was published: its numbers have not changed since, and will not.
    const release = (doc.releases || []).filter((r) => r.period === period)[0];
    // The period's own precision (a period published under an earlier profile keeps its own).
    caption.set(`${periodText(period)}: ${release ? release.precision : doc.precision}`);
    const published = $('share-published');
    if (published && release) {
      // A period published under an earlier profile says so; otherwise the precision holds.
      published.textContent = `${periodText(period)}: ${release.published}. Each period is `
        + 'published once, after it has closed, and never changes.'
        + (release.precision !== doc.precision ? ` This period: ${release.precision}` : '');
    }
    mapEl.dataset.cellsShown = String(cells.getLayers().length);
    refreshTable();
    if (comparison) {
      comparison.draw();
    }
  }

  const basemap = loadBasemap(map, mapEl.dataset.basemapUrl).catch(() => null);
  Promise.all([basemap, getJSON(mapEl.dataset.layerUrl)])
    .then(([base, layer]) => {
      doc = layer;
      const periods = doc.periods_published || [];
      shared.fillPeriods(select, periods);
      shared.legendItems($('share-classes'), shared.classes(doc));
      const places = shared.contextLayer(doc).addTo(map);
      if (places.getLayers().length) {
        shared.PLACE_SYMBOLS.forEach((sym) => $('share-classes').appendChild(legendItem(sym.swatch, sym.label)));
      }
      if (base && base.bounds) {
        map.fitBounds(base.bounds, { padding: [8, 8] });
      }
      if (periods.length) {
        showPeriod(periods[periods.length - 1]);
        status.textContent = '';
      } else {
        status.textContent = 'Nothing to show: no cell reaches the threshold in the shared periods.';
        caption.set(doc.precision);
      }
      mapEl.dataset.ready = '1';
    })
    .catch((err) => {
      status.textContent = `Could not load the shared layer: ${err.message}`;
      status.classList.add('is-error');
    });
  select.addEventListener('change', () => showPeriod(select.value));
  if (comparison) {
    comparison.reload();
  }
}
