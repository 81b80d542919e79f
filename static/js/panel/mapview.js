/*
 * csmap – the panel's map: cells and areas as SVG paths that take keyboard focus (one tab
 * stop, arrows move between shapes, Enter chooses), the "Fine cells (tiles)" vector tiles,
 * and the meeting pack's numbered marks.
 */
import { classOf, seqIndex, changeClass } from '../lib/classes.js';
import { ApiError } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { ringCentre } from '../lib/geo.js';
import { trendKey } from './config.js';
import { readingOrder } from './places.js';

function centroidOf(feature) {
  const g = feature.geometry;
  return ringCentre(g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0]);
}

/** H3 resolution the server's tiles use at a zoom (webmap/features/layers/tiles.py). */
export function tileResolution(z) {
  if (z >= 14) {
    return 9;
  }
  return z >= 12 ? 8 : 7;
}
const CELL_KM2 = { 7: '5.2', 8: '0.74', 9: '0.1' };

export function createMapView(P) {
  const L = window.L;
  const { state } = P;
  const interactive = P.cfg.mode === 'panel';
  const C = P.colours;
  const map = L.map(P.mapEl, {
    preferCanvas: true, keyboard: interactive, zoomControl: interactive, dragging: interactive,
    scrollWheelZoom: interactive, doubleClickZoom: interactive, touchZoom: interactive,
    boxZoom: interactive, attributionControl: false,
    zoomSnap: interactive ? 0.25 : 0, // the pack: fill the fixed-size map exactly
    zoomDelta: 0.5, maxZoom: 17,
  }).setView([54.6, 1.2], 13);
  map.createPane('pnl-data');
  map.createPane('pnl-tiles');
  map.createPane('pnl-marks');
  // Cells and areas: SVG, so each shape is an element that can take focus and a label.
  const renderer = L.svg({ pane: 'pnl-data', padding: 0.5 });
  const dataPane = map.getPane('pnl-data');
  L.control.scale({ imperial: false, position: 'bottomright' }).addTo(map);

  const view = {
    map, interactive, cellLayer: null, areaLayer: null, cellsByKey: {}, areasByKey: {},
    cellOrder: [], areaOrder: [], tileLayer: null,
    markLayer: L.layerGroup([], { pane: 'pnl-marks' }).addTo(map),
  };
  let tileTip = null;
  let tileMarked = null;

  const isSelected = (kind, key) => Boolean(state.selected && state.selected.kind === kind
    && state.selected.id === key);

  function fillFor(kind, key) {
    if (kind === 'area') {
      const a = state.areas;
      const n = a && a.series[key] ? a.series[key][state.idx] : 0;
      const ai = a ? classOf(a.breaks, n) : -1;
      return ai < 0 ? null : C.seq[seqIndex(ai, a.breaks.length)];
    }
    if (state.layer === 'trends') {
      const tk = state.trends[key] ? trendKey(state.trends[key].pattern) : null;
      return tk ? C.trend[tk] : null;
    }
    if (state.layer === 'change') {
      const c = state.change ? changeClass(state.change.cells[key]) : null;
      return c ? C.change[c] : null;
    }
    const ci = classOf(state.breaks, P.countAt(key));
    return ci < 0 ? null : C.seq[seqIndex(ci, state.breaks.length)];
  }

  function shapeStyle(kind, key) {
    const fill = fillFor(kind, key);
    const selected = isSelected(kind, key);
    const style = {
      stroke: true,
      color: selected ? C.selected : C.outline,
      weight: selected ? 4 : (kind === 'area' ? 1.5 : 1),
      opacity: fill || kind === 'area' || selected ? 0.9 : 0.35,
      fill: true,
      fillColor: fill || '#ffffff',
      fillOpacity: fill ? 0.72 : 0.01,
    };
    if (kind === 'cell' && state.layer === 'trends' && fill
        && trendKey(state.trends[key].pattern) === 'new') {
      style.weight = selected ? 4 : 2.5;
      style.color = selected ? C.selected : '#1b1f24';
    }
    return style;
  }
  const cellStyle = (f) => shapeStyle('cell', String(f.properties.cell));
  const areaStyle = (f) => shapeStyle('area', String(f.properties.code));

  function decorate(layer, kind, key) {
    const node = layer.getElement && layer.getElement();
    if (node) {
      node.setAttribute('tabindex', '-1');
      node.setAttribute('role', 'button');
      node.setAttribute('data-kind', kind);
      node.setAttribute('data-key', key);
      node.setAttribute('aria-label', P.describe(kind, key));
      node.classList.add('pnl-shape');
    }
  }

  function bindShape(layer, kind, key) {
    layer.pnlKind = kind;
    layer.pnlKey = key;
    layer.pnlCentre = centroidOf(layer.feature);
    if (!interactive) {
      return;
    }
    layer.on('add', () => decorate(layer, kind, key));
    layer.on('click', () => P.select(kind, key, false, true));
    layer.bindTooltip(() => el('span', null, P.describe(kind, key)),
      { sticky: true, direction: 'top', className: 'pnl-tooltip' });
  }

  /** The shapes of one kind (cells keyed by cell, areas by code), replacing any before. */
  function build(kind, fc) {
    const idKey = kind === 'cell' ? 'cell' : 'code';
    const byKey = {};
    const layer = L.geoJSON(fc, {
      renderer, pane: 'pnl-data', interactive, style: kind === 'cell' ? cellStyle : areaStyle,
      onEachFeature: (feature, shape) => {
        const key = String(feature.properties[idKey]);
        byKey[key] = shape;
        bindShape(shape, kind, key);
      },
    });
    return { layer, byKey, order: readingOrder(layer.getLayers(), (l) => l.pnlCentre) };
  }

  view.buildCells = (fc) => {
    ({ layer: view.cellLayer, byKey: view.cellsByKey, order: view.cellOrder } = build('cell', fc));
  };

  view.buildAreas = (fc) => {
    if (view.areaLayer) {
      map.removeLayer(view.areaLayer);
    }
    ({ layer: view.areaLayer, byKey: view.areasByKey, order: view.areaOrder } = build('area', fc));
  };

  /** A cell's centre [lon, lat] (null if the cell has no outline). */
  view.centreOf = (cell) => (view.cellsByKey[cell] ? view.cellsByKey[cell].pnlCentre : null);

  view.showShapes = () => {
    const wantAreas = state.layer === 'areas';
    const wantCells = !wantAreas && state.layer !== 'tiles';
    const toggle = (layer, want) => {
      if (layer && want !== map.hasLayer(layer)) {
        if (want) {
          layer.addTo(map);
        } else {
          map.removeLayer(layer);
        }
      }
    };
    toggle(view.cellLayer, wantCells);
    toggle(view.areaLayer, wantAreas);
    const svgRoot = dataPane.querySelector('svg');
    if (svgRoot && interactive) {
      svgRoot.setAttribute('role', 'group');
      svgRoot.setAttribute('aria-label', wantAreas ? 'Areas on the map' : 'Cells on the map');
    }
  };

  // -- "Fine cells (tiles)": Mapbox Vector Tiles of the month's counts; the server picks the
  // cell size from the zoom, so fine cells need not travel as GeoJSON.

  view.tilePrecision = () => `Cells of about ${CELL_KM2[tileResolution(Math.round(map.getZoom()))]}`
    + ' km² at this zoom (finer when zoomed in, coarser when zoomed out).';

  function tileUrl() {
    const q = new URLSearchParams();
    q.set('from', P.month());
    q.set('to', P.month());
    if (state.category) {
      q.set('category', state.category);
    }
    return `${P.cfg.urls.tiles}?${q.toString()}`;
  }

  function tileStyle(props) {
    const ci = classOf(state.breaks, Number(props.n) || 0);
    const fill = ci < 0 ? null : C.seq[seqIndex(ci, state.breaks.length)];
    const selected = isSelected('cell', String(props.cell));
    return { stroke: true, color: selected ? C.selected : C.outline, weight: selected ? 3 : 0.5,
      opacity: 0.8, fill: true, fillColor: fill || '#ffffff', fillOpacity: fill ? 0.72 : 0.01 };
  }

  function showTileTip(e, props) {
    if (!tileTip) {
      tileTip = L.tooltip({ direction: 'top', className: 'pnl-tooltip', offset: [0, -6] });
    }
    tileTip.setLatLng(e.latlng).setContent(el('span', null, P.tileTipText(props)));
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
    const layer = L.vectorGrid.protobuf(tileUrl(), {
      pane: 'pnl-tiles', vectorTileLayerStyles: { cells: tileStyle }, interactive,
      getFeatureId: (f) => String(f.properties.cell),
      fetchOptions: { credentials: 'same-origin' }, maxNativeZoom: 17,
    });
    if (interactive) {
      layer.on('mouseover mousemove', (e) => {
        if (e.layer && e.layer.properties) {
          showTileTip(e, e.layer.properties);
        }
      });
      layer.on('mouseout', hideTileTip);
      layer.on('click', (e) => {
        const props = e.layer && e.layer.properties;
        if (!props) {
          return;
        }
        const cell = String(props.cell);
        if (state.series[cell]) {
          P.select('cell', cell, false); // a cell of the Counts layer's size: its sparkline
        }
        showTileTip(e, props);
      });
    }
    return layer;
  }

  /** Show (pointed at the chosen month) or hide the tile layer. */
  view.showTiles = () => {
    if (state.layer !== 'tiles') {
      hideTileTip();
      if (view.tileLayer && map.hasLayer(view.tileLayer)) {
        map.removeLayer(view.tileLayer);
      }
      return;
    }
    const url = tileUrl();
    if (!view.tileLayer) {
      view.tileLayer = makeTileLayer();
      view.tileLayer.addTo(map);
    } else if (!map.hasLayer(view.tileLayer)) {
      view.tileLayer.setUrl(url, true);
      view.tileLayer.addTo(map);
    } else if (view.tileLayer.pnlUrl !== url) {
      hideTileTip();
      view.tileLayer.setUrl(url); // and redraw
    }
    view.tileLayer.pnlUrl = url;
  };

  // -- restyling and the keyboard

  const currentOrder = () => (state.layer === 'areas' ? view.areaOrder : view.cellOrder);

  function resetRoving(focusKey) {
    const order = currentOrder();
    if (!order.length) {
      return;
    }
    const active = document.activeElement;
    const wantKind = state.layer === 'areas' ? 'area' : 'cell';
    const keep = focusKey
      || (active && active.getAttribute && dataPane.contains(active) ? active.getAttribute('data-key') : null)
      || (state.selected && state.selected.kind === wantKind ? state.selected.id : null);
    let found = false;
    order.forEach((layer) => {
      const node = layer.getElement && layer.getElement();
      if (node) {
        const on = keep ? layer.pnlKey === keep : false;
        found = found || on;
        node.setAttribute('tabindex', on ? '0' : '-1');
      }
    });
    const first = !found && order[0].getElement && order[0].getElement();
    if (first) {
      first.setAttribute('tabindex', '0');
    }
  }

  view.restyle = () => {
    if (view.tileLayer && map.hasLayer(view.tileLayer)) {
      // tileStyle reads the selection: re-run it for the cells whose state changed.
      const now = state.selected && state.selected.kind === 'cell' ? state.selected.id : null;
      if (tileMarked && tileMarked !== now) {
        view.tileLayer.resetFeatureStyle(tileMarked);
      }
      if (now) {
        view.tileLayer.resetFeatureStyle(now);
      }
      tileMarked = now;
    }
    const areas = state.layer === 'areas';
    const layer = areas ? view.areaLayer : view.cellLayer;
    if (!layer) {
      return;
    }
    layer.setStyle(areas ? areaStyle : cellStyle);
    if (interactive) {
      const byKey = areas ? view.areasByKey : view.cellsByKey;
      Object.keys(byKey).forEach((key) => {
        const node = byKey[key].getElement && byKey[key].getElement();
        if (node) {
          node.setAttribute('aria-label', P.describe(byKey[key].pnlKind, key));
        }
      });
      resetRoving();
    }
    if (state.selected) {
      const sel = (state.selected.kind === 'area' ? view.areasByKey : view.cellsByKey)[state.selected.id];
      if (sel && sel.bringToFront && map.hasLayer(sel)) {
        sel.bringToFront();
      }
    }
  };

  /** Centre on a shape (close enough to see the streets, far enough to see its neighbours). */
  view.zoomTo = (kind, key) => {
    const layer = (kind === 'area' ? view.areasByKey : view.cellsByKey)[key];
    if (layer) {
      map.setView(layer.getBounds().getCenter(), Math.max(map.getZoom(), 14), { animate: false });
    }
  };

  function focusShape(layer) {
    const node = layer.getElement && layer.getElement();
    if (!node) {
      return;
    }
    resetRoving(layer.pnlKey);
    const centre = L.latLng(layer.pnlCentre[1], layer.pnlCentre[0]);
    if (!map.getBounds().pad(-0.1).contains(centre)) {
      map.panTo(centre, { animate: false });
    }
    node.focus({ preventScroll: true });
  }

  dataPane.addEventListener('keydown', (e) => {
    const target = e.target;
    const key = target && target.getAttribute ? target.getAttribute('data-key') : null;
    if (!key) {
      return;
    }
    const order = currentOrder();
    const i = order.findIndex((layer) => layer.pnlKey === key);
    let next = null;
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
        [next] = order;
        break;
      case 'End':
        next = order[order.length - 1];
        break;
      case 'Enter':
      case ' ':
        P.select(target.getAttribute('data-kind'), key, false, true); // focus to its details
        break;
      case 'Escape':
        P.clearSelection();
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

  return view;
}
