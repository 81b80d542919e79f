/*
 * csmap – the map page's layer switcher: Leaflet's, with grouped headings, names as text
 * (Leaflet writes a layer's name with innerHTML; names here come from users) and keyboard
 * support when collapsed.
 */
import { el } from '../lib/dom.js';

export function createSwitcher(map, baseLayers, compactQuery) {
  const L = window.L;
  const groupOf = new Map(); // L.stamp(layer) -> heading text
  const labelOf = new Map(); // L.stamp(layer) -> { swatch: classes, text }
  const entries = [];
  let control = null;

  const Grouped = L.Control.Layers.extend({
    _update(...args) {
      this.csLastGroup = null;
      return L.Control.Layers.prototype._update.apply(this, args);
    },
    _addItem(obj) {
      const label = L.Control.Layers.prototype._addItem.call(this, L.extend({}, obj, { name: '' }));
      const name = label.firstChild.lastChild; // <label><span><input><span>name</span></span>
      const entry = labelOf.get(L.stamp(obj.layer));
      name.textContent = ' ';
      if (entry) {
        const sw = el('span', `cs-layers-swatch ${entry.swatch}`);
        sw.setAttribute('aria-hidden', 'true');
        name.appendChild(sw);
      }
      name.appendChild(document.createTextNode(entry ? entry.text : obj.name));
      const group = obj.overlay ? groupOf.get(L.stamp(obj.layer)) : 'Background';
      if (group && group !== this.csLastGroup) {
        const list = obj.overlay ? this._overlaysList : this._baseLayersList;
        list.insertBefore(el('div', 'cs-layers-heading', group), label);
      }
      this.csLastGroup = group;
      return label;
    },
  });

  // Leaflet 1.9's collapsed switcher opens on Enter/click but hides its toggle, which drops
  // keyboard focus, and can only be closed with the mouse. Move focus into the list on open;
  // close on Escape (focus back to the toggle) or when focus leaves.
  function keyboardSupport(container, toggle) {
    toggle.setAttribute('aria-label', 'Map layers');
    toggle.setAttribute('aria-expanded', 'false');
    const isOpen = () => container.classList.contains('leaflet-control-layers-expanded');
    const open = () => {
      control.expand();
      toggle.setAttribute('aria-expanded', 'true');
      const first = container.querySelector('.leaflet-control-layers-list input');
      if (first) {
        first.focus();
      }
    };
    const close = (returnFocus) => {
      control.collapse();
      toggle.setAttribute('aria-expanded', 'false');
      if (returnFocus) {
        toggle.focus();
      }
    };
    toggle.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ' || event.key === 'Spacebar') {
        event.preventDefault();
        window.setTimeout(open, 0);
      }
    });
    container.addEventListener('keydown', (event) => {
      if ((event.key === 'Escape' || event.key === 'Esc') && isOpen()) {
        event.preventDefault();
        event.stopPropagation();
        close(true);
      }
    });
    container.addEventListener('focusout', (event) => {
      const next = event.relatedTarget;
      if (isOpen() && next && !container.contains(next)) {
        close(false);
      }
    });
  }

  function build() {
    if (control) {
      control.remove();
    }
    control = new Grouped(baseLayers || {}, {}, {
      collapsed: compactQuery.matches,
      position: 'topright',
      hideSingleBase: true,
    });
    // Names are plain text, so two layers may share one: add each layer on its own.
    entries.forEach((entry) => control.addOverlay(entry[1], entry[0]));
    control.addTo(map);
    const container = control.getContainer();
    container.setAttribute('aria-label', 'Map layers');
    const toggle = container.querySelector('.leaflet-control-layers-toggle');
    if (toggle && control.options.collapsed) {
      keyboardSupport(container, toggle);
    }
  }

  return {
    build,
    /** swatch: the swatch's classes; text: the layer's name, shown as text. */
    add(group, swatch, text, layer) {
      groupOf.set(L.stamp(layer), group);
      labelOf.set(L.stamp(layer), { swatch, text });
      entries.push([text, layer]);
      // Once the switcher exists, add to it in place: rebuilding it under a user (or a test)
      // who is opening it would snatch it away.
      if (control) {
        control.addOverlay(layer, text);
      }
    },
  };
}
