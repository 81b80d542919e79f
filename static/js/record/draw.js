/*
 * csmap – drawing on the recording map without a plugin: a tap (or "Add point at map
 * centre", for keyboard users: the map pans with the arrow keys under a fixed crosshair)
 * drops the pin or adds a vertex; lines and areas have Undo / Clear / Finish.
 */
import { $, cssVar } from '../lib/dom.js';

const MIN_POINTS = { Point: 1, LineString: 2, Polygon: 3 };

/** The GeoJSON geometry of the points drawn in a mode, or null when there are too few. */
export function geometryOf(mode, points) {
  const c = points.map((p) => [+p.lng.toFixed(6), +p.lat.toFixed(6)]);
  if (c.length < MIN_POINTS[mode]) {
    return null;
  }
  if (mode === 'Point') {
    return { type: 'Point', coordinates: c[0] };
  }
  if (mode === 'LineString') {
    return { type: 'LineString', coordinates: c };
  }
  return { type: 'Polygon', coordinates: [c.concat([c[0]])] };
}

/** What the drawing status line says. */
export function drawingText(mode, n, finished) {
  if (mode === 'Point') {
    return n ? 'Pin placed. Tap the map again to move it.'
      : 'No pin yet. Tap the map where it was, or move the map and use “Add point at map centre”.';
  }
  const what = mode === 'LineString' ? 'line' : 'area';
  if (!n) {
    return `Tap the map to add the first point of the ${what}.`;
  }
  const count = `${n} ${n === 1 ? 'point' : 'points'}`;
  if (n < MIN_POINTS[mode]) {
    return `${count} — add at least ${MIN_POINTS[mode] - n} more.`;
  }
  return finished ? `The ${what} is finished: ${count}.` : `${count} — finish the ${what} when done.`;
}

/** The drawing on map; onChange() after every change (e.g. to clear the map's error). */
export function createDrawing(map, onChange) {
  const L = window.L;
  const colour = cssVar('--rec-draw', '#c2185b');
  const layer = L.layerGroup().addTo(map);
  const pinIcon = L.divIcon({ className: 'rec-pin', iconSize: [26, 26], iconAnchor: [13, 24], html: '' });
  const d = { mode: 'Point', pts: [], finished: false };

  const setEnabled = (btn, on) => btn.setAttribute('aria-disabled', on ? 'false' : 'true');

  function syncUi() {
    const multi = d.mode !== 'Point';
    const n = d.pts.length;
    $('btn-undo').hidden = !multi;
    $('btn-finish').hidden = !multi;
    setEnabled($('btn-undo'), n > 0);
    setEnabled($('btn-finish'), n >= MIN_POINTS[d.mode] && !d.finished);
    setEnabled($('btn-clear'), n > 0);
    $('geom-status').textContent = drawingText(d.mode, n, d.finished);
  }

  d.redraw = () => {
    layer.clearLayers();
    const { pts } = d;
    if (d.mode === 'Point') {
      if (pts.length) {
        L.marker(pts[0], { icon: pinIcon, interactive: false, keyboard: false }).addTo(layer);
      }
    } else {
      if (d.mode === 'Polygon' && pts.length >= 3) {
        L.polygon(pts, { color: colour, weight: 3, fillOpacity: 0.2, interactive: false }).addTo(layer);
      } else if (pts.length >= 2) {
        L.polyline(pts, { color: colour, weight: 4, dashArray: d.finished ? null : '8 6',
          interactive: false }).addTo(layer);
      }
      pts.forEach((p) => {
        L.circleMarker(p, { radius: 6, color: '#ffffff', weight: 2, fillColor: colour, fillOpacity: 1,
          interactive: false }).addTo(layer);
      });
    }
    syncUi();
  };

  d.add = (latlng) => {
    if (d.mode === 'Point') {
      d.pts = [latlng];
    } else {
      d.pts.push(latlng);
      d.finished = false;
    }
    onChange();
    d.redraw();
  };

  d.setMode = (mode) => {
    if (mode === d.mode) {
      return;
    }
    if (mode === 'Point') {
      d.pts = d.pts.length === 1 ? d.pts : [];
    }
    d.mode = mode;
    d.finished = false;
    d.redraw();
  };

  d.clear = () => {
    d.pts = [];
    d.finished = false;
    d.redraw();
  };

  d.geometry = () => geometryOf(d.mode, d.pts);
  d.tooFew = () => !d.geometry() && d.pts.length > 0;

  map.on('click', (e) => d.add(e.latlng));
  const onButton = (id, action) => {
    $(id).addEventListener('click', () => {
      if ($(id).getAttribute('aria-disabled') !== 'true') {
        action();
      }
    });
  };
  onButton('btn-centre', () => {
    map.stop(); // an arrow-key pan may still be moving: take what is under the crosshair now
    d.add(map.getCenter());
  });
  onButton('btn-undo', () => { d.pts.pop(); d.finished = false; d.redraw(); });
  onButton('btn-finish', () => { d.finished = true; d.redraw(); });
  onButton('btn-clear', d.clear);
  return d;
}
