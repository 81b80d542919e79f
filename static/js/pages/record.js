/*
 * csmap – the recording page (/record): put on the map what was seen, where and when.
 *
 * The drawing is record/draw.js, the fields record/form.js. Saving goes through the JSON API
 * with the CSRF header and an Idempotency-Key that stays the same while the same submission
 * is retried (lib/api.js creator()). Errors sit beside their fields.
 * Signal for browser tests: body[data-record-ready="1"] once the map and lists are in.
 */
import { creator, problem } from '../lib/api.js';
import { loadBasemap } from '../lib/basemap.js';
import { $, addOption, clear, el, val } from '../lib/dom.js';
import { clearErrors, focusable, showAlert, showFieldErrors } from '../lib/forms.js';
import { precisionCaption } from '../lib/legend.js';
import { plainFields } from '../lib/messages.js';
import { createDrawing } from '../record/draw.js';
import { canLocate, locate, openView, parseHome } from '../record/view.js';
import { SHAPE_LABELS, alsoReported, contextBody, contextOption, loadLists, localNow,
  observationFields, sightingVehicle, vehicleLabel } from '../record/form.js';

const page = $('record-page');
const mapEl = $('record-map');

const REQUIRED = {
  geometry: 'Put it on the map: tap where it was, or use “Add point at map centre”.',
  category: 'Choose what was seen.', occurred_at: 'Give the date and time.',
  kind: 'Choose the kind of place or route.', name: 'Give it a name.',
  status: 'Choose the status of the place or route.',
  registration_mark: 'Enter the registration mark.', vehicle_id: 'Choose a vehicle or enter a new one.',
};
const HEADINGS = { observation: 'Record what you saw', context: 'Record a place or route',
  sighting: 'Record a vehicle sighting' };

function start(L) {
  const api = page.dataset.api || '/api/v1';
  const form = $('record-form');
  const alertEl = $('record-alert');
  const resultEl = $('record-result');
  const saveBtn = $('btn-save');
  const geomError = $('f-geometry-error');
  geomError.dataset.keep = '1';
  const state = { rtype: 'observation', kinds: {}, kindLabels: {}, categories: {}, vehicles: [], busy: false };
  const post = creator();

  const map = L.map(mapEl, { preferCanvas: true, keyboard: true, doubleClickZoom: false,
    attributionControl: false, zoomSnap: 0.25, maxZoom: 19 }).setView([54.6, 1.2], 13);
  const todayLayer = L.featureGroup().addTo(map);
  precisionCaption(mapEl).set('Exact position, as you place it: your agency\'s own record.');
  const basemap = loadBasemap(map, page.dataset.basemapUrl)
    .then((base) => {
      // Where the user last was, else over the agency's own area, else the whole town.
      mapEl.dataset.opened = openView(map, parseHome(page.dataset.home), base.bounds);
    })
    .catch((err) => showAlert(alertEl, String(err.message || err)));

  function clearGeometryError() {
    geomError.hidden = true;
    geomError.textContent = '';
    mapEl.setAttribute('aria-describedby', 'record-map-help geom-status');
    mapEl.classList.remove('has-error');
  }
  const drawing = createDrawing(map, clearGeometryError);

  // "Use my location": where the browser can tell, the map goes there and (for a point) the
  // pin drops there, to be moved by a tap if it is not quite right.
  const locateBtn = $('btn-locate');
  if (canLocate()) {
    locateBtn.hidden = false;
    locateBtn.addEventListener('click', () => {
      locateBtn.setAttribute('aria-disabled', 'true');
      locate().then(({ latlng, accuracy }) => {
        const here = L.latLng(latlng);
        const box = map.options.maxBounds;
        if (box && !box.contains(here)) {
          showAlert(alertEl, 'You seem to be outside the area this service covers. Tap the map where it was.');
          return;
        }
        map.setView(here, Math.max(map.getZoom(), 17), { animate: false });
        if (drawing.mode === 'Point') {
          drawing.add(here);
          $('geom-status').textContent = `Pin placed at your location (to within about ${
            Math.max(1, Math.round(accuracy))} m). Tap the map to move it.`;
        }
      }).catch((err) => showAlert(alertEl, err.message))
        .finally(() => locateBtn.setAttribute('aria-disabled', 'false'));
    });
  }

  // -- what is being recorded

  function allowedShapes() {
    return state.rtype === 'context' ? state.kinds[val('f-kind')] || ['Point'] : ['Point'];
  }

  function syncShape() {
    const shapes = allowedShapes();
    const box = $('f-shape');
    const current = box.querySelector('input:checked');
    let chosen = shapes[0];
    if (current && shapes.indexOf(current.value) >= 0) {
      chosen = current.value;
    } else if (shapes.indexOf(drawing.mode) >= 0) {
      chosen = drawing.mode;
    }
    box.querySelectorAll('.choice').forEach((n) => box.removeChild(n));
    shapes.forEach((shape) => {
      const label = el('label', 'choice');
      const input = el('input');
      input.type = 'radio';
      input.name = 'shape';
      input.value = shape;
      input.checked = shape === chosen;
      input.addEventListener('change', () => drawing.setMode(shape));
      label.appendChild(input);
      label.appendChild(document.createTextNode(` ${SHAPE_LABELS[shape] || shape}`));
      box.appendChild(label);
    });
    box.hidden = shapes.length < 2;
    drawing.setMode(chosen);
  }

  function clearAll() {
    clearErrors(form);
    clearGeometryError();
    showAlert(alertEl, '');
  }

  function syncType() {
    const checked = form.querySelector('input[name="rtype"]:checked');
    state.rtype = checked ? checked.value : 'observation';
    form.querySelectorAll('[data-for]').forEach((node) => {
      node.hidden = node.dataset.for.split(' ').indexOf(state.rtype) < 0;
    });
    form.querySelectorAll('[data-for-kind]').forEach((node) => {
      node.hidden = node.dataset.forKind !== val('f-kind');
    });
    $('new-vehicle').hidden = Boolean(val('f-vehicle_id'));
    $('record-heading').textContent = HEADINGS[state.rtype];
    clearAll();
    syncShape();
  }

  function showVehicleNote() {
    const v = state.vehicles.find((x) => x.id === val('f-vehicle_id'));
    let note = $('vehicle-note');
    if (note) {
      note.parentNode.removeChild(note);
    }
    const lines = alsoReported(v);
    if (lines.length) {
      note = el('p', 'flash flash-warning vehicle-note', lines.join(' '));
      note.id = 'vehicle-note';
      $('f-vehicle_id').parentNode.appendChild(note);
    }
  }

  form.addEventListener('change', (e) => {
    if (e.target.name === 'rtype' || e.target.id === 'f-kind' || e.target.id === 'f-vehicle_id') {
      syncType();
    }
    if (e.target.id === 'f-vehicle_id') {
      showVehicleNote();
    }
  });

  // -- errors beside their fields

  /** fields: {name: message} as the server sent them. */
  function showErrors(fields) {
    const plain = plainFields(fields, REQUIRED);
    if (plain.geometry) {
      plain.geometry = plain.geometry.replace(/, or send repair=true to have it repaired/,
        ' (tap Clear and go round the edge without crossing the lines)');
    }
    const { shown, orphans } = showFieldErrors(form, plain, (name) => (name === 'geometry' ? null : $(`f-${name}`)));
    if (plain.geometry) {
      geomError.textContent = plain.geometry;
      geomError.hidden = false;
      mapEl.classList.add('has-error');
      mapEl.setAttribute('aria-describedby', `record-map-help geom-status ${geomError.id}`);
      shown.unshift(mapEl);
      const i = orphans.indexOf(plain.geometry);
      if (i >= 0) {
        orphans.splice(i, 1);
      }
    }
    if (shown.length) {
      focusable(shown[0]).focus();
      // Wide screens: the form scrolls in its own column; bring its first problem into view
      // too, even when the focus went to the map.
      const firstInForm = shown.find((t) => form.contains(t));
      if (firstInForm && window.getComputedStyle(form).overflowY === 'auto') {
        (firstInForm.closest('.field') || firstInForm).scrollIntoView({ block: 'nearest' });
      }
    }
    return orphans;
  }

  function handleFailure(res) {
    const fields = res.data && res.data.error && res.data.error.fields;
    if (res.status === 422 && fields && Object.keys(fields).length) {
      const orphans = showErrors(fields);
      showAlert(alertEl, `Not saved. Check the fields marked.${orphans.length ? ` ${orphans.join(' ')}` : ''}`,
        orphans.length === Object.keys(fields).length);
    } else {
      showAlert(alertEl, problem(res, 'Not saved'));
    }
  }

  // -- saving

  /** After a sighting is saved: its vehicle joins the list (once) with what the match said. */
  function rememberVehicle(feature, notes) {
    const id = (feature.properties || {}).vehicle_id;
    let known = state.vehicles.find((x) => x.id === id);
    if (!known && id) {
      known = { id, registration_mark: val('f-registration_mark').toUpperCase(), make: val('f-make'),
        model: val('f-model'), colour: val('f-colour') };
      state.vehicles.push(known);
      addOption($('f-vehicle_id'), id, vehicleLabel(known));
    }
    if (known) {
      known.also_reported_by = feature.also_reported_by;
    }
    alsoReported(feature).forEach((line) => notes.push(line));
  }

  /** A new vehicle's fields come back as vehicle.registration_mark etc.: show them by theirs. */
  function vehicleFields(res) {
    const fields = res.data && res.data.error && res.data.error.fields;
    if (fields) {
      Object.keys(fields).filter((k) => k.indexOf('vehicle.') === 0).forEach((k) => {
        fields[k.slice('vehicle.'.length)] = fields[k];
        delete fields[k];
      });
    }
    return res;
  }

  async function save() {
    const geom = drawing.geometry();
    if (drawing.tooFew()) {
      showErrors({ geometry: drawing.mode === 'LineString' ? 'A line needs at least 2 points.'
        : 'An area needs at least 3 points.' });
      return;
    }
    const rtype = state.rtype;
    let res;
    if (rtype === 'context' && !val('f-status')) {
      // The API would file it as "Referred": the person must say which status it has.
      showErrors({ status: 'Field required', ...(geom ? {} : { geometry: 'Field required' }) });
      return;
    }
    if (rtype === 'context') {
      res = await post(`${api}/contexts`, contextBody(form, geom));
    } else if (rtype === 'observation') {
      res = await post(`${api}/observations`, { ...observationFields(geom), category: val('f-category') || null,
        vehicle_id: null });
    } else if (!geom) {
      showErrors({ geometry: 'Place the sighting on the map.' });
      return;
    } else {
      res = vehicleFields(await post(`${api}/sightings`, { ...observationFields(geom), ...sightingVehicle() }));
    }
    if (!res.ok) {
      handleFailure(res);
      return;
    }
    const notes = [];
    if (rtype === 'sighting') {
      rememberVehicle(res.data, notes);
    }
    saved(res.data, rtype === 'context' ? 'context' : 'observation', notes);
  }

  function saved(feature, kind, notes) {
    const p = feature.properties || {};
    const label = kind === 'context' ? `${p.name || 'Place'} (${state.kindLabels[p.kind] || p.kind})`
      : state.categories[p.category] || p.category || 'Observation';
    const colour = window.getComputedStyle(document.documentElement).getPropertyValue('--rec-today').trim() || '#1d4ed8';
    L.geoJSON(feature, {
      style: () => ({ color: colour, weight: 4, fillOpacity: 0.2 }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 8, color: '#ffffff', weight: 2,
        fillColor: colour, fillOpacity: 1 }),
    }).bindTooltip(() => el('span', null, `Recorded today: ${label}`)).addTo(todayLayer);
    mapEl.dataset.recordedToday = String(todayLayer.getLayers().length);
    if (kind === 'context') {
      contextOption(state, feature);
    }
    clear(resultEl);
    const line = el('p', 'flash flash-success');
    line.appendChild(document.createTextNode(`Saved: ${label}. `));
    const link = el('a', null, 'View it');
    link.href = page.dataset.detailUrl.replace('__kind__', kind).replace('__id__', encodeURIComponent(feature.id));
    line.appendChild(link);
    resultEl.appendChild(line);
    notes.forEach((n) => resultEl.appendChild(el('p', 'flash flash-warning', n)));
    resetForm();
    // Back to the map (the new record is on it), the confirmation just below it in view.
    resultEl.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    form.scrollTop = 0;
  }

  function resetForm() {
    ['f-note', 'f-young_person_refs', 'f-name', 'f-route_name', 'f-operator', 'f-registration_mark',
      'f-make', 'f-model', 'f-colour', 'f-category', 'f-context_id', 'f-vehicle_id'].forEach((id) => {
      $(id).value = '';
    });
    form.querySelectorAll('input[name="features"]').forEach((i) => { i.checked = false; });
    $('f-public_place').checked = true;
    $('f-source_grade').value = 'C';
    $('f-info_grade').value = '3';
    $('f-status').selectedIndex = 0;
    $('f-occurred_at').value = localNow();
    showVehicleNote();
    drawing.pts = [];
    drawing.finished = false;
    syncType();
    drawing.redraw();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (state.busy) {
      return; // a double tap: the first submission is still on its way
    }
    clearAll();
    state.busy = true;
    saveBtn.setAttribute('aria-disabled', 'true');
    saveBtn.textContent = 'Saving…';
    save().finally(() => {
      state.busy = false;
      saveBtn.setAttribute('aria-disabled', 'false');
      saveBtn.textContent = 'Save';
    });
  });

  $('f-occurred_at').value = localNow();
  drawing.redraw();
  const lists = loadLists(api, state).then((failed) => {
    syncType();
    if (failed.length) {
      showAlert(alertEl, `Some lists could not be loaded (HTTP ${failed[0].status}). Reload the page to try again.`);
    }
  });
  Promise.all([basemap, lists]).then(() => { document.body.dataset.recordReady = '1'; });
}

if (page && mapEl && window.L) {
  start(window.L);
}
