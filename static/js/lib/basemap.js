/*
 * csmap – the one base-map renderer: the town's land, land use, river, roads, railway,
 * stations and district names, drawn from /api/v1/basemap into panes of their own (the same
 * pane names and CSS classes on every map, so static/css/map.css styles them all).
 *
 *   const base = await loadBasemap(map, url, { stations: true });
 *   base.bounds     the land's bounds (or of everything drawn), null when nothing was drawn
 *   base.groups     {landuse, water, roads, rail, labels}: layer groups a switcher may toggle
 *   base.present    which symbols the data has (a legend lists only those)
 *   base.setTilesVisible(on)  let raster tiles show through the land
 *
 * Leaflet is the global window.L (its vendored plugins need it so).
 */
import { getFeatures } from './api.js';
import { cssVar, el } from './dom.js';

export const PANES = ['cs-land', 'cs-landuse', 'cs-water', 'cs-road-casing', 'cs-roads',
  'cs-rail', 'cs-labels'];

const LAYERS = ['land', 'park', 'retail', 'residential', 'river', 'road', 'rail', 'station',
  'place_label'];

function colours() {
  return {
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
}

function isMainRoad(feature) {
  return Boolean(feature && feature.properties && feature.properties.kind === 'main');
}

/** A feature's point: itself, or the centre of its bounds. */
export function pointOf(feature) {
  const L = window.L;
  const g = feature.geometry;
  if (!g) {
    return null;
  }
  if (g.type === 'Point' && Array.isArray(g.coordinates) && g.coordinates.length >= 2) {
    return L.latLng(g.coordinates[1], g.coordinates[0]);
  }
  const bounds = L.geoJSON(feature).getBounds();
  return bounds.isValid() ? bounds.getCenter() : null;
}

/** A station marker for one or more stations (names) drawn at latlng. */
function stationMarker(latlng, names) {
  const L = window.L;
  const label = names.length > 1 ? `Stations: ${names.join(' and ')}` : `Station: ${names[0]}`;
  const marker = L.marker(latlng, {
    icon: L.divIcon({ className: 'cs-station', iconSize: [STATION_PX, STATION_PX], html: '' }),
    keyboard: true,
    riseOnHover: true,
  });
  marker.bindTooltip(() => el('span', null, label.replace(/^Stations?: /, '')),
    { direction: 'top', offset: [0, -13], className: 'cs-tooltip' });
  marker.on('add', () => {
    const icon = marker.getElement();
    if (icon) {
      icon.setAttribute('aria-label', label);
    }
  });
  return marker;
}

/** A marker is a touch target, at least STATION_PX across (WCAG 2.2, 2.5.8). */
const STATION_PX = 24;

/**
 * Draw the stations into group, one marker per cluster: stations closer on screen than a
 * target's width share one marker that names them all, so no two targets overlap and no
 * station's name is lost at any zoom.
 */
function drawStations(map, group, features) {
  const stations = features
    .map((f) => ({ latlng: pointOf(f), name: f.properties.name || 'Station' }))
    .filter((s) => s.latlng);
  const draw = () => {
    group.clearLayers();
    const shown = [];
    stations.forEach((s) => {
      const at = map.latLngToContainerPoint(s.latlng);
      const near = shown.find((c) => c.at.distanceTo(at) < STATION_PX);
      if (near) {
        near.names.push(s.name);
      } else {
        shown.push({ at, latlng: s.latlng, names: [s.name] });
      }
    });
    shown.forEach((c) => group.addLayer(stationMarker(c.latlng, c.names)));
  };
  map.on('zoomend', draw);
  map.whenReady(draw); // positions on screen need the map's view
  return stations.length;
}

function placeLabel(feature) {
  const L = window.L;
  const latlng = pointOf(feature);
  const name = feature.properties.name;
  if (!latlng || !name) {
    return null;
  }
  const kind = String(feature.properties.kind || '').toLowerCase().replace(/[^a-z0-9-]/g, '');
  return L.marker(latlng, {
    pane: 'cs-labels',
    icon: L.divIcon({
      className: `cs-place-label${kind ? ` cs-place-label--${kind}` : ''}`,
      html: el('span', 'cs-place-label__text', name),
      iconSize: null,
    }),
    interactive: false,
    keyboard: false,
  });
}

/**
 * Draw a base map FeatureCollection. options.stations: station markers that take focus and
 * show their names (the map page); other maps leave them out.
 */
export function drawBasemap(map, fc, options) {
  const L = window.L;
  const opts = options || {};
  const c = colours();
  let tilesVisible = false;
  PANES.forEach((name) => {
    if (!map.getPane(name)) {
      map.createPane(name);
    }
  });
  const container = map.getContainer();
  container.classList.add('cs-map');
  const syncZoomClass = () => container.classList.toggle('cs-zoom-low', map.getZoom() < 13);
  map.on('zoomend', syncZoomClass);

  const area = (pane, fill, edge, opacity) => L.geoJSON(null, {
    pane,
    interactive: false,
    style: () => ({ stroke: true, color: edge, weight: 1, opacity: 1, fill: true, fillColor: fill,
      fillOpacity: opacity ? opacity() : 1 }),
  });
  const line = (pane, style) => L.geoJSON(null, { pane, interactive: false, style });
  const layers = {
    land: area('cs-land', c.land, c.landEdge, () => (tilesVisible ? 0.35 : 1)),
    residential: area('cs-landuse', c.residential, c.residential),
    park: area('cs-landuse', c.park, c.parkEdge),
    retail: area('cs-landuse', c.retail, c.retailEdge),
    river: line('cs-water', (f) => (/Polygon$/.test(f.geometry && f.geometry.type)
      ? { stroke: false, fill: true, fillColor: c.water, fillOpacity: 1 }
      : { color: c.water, weight: 4, opacity: 1, lineCap: 'round', lineJoin: 'round' })),
    roadCasing: line('cs-road-casing', (f) => (isMainRoad(f)
      ? { color: c.mainRoadCasing, weight: 7.5, opacity: 1 }
      : { color: c.minorRoadCasing, weight: 4.5, opacity: 1 })),
    roads: line('cs-roads', (f) => (isMainRoad(f)
      ? { color: c.mainRoad, weight: 5, opacity: 1 }
      : { color: c.minorRoad, weight: 2.5, opacity: 1 })),
    rail: line('cs-rail', () => ({ color: c.rail, weight: 2.5, opacity: 1, dashArray: '7 5',
      lineCap: 'butt' })),
    stations: L.layerGroup(),
    placeLabels: L.layerGroup(),
  };

  const buckets = {};
  LAYERS.forEach((key) => { buckets[key] = []; });
  fc.features.forEach((f) => {
    if (f && f.geometry) {
      f.properties = f.properties || {};
      if (Object.prototype.hasOwnProperty.call(buckets, f.properties.layer)) {
        buckets[f.properties.layer].push(f);
      }
    }
  });
  const collection = (list) => ({ type: 'FeatureCollection', features: list });
  ['land', 'residential', 'park', 'retail', 'river', 'rail'].forEach((k) => {
    layers[k].addData(collection(buckets[k]));
  });
  layers.roadCasing.addData(collection(buckets.road));
  layers.roads.addData(collection(buckets.road));
  const stationCount = opts.stations ? drawStations(map, layers.stations, buckets.station) : 0;
  buckets.place_label.map(placeLabel).filter(Boolean).forEach((m) => layers.placeLabels.addLayer(m));

  const groups = {
    landuse: L.layerGroup([layers.residential, layers.park, layers.retail]),
    water: L.layerGroup([layers.river]),
    roads: L.layerGroup([layers.roadCasing, layers.roads]),
    rail: L.layerGroup([layers.rail, layers.stations]),
    labels: L.layerGroup([layers.placeLabels]),
  };
  layers.land.addTo(map);
  Object.keys(groups).forEach((k) => groups[k].addTo(map));

  const present = {
    land: buckets.land.length > 0,
    residential: buckets.residential.length > 0,
    park: buckets.park.length > 0,
    retail: buckets.retail.length > 0,
    river: buckets.river.length > 0,
    mainRoad: buckets.road.some(isMainRoad),
    minorRoad: buckets.road.some((f) => !isMainRoad(f)),
    rail: buckets.rail.length > 0,
    station: stationCount > 0,
    place: layers.placeLabels.getLayers().length > 0,
  };

  // The land's bounds; else everything drawn.
  let bounds = layers.land.getBounds();
  if (!bounds.isValid()) {
    bounds = L.latLngBounds([]);
    ['residential', 'park', 'retail', 'river', 'roads', 'rail'].forEach((k) => {
      const b = layers[k].getBounds();
      if (b.isValid()) {
        bounds.extend(b);
      }
    });
  }
  syncZoomClass();
  if (bounds.isValid()) {
    // Keep people from getting lost in an empty sea.
    map.setMaxBounds(bounds.pad(1.5));
    map.setMinZoom(Math.max(0, map.getBoundsZoom(bounds) - 3));
  }
  return {
    bounds: bounds.isValid() ? bounds : null,
    groups,
    present,
    syncZoomClass,
    setTilesVisible(on) {
      tilesVisible = Boolean(on);
      layers.land.resetStyle();
    },
  };
}

/** Fetch the base map from url and draw it (see drawBasemap). */
export async function loadBasemap(map, url, options) {
  return drawBasemap(map, await getFeatures(url), options);
}
