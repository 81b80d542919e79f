/*
 * csmap – map page.
 *
 * Plain ES2018, no build step. Needs /static/vendor/leaflet/leaflet.js loaded first.
 * Written to run under "script-src 'self'; style-src 'self'" without unsafe-inline:
 * this file never writes style attributes or inline <style>; everything visual it
 * controls is a CSS class in /static/css/csmap.css (colours are read back from CSS
 * custom properties so that the canvas drawing and the legend swatches agree).
 *
 * Reads its configuration from data-* attributes on #map:
 *   data-basemap-url, data-boundary-sets-url, data-tile-url, data-tile-attribution,
 *   data-center ("lat,lon"), data-zoom.
 *
 * Signals for browser tests, on <body>:
 *   data-map-ready="1"   once the base map and the initially visible boundary set are drawn
 *   data-map-error="…"   an error code if any fetch failed
 */
(function () {
  'use strict';

  var mapEl = document.getElementById('map');
  var statusEl = document.getElementById('map-status');
  if (!mapEl) {
    return;
  }

  // ---------------------------------------------------------------------------
  // Status line and error reporting
  // ---------------------------------------------------------------------------

  var pendingTasks = 0;
  // Errors by source ('basemap', 'sets', 'set:<slug>'), newest last. The newest is
  // shown; an error is cleared only by its own source succeeding on retry.
  var errors = new Map();

  function setStatus(text, isError) {
    if (!statusEl) {
      return;
    }
    statusEl.textContent = text;
    statusEl.classList.toggle('is-error', Boolean(isError));
  }

  function showErrors() {
    var last = null;
    errors.forEach(function (value) { last = value; });
    if (last) {
      setStatus(last.message, true);
      document.body.dataset.mapError = last.code;
    } else {
      delete document.body.dataset.mapError;
      setStatus('', false);
    }
  }

  function beginTask(message) {
    pendingTasks += 1;
    if (!errors.size) {
      setStatus(message, false);
    }
  }

  function endTask() {
    pendingTasks = Math.max(0, pendingTasks - 1);
    if (pendingTasks === 0 && !errors.size) {
      setStatus('', false);
    }
  }

  function reportError(source, message, code) {
    errors.delete(source);
    errors.set(source, { message: message, code: code || 'error' });
    showErrors();
  }

  function clearError(source) {
    if (errors.delete(source)) {
      showErrors();
    }
  }

  if (typeof window.L === 'undefined' || typeof window.fetch !== 'function') {
    reportError('init', 'The map cannot be shown: the map library did not load. Try reloading the page.',
      'leaflet_missing');
    return;
  }
  var L = window.L;

  // ---------------------------------------------------------------------------
  // Configuration
  // ---------------------------------------------------------------------------

  function parseCenter(value) {
    var parts = String(value || '').split(',').map(function (s) { return Number(s.trim()); });
    if (parts.length === 2 && parts.every(Number.isFinite) &&
        Math.abs(parts[0]) <= 90 && Math.abs(parts[1]) <= 180) {
      return parts;
    }
    return null;
  }

  function parseZoom(value, fallback) {
    var z = Number(value);
    return Number.isFinite(z) && z >= 0 && z <= 22 ? z : fallback;
  }

  var ds = mapEl.dataset;
  var config = {
    basemapUrl: ds.basemapUrl || '/api/v1/basemap',
    boundarySetsUrl: ds.boundarySetsUrl || '/api/v1/boundary-sets',
    // Only present for roles that may read their own agency's contexts.
    contextsUrl: (ds.contextsUrl || '').trim(),
    referenceUrl: (ds.referenceUrl || '').trim(),
    // Only present for roles that may read layers shared with their agency.
    sharesUrl: (ds.sharesUrl || '').trim(),
    shareLayerUrl: (ds.shareLayerUrl || '').trim(),
    tileUrl: (ds.tileUrl || '').trim(),
    tileAttribution: (ds.tileAttribution || '').trim(),
    center: parseCenter(ds.center) || [54.6, 1.2],
    zoom: parseZoom(ds.zoom, 13),
  };

  var NARROW_QUERY = window.matchMedia('(max-width: 599.98px)');
  // The layer switcher is tall: collapse it on short screens too, so it never sits on top
  // of the legend on an ordinary laptop.
  var COMPACT_LAYERS_QUERY = window.matchMedia('(max-width: 599.98px), (max-height: 899.98px)');

  // Colours and dash patterns live in csmap.css as custom properties; the values
  // here are only fallbacks if the stylesheet failed to load.
  var rootStyle = window.getComputedStyle(document.documentElement);

  function cssVar(name, fallback) {
    var value = rootStyle.getPropertyValue(name).trim();
    return value || fallback;
  }

  function cssDash(name, fallback) {
    var value = cssVar(name, fallback);
    return value === 'none' || value === '' ? null : value;
  }

  var C = {
    land: cssVar('--cs-land', '#f2efe6'),
    landEdge: cssVar('--cs-land-edge', '#cfc6ae'),
    residential: cssVar('--cs-residential', '#e4ddd4'),
    park: cssVar('--cs-park', '#b5d99c'),
    parkEdge: cssVar('--cs-park-edge', '#8fbf73'),
    retail: cssVar('--cs-retail', '#f7d4c6'),
    retailEdge: cssVar('--cs-retail-edge', '#e8b29d'),
    water: cssVar('--cs-water', '#5f9fd3'),
    mainRoad: cssVar('--cs-road-main', '#fddb7a'),
    mainRoadCasing: cssVar('--cs-road-main-casing', '#b59a55'),
    minorRoad: cssVar('--cs-road-minor', '#ffffff'),
    minorRoadCasing: cssVar('--cs-road-minor-casing', '#c3baa9'),
    rail: cssVar('--cs-rail', '#4d4d4d'),
  };

  var FALLBACK_SETS = [
    ['#D55E00', 'none'], ['#0072B2', '10 6'], ['#CC79A7', '2 6'], ['#009E73', '12 4 2 4'],
    ['#000000', '5 5'], ['#E69F00', '14 4 2 4 2 4'], ['#56B4E9', '1 5'], ['#F0E442', '16 6'],
  ];
  var SET_PALETTE = FALLBACK_SETS.map(function (fb, i) {
    return {
      color: cssVar('--cs-set-' + i, fb[0]),
      dash: cssDash('--cs-set-' + i + '-dash', fb[1]),
      swatchClass: 'swatch-set-' + i,
    };
  });

  // ---------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function nextFrames() {
    // Leaflet's canvas renderer draws on the next animation frame; wait for two.
    return new Promise(function (resolve) {
      window.requestAnimationFrame(function () {
        window.requestAnimationFrame(function () { resolve(); });
      });
    });
  }

  function ApiError(message, code) {
    this.name = 'ApiError';
    this.message = message;
    this.code = code;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  var FETCH_TIMEOUT_MS = 30000;

  /** GET a same-origin JSON resource; throws ApiError with a readable message. */
  async function getJSON(url) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) {
      throw new ApiError('The map data address points to another site, so it was not loaded.',
        'cross_origin');
    }
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, FETCH_TIMEOUT_MS) : null;
    try {
      var response;
      try {
        response = await fetch(target.href, {
          headers: { Accept: 'application/json' },
          credentials: 'same-origin',
          signal: controller ? controller.signal : undefined,
        });
      } catch (err) {
        if (err && err.name === 'AbortError') {
          throw new ApiError('The server took too long to respond.', 'timeout');
        }
        throw new ApiError('The server could not be reached. Check your connection.', 'network');
      }
      var body = null;
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
      if (!response.ok) {
        var apiErr = body && typeof body === 'object' ? body.error : null;
        var message = apiErr && typeof apiErr.message === 'string' && apiErr.message
          ? apiErr.message
          : 'The server returned an error (HTTP ' + response.status + ').';
        var code = apiErr && typeof apiErr.code === 'string' && apiErr.code
          ? apiErr.code
          : 'http_' + response.status;
        throw new ApiError(message, code);
      }
      if (body === null || typeof body !== 'object') {
        throw new ApiError('The server sent data the map could not read.', 'bad_response');
      }
      return body;
    } finally {
      if (timer !== null) {
        window.clearTimeout(timer);
      }
    }
  }

  function asFeatureCollection(data) {
    if (!data || data.type !== 'FeatureCollection' || !Array.isArray(data.features)) {
      throw new ApiError('The server sent map data in an unexpected format.', 'bad_geojson');
    }
    return data;
  }

  function sentence(text) {
    var t = String(text).trim();
    return /[.!?]$/.test(t) ? t : t + '.';
  }

  // ---------------------------------------------------------------------------
  // Map and panes
  // ---------------------------------------------------------------------------

  var map = L.map(mapEl, {
    preferCanvas: true,
    keyboard: true,
    zoomControl: true,
    attributionControl: false,
    maxZoom: 19,
    zoomSnap: 0.25,
    zoomDelta: 0.5,
    wheelPxPerZoomLevel: 90,
  }).setView(config.center, config.zoom);

  // Plain-text prefix: no external links, no inline SVG.
  L.control.attribution({ prefix: 'Leaflet' }).addTo(map);

  // One pane (and therefore one canvas) per cartographic stratum, so that toggling a
  // group never changes the drawing order. z-index and pointer-events for each pane
  // are set in csmap.css via the .leaflet-<name>-pane classes Leaflet adds.
  // Boundary sets use Leaflet's standard overlayPane (z-index 400).
  ['cs-land', 'cs-landuse', 'cs-water', 'cs-road-casing', 'cs-roads', 'cs-rail',
    'cs-labels'].forEach(function (name) { map.createPane(name); });

  function syncZoomClass() {
    map.getContainer().classList.toggle('cs-zoom-low', map.getZoom() < 13);
  }
  map.on('zoomend', syncZoomClass);

  mapEl.classList.add('cs-map');

  // ---------------------------------------------------------------------------
  // Base map (vector, from the API)
  // ---------------------------------------------------------------------------

  var BASEMAP_LAYERS = ['land', 'park', 'retail', 'residential', 'river', 'road', 'rail',
    'station', 'place_label'];

  var landOpacity = { opaque: 1, overTiles: 0.35 };
  var tilesVisible = false;

  var layers = {
    land: L.geoJSON(null, {
      pane: 'cs-land',
      interactive: false,
      style: function () {
        return {
          stroke: true, color: C.landEdge, weight: 1, opacity: 1,
          fill: true, fillColor: C.land, fillOpacity: tilesVisible ? landOpacity.overTiles : landOpacity.opaque,
        };
      },
    }),
    residential: polygonLayer('cs-landuse', { fillColor: C.residential, color: C.residential }),
    park: polygonLayer('cs-landuse', { fillColor: C.park, color: C.parkEdge }),
    retail: polygonLayer('cs-landuse', { fillColor: C.retail, color: C.retailEdge }),
    river: L.geoJSON(null, {
      pane: 'cs-water',
      interactive: false,
      style: function (feature) {
        var isArea = /Polygon$/.test(feature.geometry && feature.geometry.type);
        return isArea
          ? { stroke: false, fill: true, fillColor: C.water, fillOpacity: 1 }
          : { color: C.water, weight: 4, opacity: 1, lineCap: 'round', lineJoin: 'round' };
      },
    }),
    roadCasing: L.geoJSON(null, {
      pane: 'cs-road-casing',
      interactive: false,
      style: function (feature) {
        return isMainRoad(feature)
          ? { color: C.mainRoadCasing, weight: 7.5, opacity: 1 }
          : { color: C.minorRoadCasing, weight: 4.5, opacity: 1 };
      },
    }),
    roads: L.geoJSON(null, {
      pane: 'cs-roads',
      interactive: false,
      style: function (feature) {
        return isMainRoad(feature)
          ? { color: C.mainRoad, weight: 5, opacity: 1 }
          : { color: C.minorRoad, weight: 2.5, opacity: 1 };
      },
    }),
    rail: L.geoJSON(null, {
      pane: 'cs-rail',
      interactive: false,
      style: function () {
        return { color: C.rail, weight: 2.5, opacity: 1, dashArray: '7 5', lineCap: 'butt' };
      },
    }),
    stations: L.layerGroup(),
    placeLabels: L.layerGroup(),
  };

  function polygonLayer(pane, colours) {
    return L.geoJSON(null, {
      pane: pane,
      interactive: false,
      style: function () {
        return {
          stroke: true, color: colours.color, weight: 1, opacity: 1,
          fill: true, fillColor: colours.fillColor, fillOpacity: 1,
        };
      },
    });
  }

  function isMainRoad(feature) {
    return Boolean(feature && feature.properties && feature.properties.kind === 'main');
  }

  function pointOf(feature) {
    var g = feature.geometry;
    if (!g) {
      return null;
    }
    if (g.type === 'Point' && Array.isArray(g.coordinates) && g.coordinates.length >= 2) {
      return L.latLng(g.coordinates[1], g.coordinates[0]);
    }
    try {
      var bounds = L.geoJSON(feature).getBounds();
      return bounds.isValid() ? bounds.getCenter() : null;
    } catch (err) {
      return null;
    }
  }

  function stationMarker(feature) {
    var latlng = pointOf(feature);
    if (!latlng) {
      return null;
    }
    var name = feature.properties.name || 'Station';
    var marker = L.marker(latlng, {
      icon: L.divIcon({ className: 'cs-station', iconSize: [14, 14], html: '' }),
      keyboard: true,
      riseOnHover: true,
    });
    marker.bindTooltip(function () {
      return el('span', null, name);
    }, { direction: 'top', offset: [0, -8], className: 'cs-tooltip' });
    marker.on('add', function () {
      var icon = marker.getElement();
      if (icon) {
        icon.setAttribute('aria-label', 'Station: ' + name);
      }
    });
    return marker;
  }

  function placeLabelMarker(feature) {
    var latlng = pointOf(feature);
    var name = feature.properties.name;
    if (!latlng || !name) {
      return null;
    }
    var kind = String(feature.properties.kind || '').toLowerCase().replace(/[^a-z0-9-]/g, '');
    var text = el('span', 'cs-place-label__text', name);
    return L.marker(latlng, {
      pane: 'cs-labels',
      icon: L.divIcon({
        className: 'cs-place-label' + (kind ? ' cs-place-label--' + kind : ''),
        html: text,
        iconSize: null,
      }),
      interactive: false,
      keyboard: false,
    });
  }

  /** Split the basemap FeatureCollection by properties.layer and fill the layers. */
  function drawBasemap(fc) {
    var buckets = {};
    BASEMAP_LAYERS.forEach(function (key) { buckets[key] = []; });
    fc.features.forEach(function (feature) {
      if (!feature || !feature.geometry) {
        return;
      }
      feature.properties = feature.properties || {};
      var key = feature.properties.layer;
      if (Object.prototype.hasOwnProperty.call(buckets, key)) {
        buckets[key].push(feature);
      }
    });

    function collection(list) {
      return { type: 'FeatureCollection', features: list };
    }

    layers.land.addData(collection(buckets.land));
    layers.residential.addData(collection(buckets.residential));
    layers.park.addData(collection(buckets.park));
    layers.retail.addData(collection(buckets.retail));
    layers.river.addData(collection(buckets.river));
    layers.roadCasing.addData(collection(buckets.road));
    layers.roads.addData(collection(buckets.road));
    layers.rail.addData(collection(buckets.rail));
    buckets.station.forEach(function (f) {
      var m = stationMarker(f);
      if (m) {
        layers.stations.addLayer(m);
      }
    });
    buckets.place_label.forEach(function (f) {
      var m = placeLabelMarker(f);
      if (m) {
        layers.placeLabels.addLayer(m);
      }
    });

    present.land = buckets.land.length > 0;
    present.residential = buckets.residential.length > 0;
    present.park = buckets.park.length > 0;
    present.retail = buckets.retail.length > 0;
    present.river = buckets.river.length > 0;
    present.mainRoad = buckets.road.some(isMainRoad);
    present.minorRoad = buckets.road.some(function (f) { return !isMainRoad(f); });
    present.rail = buckets.rail.length > 0;
    present.station = layers.stations.getLayers().length > 0;
    present.place = layers.placeLabels.getLayers().length > 0;

    // Fit to the land; fall back to everything drawn; else keep data-center/zoom.
    var bounds = layers.land.getBounds();
    if (!bounds.isValid()) {
      bounds = L.latLngBounds([]);
      [layers.residential, layers.park, layers.retail, layers.river, layers.roads, layers.rail]
        .forEach(function (layer) {
          var b = layer.getBounds();
          if (b.isValid()) {
            bounds.extend(b);
          }
        });
    }
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], animate: false });
      syncZoomClass();
      // Keep people from getting lost in an empty sea.
      map.setMinZoom(Math.max(0, Math.floor(map.getZoom()) - 3));
      map.setMaxBounds(bounds.pad(1.5));
    }
  }

  // Which symbols exist in the data (the legend only lists those).
  var present = {};

  // Groups the user can switch on and off. Land is always on.
  var baseGroups = {
    landuse: L.layerGroup([layers.residential, layers.park, layers.retail]),
    water: L.layerGroup([layers.river]),
    roads: L.layerGroup([layers.roadCasing, layers.roads]),
    rail: L.layerGroup([layers.rail, layers.stations]),
    labels: L.layerGroup([layers.placeLabels]),
  };

  layers.land.addTo(map);
  Object.keys(baseGroups).forEach(function (key) { baseGroups[key].addTo(map); });

  // Optional raster tiles under the vector map (real deployments only).
  var tileBaseLayers = null;
  if (config.tileUrl) {
    var tiles = L.tileLayer(config.tileUrl, {
      // Treated as text: the attribution comes from configuration, never as markup.
      attribution: escapeHtml(config.tileAttribution),
      maxZoom: 19,
    });
    var noTiles = L.layerGroup();
    tileBaseLayers = { 'Map tiles': tiles, 'No tiles': noTiles };
    tiles.on('add remove', function (event) {
      tilesVisible = event.type === 'add';
      layers.land.resetStyle();
      legend.update();
    });
  }

  // ---------------------------------------------------------------------------
  // Boundary sets (overlays, lazily loaded)
  // ---------------------------------------------------------------------------

  var boundarySets = []; // { set, palette, layer, loaded, loading }

  function areaTooltip(setName, props) {
    var box = el('span', 'cs-area-tooltip__body');
    box.appendChild(el('strong', 'cs-area-tooltip__name', props.name || 'Unnamed area'));
    if (props.code) {
      box.appendChild(document.createTextNode(' '));
      box.appendChild(el('span', 'cs-area-tooltip__code', '(' + props.code + ')'));
    }
    box.appendChild(el('span', 'cs-area-tooltip__set', setName));
    return box;
  }

  function makeBoundaryOverlay(set, index) {
    var palette = SET_PALETTE[index % SET_PALETTE.length];
    var name = typeof set.name === 'string' && set.name ? set.name : (set.slug || 'Boundaries');
    var baseStyle = {
      color: palette.color, weight: 2.5, opacity: 1, dashArray: palette.dash,
      lineCap: 'round', lineJoin: 'round',
      fill: true, fillColor: palette.color, fillOpacity: 0.03,
    };
    var state = {
      set: set, name: name, palette: palette, layer: null, loaded: false, loading: null,
      errorKey: 'set:' + index,
    };
    state.layer = L.geoJSON(null, {
      pane: 'overlayPane',
      style: function () { return baseStyle; },
      onEachFeature: function (feature, layer) {
        var props = feature.properties || {};
        layer.bindTooltip(function () { return areaTooltip(name, props); },
          { sticky: true, direction: 'top', offset: [0, -6], className: 'cs-tooltip cs-area-tooltip' });
        layer.on('mouseover', function () { layer.setStyle({ weight: 4, fillOpacity: 0.12 }); });
        layer.on('mouseout', function () { layer.setStyle({ weight: 2.5, fillOpacity: 0.03 }); });
      },
    });
    state.layer.on('add', function () {
      ensureLoaded(state).catch(function () { /* reported in ensureLoaded */ });
      legend.update();
    });
    state.layer.on('remove', function () {
      if (!state.loaded && !state.loading) {
        clearError(state.errorKey); // switched off after a failure: stop nagging
      }
      legend.update();
    });
    return state;
  }

  function ensureLoaded(state) {
    if (state.loaded) {
      return Promise.resolve();
    }
    if (state.loading) {
      return state.loading;
    }
    if (typeof state.set.areas_url !== 'string' || !state.set.areas_url) {
      reportError(state.errorKey, 'Could not load ' + state.name + ': no address for its areas.', 'bad_response');
      var missing = new ApiError('missing areas_url', 'bad_response');
      missing.csReported = true;
      return Promise.reject(missing);
    }
    beginTask('Loading ' + state.name + '…');
    state.loading = getJSON(state.set.areas_url)
      .then(function (data) {
        state.layer.addData(asFeatureCollection(data));
        state.loaded = true;
        clearError(state.errorKey);
      })
      .catch(function (err) {
        var message = err instanceof ApiError ? err.message : 'The boundaries could not be drawn.';
        reportError(state.errorKey, 'Could not load ' + state.name + ': ' + sentence(message) +
          ' Switch it off and on again to retry.', err instanceof ApiError ? err.code : 'draw_failed');
        if (err && typeof err === 'object') {
          err.csReported = true;
        }
        throw err;
      })
      .finally(function () {
        state.loading = null;
        endTask();
      });
    return state.loading;
  }

  // ---------------------------------------------------------------------------
  // Layer switcher (grouped headings; collapsed on narrow screens)
  // ---------------------------------------------------------------------------

  var overlayGroupOf = new Map(); // L.stamp(layer) -> heading text
  var overlayLabelOf = new Map(); // L.stamp(layer) -> { swatch: classes, text }

  var GroupedLayersControl = L.Control.Layers.extend({
    _update: function () {
      this._csLastGroup = null;
      return L.Control.Layers.prototype._update.apply(this, arguments);
    },
    _addItem: function (obj) {
      // Leaflet writes a layer's name with innerHTML; names here (a boundary set's, a
      // partner's) come from users, so Leaflet gets none and the label is built as text.
      var label = L.Control.Layers.prototype._addItem.call(this, L.extend({}, obj, { name: '' }));
      var name = label.firstChild.lastChild; // <label><span><input><span>name</span></span>
      var entry = overlayLabelOf.get(L.stamp(obj.layer));
      name.textContent = ' ';
      if (entry) {
        var swatch = el('span', 'cs-layers-swatch ' + entry.swatch);
        swatch.setAttribute('aria-hidden', 'true');
        name.appendChild(swatch);
      }
      name.appendChild(document.createTextNode(entry ? entry.text : obj.name));
      var group = obj.overlay ? overlayGroupOf.get(L.stamp(obj.layer)) : 'Background';
      if (group && group !== this._csLastGroup) {
        var list = obj.overlay ? this._overlaysList : this._baseLayersList;
        list.insertBefore(el('div', 'cs-layers-heading', group), label);
      }
      this._csLastGroup = group;
      return label;
    },
  });

  var overlayEntries = [];

  /** swatch: the swatch's classes; text: the layer's name, shown as text (see _addItem). */
  function addOverlayEntry(group, swatch, text, layer) {
    overlayGroupOf.set(L.stamp(layer), group);
    overlayLabelOf.set(L.stamp(layer), { swatch: swatch, text: text });
    overlayEntries.push([text, layer]);
    // Once the switcher exists, add to it in place: rebuilding it under a user (or a test)
    // who is opening it would snatch it away.
    if (layersControl) {
      layersControl.addOverlay(layer, text);
    }
  }

  addOverlayEntry('Base map', 'swatch-fill swatch-park', 'Land use', baseGroups.landuse);
  addOverlayEntry('Base map', 'swatch-line swatch-river', 'River', baseGroups.water);
  addOverlayEntry('Base map', 'swatch-line swatch-road-main', 'Roads', baseGroups.roads);
  addOverlayEntry('Base map', 'swatch-line swatch-rail', 'Railway and stations', baseGroups.rail);
  addOverlayEntry('Base map', 'swatch-place', 'Place names', baseGroups.labels);

  var layersControl = null;

  function buildLayersControl() {
    if (layersControl) {
      layersControl.remove();
    }
    layersControl = new GroupedLayersControl(tileBaseLayers || {}, {}, {
      collapsed: COMPACT_LAYERS_QUERY.matches,
      position: 'topright',
      hideSingleBase: true,
    });
    // Names are plain text now, so two layers may share one: add each layer on its own
    // rather than as keys of one object.
    overlayEntries.forEach(function (entry) { layersControl.addOverlay(entry[1], entry[0]); });
    layersControl.addTo(map);
    var container = layersControl.getContainer();
    container.setAttribute('aria-label', 'Map layers');
    var toggle = container.querySelector('.leaflet-control-layers-toggle');
    if (toggle && layersControl.options.collapsed) {
      addCollapsedKeyboardSupport(layersControl, container, toggle);
    }
  }

  // Leaflet 1.9's collapsed switcher opens on Enter/click but hides its toggle, which
  // drops keyboard focus, and can only be closed with the mouse. Move focus into the
  // list on open; close on Escape (focus back to the toggle) or when focus leaves.
  function addCollapsedKeyboardSupport(control, container, toggle) {
    toggle.setAttribute('aria-label', 'Map layers');
    toggle.setAttribute('aria-expanded', 'false');

    function isOpen() {
      return container.classList.contains('leaflet-control-layers-expanded');
    }

    function openAndFocus() {
      control.expand();
      toggle.setAttribute('aria-expanded', 'true');
      var first = container.querySelector('.leaflet-control-layers-list input');
      if (first) {
        first.focus();
      }
    }

    function close(returnFocus) {
      control.collapse();
      toggle.setAttribute('aria-expanded', 'false');
      if (returnFocus) {
        toggle.focus();
      }
    }

    toggle.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ' || event.key === 'Spacebar') {
        event.preventDefault();
        window.setTimeout(openAndFocus, 0);
      }
    });
    container.addEventListener('keydown', function (event) {
      if ((event.key === 'Escape' || event.key === 'Esc') && isOpen()) {
        event.preventDefault();
        event.stopPropagation();
        close(true);
      }
    });
    container.addEventListener('focusout', function (event) {
      var next = event.relatedTarget;
      if (isOpen() && next && !container.contains(next)) {
        close(false);
      }
    });
  }

  // ---------------------------------------------------------------------------
  // Legend (bottom right, collapsible)
  // ---------------------------------------------------------------------------

  var BASE_LEGEND = [
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

  var LegendControl = L.Control.extend({
    options: { position: 'bottomright' },

    onAdd: function () {
      var container = el('section', 'cs-legend map-legend');
      container.setAttribute('aria-label', 'Map legend');
      var toggle = el('button', 'cs-legend__toggle', 'Legend');
      toggle.type = 'button';
      toggle.setAttribute('aria-controls', 'cs-legend-body');
      var body = el('div', 'cs-legend__body');
      body.id = 'cs-legend-body';
      container.appendChild(toggle);
      container.appendChild(body);
      L.DomEvent.disableClickPropagation(container);
      L.DomEvent.disableScrollPropagation(container);
      // Keep Leaflet's keyboard panning from reacting to keys pressed in the legend.
      L.DomEvent.on(container, 'keydown', L.DomEvent.stopPropagation);
      toggle.addEventListener('click', this.setExpanded.bind(this, null));
      this._box = container;
      this._toggle = toggle;
      this._body = body;
      this.setExpanded(!NARROW_QUERY.matches);
      this.update();
      return container;
    },

    /** expanded: true/false, or null to flip. */
    setExpanded: function (expanded) {
      if (!this._toggle) {
        return;
      }
      var next = expanded === null ? this._toggle.getAttribute('aria-expanded') !== 'true' : Boolean(expanded);
      this._toggle.setAttribute('aria-expanded', next ? 'true' : 'false');
      this._body.hidden = !next;
      this._box.classList.toggle('is-collapsed', !next);
    },

    update: function () {
      var body = this._body;
      if (!body) {
        return;
      }
      while (body.firstChild) {
        body.removeChild(body.firstChild);
      }

      body.appendChild(el('h2', 'cs-legend__heading', 'Base map'));
      var baseList = el('ul', 'cs-legend__list cs-legend__list--base');
      BASE_LEGEND.forEach(function (entry) {
        if (entry.key === 'sea' ? tilesVisible : !present[entry.key]) {
          return;
        }
        if (entry.group && !map.hasLayer(baseGroups[entry.group])) {
          return;
        }
        baseList.appendChild(legendItem(entry.swatch, entry.label));
      });
      body.appendChild(baseList);

      body.appendChild(el('h2', 'cs-legend__heading', 'Boundaries'));
      var shown = boundarySets.filter(function (s) { return map.hasLayer(s.layer); });
      if (shown.length) {
        var setList = el('ul', 'cs-legend__list');
        shown.forEach(function (s) {
          setList.appendChild(legendItem('swatch-line ' + s.palette.swatchClass, s.name));
        });
        body.appendChild(setList);
      } else {
        body.appendChild(el('p', 'cs-legend__empty',
          boundarySets.length ? 'None shown. Use the layers button to add some.' : 'None available.'));
      }

      if (contexts && contexts.layer && map.hasLayer(contexts.layer) && contexts.kinds.length) {
        body.appendChild(el('h2', 'cs-legend__heading', contexts.title));
        var ctxList = el('ul', 'cs-legend__list');
        contexts.kinds.forEach(function (kind) {
          ctxList.appendChild(legendItem('swatch-ctx swatch-ctx-' + kind, CONTEXT_LABELS[kind] || kind));
        });
        body.appendChild(ctxList);
        body.appendChild(el('p', 'cs-legend__note', 'Exact positions: your agency\'s own records.'));
      }

      // Shared layers: one heading, the class ramp once, each layer with its period, and
      // each distinct precision statement (layers of one tier share one).
      var shownShared = (shared || []).filter(function (x) { return map.hasLayer(x.layer); });
      if (shownShared.length) {
        body.appendChild(el('h2', 'cs-legend__heading', 'Shared with us'));
        var sharedList = el('ul', 'cs-legend__list cs-legend__list--shared-layers');
        shownShared.forEach(function (x) {
          sharedList.appendChild(el('li', 'cs-legend__item', x.label + (x.period
            ? ', ' + x.period + (x.published ? ' (' + x.published + ')' : '')
            : ', nothing published yet')));
        });
        body.appendChild(sharedList);
        var ramp = el('ul', 'cs-legend__list cs-legend__list--shared');
        window.csmapShared.legendItems(ramp, shownShared[0].classes);
        body.appendChild(ramp);
        Array.from(new Set(shownShared.map(function (x) { return x.precision; }))).forEach(function (p) {
          body.appendChild(el('p', 'cs-legend__note cs-legend__precision', p));
        });
        body.appendChild(el('p', 'cs-legend__note',
          'Each period is published once, after it has closed, and never changes.'));
      }

      if (!config.tileUrl) {
        body.appendChild(el('p', 'cs-legend__note', 'Demo town: fictional, drawn over open sea.'));
      }
    },
  });

  function legendItem(swatchClasses, label) {
    var item = el('li', 'cs-legend__item');
    var swatch = el('span', 'swatch ' + swatchClasses);
    swatch.setAttribute('aria-hidden', 'true');
    item.appendChild(swatch);
    item.appendChild(el('span', 'cs-legend__label', label));
    return item;
  }

  var legend = new LegendControl().addTo(map);
  L.control.scale({ imperial: false, position: 'bottomleft', maxWidth: 140 }).addTo(map);

  Object.keys(baseGroups).forEach(function (key) {
    baseGroups[key].on('add remove', function () { legend.update(); });
  });

  buildLayersControl();

  function onBreakpointChange() {
    buildLayersControl();
    legend.setExpanded(!NARROW_QUERY.matches);
  }
  [NARROW_QUERY, COMPACT_LAYERS_QUERY].forEach(function (query) {
    if (typeof query.addEventListener === 'function') {
      query.addEventListener('change', onBreakpointChange);
    } else if (typeof query.addListener === 'function') {
      query.addListener(onBreakpointChange);
    }
  });

  // ---------------------------------------------------------------------------
  // Load everything
  // ---------------------------------------------------------------------------

  beginTask('Loading map…');

  var basemapDrawn = getJSON(config.basemapUrl)
    .then(function (data) {
      drawBasemap(asFeatureCollection(data));
      legend.update();
    })
    .finally(function () {
      // Tiles (if configured) only once the view is fitted, to avoid fetching
      // tiles for the provisional data-center/zoom view.
      if (tileBaseLayers) {
        tileBaseLayers['Map tiles'].addTo(map);
      }
    })
    .catch(function (err) {
      var message = err instanceof ApiError ? err.message : 'The base map could not be drawn.';
      reportError('basemap', 'Could not load the base map: ' + sentence(message) + ' Try reloading the page.',
        err instanceof ApiError ? err.code : 'draw_failed');
      throw err;
    });

  var initialSetDrawn = getJSON(config.boundarySetsUrl)
    .then(function (data) {
      var list = data && Array.isArray(data.boundary_sets) ? data.boundary_sets : null;
      if (!list) {
        throw new ApiError('The server sent the boundary list in an unexpected format.', 'bad_response');
      }
      list.forEach(function (set, index) {
        if (!set || typeof set !== 'object') {
          return;
        }
        var state = makeBoundaryOverlay(set, index);
        boundarySets.push(state);
        addOverlayEntry('Boundaries', 'swatch-line ' + state.palette.swatchClass, state.name,
          state.layer);
      });
      legend.update();
      if (!boundarySets.length) {
        return undefined;
      }
      // Only the first set (council wards) is shown by default.
      boundarySets[0].layer.addTo(map);
      return ensureLoaded(boundarySets[0]);
    })
    .catch(function (err) {
      if (!err || !err.csReported) {
        var message = err instanceof ApiError ? err.message : 'The boundaries could not be drawn.';
        reportError('sets', 'Could not load the list of boundaries: ' + sentence(message),
          err instanceof ApiError ? err.code : 'draw_failed');
      }
      throw err;
    });

  // ---------------------------------------------------------------------------
  // The agency's own contexts (tier A: exact positions, only for its own users)
  // ---------------------------------------------------------------------------

  var CONTEXT_LABELS = {
    hotspot: 'Hotspot',
    transport_route: 'Transport route',
    transport_hub: 'Transport hub',
    place_of_concern: 'Place of concern',
    protective_space: 'Protective space',
  };
  var contexts = { layer: null, kinds: [], title: 'Our contexts' };

  function contextColour(kind) {
    return cssVar('--cs-ctx-' + kind.replace(/_/g, '-'), '#444444');
  }

  function drawContexts(fc) {
    var kinds = {};
    contexts.layer = L.geoJSON(fc, {
      style: function (feature) {
        var kind = feature.properties.kind;
        var line = feature.geometry && /LineString/.test(feature.geometry.type);
        return { color: contextColour(kind), weight: line ? 4 : 2, opacity: 0.9,
          fillOpacity: 0.25, dashArray: line ? '8 4' : null };
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 7, color: '#ffffff', weight: 2,
          fillColor: contextColour(feature.properties.kind), fillOpacity: 1 });
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        kinds[p.kind] = true;
        var label = (p.name || 'Unnamed') + ' — ' + (CONTEXT_LABELS[p.kind] || p.kind);
        layer.bindTooltip(function () { return el('span', null, label); }, { sticky: true });
      },
    }).addTo(map);
    contexts.kinds = Object.keys(CONTEXT_LABELS).filter(function (k) { return kinds[k]; });
    addOverlayEntry('Our records', 'swatch-ctx swatch-ctx-hotspot', 'Contexts', contexts.layer);
    contexts.layer.on('add remove', function () { legend.update(); });
    legend.update();
  }

  // police.uk street-level crimes: a reference layer every agency may see, loaded the first
  // time it is switched on (off by default: it is context, not csmap's own records).
  if (config.referenceUrl) {
    var reference = L.layerGroup();
    var referenceLoaded = false;
    reference.on('add', function () {
      if (referenceLoaded) {
        return;
      }
      referenceLoaded = true;
      getJSON(config.referenceUrl)
        .then(function (data) {
          L.geoJSON(asFeatureCollection(data), {
            pointToLayer: function (feature, latlng) {
              return L.circleMarker(latlng, { radius: 3, color: '#555555', weight: 1,
                fillColor: '#999999', fillOpacity: 0.8 });
            },
            onEachFeature: function (feature, layer) {
              var p = feature.properties || {};
              var label = (p.crime_type || 'Crime') + ', ' + (p.month || '');
              layer.bindTooltip(function () { return el('span', null, label); });
            },
          }).addTo(reference);
        })
        .catch(function (err) {
          referenceLoaded = false;
          var message = err instanceof ApiError ? err.message : 'The reference layer could not be drawn.';
          reportError('reference', 'Could not load police.uk crimes: ' + sentence(message),
            err instanceof ApiError ? err.code : 'draw_failed');
        });
    });
    addOverlayEntry('Reference', 'swatch-reference', 'police.uk crimes', reference);
  }

  // ---------------------------------------------------------------------------
  // Layers other agencies share with ours (tier B/C: published cells only, never points)
  // ---------------------------------------------------------------------------

  var shared = []; // {label, precision, period, classes, layer}

  function drawShared(summary) {
    var group = L.layerGroup();
    var entry = { label: summary.label, precision: summary.precision, period: '', classes: [],
      layer: group };
    shared.push(entry);
    addOverlayEntry('Shared with us', 'swatch-shared', summary.label, group);
    group.on('add remove', function () { legend.update(); });
    return getJSON(summary.layer_url).then(function (doc) {
      var periods = doc.periods_published || [];
      entry.period = periods.length ? periods[periods.length - 1] : '';
      var release = (doc.releases || []).filter(function (r) { return r.period === entry.period; })[0];
      entry.published = release ? release.published : '';
      entry.classes = window.csmapShared.classes(doc);
      if (entry.period) {
        window.csmapShared.cellLayer(doc, entry.period, summary.label).addTo(group);
      }
      window.csmapShared.contextLayer(doc).addTo(group);
      // One layer per source is shown at first (stacked layers of one source would hide each
      // other); the rest are in the switcher.
      var firstOfSource = !shared.some(function (x) { return x !== entry && x.label === entry.label && x.on; });
      if (firstOfSource) {
        entry.on = true;
        group.addTo(map);
      }
    });
  }

  if (config.sharesUrl && window.csmapShared) {
    Promise.all([basemapDrawn, initialSetDrawn])
      .then(function () { return getJSON(config.sharesUrl); })
      .then(function (data) {
        var live = (data.received || []).filter(function (s) { return s.state === 'active'; });
        return Promise.all(live.map(function (s) {
          s.layer_url = config.shareLayerUrl.replace('__id__', encodeURIComponent(s.id));
          return drawShared(s);
        }));
      })
      .then(function () {
        legend.update();
        document.body.dataset.sharedReady = String(shared.length);
      })
      .catch(function (err) {
        var message = err instanceof ApiError ? err.message : 'Shared layers could not be drawn.';
        reportError('shared', 'Could not load the layers shared with you: ' + sentence(message),
          err instanceof ApiError ? err.code : 'draw_failed');
      });
  }

  if (config.contextsUrl) {
    Promise.all([basemapDrawn, initialSetDrawn])
      .then(function () { return getJSON(config.contextsUrl); })
      .then(function (data) {
        drawContexts(asFeatureCollection(data));
        document.body.dataset.contextsReady = '1';
      })
      .catch(function (err) {
        var message = err instanceof ApiError ? err.message : 'Your contexts could not be drawn.';
        reportError('contexts', 'Could not load your contexts: ' + sentence(message),
          err instanceof ApiError ? err.code : 'draw_failed');
      });
  }

  Promise.all([basemapDrawn, initialSetDrawn])
    .then(nextFrames)
    .then(function () {
      document.body.dataset.mapReady = '1';
    })
    .catch(function () { /* already reported on the page */ })
    .finally(function () { endTask(); });
}());
