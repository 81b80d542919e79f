/*
 * csmap – the MACE panel page (/panel) and its meeting pack (/panel/print).
 *
 * Plain ES2018, no build step. Needs leaflet.js and basemap.js loaded first.
 * Safe under "script-src 'self'; style-src 'self'": nothing here writes a style attribute or
 * inline <style>. Cells and areas are coloured through Leaflet path options (SVG attributes);
 * the colours are CSS custom properties in csmap.css (--pnl-*), read back here, so the map and
 * the legend swatches (.pnl-sw-* classes) always agree.
 *
 * Data (all from the JSON API, the user's own agency, audited there):
 *   series    monthly counts per cell over 12 months: the slider plays these, no refetch;
 *   counts    once, over the whole range (+3 months), for the OUTLINES of the cells;
 *   emerging  emerging hot spot classes now, and at the end of the last meeting's month;
 *   change    this month (or quarter) against the one before, fetched per month, cached;
 *   areas     per area of one boundary set: all 12 months at once (cached), so the slider and
 *             the area sparklines need no further requests;
 *   top-contexts  since the last meeting against the same number of months before.
 *
 * Configuration: data-* attributes on #pnl (see templates/panel/_data.html).
 * Signals for browser tests, on <body>:
 *   data-panel-ready="1"   once the first layer is drawn
 *   data-panel-error="…"   an error code if a request failed
 */
(function () {
  'use strict';

  var root = document.getElementById('pnl');
  var mapEl = document.getElementById('pnl-map');
  if (!root || !mapEl) {
    return;
  }
  var MODE = root.dataset.mode === 'print' ? 'print' : 'panel';
  var $ = function (id) { return document.getElementById(id); };
  var statusEl = $('pnl-status');

  // ---------------------------------------------------------------------------
  // Status line and errors
  // ---------------------------------------------------------------------------

  var pending = 0;
  var lastError = null;

  function setStatus(text, isError) {
    if (statusEl) {
      statusEl.textContent = text || '';
      statusEl.classList.toggle('is-error', Boolean(isError));
    }
  }

  function begin(message) {
    pending += 1;
    if (!lastError) {
      setStatus(message);
    }
  }

  function end() {
    pending = Math.max(0, pending - 1);
    if (!pending && !lastError) {
      setStatus('');
    }
  }

  function fail(err) {
    lastError = err;
    var message = err && err.message ? err.message : 'Something went wrong. Try reloading the page.';
    setStatus(message, true);
    document.body.dataset.panelError = (err && err.code) || 'error';
    if (window.console && !(err instanceof ApiError)) {
      window.console.warn(err); // a bug, not a server answer: keep it visible to developers
    }
  }

  function clearError() {
    lastError = null;
    delete document.body.dataset.panelError;
    if (!pending) {
      setStatus('');
    }
  }

  if (typeof window.L === 'undefined' || typeof window.fetch !== 'function') {
    setStatus('The map cannot be shown: the map library did not load. Try reloading the page.', true);
    document.body.dataset.panelError = 'leaflet_missing';
    return;
  }
  var L = window.L;

  // ---------------------------------------------------------------------------
  // Configuration
  // ---------------------------------------------------------------------------

  var ds = root.dataset;
  var URLS = {
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
  };
  var RES = /^[789]$/.test(ds.res || '') ? ds.res : '8';
  var MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;
  var ASKED = {
    month: MONTH_RE.test(ds.month || '') ? ds.month : '',
    meeting: MONTH_RE.test(ds.meeting || '') ? ds.meeting : '',
    category: ds.category || '',
  };

  // ---------------------------------------------------------------------------
  // Colours (csmap.css --pnl-*; the values here are fallbacks only)
  // ---------------------------------------------------------------------------

  var rootStyle = window.getComputedStyle(document.documentElement);
  function cssVar(name, fallback) {
    return rootStyle.getPropertyValue(name).trim() || fallback;
  }

  // Counts and areas: ColorBrewer RdPu, 5 classes (colour-blind safe, sequential).
  var SEQ = ['#fcc5c0', '#fa9fb5', '#f768a1', '#c51b8a', '#7a0177'].map(function (fb, i) {
    return cssVar('--pnl-seq-' + i, fb);
  });

  // Trends: plain words first, the ArcGIS name in brackets; short explanations.
  var TRENDS = [
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
  var TREND = {};
  TRENDS.forEach(function (t) {
    t.color = cssVar('--pnl-trend-' + t.key, t.fb);
    TREND[t.key] = t;
  });
  // What the panel watches: the order they are listed in.
  var WATCH = ['new', 'intensifying', 'consecutive', 'diminishing'];
  var STRONG = ['new', 'consecutive', 'intensifying', 'persistent', 'diminishing'];

  // Change: ColorBrewer RdBu (diverging, colour-blind safe), and a darker red for "new".
  var CHANGE = [
    { key: 'new', label: 'New (none in the period before)', fb: '#67001f' },
    { key: 'up2', label: 'Up by half or more', fb: '#ca0020' },
    { key: 'up1', label: 'Up 10% to 50%', fb: '#f4a582' },
    { key: 'same', label: 'About the same (within 10%)', fb: '#f7f7f7' },
    { key: 'down1', label: 'Down 10% to 50%', fb: '#92c5de' },
    { key: 'down2', label: 'Down by half or more (or to none)', fb: '#0571b0' },
  ];
  var CHANGE_BY = {};
  CHANGE.forEach(function (c) {
    c.color = cssVar('--pnl-div-' + c.key, c.fb);
    CHANGE_BY[c.key] = c;
  });
  var OUTLINE = cssVar('--pnl-outline', '#4d4d4d');
  var SELECTED = cssVar('--pnl-selected', '#000000');

  // ---------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------

  var MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
    'September', 'October', 'November', 'December'];

  function monthName(ym) {
    var p = String(ym).split('-');
    return MONTHS[Number(p[1]) - 1] + ' ' + p[0];
  }

  function monthShort(ym) {
    var p = String(ym).split('-');
    return MONTHS[Number(p[1]) - 1].slice(0, 3) + ' ' + p[0];
  }

  function addMonths(ym, n) {
    var p = String(ym).split('-');
    var total = Number(p[0]) * 12 + Number(p[1]) - 1 + n;
    var m = (total % 12) + 1;
    return Math.floor(total / 12) + '-' + (m < 10 ? '0' : '') + m;
  }

  function monthsBetween(a, b) {
    var out = [];
    for (var m = a; m <= b; m = addMonths(m, 1)) {
      out.push(m);
    }
    return out;
  }

  /** "October 2026", or "August – October 2026" / "November 2025 – January 2026". */
  function periodName(from, to) {
    if (from === to) {
      return monthName(to);
    }
    if (from.slice(0, 4) === to.slice(0, 4)) {
      return MONTHS[Number(from.slice(5)) - 1] + ' – ' + monthName(to);
    }
    return monthName(from) + ' – ' + monthName(to);
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : (many || one + 's'));
  }

  function percentWords(pct, current) {
    if (pct === null || pct === undefined) {
      return current > 0 ? 'new' : 'none either time';
    }
    if (pct === 0) {
      return 'no change';
    }
    var n = Math.abs(pct);
    var text = n >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
    return (pct > 0 ? 'up ' : 'down ') + text + '%';
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

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, className) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (className) {
      node.setAttribute('class', className);
    }
    return node;
  }

  function clear(node) {
    while (node && node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function withQuery(url, params) {
    var target = new URL(url, window.location.href);
    Object.keys(params).forEach(function (k) {
      if (params[k] !== '' && params[k] !== null && params[k] !== undefined) {
        target.searchParams.set(k, params[k]);
      }
    });
    return target.pathname + target.search;
  }

  function swatch(className) {
    var s = el('span', 'pnl-sw ' + className);
    s.setAttribute('aria-hidden', 'true');
    return s;
  }

  function ApiError(message, code) {
    this.name = 'ApiError';
    this.message = message;
    this.code = code;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  var FETCH_TIMEOUT_MS = 30000;

  /** GET a same-origin JSON resource; rejects with an ApiError carrying a readable message. */
  function getJSON(url) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) {
      return Promise.reject(new ApiError('A data address points to another site; it was not loaded.',
        'cross_origin'));
    }
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, FETCH_TIMEOUT_MS) : null;
    return fetch(target.href, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      signal: controller ? controller.signal : undefined,
    }).catch(function (err) {
      if (err && err.name === 'AbortError') {
        throw new ApiError('The server took too long to respond.', 'timeout');
      }
      throw new ApiError('The server could not be reached. Check your connection.', 'network');
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok) {
          var e = body && typeof body === 'object' ? body.error : null;
          throw new ApiError(
            e && e.message ? String(e.message) : 'The server returned an error (HTTP ' + response.status + ').',
            e && e.code ? String(e.code) : 'http_' + response.status);
        }
        if (!body || typeof body !== 'object') {
          throw new ApiError('The server sent data the page could not read.', 'bad_response');
        }
        return body;
      });
    }).finally(function () {
      if (timer !== null) {
        window.clearTimeout(timer);
      }
    });
  }

  /** getJSON with the status line kept up to date. */
  function load(url, message) {
    begin(message || 'Loading…');
    return getJSON(url).finally(end);
  }

  // ---------------------------------------------------------------------------
  // Classes
  // ---------------------------------------------------------------------------

  /** Upper bounds of up to 5 classes for counts 1..max, evenly spaced on a log scale (counts
   * are skewed: most cells have a few records, a few have many). Fixed over the 12 months, so
   * a colour means the same in every month. */
  function breaksFor(max) {
    var out = [];
    var prev = 0;
    for (var i = 1; i <= 5 && prev < max; i++) {
      var b = i === 5 ? max : Math.round(Math.pow(max, i / 5));
      b = Math.min(max, Math.max(b, prev + 1));
      out.push(b);
      prev = b;
    }
    return out;
  }

  function classOf(breaks, n) {
    if (!(n > 0)) {
      return -1;
    }
    for (var i = 0; i < breaks.length; i++) {
      if (n <= breaks[i]) {
        return i;
      }
    }
    return breaks.length - 1;
  }

  /** Palette index for class i of k: spread over the 5 colours, darkest always last. */
  function seqIndex(i, k) {
    return k <= 1 ? 4 : Math.round(4 - (k - 1 - i) * (4 / Math.max(4, k - 1)));
  }

  function classLabel(breaks, i) {
    var lo = i === 0 ? 1 : breaks[i - 1] + 1;
    var hi = breaks[i];
    return lo === hi ? String(lo) : lo + '–' + hi;
  }

  function changeClass(c) {
    if (!c) {
      return null;
    }
    var pct = c.percent_change;
    if (pct === null || pct === undefined) {
      return c.current > 0 ? 'new' : null;
    }
    if (pct >= 50) {
      return 'up2';
    }
    if (pct >= 10) {
      return 'up1';
    }
    if (pct > -10) {
      return 'same';
    }
    if (pct > -50) {
      return 'down1';
    }
    return 'down2';
  }

  function trendKey(pattern) {
    if (!pattern) {
      return null;
    }
    return pattern.indexOf('cold') === 0 ? 'cold' : (TREND[pattern] ? pattern : null);
  }

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------

  var state = {
    months: [],
    idx: 0,
    layer: 'counts',
    category: '',
    period: 'month',
    set: '',
    sets: [],
    meeting: '',
    categories: [],
    series: {},            // cell -> [n per month]
    breaks: [],
    precision: '',
    trends: {},            // cell -> {pattern, z}
    trendsMeeting: {},
    trendsRange: null,
    change: null,          // {from,to,prevFrom,prevTo,cells:{cell->obj},precision}
    areas: null,           // {slug,name,fc,series:{code->[n]},names,breaks,precision}
    selected: null,        // {kind:'cell'|'area', id}
    contexts: null,
  };
  var changeCache = {};
  var areaCache = {};
  var cellNames = {};     // cell -> area name (from the first boundary set)
  var nameSetLabel = '';
  var token = 0;          // guards against a slow answer overwriting a newer one

  // ---------------------------------------------------------------------------
  // Map
  // ---------------------------------------------------------------------------

  var interactive = MODE === 'panel';
  var map = L.map(mapEl, {
    preferCanvas: true,           // the base map: canvas
    keyboard: interactive,
    zoomControl: interactive,
    dragging: interactive,
    scrollWheelZoom: interactive,
    doubleClickZoom: interactive,
    touchZoom: interactive,
    boxZoom: interactive,
    attributionControl: false,
    zoomSnap: interactive ? 0.25 : 0,   // the pack: fill the fixed-size map exactly
    zoomDelta: 0.5,
    maxZoom: 17,
  }).setView([54.6, 1.2], 13);
  map.createPane('pnl-data');
  map.createPane('pnl-tiles');   // "Fine cells (tiles)": vector tiles drawn on canvas
  map.createPane('pnl-marks');
  // Cells and areas: SVG, so each shape is an element that can take focus and a label.
  var renderer = L.svg({ pane: 'pnl-data', padding: 0.5 });
  var dataPane = map.getPane('pnl-data');

  // The precision statement, always on the map.
  var PrecisionControl = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd: function () {
      var box = el('div', 'pnl-map-precision');
      box.id = 'pnl-map-precision';
      return box;
    },
  });
  var precisionControl = new PrecisionControl();
  precisionControl.addTo(map);
  L.control.scale({ imperial: false, position: 'bottomright' }).addTo(map);

  var basemapDone = window.csmapBasemap
    ? window.csmapBasemap.draw(map, URLS.basemap).catch(function (err) {
      fail(new ApiError((err && err.message) || 'The base map could not be loaded.', 'basemap'));
      return null;
    })
    : Promise.resolve(null);

  var cellLayer = null;
  var areaLayer = null;
  var markLayer = L.layerGroup([], { pane: 'pnl-marks' }).addTo(map);
  var cellsByKey = {};
  var areasByKey = {};
  var cellOrder = [];
  var areaOrder = [];

  function centroidOf(feature) {
    var g = feature.geometry;
    var ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];
    var x = 0;
    var y = 0;
    var n = Math.max(1, ring.length - 1);
    for (var i = 0; i < n; i++) {
      x += ring[i][0];
      y += ring[i][1];
    }
    return [x / n, y / n];
  }

  /** Reading order: top row first, west to east (rows about a cell's height apart). */
  function readingOrder(layers) {
    return layers.slice().sort(function (a, b) {
      var ca = a.pnlCentre;
      var cb = b.pnlCentre;
      var ra = Math.round(ca[1] / 0.005);
      var rb = Math.round(cb[1] / 0.005);
      return ra !== rb ? rb - ra : ca[0] - cb[0];
    });
  }

  function decorate(layer, kind, key) {
    var node = layer.getElement && layer.getElement();
    if (!node) {
      return;
    }
    node.setAttribute('tabindex', '-1');
    node.setAttribute('role', 'button');
    node.setAttribute('data-kind', kind);
    node.setAttribute('data-key', key);
    node.setAttribute('aria-label', describe(kind, key));
    node.classList.add('pnl-shape');
  }

  function bindShape(layer, kind, key) {
    layer.pnlKind = kind;
    layer.pnlKey = key;
    layer.pnlCentre = centroidOf(layer.feature);
    if (!interactive) {
      return;
    }
    layer.on('add', function () { decorate(layer, kind, key); });
    layer.on('click', function () { select(kind, key, false); });
    layer.bindTooltip(function () {
      return el('span', null, describe(kind, key));
    }, { sticky: true, direction: 'top', className: 'pnl-tooltip' });
  }

  function buildCells(fc) {
    cellLayer = L.geoJSON(fc, {
      renderer: renderer,
      pane: 'pnl-data',
      interactive: interactive,
      style: cellStyle,
      onEachFeature: function (feature, layer) {
        var key = String(feature.properties.cell);
        cellsByKey[key] = layer;
        bindShape(layer, 'cell', key);
      },
    });
    cellOrder = readingOrder(cellLayer.getLayers());
  }

  function buildAreas(fc) {
    if (areaLayer) {
      map.removeLayer(areaLayer);
    }
    areasByKey = {};
    areaLayer = L.geoJSON(fc, {
      renderer: renderer,
      pane: 'pnl-data',
      interactive: interactive,
      style: areaStyle,
      onEachFeature: function (feature, layer) {
        var key = String(feature.properties.code);
        areasByKey[key] = layer;
        bindShape(layer, 'area', key);
      },
    });
    areaOrder = readingOrder(areaLayer.getLayers());
  }

  function showShapes() {
    var wantAreas = state.layer === 'areas';
    var wantCells = !wantAreas && state.layer !== 'tiles';
    if (cellLayer) {
      if (!wantCells && map.hasLayer(cellLayer)) {
        map.removeLayer(cellLayer);
      } else if (wantCells && !map.hasLayer(cellLayer)) {
        cellLayer.addTo(map);
      }
    }
    if (areaLayer) {
      if (wantAreas && !map.hasLayer(areaLayer)) {
        areaLayer.addTo(map);
      } else if (!wantAreas && map.hasLayer(areaLayer)) {
        map.removeLayer(areaLayer);
      }
    }
    var svgRoot = dataPane.querySelector('svg');
    if (svgRoot && interactive) {
      svgRoot.setAttribute('role', 'group');
      svgRoot.setAttribute('aria-label', wantAreas ? 'Areas on the map' : 'Cells on the map');
    }
  }

  // ---------------------------------------------------------------------------
  // "Fine cells (tiles)": the month's counts as Mapbox Vector Tiles (leaflet.vectorgrid), so
  // fine cells need not travel as GeoJSON. The server picks the cell size from the zoom.
  // ---------------------------------------------------------------------------

  var tileLayer = null;
  var tileTip = null;

  /** H3 resolution the server uses at a zoom (webmap/tiles.py) and its cells' rough area. */
  function tileResolution(z) {
    return z >= 14 ? 9 : (z >= 12 ? 8 : 7);
  }
  var CELL_KM2 = { 7: '5.2', 8: '0.74', 9: '0.1' };

  function tilePrecision() {
    var z = Math.round(map.getZoom());
    return 'Cells of about ' + CELL_KM2[tileResolution(z)] + ' km² at this zoom (finer when zoomed ' +
      'in, coarser when zoomed out).';
  }

  /** The tile URL template for the chosen month and category ({z}/{x}/{y} left for Leaflet). */
  function tileUrl() {
    var q = new URLSearchParams();
    q.set('from', month());
    q.set('to', month());
    if (cat()) {
      q.set('category', cat());
    }
    return URLS.tiles + '?' + q.toString();
  }

  function tileStyle(props) {
    var ci = classOf(state.breaks, Number(props.n) || 0);
    var fill = ci < 0 ? null : SEQ[seqIndex(ci, state.breaks.length)];
    var selected = isSelected('cell', String(props.cell));
    return {
      stroke: true,
      color: selected ? SELECTED : OUTLINE,
      weight: selected ? 3 : 0.5,
      opacity: 0.8,
      fill: true,
      fillColor: fill || '#ffffff',
      fillOpacity: fill ? 0.72 : 0.01,
    };
  }

  function tileTipText(props) {
    var cell = String(props.cell);
    var n = Number(props.n) || 0;
    var where = state.series[cell] ? 'Cell ' + placeOf(cell) : 'This cell';
    return where + ': ' + plural(n, 'record') + ' in ' + monthName(month());
  }

  function showTileTip(e, props) {
    if (!tileTip) {
      tileTip = L.tooltip({ direction: 'top', className: 'pnl-tooltip', offset: [0, -6] });
    }
    tileTip.setLatLng(e.latlng).setContent(el('span', null, tileTipText(props)));
    if (!map.hasLayer(tileTip)) {
      map.openTooltip(tileTip);
    }
  }

  function hideTileTip() {
    if (tileTip && map.hasLayer(tileTip)) {
      map.closeTooltip(tileTip);
    }
  }

  function makeTileLayer() {
    if (!L.vectorGrid || !L.vectorGrid.protobuf) {
      throw new ApiError('The fine cells cannot be shown: the vector tile library did not load.',
        'vectorgrid_missing');
    }
    // VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed.
    if (!L.DomEvent.fakeStop) {
      L.DomEvent.fakeStop = L.DomEvent.stopPropagation;
    }
    var layer = L.vectorGrid.protobuf(tileUrl(), {
      pane: 'pnl-tiles',
      vectorTileLayerStyles: { cells: tileStyle },
      interactive: interactive,
      getFeatureId: function (f) { return String(f.properties.cell); },
      fetchOptions: { credentials: 'same-origin' },
      maxNativeZoom: 17,
    });
    if (interactive) {
      layer.on('mouseover mousemove', function (e) {
        if (e.layer && e.layer.properties) {
          showTileTip(e, e.layer.properties);
        }
      });
      layer.on('mouseout', hideTileTip);
      layer.on('click', function (e) {
        var props = e.layer && e.layer.properties;
        if (!props) {
          return;
        }
        var cell = String(props.cell);
        if (state.series[cell]) {
          select('cell', cell, false);   // a cell of the Counts layer's size: its sparkline
        }
        showTileTip(e, props);
      });
    }
    return layer;
  }

  /** Show (and point at the chosen month) or hide the tile layer. */
  function showTiles() {
    var want = state.layer === 'tiles';
    if (!want) {
      hideTileTip();
      if (tileLayer && map.hasLayer(tileLayer)) {
        map.removeLayer(tileLayer);
      }
      return;
    }
    if (!tileLayer) {
      tileLayer = makeTileLayer();
      tileLayer.pnlUrl = tileUrl();
      tileLayer.addTo(map);
      return;
    }
    var url = tileUrl();
    if (!map.hasLayer(tileLayer)) {
      tileLayer.setUrl(url, true);
      tileLayer.addTo(map);
    } else if (tileLayer.pnlUrl !== url) {
      hideTileTip();
      tileLayer.setUrl(url);   // and redraw
    }
    tileLayer.pnlUrl = url;
  }

  map.on('zoomend', function () {
    if (state.layer === 'tiles') {
      renderLegend();
    }
  });

  // ---------------------------------------------------------------------------
  // What each cell or area shows
  // ---------------------------------------------------------------------------

  function month() {
    return state.months[state.idx];
  }

  function countAt(cell) {
    var s = state.series[cell];
    return s ? s[state.idx] : 0;
  }

  function isSelected(kind, key) {
    return Boolean(state.selected && state.selected.kind === kind && state.selected.id === key);
  }

  function fillFor(kind, key) {
    if (kind === 'area') {
      var a = state.areas;
      var n = a && a.series[key] ? a.series[key][state.idx] : 0;
      var ai = a ? classOf(a.breaks, n) : -1;
      return ai < 0 ? null : SEQ[seqIndex(ai, a.breaks.length)];
    }
    if (state.layer === 'trends') {
      var t = state.trends[key];
      var tk = t ? trendKey(t.pattern) : null;
      return tk ? TREND[tk].color : null;
    }
    if (state.layer === 'change') {
      var c = state.change ? changeClass(state.change.cells[key]) : null;
      return c ? CHANGE_BY[c].color : null;
    }
    var ci = classOf(state.breaks, countAt(key));
    return ci < 0 ? null : SEQ[seqIndex(ci, state.breaks.length)];
  }

  function shapeStyle(kind, key) {
    var fill = fillFor(kind, key);
    var selected = isSelected(kind, key);
    var style = {
      stroke: true,
      color: selected ? SELECTED : OUTLINE,
      weight: selected ? 4 : (kind === 'area' ? 1.5 : 1),
      opacity: fill || kind === 'area' || selected ? 0.9 : 0.35,
      fill: true,
      fillColor: fill || '#ffffff',
      fillOpacity: fill ? 0.72 : 0.01,
    };
    if (kind === 'cell' && state.layer === 'trends' && fill) {
      var t = trendKey(state.trends[key].pattern);
      if (t === 'new') {
        style.weight = selected ? 4 : 2.5;
        style.color = selected ? SELECTED : '#1b1f24';
      }
    }
    return style;
  }

  function cellStyle(feature) {
    return shapeStyle('cell', String(feature.properties.cell));
  }

  function areaStyle(feature) {
    return shapeStyle('area', String(feature.properties.code));
  }

  function placeOf(cell) {
    return cellNames[cell] ? 'in ' + cellNames[cell] : 'near ' + cellFallbackName(cell);
  }

  function cellFallbackName(cell) {
    var layer = cellsByKey[cell];
    if (!layer) {
      return 'cell ' + cell;
    }
    var c = layer.pnlCentre;
    return c[1].toFixed(3) + '° N, ' + Math.abs(c[0]).toFixed(3) + (c[0] >= 0 ? '° E' : '° W');
  }

  function shapeName(kind, key) {
    if (kind === 'area') {
      var a = state.areas;
      return (a && a.names[key]) || key;
    }
    return 'Cell ' + placeOf(key);
  }

  function describe(kind, key) {
    var name = shapeName(kind, key);
    if (kind === 'area') {
      var a = state.areas;
      var n = a && a.series[key] ? a.series[key][state.idx] : 0;
      return name + ': ' + plural(n, 'record') + ' in ' + monthName(month());
    }
    if (state.layer === 'trends') {
      var t = state.trends[key];
      var tk = t ? trendKey(t.pattern) : null;
      return name + ': ' + (tk ? TREND[tk].label + (tk === 'cold' ? '' : ' hot spot') : 'no trend pattern');
    }
    if (state.layer === 'change' && state.change) {
      var c = state.change.cells[key];
      var cur = c ? c.current : 0;
      var prev = c ? c.previous : 0;
      return name + ': ' + cur + ' against ' + prev + ' (' +
        percentWords(c ? c.percent_change : null, cur) + ')';
    }
    return name + ': ' + plural(countAt(key), 'record') + ' in ' + monthName(month());
  }

  var tileMarked = null;   // the cell drawn as selected on the tiles

  function restyle() {
    if (tileLayer && map.hasLayer(tileLayer)) {
      // tileStyle reads the selection: re-run it for the cells whose state changed.
      var now = state.selected && state.selected.kind === 'cell' ? state.selected.id : null;
      if (tileMarked && tileMarked !== now) {
        tileLayer.resetFeatureStyle(tileMarked);
      }
      if (now) {
        tileLayer.resetFeatureStyle(now);
      }
      tileMarked = now;
    }
    var layer = state.layer === 'areas' ? areaLayer : cellLayer;
    if (!layer) {
      return;
    }
    layer.setStyle(state.layer === 'areas' ? areaStyle : cellStyle);
    if (interactive) {
      var byKey = state.layer === 'areas' ? areasByKey : cellsByKey;
      Object.keys(byKey).forEach(function (key) {
        var node = byKey[key].getElement && byKey[key].getElement();
        if (node) {
          node.setAttribute('aria-label', describe(byKey[key].pnlKind, key));
        }
      });
      resetRoving();
    }
    if (state.selected) {
      var sel = (state.selected.kind === 'area' ? areasByKey : cellsByKey)[state.selected.id];
      if (sel && sel.bringToFront && map.hasLayer(sel)) {
        sel.bringToFront();
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Keyboard: one tab stop for all the shapes, arrows move between them, Enter chooses.
  // ---------------------------------------------------------------------------

  function currentOrder() {
    return state.layer === 'areas' ? areaOrder : cellOrder;
  }

  function resetRoving(focusKey) {
    var order = currentOrder();
    if (!order.length) {
      return;
    }
    var active = document.activeElement;
    var keep = focusKey ||
      (active && active.getAttribute && dataPane.contains(active) ? active.getAttribute('data-key') : null) ||
      (state.selected && state.selected.kind === (state.layer === 'areas' ? 'area' : 'cell')
        ? state.selected.id : null);
    var found = false;
    order.forEach(function (layer) {
      var node = layer.getElement && layer.getElement();
      if (!node) {
        return;
      }
      var on = keep ? layer.pnlKey === keep : false;
      found = found || on;
      node.setAttribute('tabindex', on ? '0' : '-1');
    });
    if (!found) {
      var first = order[0].getElement && order[0].getElement();
      if (first) {
        first.setAttribute('tabindex', '0');
      }
    }
  }

  function focusShape(layer) {
    var node = layer.getElement && layer.getElement();
    if (!node) {
      return;
    }
    resetRoving(layer.pnlKey);
    var centre = L.latLng(layer.pnlCentre[1], layer.pnlCentre[0]);
    if (!map.getBounds().pad(-0.1).contains(centre)) {
      map.panTo(centre, { animate: false });
    }
    node.focus({ preventScroll: true });
  }

  dataPane.addEventListener('keydown', function (e) {
    var target = e.target;
    var key = target && target.getAttribute ? target.getAttribute('data-key') : null;
    if (!key) {
      return;
    }
    var order = currentOrder();
    var i = -1;
    for (var j = 0; j < order.length; j++) {
      if (order[j].pnlKey === key) {
        i = j;
        break;
      }
    }
    var next = null;
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowDown':
        next = order[Math.min(order.length - 1, i + 1)];
        break;
      case 'ArrowLeft':
      case 'ArrowUp':
        next = order[Math.max(0, i - 1)];
        break;
      case 'Home':
        next = order[0];
        break;
      case 'End':
        next = order[order.length - 1];
        break;
      case 'Enter':
      case ' ':
        select(target.getAttribute('data-kind'), key, false);
        break;
      case 'Escape':
        clearSelection();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
    if (next) {
      focusShape(next);
    }
  });

  // ---------------------------------------------------------------------------
  // Legend
  // ---------------------------------------------------------------------------

  function legendItem(swatchClass, label, help, count) {
    var li = el('li', 'pnl-legend__item');
    li.appendChild(swatch(swatchClass));
    var text = el('span', 'pnl-legend__text');
    text.appendChild(el('span', 'pnl-legend__label', label));
    if (count !== undefined && count !== null) {
      text.appendChild(el('span', 'pnl-legend__count', ' (' + plural(count, 'cell') + ')'));
    }
    if (help) {
      text.appendChild(el('span', 'pnl-legend__help', help));
    }
    li.appendChild(text);
    if (count === 0) {
      li.classList.add('is-empty');
    }
    return li;
  }

  function categoryLabel() {
    if (!state.category) {
      return 'All categories';
    }
    for (var i = 0; i < state.categories.length; i++) {
      if (state.categories[i].code === state.category) {
        return state.categories[i].label;
      }
    }
    return state.category;
  }

  function renderLegend() {
    var items = $('pnl-legend-items');
    if (!items || !state.months.length) {
      return;
    }
    var title = '';
    var period = '';
    var note = '';
    var total = '';
    var precision = state.precision;
    clear(items);
    var m = month();
    if (state.layer === 'counts') {
      title = 'Records per cell';
      period = monthName(m) + ' · ' + categoryLabel();
      var perClass = state.breaks.map(function () { return 0; });
      var sum = 0;
      var cells = 0;
      Object.keys(state.series).forEach(function (cell) {
        var n = state.series[cell][state.idx];
        sum += n;
        if (n > 0) {
          cells += 1;
          perClass[classOf(state.breaks, n)] += 1;
        }
      });
      for (var i = state.breaks.length - 1; i >= 0; i--) {
        items.appendChild(legendItem('pnl-sw-seq-' + seqIndex(i, state.breaks.length),
          classLabel(state.breaks, i) + ' records', null, perClass[i]));
      }
      items.appendChild(legendItem('pnl-sw-none', 'None this month'));
      total = 'Total this month: ' + plural(sum, 'record') + ' in ' + plural(cells, 'cell') + '.';
      note = 'The classes stay the same for every month, so colours compare across the year.';
    } else if (state.layer === 'tiles') {
      title = 'Records per cell: fine cells';
      period = monthName(m) + ' · ' + categoryLabel();
      for (var ti = state.breaks.length - 1; ti >= 0; ti--) {
        items.appendChild(legendItem('pnl-sw-seq-' + seqIndex(ti, state.breaks.length),
          classLabel(state.breaks, ti) + ' records'));
      }
      items.appendChild(legendItem('pnl-sw-none', 'None this month'));
      note = 'Fine cells from vector tiles; cell size grows as you zoom out (about 0.1 km² when ' +
        'zoomed in). The classes are the Counts layer’s.';
      precision = tilePrecision();
    } else if (state.layer === 'trends') {
      var r = state.trendsRange || [state.months[0], m];
      title = 'Trends: emerging hot spots';
      period = periodName(r[0], r[1]) + ' · ' + categoryLabel();
      var counts = {};
      Object.keys(state.trends).forEach(function (cell) {
        var k = trendKey(state.trends[cell].pattern);
        if (k) {
          counts[k] = (counts[k] || 0) + 1;
        }
      });
      TRENDS.forEach(function (t) {
        items.appendChild(legendItem('pnl-sw-trend-' + t.key, t.label, t.help, counts[t.key] || 0));
      });
      var flagged = WATCH.reduce(function (acc, k) { return acc + (counts[k] || 0); }, 0);
      total = plural(Object.keys(state.trends).length, 'cell') + ' with a pattern; ' +
        flagged + ' new, on a recent run, growing or fading.';
      note = 'A hot spot is a cell that, together with the cells around it, has clearly more ' +
        'records than the town as a whole (Getis-Ord Gi*, 90% confidence or more), so a cell with ' +
        'few records of its own can be one. Trends cover the whole 12 months: the month slider ' +
        'does not change them.';
    } else if (state.layer === 'change') {
      var ch = state.change;
      title = 'Change against the period before';
      if (ch) {
        period = periodName(ch.from, ch.to) + ' against ' + periodName(ch.prevFrom, ch.prevTo) +
          ' · ' + categoryLabel();
        precision = ch.precision || precision;
        var byClass = {};
        var cur = 0;
        var prev = 0;
        Object.keys(ch.cells).forEach(function (cell) {
          var c = ch.cells[cell];
          cur += c.current;
          prev += c.previous;
          var k = changeClass(c);
          if (k) {
            byClass[k] = (byClass[k] || 0) + 1;
          }
        });
        CHANGE.forEach(function (c) {
          items.appendChild(legendItem('pnl-sw-div-' + c.key, c.label, null, byClass[c.key] || 0));
        });
        items.appendChild(legendItem('pnl-sw-none', 'None in either period'));
        total = 'This period: ' + plural(cur, 'record') + '; the period before: ' + prev + ' (' +
          percentWords(prev ? Math.round((cur - prev) / prev * 1000) / 10 : null, cur) + ').';
      } else {
        period = 'Loading…';
      }
      note = 'Small numbers swing widely: from 1 to 2 is up 100%.';
    } else {
      var a = state.areas;
      title = 'Records per area' + (a ? ': ' + a.name : '');
      period = monthName(m) + ' · ' + categoryLabel();
      if (a) {
        precision = a.precision || precision;
        var perArea = a.breaks.map(function () { return 0; });
        var sumA = 0;
        var top = null;
        Object.keys(a.series).forEach(function (code) {
          var n = a.series[code][state.idx];
          sumA += n;
          if (n > 0) {
            perArea[classOf(a.breaks, n)] += 1;
          }
          if (!top || n > a.series[top][state.idx]) {
            top = code;
          }
        });
        for (var k = a.breaks.length - 1; k >= 0; k--) {
          var li = legendItem('pnl-sw-seq-' + seqIndex(k, a.breaks.length),
            classLabel(a.breaks, k) + ' records', null, null);
          li.lastChild.appendChild(el('span', 'pnl-legend__count', ' (' + plural(perArea[k], 'area') + ')'));
          li.classList.toggle('is-empty', perArea[k] === 0);
          items.appendChild(li);
        }
        items.appendChild(legendItem('pnl-sw-none', 'None this month'));
        total = 'Total this month: ' + plural(sumA, 'record') + ' in ' +
          plural(Object.keys(a.series).length, 'area') +
          (top && sumA ? '; most in ' + a.names[top] + ' (' + a.series[top][state.idx] + ').' : '.');
      }
      note = 'An area’s total is the sum of the cells assigned to it. The classes stay the same ' +
        'for every month.';
    }
    $('pnl-legend-title').textContent = title;
    $('pnl-legend-period').textContent = period;
    $('pnl-legend-note').textContent = note;
    $('pnl-total').textContent = total;
    $('pnl-precision-text').textContent = precision;
    var onMap = $('pnl-map-precision');
    if (onMap) {
      onMap.textContent = precision;
    }
  }

  // ---------------------------------------------------------------------------
  // Selected cell or area: sparkline (SVG built with DOM calls) and a table for screen readers
  // ---------------------------------------------------------------------------

  function seriesOf(sel) {
    if (!sel) {
      return null;
    }
    if (sel.kind === 'area') {
      return state.areas && state.areas.series[sel.id] ? state.areas.series[sel.id] : null;
    }
    return state.series[sel.id] || state.months.map(function () { return 0; });
  }

  function sparkline(values) {
    var W = 280;
    var H = 72;
    var padX = 8;
    var top = 14;
    var bottom = 18;
    var max = Math.max(1, Math.max.apply(null, values));
    var step = (W - 2 * padX) / Math.max(1, values.length - 1);
    var y = function (v) { return H - bottom - (v / max) * (H - top - bottom); };
    var box = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, 'aria-hidden': 'true',
      focusable: 'false' }, 'pnl-spark');
    box.appendChild(svg('line', { x1: padX, x2: W - padX, y1: y(0), y2: y(0) }, 'pnl-spark__axis'));
    var cur = padX + state.idx * step;
    box.appendChild(svg('line', { x1: cur, x2: cur, y1: top - 4, y2: y(0) }, 'pnl-spark__now'));
    var points = values.map(function (v, i) { return (padX + i * step).toFixed(1) + ',' + y(v).toFixed(1); });
    box.appendChild(svg('polyline', { points: points.join(' ') }, 'pnl-spark__line'));
    values.forEach(function (v, i) {
      box.appendChild(svg('circle', { cx: padX + i * step, cy: y(v), r: i === state.idx ? 4 : 2.25 },
        i === state.idx ? 'pnl-spark__dot pnl-spark__dot--now' : 'pnl-spark__dot'));
    });
    var maxLabel = svg('text', { x: padX, y: 10 }, 'pnl-spark__label');
    maxLabel.textContent = 'max ' + Math.max.apply(null, values);
    box.appendChild(maxLabel);
    var first = svg('text', { x: padX, y: H - 4 }, 'pnl-spark__label');
    first.textContent = monthShort(state.months[0]);
    box.appendChild(first);
    var last = svg('text', { x: W - padX, y: H - 4, 'text-anchor': 'end' }, 'pnl-spark__label');
    last.textContent = monthShort(state.months[state.months.length - 1]);
    box.appendChild(last);
    return box;
  }

  function renderSelected() {
    var box = $('pnl-selected');
    if (!box) {
      return;
    }
    var sel = state.selected;
    var values = seriesOf(sel);
    var title = $('pnl-selected-title');
    if (!sel || !values) {
      box.hidden = true;
      title.textContent = 'Selected cell or area';
      return;
    }
    box.hidden = false;
    var name = shapeName(sel.kind, sel.id);
    title.textContent = 'Selected: ' + name;
    var sum = values.reduce(function (a, b) { return a + b; }, 0);
    var summary = plural(values[state.idx], 'record') + ' in ' + monthName(month()) + '; ' +
      plural(sum, 'record') + ' over the 12 months';
    if (sel.kind === 'cell') {
      var t = state.trends[sel.id];
      var tk = t ? trendKey(t.pattern) : null;
      summary += '. Trend: ' + (tk ? TREND[tk].label : 'no pattern');
    }
    $('pnl-selected-summary').textContent = summary + '.';
    var spark = $('pnl-spark');
    clear(spark);
    spark.appendChild(sparkline(values));
    var table = el('table', 'sr-only');
    table.appendChild(el('caption', null, 'Records per month, ' + name));
    var head = el('tr');
    head.appendChild(el('th', null, 'Month'));
    head.appendChild(el('th', null, 'Records'));
    head.firstChild.setAttribute('scope', 'col');
    head.lastChild.setAttribute('scope', 'col');
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el('tbody');
    values.forEach(function (v, i) {
      var tr = el('tr');
      var th = el('th', null, monthName(state.months[i]));
      th.setAttribute('scope', 'row');
      tr.appendChild(th);
      tr.appendChild(el('td', null, String(v)));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    spark.appendChild(table);
  }

  function select(kind, key, zoom) {
    state.selected = { kind: kind, id: key };
    var layer = (kind === 'area' ? areasByKey : cellsByKey)[key];
    if (zoom && layer) {
      // Close enough to see the streets, far enough to see the cells around it.
      map.setView(layer.getBounds().getCenter(), Math.max(map.getZoom(), 14), { animate: false });
    }
    restyle();
    renderSelected();
    announce('Selected ' + describe(kind, key) + '.');
  }

  function clearSelection() {
    state.selected = null;
    restyle();
    renderSelected();
  }

  function announce(text) {
    var node = $('pnl-announce');
    if (node) {
      node.textContent = text;
    }
  }

  // ---------------------------------------------------------------------------
  // What changed since the last meeting
  // ---------------------------------------------------------------------------

  function watchList() {
    var rows = [];
    Object.keys(state.trends).forEach(function (cell) {
      var k = trendKey(state.trends[cell].pattern);
      if (WATCH.indexOf(k) >= 0) {
        rows.push({ cell: cell, key: k, z: state.trends[cell].z });
      }
    });
    // Clear hot spots at the last meeting that are no longer hot (or only "historical").
    // (Sporadic and oscillating cells come and go by nature: their dropping out is not news.)
    Object.keys(state.trendsMeeting).forEach(function (cell) {
      var was = trendKey(state.trendsMeeting[cell].pattern);
      var now = state.trends[cell] ? trendKey(state.trends[cell].pattern) : null;
      if (STRONG.indexOf(was) >= 0 && (!now || now === 'historical' || now === 'cold')) {
        rows.push({ cell: cell, key: 'dropped', was: was, z: 0 });
      }
    });
    var rank = function (k) {
      var i = WATCH.indexOf(k);
      return i < 0 ? WATCH.length : i;
    };
    rows.sort(function (a, b) { return rank(a.key) - rank(b.key) || b.z - a.z; });
    return rows;
  }

  function renderChanges() {
    var list = $('pnl-watch');
    if (!list) {
      return;
    }
    clear(list);
    markLayer.clearLayers();
    var rows = watchList();
    $('pnl-watch-empty').hidden = rows.length > 0;
    rows.forEach(function (row, n) {
      var li = el('li', 'pnl-watch__item');
      var dropped = row.key === 'dropped';
      li.appendChild(swatch(dropped ? 'pnl-sw-none' : 'pnl-sw-trend-' + row.key));
      var text = el('div', 'pnl-watch__text');
      text.appendChild(el('strong', null, dropped ? 'No longer a hot spot' : TREND[row.key].label));
      text.appendChild(el('span', 'pnl-watch__place', ' · ' + placeOf(row.cell)));
      var latest = state.months.length - 1;
      var nowCount = state.series[row.cell] ? state.series[row.cell][latest] : 0;
      var was = state.trendsMeeting[row.cell] ? trendKey(state.trendsMeeting[row.cell].pattern) : null;
      var then;
      if (dropped) {
        then = 'was ' + TREND[row.was].label;
      } else if (!was) {
        then = 'not flagged at the last meeting';
      } else if (was === row.key) {
        then = 'the same at the last meeting';
      } else {
        then = 'was ' + TREND[was].label + ' at the last meeting';
      }
      text.appendChild(el('span', 'pnl-watch__then',
        plural(nowCount, 'record') + ' in ' + monthShort(state.months[latest]) + '; ' + then + '.'));
      li.appendChild(text);
      if (MODE === 'panel') {
        var btn = el('button', 'btn btn-secondary pnl-btn-small pnl-zoom', 'Zoom to');
        btn.type = 'button';
        btn.setAttribute('aria-label', 'Zoom to cell ' + placeOf(row.cell) + ' (' +
          (dropped ? 'no longer a hot spot' : TREND[row.key].label) + ')');
        btn.addEventListener('click', function () {
          if (state.layer === 'areas') {
            setLayer('trends');
          }
          select('cell', row.cell, true);
        });
        li.appendChild(btn);
      } else if (cellsByKey[row.cell]) {
        // The meeting pack: the list's numbers on the map.
        var c = cellsByKey[row.cell].pnlCentre;
        var label = el('span', 'pnl-mark__text', String(n + 1));
        L.marker([c[1], c[0]], {
          pane: 'pnl-marks', interactive: false, keyboard: false,
          icon: L.divIcon({ className: 'pnl-mark', html: label, iconSize: null }),
        }).addTo(markLayer);
      }
      list.appendChild(li);
    });
    renderContexts();
  }

  function renderContexts() {
    var body = $('pnl-contexts');
    var data = state.contexts;
    if (!body || !data) {
      return;
    }
    clear(body);
    $('pnl-contexts-period').textContent = 'Now: ' + periodName(data.from, data.to) + '. Before: ' +
      periodName(data.prevFrom, data.prevTo) + '.';
    $('pnl-contexts-empty').hidden = data.contexts.length > 0;
    $('pnl-contexts-note').hidden = !state.category;
    data.contexts.forEach(function (c) {
      var tr = el('tr');
      var th = el('th', 'pnl-contexts__name');
      th.setAttribute('scope', 'row');
      th.appendChild(el('span', null, c.name));
      th.appendChild(el('span', 'pnl-contexts__kind', String(c.kind || '').replace(/_/g, ' ')));
      tr.appendChild(th);
      tr.appendChild(el('td', 'num', String(c.current)));
      tr.appendChild(el('td', 'num', String(c.previous)));
      var words = percentWords(c.percent_change, c.current);
      var td = el('td', 'pnl-contexts__change', words);
      td.classList.add(/^up|^new/.test(words) ? 'is-up' : (/^down/.test(words) ? 'is-down' : 'is-same'));
      tr.appendChild(td);
      body.appendChild(tr);
    });
  }

  // ---------------------------------------------------------------------------
  // Loading the layers
  // ---------------------------------------------------------------------------

  function cat() {
    return state.category;
  }

  function loadSeries(to) {
    return load(withQuery(URLS.series, { res: RES, to: to || '', category: cat() }),
      'Loading the months…').then(function (body) {
      state.months = body.months || [];
      state.series = body.cells || {};
      state.breaks = breaksFor(body.max || 0);
      state.precision = body.precision || '';
      return body;
    });
  }

  function loadTrends() {
    var latest = state.months[state.months.length - 1];
    var now = load(withQuery(URLS.emerging, { res: RES, to: latest, category: cat() }),
      'Loading the trends…');
    var then = state.meeting
      ? load(withQuery(URLS.emerging, { res: RES, to: state.meeting, category: cat() }),
        'Loading the trends…')
      : Promise.resolve({ cells: [] });
    return Promise.all([now, then]).then(function (answers) {
      var toMap = function (body) {
        var out = {};
        (body.cells || []).forEach(function (c) { out[String(c.cell)] = c; });
        return out;
      };
      state.trends = toMap(answers[0]);
      state.trendsRange = [answers[0].from || state.months[0], answers[0].to || latest];
      state.trendsMeeting = toMap(answers[1]);
    });
  }

  function loadContexts() {
    var latest = state.months[state.months.length - 1];
    var from = addMonths(state.meeting || addMonths(latest, -1), 1);
    var n = monthsBetween(from, latest).length;
    return load(withQuery(URLS.topContexts, { from: from, to: latest }), 'Loading the contexts…')
      .then(function (body) {
        state.contexts = {
          contexts: body.contexts || [],
          from: from,
          to: latest,
          prevFrom: addMonths(from, -n),
          prevTo: addMonths(from, -1),
        };
      });
  }

  function changeRange() {
    var to = month();
    return { from: state.period === 'quarter' ? addMonths(to, -2) : to, to: to };
  }

  function loadChange() {
    var r = changeRange();
    var key = [r.from, r.to, cat()].join('|');
    if (changeCache[key]) {
      state.change = changeCache[key];
      return Promise.resolve(state.change);
    }
    return load(withQuery(URLS.change, { res: RES, from: r.from, to: r.to, category: cat() }),
      'Loading the change…').then(function (body) {
      var cells = {};
      (body.cells || []).forEach(function (c) { cells[String(c.cell)] = c; });
      var cur = body.current || [r.from, r.to];
      var prev = body.previous || [r.from, r.to];
      changeCache[key] = {
        from: cur[0], to: cur[1], prevFrom: prev[0], prevTo: prev[1], cells: cells,
        precision: body.precision,
      };
      if (key === [changeRange().from, changeRange().to, cat()].join('|')) {
        state.change = changeCache[key];
      }
      return changeCache[key];
    });
  }

  function setName(slug) {
    for (var i = 0; i < state.sets.length; i++) {
      if (state.sets[i].slug === slug) {
        return state.sets[i].name;
      }
    }
    return slug;
  }

  function loadAreas() {
    var slug = state.set;
    var key = slug + '|' + cat();
    if (areaCache[key]) {
      return Promise.resolve(areaCache[key]);
    }
    var url = URLS.areas.replace('__slug__', encodeURIComponent(slug));
    begin('Loading the areas…');
    return Promise.all(state.months.map(function (m) {
      return getJSON(withQuery(url, { res: RES, month: m, category: cat() }));
    })).finally(end).then(function (answers) {
      var series = {};
      var names = {};
      var max = 0;
      answers.forEach(function (fc, i) {
        (fc.features || []).forEach(function (f) {
          var code = String(f.properties.code);
          if (!series[code]) {
            series[code] = state.months.map(function () { return 0; });
          }
          series[code][i] = f.properties.n || 0;
          names[code] = f.properties.name || code;
          max = Math.max(max, series[code][i]);
        });
      });
      areaCache[key] = {
        slug: slug, name: setName(slug), fc: answers[answers.length - 1], series: series,
        names: names, breaks: breaksFor(max), precision: answers[0] ? answers[0].precision : '',
      };
      return areaCache[key];
    });
  }

  /** Names for cells: the area of the first boundary set their centre falls in. */
  function loadCellNames(slug) {
    if (!slug) {
      return Promise.resolve();
    }
    return getJSON(URLS.setAreas.replace('__slug__', encodeURIComponent(slug))).then(function (fc) {
      var areas = (fc.features || []).filter(function (f) { return f.geometry; });
      Object.keys(cellsByKey).forEach(function (cell) {
        var c = cellsByKey[cell].pnlCentre;
        for (var i = 0; i < areas.length; i++) {
          if (contains(areas[i].geometry, c[0], c[1])) {
            cellNames[cell] = areas[i].properties.name || areas[i].properties.code;
            break;
          }
        }
      });
    }).catch(function () { /* names are a nicety: cells fall back to their position */ });
  }

  function contains(geometry, x, y) {
    var polys = geometry.type === 'Polygon' ? [geometry.coordinates]
      : (geometry.type === 'MultiPolygon' ? geometry.coordinates : []);
    var inside = false;
    polys.forEach(function (rings) {
      rings.forEach(function (ring) {
        for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          var xi = ring[i][0];
          var yi = ring[i][1];
          var xj = ring[j][0];
          var yj = ring[j][1];
          if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) {
            inside = !inside;
          }
        }
      });
    });
    return inside;
  }

  // ---------------------------------------------------------------------------
  // Drawing the chosen layer for the chosen month
  // ---------------------------------------------------------------------------

  function draw() {
    var mine = ++token;
    var ready = Promise.resolve();
    if (state.layer === 'change') {
      ready = loadChange();
    } else if (state.layer === 'areas') {
      ready = loadAreas().then(function (a) {
        if (mine !== token) {
          return;
        }
        if (!state.areas || state.areas !== a) {
          state.areas = a;
          var selectedArea = state.selected && state.selected.kind === 'area' && a.series[state.selected.id];
          if (state.selected && state.selected.kind === 'area' && !selectedArea) {
            state.selected = null;
          }
          buildAreas(a.fc);
        }
      });
    }
    return ready.then(function () {
      if (mine !== token) {
        return;
      }
      if (state.layer === 'change') {
        state.change = changeCache[[changeRange().from, changeRange().to, cat()].join('|')] || state.change;
      }
      clearError();
      showShapes();
      showTiles();
      restyle();
      renderLegend();
      renderSelected();
    }).catch(fail);
  }

  function monthText() {
    return monthName(month());
  }

  function syncMonthUi() {
    var label = $('pnl-month-label');
    if (label) {
      label.textContent = monthText();
    }
    var range = $('pnl-month');
    if (range) {
      range.value = String(state.idx);
      range.setAttribute('aria-valuetext', monthText());
    }
    var printMonth = $('pnl-print-month');
    if (printMonth) {
      printMonth.textContent = monthText();
    }
    syncPrintLink();
  }

  function syncPrintLink() {
    var link = $('pnl-print-link');
    if (link && state.months.length) {
      link.href = withQuery(URLS.print, { month: month(), meeting: state.meeting, category: cat() });
    }
  }

  function setMonth(i) {
    state.idx = Math.max(0, Math.min(state.months.length - 1, i));
    syncMonthUi();
    return draw().then(function () {
      var extra = '';
      if (state.layer === 'counts') {
        extra = ': ' + $('pnl-total').textContent.replace(/^Total this month: /, '');
      }
      announce(monthText() + extra);
    });
  }

  function setLayer(name) {
    state.layer = name;
    var radio = document.querySelector('input[name="pnl-layer"][value="' + name + '"]');
    if (radio) {
      radio.checked = true;
    }
    var period = $('pnl-period-field');
    if (period) {
      period.hidden = name !== 'change';
    }
    var setField = $('pnl-set-field');
    if (setField) {
      setField.hidden = name !== 'areas';
    }
    if (state.selected && (state.selected.kind === 'area') !== (name === 'areas')) {
      state.selected = null;
    }
    return draw();
  }

  // ---------------------------------------------------------------------------
  // Play
  // ---------------------------------------------------------------------------

  var playBtn = $('pnl-play');
  var playing = false;
  var playTimer = null;
  var STEP_MS = 1000;

  function stopPlaying() {
    playing = false;
    window.clearTimeout(playTimer);
    if (playBtn) {
      playBtn.textContent = 'Play';
    }
  }

  function stepPlay() {
    if (!playing) {
      return;
    }
    if (state.idx >= state.months.length - 1) {
      stopPlaying();
      return;
    }
    setMonth(state.idx + 1).then(function () {
      if (!playing) {
        return;
      }
      if (state.idx >= state.months.length - 1) {
        stopPlaying();
      } else {
        playTimer = window.setTimeout(stepPlay, STEP_MS);
      }
    });
  }

  function startPlaying() {
    playing = true;
    playBtn.textContent = 'Pause';
    var begin0 = state.idx >= state.months.length - 1 ? setMonth(0) : Promise.resolve();
    begin0.then(function () { playTimer = window.setTimeout(stepPlay, STEP_MS); });
  }

  // ---------------------------------------------------------------------------
  // Controls
  // ---------------------------------------------------------------------------

  function fillSelect(select, options, selected) {
    options.forEach(function (o) {
      var opt = el('option', null, o.label);
      opt.value = o.value;
      opt.selected = o.value === selected;
      select.appendChild(opt);
    });
  }

  function wireControls() {
    var range = $('pnl-month');
    range.max = String(state.months.length - 1);
    range.disabled = false;
    playBtn.disabled = false;
    $('pnl-month-first').textContent = monthShort(state.months[0]);
    $('pnl-month-last').textContent = monthShort(state.months[state.months.length - 1]);
    range.addEventListener('input', function () {
      setMonth(Number(range.value));
    });
    playBtn.addEventListener('click', function () {
      if (playing) {
        stopPlaying();
      } else {
        startPlaying();
      }
    });
    stopPlaying();

    Array.prototype.forEach.call(document.querySelectorAll('input[name="pnl-layer"]'), function (radio) {
      radio.addEventListener('change', function () {
        if (radio.checked) {
          setLayer(radio.value);
        }
      });
    });

    var category = $('pnl-category');
    category.addEventListener('change', function () {
      state.category = category.value;
      changeCache = {};
      state.change = null;
      syncPrintLink();
      Promise.all([loadSeries(state.months[state.months.length - 1]), loadTrends()])
        .then(function () {
          renderChanges();
          return draw();
        }).catch(fail);
    });

    var period = $('pnl-period');
    period.addEventListener('change', function () {
      state.period = period.value === 'quarter' ? 'quarter' : 'month';
      draw();
    });

    var setSel = $('pnl-set');
    setSel.addEventListener('change', function () {
      state.set = setSel.value;
      draw();
    });

    var meeting = $('pnl-meeting');
    if (meeting) {
      fillSelect(meeting, state.months.slice(0, -1).reverse().map(function (m) {
        return { value: m, label: monthName(m) };
      }), state.meeting);
      meeting.addEventListener('change', function () {
        state.meeting = meeting.value;
        syncPrintLink();
        Promise.all([loadTrends(), loadContexts()]).then(renderChanges).then(function () {
          if (state.layer === 'trends') {
            restyle();
            renderLegend();
          }
        }).catch(fail);
      });
    }

    $('pnl-clear').addEventListener('click', function () {
      clearSelection();
      $('pnl-selected-title').focus();
    });
    $('pnl-selected-title').setAttribute('tabindex', '-1');
  }

  // ---------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------

  function start() {
    state.category = ASKED.category;
    var reference = Promise.all([
      getJSON(URLS.categories).catch(function () { return { categories: [] }; }),
      getJSON(URLS.sets).catch(function () { return { boundary_sets: [] }; }),
    ]).then(function (answers) {
      state.categories = answers[0].categories || [];
      state.sets = answers[1].boundary_sets || [];
      if (state.category && !state.categories.some(function (c) { return c.code === state.category; })) {
        state.category = '';
      }
      state.set = state.sets.length ? state.sets[0].slug : '';
      var catSel = $('pnl-category');
      if (catSel) {
        fillSelect(catSel, state.categories.map(function (c) { return { value: c.code, label: c.label }; }),
          state.category);
      }
      var setSel = $('pnl-set');
      if (setSel) {
        fillSelect(setSel, state.sets.map(function (s) { return { value: s.slug, label: s.name }; }), state.set);
      }
      var catText = $('pnl-print-category');
      if (catText) {
        catText.textContent = categoryLabel();
      }
    });

    return reference.then(function () {
      return loadSeries(MODE === 'print' ? ASKED.month : '');
    }).then(function () {
      if (!state.months.length) {
        throw new ApiError('There are no months to show yet.', 'no_months');
      }
      var latest = state.months[state.months.length - 1];
      var askedIdx = MODE === 'panel' && ASKED.month ? state.months.indexOf(ASKED.month) : -1;
      state.idx = askedIdx >= 0 ? askedIdx : state.months.length - 1;
      state.meeting = ASKED.meeting && ASKED.meeting < latest && ASKED.meeting >= state.months[0]
        ? ASKED.meeting : addMonths(latest, -1);
      var meetingText = $('pnl-meeting-text');
      if (meetingText) {
        meetingText.textContent = 'Last meeting: ' + monthName(state.meeting) +
          '. Trends now are compared with trends at the end of that month.';
      }
      syncMonthUi();
      // Outlines of every cell with a record in the window (and the quarter before it, for
      // the Change layer), whatever the category: the layers only recolour them.
      var outlines = load(withQuery(URLS.counts, {
        res: RES, from: addMonths(state.months[0], -3), to: latest,
      }), 'Loading the cells…');
      return Promise.all([outlines, loadTrends(), loadContexts(), basemapDone]);
    }).then(function (answers) {
      buildCells(answers[0]);
      var bounds = cellLayer.getBounds();
      var land = answers[3];
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: MODE === 'print' ? [8, 8] : [16, 16], animate: false });
      } else if (land) {
        map.fitBounds(land, { animate: false });
      }
      if (MODE === 'panel') {
        wireControls();
      }
      return loadCellNames(state.set);
    }).then(function () {
      renderChanges();
      return draw();
    }).then(function () {
      if (!lastError) {
        setStatus('');
      }
      document.body.dataset.panelReady = '1';
    }).catch(function (err) {
      fail(err);
      document.body.dataset.panelReady = '1';
    });
  }

  if (MODE === 'print') {
    var printBtn = $('pnl-print-button');
    if (printBtn) {
      printBtn.addEventListener('click', function () { window.print(); });
    }
    var back = $('pnl-back-link');
    if (back && ASKED.month) {
      back.href = withQuery(URLS.panel, { month: ASKED.month, meeting: ASKED.meeting, category: ASKED.category });
    }
  }

  start();
}());
