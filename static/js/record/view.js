/*
 * csmap – where the recording map opens, and "Use my location": a practitioner on a phone
 * should be at the street they are standing in within a tap or two, not on the whole town.
 *
 * The map opens where this browser last left it (kept in localStorage: a view, never a
 * record), else over the agency's own area (its jurisdiction), else over the whole town.
 */

export const KEY = 'csmap.record.view';

/** "minLon,minLat,maxLon,maxLat" -> [[minLat, minLon], [maxLat, maxLon]] (Leaflet's order),
 * or null for anything else. */
export function parseHome(text) {
  const v = String(text || '').split(',').map(Number);
  if (v.length !== 4 || !v.every(Number.isFinite) || v[0] >= v[2] || v[1] >= v[3]) {
    return null;
  }
  return [[v[1], v[0]], [v[3], v[2]]];
}

/** A remembered view {lat, lng, zoom}, if it is one and lies inside box [[s, w], [n, e]]. */
export function validView(view, box) {
  if (!view || typeof view !== 'object') {
    return null;
  }
  const { lat, lng, zoom } = view;
  if (![lat, lng, zoom].every(Number.isFinite) || zoom < 0 || zoom > 22) {
    return null;
  }
  if (box && !(lat >= box[0][0] && lat <= box[1][0] && lng >= box[0][1] && lng <= box[1][1])) {
    return null;
  }
  return { lat, lng, zoom };
}

function stored() {
  try {
    return JSON.parse(window.localStorage.getItem(KEY) || 'null');
  } catch (err) {
    return null; // storage off or full: the map simply opens on the agency's area
  }
}

/**
 * Open the map: the last view, else home, else the town's bounds; from then on remember
 * where it is left. box: the town's bounds with a margin (a remembered view outside them is
 * not used).
 */
export function openView(map, home, town) {
  const L = window.L;
  const margin = town ? town.pad(0.5) : null;
  const box = margin ? [[margin.getSouth(), margin.getWest()], [margin.getNorth(), margin.getEast()]] : null;
  const last = validView(stored(), box);
  if (last) {
    map.setView([last.lat, last.lng], last.zoom, { animate: false });
  } else if (home) {
    map.fitBounds(L.latLngBounds(home), { padding: [8, 8], animate: false });
  } else if (town) {
    map.fitBounds(town, { padding: [8, 8], animate: false });
  }
  map.on('moveend', () => {
    const c = map.getCenter();
    try {
      window.localStorage.setItem(KEY, JSON.stringify({ lat: +c.lat.toFixed(5), lng: +c.lng.toFixed(5),
        zoom: map.getZoom() }));
    } catch (err) {
      // storage off or full: nothing to remember
    }
  });
  return last ? 'last' : (home ? 'home' : 'town');
}

/** Whether this browser can offer "Use my location" (it needs a secure page). */
export function canLocate() {
  return Boolean(window.isSecureContext && navigator.geolocation);
}

/**
 * Find the user: resolves {latlng, accuracy} or rejects with a sentence to show.
 */
export function locate() {
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ latlng: [pos.coords.latitude, pos.coords.longitude], accuracy: pos.coords.accuracy }),
      (err) => reject(new Error(err && err.code === 1
        ? 'Your location was not shared. Allow it in the browser, or tap the map where it was.'
        : 'Your location could not be found. Tap the map where it was.')),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}
