/*
 * csmap – the map page (/): the town's base map, boundary sets, the agency's own contexts,
 * police.uk crimes and the layers shared with the agency, with a legend and a layer switcher.
 *
 * Configuration: data-* attributes on #map (see templates/map.html).
 * Signals for browser tests, on <body>:
 *   data-map-ready="1"        once the base map and the first boundary set are drawn
 *   data-map-error="…"        an error code if a request failed
 *   data-contexts-ready="1"   once the agency's contexts are drawn
 *   data-shared-ready="N"     once the N layers shared with the agency are drawn
 */
import { ApiError, getJSON } from '../lib/api.js';
import { loadBasemap } from '../lib/basemap.js';
import { $, nextFrames, onMedia } from '../lib/dom.js';
import { sentence } from '../lib/format.js';
import { legendControl, precisionCaption } from '../lib/legend.js';
import { fillTable, whenOpen } from '../lib/maptable.js';
import * as shared from '../lib/shared.js';
import { StatusLine } from '../lib/status.js';
import { precision, renderLegend, summary } from '../map/legend.js';
import { boundarySet, drawContexts, drawShared, referenceLayer, why } from '../map/overlays.js';
import { createSwitcher } from '../map/switcher.js';

const mapEl = $('map');
const status = new StatusLine($('map-status'), 'map');

function parseCenter(value) {
  const parts = String(value || '').split(',').map((s) => Number(s.trim()));
  return parts.length === 2 && parts.every(Number.isFinite) && Math.abs(parts[0]) <= 90
    && Math.abs(parts[1]) <= 180 ? parts : null;
}

function parseZoom(value, fallback) {
  const z = Number(value);
  return Number.isFinite(z) && z >= 0 && z <= 22 ? z : fallback;
}

const NARROW = '(max-width: 599.98px)';
// The layer switcher is tall: collapse it on short screens too.
const COMPACT = '(max-width: 599.98px), (max-height: 899.98px)';

function start(L) {
  const ds = mapEl.dataset;
  const config = {
    basemapUrl: ds.basemapUrl || '/api/v1/basemap',
    boundarySetsUrl: ds.boundarySetsUrl || '/api/v1/boundary-sets',
    contextsUrl: (ds.contextsUrl || '').trim(), // only for roles that read their contexts
    referenceUrl: (ds.referenceUrl || '').trim(),
    sharesUrl: (ds.sharesUrl || '').trim(), // only for roles that read shared layers
    shareLayerUrl: (ds.shareLayerUrl || '').trim(),
    tileUrl: (ds.tileUrl || '').trim(),
    tileAttribution: (ds.tileAttribution || '').trim(),
  };
  const map = L.map(mapEl, {
    preferCanvas: true, keyboard: true, zoomControl: true, attributionControl: false,
    maxZoom: 19, zoomSnap: 0.25, zoomDelta: 0.5, wheelPxPerZoomLevel: 90,
  }).setView(parseCenter(ds.center) || [54.6, 1.2], parseZoom(ds.zoom, 13));
  // Plain-text prefix: no external links, no inline SVG.
  L.control.attribution({ prefix: 'Leaflet' }).addTo(map);

  // Optional raster tiles under the vector map (real deployments only).
  let tileBaseLayers = null;
  let tilesVisible = false;
  if (config.tileUrl) {
    // The attribution comes from configuration: given to Leaflet as text, never markup.
    const attribution = document.createElement('span');
    attribution.textContent = config.tileAttribution;
    const tiles = L.tileLayer(config.tileUrl, { attribution: attribution.innerHTML, maxZoom: 19 });
    tileBaseLayers = { 'Map tiles': tiles, 'No tiles': L.layerGroup() };
    tiles.on('add remove', (event) => {
      tilesVisible = event.type === 'add';
      if (page.base) {
        page.base.setTilesVisible(tilesVisible);
      }
      page.legendChanged();
    });
  }

  // The shared layers on the map, as a table: each layer shown, its period's cells and places.
  const refreshTable = whenOpen('map-table', () => {
    const on = page.shared.filter((e) => e.doc && e.period && map.hasLayer(e.layer));
    fillTable('map-table', 'Layers shared with us, as shown on the map',
      shared.TABLE_COLUMNS, on.flatMap((e) => shared.tableRows(e.doc, e.period, e.style.ramp)),
      'No shared layer is shown on the map.');
  });
  const compact = window.matchMedia(COMPACT);
  const page = {
    map, status, base: null, sets: [], shared: [], reference: null,
    contexts: { layer: null, kinds: [] },
    demo: !config.tileUrl,
    tilesVisible: () => tilesVisible,
    switcher: createSwitcher(map, tileBaseLayers, compact),
    legendChanged: () => {
      legend.update();
      caption.set(precision(page));
      refreshTable();
    },
  };
  // The precision caption along the map's foot; the legend in the corner away from the
  // layer switcher, folded to one line on phones (where it opens as a sheet).
  const caption = precisionCaption(mapEl, 'map-precision');
  const legend = legendControl(map, {
    position: 'bottomleft',
    render: (body) => renderLegend(body, page),
    summary: () => summary(page),
    expanded: !window.matchMedia(NARROW).matches,
    sheet: NARROW,
  });
  caption.set(precision(page));
  // The scale under the zoom buttons, clear of the legend however wide it opens.
  L.control.scale({ imperial: false, position: 'topleft', maxWidth: 140 }).addTo(map);
  page.switcher.build();
  onMedia(NARROW, (narrow) => { page.switcher.build(); legend.setExpanded(!narrow); });
  onMedia(COMPACT, () => page.switcher.build());

  status.begin('Loading map…');
  const basemap = loadBasemap(map, config.basemapUrl, { stations: true })
    .then((base) => {
      page.base = base;
      base.setTilesVisible(tilesVisible);
      page.switcher.add('Base map', 'swatch-fill swatch-park', 'Land use', base.groups.landuse);
      page.switcher.add('Base map', 'swatch-line swatch-river', 'River', base.groups.water);
      page.switcher.add('Base map', 'swatch-line swatch-road-main', 'Roads', base.groups.roads);
      page.switcher.add('Base map', 'swatch-line swatch-rail', 'Railway and stations', base.groups.rail);
      page.switcher.add('Base map', 'swatch-place', 'Place names', base.groups.labels);
      Object.keys(base.groups).forEach((k) => base.groups[k].on('add remove', page.legendChanged));
      if (base.bounds) {
        map.fitBounds(base.bounds, { padding: [12, 12], animate: false });
        base.syncZoomClass();
      }
      page.legendChanged();
    })
    .finally(() => {
      // Tiles only once the view is fitted, not for the provisional centre and zoom.
      if (tileBaseLayers) {
        tileBaseLayers['Map tiles'].addTo(map);
      }
    })
    .catch((err) => {
      const w = why(err, 'The base map could not be drawn.');
      status.report('basemap', `Could not load the base map: ${w.message} Try reloading the page.`, w.code);
      throw err;
    });

  const firstSet = getJSON(config.boundarySetsUrl)
    .then((data) => {
      if (!Array.isArray(data.boundary_sets)) {
        throw new ApiError('The server sent the boundary list in an unexpected format.', 'bad_response');
      }
      data.boundary_sets.filter((s) => s && typeof s === 'object').forEach((set, index) => {
        const state = boundarySet(set, index, page);
        page.sets.push(state);
        page.switcher.add('Boundaries', `swatch-line ${state.palette.swatchClass}`, state.name, state.layer);
      });
      page.legendChanged();
      if (!page.sets.length) {
        return undefined;
      }
      // Only the first set (council wards) is shown at first.
      page.sets[0].layer.addTo(map);
      return page.sets[0].ensureLoaded();
    })
    .catch((err) => {
      if (!err || !err.csReported) {
        const w = why(err, 'The boundaries could not be drawn.');
        status.report('sets', `Could not load the list of boundaries: ${w.message}`, w.code);
      }
      throw err;
    });

  const drawn = Promise.all([basemap, firstSet]);
  if (config.referenceUrl) {
    referenceLayer(config.referenceUrl, page);
  }
  if (config.sharesUrl) {
    drawn.then(() => getJSON(config.sharesUrl))
      .then((data) => {
        const live = (data.received || []).filter((s) => s.state === 'active');
        // Each source its own colours and outline, the same on every visit.
        const numbers = shared.sourceNumbers(live.map((s) => s.source));
        return Promise.all(live.map((s) => drawShared(
          { ...s, layer_url: config.shareLayerUrl.replace('__id__', encodeURIComponent(s.id)) },
          shared.sourceStyle(numbers[s.source]), page)));
      })
      .then(() => {
        page.legendChanged();
        document.body.dataset.sharedReady = String(page.shared.length);
      })
      .catch((err) => {
        const w = why(err, 'Shared layers could not be drawn.');
        status.report('shared', `Could not load the layers shared with you: ${sentence(w.message)}`, w.code);
      });
  }
  if (config.contextsUrl) {
    drawn.then(() => getJSON(config.contextsUrl))
      .then((fc) => {
        drawContexts(fc, page);
        document.body.dataset.contextsReady = '1';
      })
      .catch((err) => {
        const w = why(err, 'Your contexts could not be drawn.');
        status.report('contexts', `Could not load your contexts: ${w.message}`, w.code);
      });
  }
  drawn.then(nextFrames)
    .then(() => { document.body.dataset.mapReady = '1'; })
    .catch(() => { /* already reported on the page */ })
    .finally(() => status.end());
}

if (mapEl) {
  if (window.L) {
    start(window.L);
  } else {
    status.report('init', 'The map cannot be shown: the map library did not load. Try reloading the page.', 'leaflet_missing');
  }
}
