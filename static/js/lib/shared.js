/*
 * csmap – shared (redacted) layers, drawn the same way on every map: the map page, a share's
 * page and its external link page, and the panel's side-by-side boundary totals.
 *
 * Everything drawn comes from a share's published GeoJSON: counts per published cell, never
 * points. Names (a partner's, a place's, an area's) come from users, so every label is text.
 */
import { getJSON } from './api.js';
import { sharedClasses, sharedClassOf } from './classes.js';
import { clear, el, swatch } from './dom.js';
import { monthName } from './months.js';

/** ColorBrewer YlOrRd, 5 classes: light to dark as counts grow (the first source's ramp). */
export const RAMP = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];

/** A share layer's classes, for its counts and precision statement. */
export function classes(doc, ramp) {
  return sharedClasses(doc.features.map((f) => f.properties.count), doc.precision, ramp || RAMP);
}

/** "2026-10" -> "October 2026"; a quarter or other period is left as it is. */
export function periodText(period) {
  return /^\d{4}-\d{2}$/.test(period || '') ? monthName(period) : String(period || '');
}

/** A tooltip's content as a DOM node (Leaflet parses a string tooltip as HTML). */
export function tip(text) {
  return () => el('span', null, text);
}

/** The published cells of one period, coloured by class. */
export function cellLayer(doc, period, label, ramp) {
  const L = window.L;
  const cls = classes(doc, ramp);
  const features = doc.features.filter((f) => f.properties.period === period);
  return L.geoJSON({ type: 'FeatureCollection', features }, {
    style: (f) => ({ color: '#7a2e0e', weight: 1, opacity: 0.7,
      fillColor: sharedClassOf(f.properties.count, cls).colour, fillOpacity: 0.7 }),
    onEachFeature: (f, layer) => {
      const text = `${label ? `${label}: ` : ''}${f.properties.count} in ${periodText(f.properties.period)}`;
      layer.bindTooltip(tip(text), { sticky: true });
    },
  });
}

/** The shared places: public ones at their true position, others at their cell's centre. */
export function contextLayer(doc) {
  const L = window.L;
  return L.geoJSON(doc.contexts || { type: 'FeatureCollection', features: [] }, {
    pointToLayer: (f, latlng) => {
      const precise = f.properties.precise;
      return L.circleMarker(latlng, { radius: precise ? 6 : 7, color: '#1d3557', weight: 2,
        fillColor: precise ? '#1d3557' : '#ffffff', fillOpacity: precise ? 0.9 : 0.6 });
    },
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.bindTooltip(tip(p.name + (p.precise ? '' : ' (shown at its cell’s centre)')));
    },
  });
}

/** Fill list with one item per class: a swatch in the class's colour and its label. */
export function legendItems(list, cls) {
  clear(list);
  cls.forEach((c) => {
    const li = document.createElement('li');
    const sw = swatch('swatch swatch-fill');
    sw.style.background = c.colour; // CSSOM, allowed under style-src 'self'
    li.appendChild(sw);
    li.appendChild(document.createTextNode(` ${c.label}`));
    list.appendChild(li);
  });
}

/** Fill a period select, newest first. */
export function fillPeriods(select, periods) {
  clear(select);
  periods.slice().reverse().forEach((p) => {
    const option = el('option', null, periodText(p));
    option.value = p;
    select.appendChild(option);
  });
  select.disabled = !periods.length;
}

function totalsRow(body, name, n) {
  const tr = el('tr');
  const th = el('th', null, name);
  th.scope = 'row';
  tr.appendChild(th);
  tr.appendChild(el('td', 'num', String(n)));
  body.appendChild(tr);
}

/**
 * The same layer by two boundary sets, side by side. compareEl: a .share-compare section (see
 * shares/_compare.html). source.doc() and source.period() give the share's layer and the
 * period shown; source.areasUrl(slug) the address of its totals. Returns {reload, draw}.
 */
export function compare(compareEl, source) {
  const L = window.L;
  const sides = Array.from(compareEl.querySelectorAll('.compare-side')).map((sideEl) => {
    const sel = sideEl.querySelector('select');
    const table = sideEl.querySelector('table');
    const smallMap = L.map(sideEl.querySelector('.compare-map'), { zoomControl: false,
      attributionControl: false, zoomSnap: 0.5 }).setView([54.6, 1.2], 11);
    let areaLayer = null;
    let totals = null;
    const side = {
      load() {
        totals = null;
        delete sideEl.dataset.total;
        const url = source.areasUrl(sel.value);
        if (!url) {
          return Promise.resolve();
        }
        return getJSON(url)
          .then((fc) => { totals = fc; side.draw(); })
          .catch((err) => { table.tBodies[0].textContent = err.message; });
      },
      draw() {
        const doc = source.doc();
        const period = source.period();
        if (!totals || !doc || !period) {
          return;
        }
        const cls = classes(doc);
        if (areaLayer) {
          smallMap.removeLayer(areaLayer);
        }
        const body = table.tBodies[0];
        body.textContent = '';
        let sum = 0;
        areaLayer = L.geoJSON(totals, {
          style: (f) => {
            const n = f.properties.totals[period];
            return { color: '#333333', weight: 1.5, fillOpacity: n ? 0.75 : 0.9,
              fillColor: n ? sharedClassOf(n, cls).colour : '#ffffff' };
          },
          onEachFeature: (f, layer) => {
            const p = f.properties;
            const n = p.totals[period] || 0;
            sum += n;
            layer.bindTooltip(tip(`${p.name}: ${n}${p.partial ? ' (part of the area is outside the share)' : ''}`));
            totalsRow(body, p.name + (p.partial ? ' *' : ''), n);
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
    sel.addEventListener('change', side.load);
    return side;
  });
  return {
    reload: () => Promise.all(sides.map((x) => x.load())),
    draw: () => sides.forEach((x) => x.draw()),
  };
}
