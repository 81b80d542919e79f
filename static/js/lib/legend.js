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
 * options.summary() is the one line it folds to ("Legend: base map, 1 boundary set, …");
 * options.expanded: open at first; options.sheet: a media query under which the open legend
 * is a sheet across the bottom of the map (phones) rather than a box in its corner.
 */
export function legendControl(map, options) {
  const L = window.L;
  const Control = L.Control.extend({
    options: { position: options.position || 'bottomright' },
    onAdd() {
      const box = el('section', 'cs-legend map-legend');
      box.setAttribute('aria-label', 'Map legend');
      const toggle = el('button', 'cs-legend__toggle');
      toggle.type = 'button';
      toggle.setAttribute('aria-controls', 'cs-legend-body');
      const line = el('span', 'cs-legend__line');
      line.appendChild(el('span', 'cs-legend__name', 'Legend'));
      this.summaryNode = el('span', 'cs-legend__summary');
      line.appendChild(this.summaryNode);
      toggle.appendChild(line);
      const body = el('div', 'cs-legend__body');
      body.id = 'cs-legend-body';
      // The open legend scrolls when it is taller than the map: it takes focus so that the
      // keyboard can scroll it too (WCAG 2.1.1), and it is named for whoever lands on it.
      body.tabIndex = 0;
      body.setAttribute('role', 'group');
      body.setAttribute('aria-label', 'Legend entries');
      box.appendChild(toggle);
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      // Keep Leaflet's keyboard panning from reacting to keys pressed in the legend; Escape
      // folds an open legend back to its line.
      L.DomEvent.on(box, 'keydown', (e) => {
        L.DomEvent.stopPropagation(e);
        if (e.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
          this.setExpanded(false);
          toggle.focus();
        }
      });
      toggle.addEventListener('click', () => this.setExpanded(null));
      this.box = box;
      this.toggle = toggle;
      this.body = body;
      if (options.sheet) {
        const sync = () => box.classList.toggle('is-sheet', window.matchMedia(options.sheet).matches);
        window.matchMedia(options.sheet).addEventListener('change', sync);
        sync();
      }
      this.setExpanded(options.expanded !== false);
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
      this.update();
    },
    update() {
      if (!this.body) {
        return;
      }
      const line = options.summary ? options.summary() : '';
      this.summaryNode.textContent = line ? `: ${line}` : '';
      if (!this.body.hidden) {
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
