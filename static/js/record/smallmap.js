/*
 * csmap – the small maps of the records list and of one record: the town's base map and the
 * agency's own records on it, at their exact positions.
 */
import { loadBasemap } from '../lib/basemap.js';
import { cssVar } from '../lib/dom.js';
import { precisionCaption } from '../lib/legend.js';

/** Every map of the agency's own records says so. */
export const PRECISION = 'Exact positions: your agency\'s own records, as recorded.';

/** {map, drawn: Promise<bounds|null>} */
export function smallMap(node, basemapUrl) {
  const L = window.L;
  const map = L.map(node, { preferCanvas: true, keyboard: true, attributionControl: false,
    zoomSnap: 0.25, maxZoom: 19, scrollWheelZoom: false }).setView([54.6, 1.2], 13);
  const drawn = loadBasemap(map, basemapUrl).then((base) => base.bounds).catch(() => null);
  precisionCaption(node).set(PRECISION);
  return { map, drawn };
}

/** The records (GeoJSON) in the colour of saved records. */
export function recordLayer(data) {
  const L = window.L;
  const colour = cssVar('--rec-today', '#1d4ed8');
  return L.geoJSON(data, {
    style: () => ({ color: colour, weight: 4, fillOpacity: 0.2 }),
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 7, color: '#ffffff', weight: 2,
      fillColor: colour, fillOpacity: 1 }),
  });
}

/** Fit the map to the layer, or to the fallback bounds when the layer is empty. */
export function fitTo(map, layer, fallback) {
  const b = layer.getBounds();
  if (b.isValid()) {
    map.fitBounds(b, { padding: [24, 24], maxZoom: 16, animate: false });
  } else if (fallback) {
    map.fitBounds(fallback, { animate: false });
  }
}
