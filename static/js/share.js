/*
 * csmap – shared (redacted) layers.
 *
 * window.csmapShared.classes(doc)            -> [{min, max, label, colour}] for a share's counts
 * window.csmapShared.cellLayer(doc, period)  -> L.GeoJSON of the published cells of one period
 * window.csmapShared.contextLayer(doc)       -> L.GeoJSON of the shared contexts
 *
 * Used by the share page and the external link page (this file draws #share-map when present)
 * and by the main map (map.js adds each received share as an overlay). Everything drawn comes
 * from the share's published GeoJSON: counts per published cell, never points.
 * Plain ES2018; safe under "script-src 'self'; style-src 'self'".
 */
(function () {
  'use strict';

  if (typeof window.L === 'undefined') {
    return;
  }
  var L = window.L;
  // ColorBrewer YlOrRd, 5 classes: light to dark as counts grow.
  var RAMP = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];

  function threshold(doc) {
    var match = /counts under (\d+) hidden/.exec(doc.precision || '');
    return match ? Number(match[1]) : 5;
  }

  /** Classes doubling from the threshold k: k–(2k−1), 2k–(4k−1), … ; bands keep their order. */
  function classes(doc) {
    var counts = doc.features.map(function (f) { return f.properties.count; });
    var bands = counts.filter(function (c) { return typeof c === 'string'; });
    if (bands.length) {
      var labels = Array.from(new Set(bands)).sort(function (a, b) { return parseInt(a, 10) - parseInt(b, 10); });
      return labels.map(function (label, i) {
        return { band: label, label: label, colour: RAMP[Math.min(RAMP.length - 1, i + 1)] };
      });
    }
    var k = threshold(doc);
    return RAMP.map(function (colour, i) {
      var min = k * Math.pow(2, i);
      var max = i === RAMP.length - 1 ? null : k * Math.pow(2, i + 1) - 1;
      return { min: min, max: max, colour: colour, label: max === null ? min + '+' : min + '–' + max };
    });
  }

  function colourOf(count, cls) {
    for (var i = cls.length - 1; i >= 0; i -= 1) {
      var c = cls[i];
      if (c.band !== undefined ? c.band === count : count >= c.min) {
        return c.colour;
      }
    }
    return cls[0].colour;
  }

  /**
   * A tooltip's content as a DOM node: names (a partner's, a place's, an area's) come from
   * users, and Leaflet parses a string tooltip as HTML.
   */
  function tip(text) {
    return function () {
      var span = document.createElement('span');
      span.textContent = text;
      return span;
    };
  }

  function cellLayer(doc, period, label) {
    var cls = classes(doc);
    var features = doc.features.filter(function (f) { return f.properties.period === period; });
    return L.geoJSON({ type: 'FeatureCollection', features: features }, {
      style: function (f) {
        return { color: '#7a2e0e', weight: 1, opacity: 0.7,
          fillColor: colourOf(f.properties.count, cls), fillOpacity: 0.7 };
      },
      onEachFeature: function (f, layer) {
        var text = (label ? label + ': ' : '') + f.properties.count + ' in ' + f.properties.period;
        layer.bindTooltip(tip(text), { sticky: true });
      },
    });
  }

  function contextLayer(doc) {
    return L.geoJSON(doc.contexts || { type: 'FeatureCollection', features: [] }, {
      pointToLayer: function (f, latlng) {
        var precise = f.properties.precise;
        return L.circleMarker(latlng, { radius: precise ? 6 : 7, color: '#1d3557', weight: 2,
          fillColor: precise ? '#1d3557' : '#ffffff', fillOpacity: precise ? 0.9 : 0.6 });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(tip(p.name + (p.precise ? '' : ' (shown at its cell’s centre)')));
      },
    });
  }

  function legendItems(list, cls) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    cls.forEach(function (c) {
      var li = document.createElement('li');
      var sw = document.createElement('span');
      sw.className = 'swatch swatch-fill';
      sw.style.background = c.colour; // CSSOM, allowed under style-src 'self'
      sw.setAttribute('aria-hidden', 'true');
      li.appendChild(sw);
      li.appendChild(document.createTextNode(' ' + c.label));
      list.appendChild(li);
    });
  }

  async function getJSON(url) {
    var resp = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    var body = await resp.json().catch(function () { return null; });
    if (!resp.ok) {
      var message = body && body.error ? body.error.message : 'The server answered ' + resp.status + '.';
      throw new Error(message);
    }
    return body;
  }

  // -- the same layer by two boundary sets, side by side ------------------------------------
  /**
   * compareEl: a .share-compare section (see shares/_compare.html) whose data-areas-url holds
   * __slug__ (and __id__ where the share is chosen on the page). source.doc() and
   * source.period() give the share's layer and the period shown; source.areasUrl(slug) the
   * address of its totals. Returns {reload, draw}.
   */
  function compare(compareEl, source) {
    var sides = [];
    Array.prototype.forEach.call(compareEl.querySelectorAll('.compare-side'), function (sideEl) {
      var side = sideEl.dataset.side;
      var sel = sideEl.querySelector('select');
      var table = sideEl.querySelector('table');
      var smallMap = L.map(sideEl.querySelector('.compare-map'), { zoomControl: false,
        attributionControl: false, zoomSnap: 0.5 }).setView([54.6, 1.2], 11);
      var areaLayer = null;
      var totals = null;
      var state = {
        load: function () {
          totals = null;
          delete sideEl.dataset.total;
          var url = source.areasUrl(sel.value);
          if (!url) {
            return Promise.resolve();
          }
          return getJSON(url)
            .then(function (fc) { totals = fc; state.draw(); })
            .catch(function (err) { table.tBodies[0].textContent = err.message; });
        },
        draw: function () {
          var doc = source.doc();
          var period = source.period();
          if (!totals || !doc || !period) {
            return;
          }
          var cls = classes(doc);
          if (areaLayer) {
            smallMap.removeLayer(areaLayer);
          }
          var body = table.tBodies[0];
          body.textContent = '';
          var sum = 0;
          areaLayer = L.geoJSON(totals, {
            style: function (f) {
              var n = f.properties.totals[period];
              return { color: '#333333', weight: 1.5, fillOpacity: n ? 0.75 : 0.9,
                fillColor: n ? colourOf(n, cls) : '#ffffff' };
            },
            onEachFeature: function (f, layer) {
              var p = f.properties;
              var n = p.totals[period] || 0;
              sum += n;
              layer.bindTooltip(tip(p.name + ': ' + n + (p.partial ? ' (part of the area is outside the share)' : '')));
              var tr = document.createElement('tr');
              var th = document.createElement('th');
              th.scope = 'row';
              th.textContent = p.name + (p.partial ? ' *' : '');
              var td = document.createElement('td');
              td.className = 'num';
              td.textContent = String(n);
              tr.appendChild(th);
              tr.appendChild(td);
              body.appendChild(tr);
            },
          }).addTo(smallMap);
          table.tFoot.rows[0].cells[1].textContent = String(sum);
          sideEl.dataset.total = String(sum);
          sideEl.dataset.period = period;
          if (areaLayer.getLayers().length) {
            smallMap.fitBounds(areaLayer.getBounds(), { padding: [4, 4] });
          }
        },
      };
      sel.addEventListener('change', state.load);
      sides.push(state);
      sideEl.dataset.side = side;
    });
    return {
      reload: function () { return Promise.all(sides.map(function (x) { return x.load(); })); },
      draw: function () { sides.forEach(function (x) { x.draw(); }); },
    };
  }

  function fillPeriods(select, periods) {
    select.textContent = '';
    periods.slice().reverse().forEach(function (p) {
      var opt = document.createElement('option');
      opt.value = p;
      opt.textContent = p;
      select.appendChild(opt);
    });
    select.disabled = !periods.length;
  }

  window.csmapShared = { classes: classes, cellLayer: cellLayer, contextLayer: contextLayer,
    legendItems: legendItems, getJSON: getJSON, compare: compare, fillPeriods: fillPeriods };

  // -- the share page and the link page ------------------------------------------------------
  var mapEl = document.getElementById('share-map');
  if (!mapEl) {
    return;
  }
  var status = document.getElementById('share-status');
  var select = document.getElementById('share-period');
  var map = L.map(mapEl, { zoomSnap: 0.5, attributionControl: false }).setView([54.6, 1.2], 12);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  var cells = null;
  var doc = null;

  function showPeriod(period) {
    if (cells) {
      map.removeLayer(cells);
    }
    cells = cellLayer(doc, period).addTo(map);
    mapEl.dataset.period = period;
    // When this period was published: its numbers have not changed since, and will not.
    var release = (doc.releases || []).filter(function (r) { return r.period === period; })[0];
    var published = document.getElementById('share-published');
    if (published && release) {
      // A period published under an earlier profile says so; otherwise the precision above holds.
      published.textContent = period + ': ' + release.published +
        '. Each period is published once, after it has closed, and never changes.' +
        (release.precision !== doc.precision ? ' This period: ' + release.precision : '');
    }
    mapEl.dataset.cellsShown = String(cells.getLayers().length);
    if (comparison) {
      comparison.draw();
    }
  }

  var drawnBasemap = window.csmapBasemap
    ? window.csmapBasemap.draw(map, mapEl.dataset.basemapUrl) : Promise.resolve(null);
  Promise.all([drawnBasemap, getJSON(mapEl.dataset.layerUrl)])
    .then(function (results) {
      doc = results[1];
      var periods = doc.periods_published || [];
      fillPeriods(select, periods);
      legendItems(document.getElementById('share-classes'), classes(doc));
      contextLayer(doc).addTo(map);
      if (results[0]) {
        map.fitBounds(results[0], { padding: [8, 8] });
      }
      if (periods.length) {
        showPeriod(periods[periods.length - 1]);
        status.textContent = '';
      } else {
        status.textContent = 'Nothing to show: no cell reaches the threshold in the shared periods.';
      }
      mapEl.dataset.ready = '1';
    })
    .catch(function (err) {
      status.textContent = 'Could not load the shared layer: ' + err.message;
      status.classList.add('is-error');
    });
  select.addEventListener('change', function () { showPeriod(select.value); });

  var compareEl = document.getElementById('share-compare');
  var comparison = compareEl ? compare(compareEl, {
    doc: function () { return doc; },
    period: function () { return mapEl.dataset.period; },
    areasUrl: function (slug) { return compareEl.dataset.areasUrl.replace('__slug__', encodeURIComponent(slug)); },
  }) : null;
  if (comparison) {
    comparison.reload();
  }
}());

