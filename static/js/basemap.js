/*
 * csmap – a light version of the town base map, for the recording, list and detail pages.
 *
 * window.csmapBasemap.draw(map, url) -> Promise<L.LatLngBounds|null>
 *   Loads the base map FeatureCollection from url (/api/v1/basemap) and draws land, land use,
 *   river, roads, railway and district names into their own panes (the same pane names and
 *   CSS classes as the map page, so csmap.css styles both). Resolves with the land's bounds.
 *
 * The full map page (map.js) adds a legend, layer switcher, boundary sets and tiles; these
 * pages only need enough of the town to say where something happened.
 * Plain ES2018; safe under "script-src 'self'; style-src 'self'".
 */
(function () {
  'use strict';

  if (typeof window.L === 'undefined') {
    return;
  }
  var L = window.L;
  var PANES = ['cs-land', 'cs-landuse', 'cs-water', 'cs-road-casing', 'cs-roads', 'cs-rail',
    'cs-labels'];

  function colours() {
    var style = window.getComputedStyle(document.documentElement);
    function v(name, fallback) {
      return style.getPropertyValue(name).trim() || fallback;
    }
    return {
      land: v('--cs-land', '#f2efe6'), landEdge: v('--cs-land-edge', '#cfc6ae'),
      residential: v('--cs-residential', '#e4ddd4'), park: v('--cs-park', '#b5d99c'),
      retail: v('--cs-retail', '#f7d4c6'), water: v('--cs-water', '#5f9fd3'),
      mainRoad: v('--cs-road-main', '#fddb7a'), mainCasing: v('--cs-road-main-casing', '#b59a55'),
      minorRoad: v('--cs-road-minor', '#ffffff'),
      minorCasing: v('--cs-road-minor-casing', '#c3baa9'), rail: v('--cs-rail', '#4d4d4d'),
    };
  }

  function isMain(f) {
    return Boolean(f.properties && f.properties.kind === 'main');
  }

  function geo(pane, style) {
    return L.geoJSON(null, { pane: pane, interactive: false, style: style });
  }

  function labelMarker(feature) {
    var p = feature.properties || {};
    var g = feature.geometry;
    if (!p.name || !g) {
      return null;
    }
    var latlng = null;
    if (g.type === 'Point') {
      latlng = L.latLng(g.coordinates[1], g.coordinates[0]);
    } else {
      var b = L.geoJSON(feature).getBounds();
      latlng = b.isValid() ? b.getCenter() : null;
    }
    if (!latlng) {
      return null;
    }
    var text = document.createElement('span');
    text.className = 'cs-place-label__text';
    text.textContent = p.name;
    return L.marker(latlng, {
      pane: 'cs-labels', interactive: false, keyboard: false,
      icon: L.divIcon({ className: 'cs-place-label', html: text, iconSize: null }),
    });
  }

  function draw(map, url) {
    PANES.forEach(function (name) {
      if (!map.getPane(name)) {
        map.createPane(name);
      }
    });
    map.getContainer().classList.add('cs-map');
    var syncZoomClass = function () {
      map.getContainer().classList.toggle('cs-zoom-low', map.getZoom() < 13); // smaller labels
    };
    map.on('zoomend', syncZoomClass);
    var c = colours();
    var area = function (fill, edge) {
      return function () {
        return { color: edge, weight: 1, opacity: 1, fill: true, fillColor: fill, fillOpacity: 1 };
      };
    };
    var layers = {
      land: geo('cs-land', area(c.land, c.landEdge)),
      residential: geo('cs-landuse', area(c.residential, c.residential)),
      park: geo('cs-landuse', area(c.park, c.park)),
      retail: geo('cs-landuse', area(c.retail, c.retail)),
      river: geo('cs-water', function (f) {
        return /Polygon$/.test(f.geometry.type)
          ? { stroke: false, fill: true, fillColor: c.water, fillOpacity: 1 }
          : { color: c.water, weight: 4, opacity: 1 };
      }),
      casing: geo('cs-road-casing', function (f) {
        return isMain(f) ? { color: c.mainCasing, weight: 7.5 } : { color: c.minorCasing, weight: 4.5 };
      }),
      road: geo('cs-roads', function (f) {
        return isMain(f) ? { color: c.mainRoad, weight: 5 } : { color: c.minorRoad, weight: 2.5 };
      }),
      rail: geo('cs-rail', function () {
        return { color: c.rail, weight: 2.5, dashArray: '7 5', lineCap: 'butt' };
      }),
      labels: L.layerGroup(),
    };
    var target = { land: 'land', residential: 'residential', park: 'park', retail: 'retail',
      river: 'river', road: 'road', rail: 'rail' };

    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('The base map could not be loaded (HTTP ' + response.status + ').');
        }
        return response.json();
      })
      .then(function (fc) {
        (fc.features || []).forEach(function (f) {
          if (!f || !f.geometry) {
            return;
          }
          var key = f.properties && f.properties.layer;
          if (key === 'place_label') {
            var m = labelMarker(f);
            if (m) {
              layers.labels.addLayer(m);
            }
          } else if (target[key]) {
            layers[target[key]].addData(f);
            if (key === 'road') {
              layers.casing.addData(f);
            }
          }
        });
        Object.keys(layers).forEach(function (k) { layers[k].addTo(map); });
        var bounds = layers.land.getBounds();
        syncZoomClass();
        if (bounds.isValid()) {
          map.setMaxBounds(bounds.pad(1.5));
          map.setMinZoom(Math.max(0, map.getBoundsZoom(bounds) - 3));
          return bounds;
        }
        return null;
      });
  }

  window.csmapBasemap = { draw: draw };
}());
