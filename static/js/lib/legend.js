/*
 * csmap – the legend and precision component every map uses.
 *
 *   legendControl(map, {render})   a Leaflet control: a "Legend" button and a body that
 *                                  render(body) fills; collapsible
 *   legendItem(swatchClasses, label)  one row: a swatch and its words
 *   precisionCaption(mapEl)        the map's precision statement, as a caption strip along
 *                                  the bottom of the map that no legend or control covers
 *
 * Leaflet is the global window.L; nothing here runs on import.
 */
import { clear, el, swatch } from './dom.js';

/** One legend row: a swatch (decorative) and its label. */
export function legendItem(swatchClasses, label) {
  const item = el('li', 'cs-legend__item');
  item.appendChild(swatch(`swatch ${swatchClasses}`));
  item.appendChild(el('span', 'cs-legend__label', label));
  return item;
}

/** A heading and a list of rows. */
export function legendSection(body, heading, rows, listClass) {
  body.appendChild(el('h2', 'cs-legend__heading', heading));
  const list = el('ul', `cs-legend__list${listClass ? ` ${listClass}` : ''}`);
  rows.forEach((row) => list.appendChild(row));
  body.appendChild(list);
  return list;
}

/**
 * A collapsible legend on the map. options.render(body) fills the body on every update();
 * options.expanded: open at first.
 */
export function legendControl(map, options) {
  const L = window.L;
  const Control = L.Control.extend({
    options: { position: options.position || 'bottomright' },
    onAdd() {
      const box = el('section', 'cs-legend map-legend');
      box.setAttribute('aria-label', 'Map legend');
      const toggle = el('button', 'cs-legend__toggle', 'Legend');
      toggle.type = 'button';
      toggle.setAttribute('aria-controls', 'cs-legend-body');
      const body = el('div', 'cs-legend__body');
      body.id = 'cs-legend-body';
      box.appendChild(toggle);
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      // Keep Leaflet's keyboard panning from reacting to keys pressed in the legend.
      L.DomEvent.on(box, 'keydown', L.DomEvent.stopPropagation);
      toggle.addEventListener('click', () => this.setExpanded(null));
      this.box = box;
      this.toggle = toggle;
      this.body = body;
      this.setExpanded(options.expanded !== false);
      this.update();
      return box;
    },
    /** expanded: true/false, or null to flip. */
    setExpanded(expanded) {
      if (!this.toggle) {
        return;
      }
      const next = expanded === null
        ? this.toggle.getAttribute('aria-expanded') !== 'true' : Boolean(expanded);
      this.toggle.setAttribute('aria-expanded', next ? 'true' : 'false');
      this.body.hidden = !next;
      this.box.classList.toggle('is-collapsed', !next);
    },
    update() {
      if (this.body) {
        clear(this.body);
        options.render(this.body);
      }
    },
  });
  return new Control().addTo(map);
}

/**
 * The precision statement of a map as a caption along its bottom edge: always on screen with
 * the map, and above Leaflet's controls, so a legend or layer list can never hide it.
 * Returns {set(text)}.
 */
export function precisionCaption(mapEl, id) {
  const caption = el('p', 'map-precision');
  if (id) {
    caption.id = id;
  }
  mapEl.appendChild(caption);
  mapEl.classList.add('has-precision');
  // Leaflet's bottom controls sit just above the caption, however many lines it takes.
  const fit = () => mapEl.style.setProperty('--precision-h', `${caption.offsetHeight}px`);
  new ResizeObserver(fit).observe(caption);
  return {
    node: caption,
    set(text) {
      caption.textContent = text || '';
      fit();
    },
  };
}
