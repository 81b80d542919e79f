/*
 * csmap – the recording page (/record): put on the map what was seen, where and when.
 *
 * Draws without a plugin: a tap (or "Add point at map centre", for keyboard users: the map
 * pans with the arrow keys under a fixed crosshair) drops the pin or adds a vertex; lines and
 * areas have Undo / Clear / Finish. Saves through the JSON API with the CSRF header and an
 * Idempotency-Key that stays the same while the same submission is retried.
 *
 * Reads data-api, data-basemap-url, data-detail-url from #record-page.
 * Signals for browser tests on <body>: data-record-ready="1" once the map and lists are in.
 * Plain ES2018; never writes style attributes or inline markup from data.
 */
(function () {
  'use strict';

  var page = document.getElementById('record-page');
  var mapEl = document.getElementById('record-map');
  if (!page || !mapEl || typeof window.L === 'undefined') {
    return;
  }
  var L = window.L;
  var API = page.dataset.api || '/api/v1';

  function $(id) { return document.getElementById(id); }
  function val(id) { var e = $(id); return e ? String(e.value || '').trim() : ''; }

  var form = $('record-form');
  var statusEl = $('geom-status');
  var geomErrorEl = $('f-geometry-error');
  var resultEl = $('record-result');
  var alertEl = $('record-alert');
  var saveBtn = $('btn-save');
  var kindSel = $('f-kind');
  var vehicleSel = $('f-vehicle_id');

  var SOURCE_LABELS = { A: 'A — always reliable', B: 'B — mostly reliable', C: 'C — sometimes reliable',
    D: 'D — unreliable', E: 'E — untested source' };
  var INFO_LABELS = { 1: '1 — known to be true', 2: '2 — known to the source, not to you',
    3: '3 — not known directly, but corroborated', 4: '4 — cannot be judged', 5: '5 — suspected false' };
  var SHAPE_LABELS = { Point: 'A single point', LineString: 'A line (tap each point along it)',
    Polygon: 'An area (tap round its edge)' };
  var REQUIRED = {
    geometry: 'Put it on the map: tap where it was, or use “Add point at map centre”.',
    category: 'Choose what was seen.', occurred_at: 'Give the date and time.',
    kind: 'Choose the kind of place or route.', name: 'Give it a name.',
    registration_mark: 'Enter the registration mark.', vehicle_id: 'Choose a vehicle or enter a new one.',
  };
  var HEADINGS = { observation: 'Record what you saw', context: 'Record a place or route',
    sighting: 'Record a vehicle sighting' };

  var state = {
    rtype: 'observation', mode: 'Point', pts: [], finished: false,
    kinds: {}, kindLabels: {}, categories: {}, vehicles: [], busy: false, keys: {},
  };

  // ---------------------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /** Resolves (never rejects) with {ok, status, data}; status 0 means no answer. */
  function api(method, path, body, headers) {
    var h = Object.assign({ Accept: 'application/json' }, headers || {});
    if (method !== 'GET') {
      h['X-CSRFToken'] = csrfToken();
    }
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
    }
    return fetch(API + path, {
      method: method, headers: h, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        return { ok: r.ok, status: r.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: null };
    });
  }

  /** POST with an Idempotency-Key kept while the same body is retried; renewed after success.
   *  Empty (null) fields are left out: the server then names each missing required one. */
  function post(path, full) {
    var body = {};
    Object.keys(full).forEach(function (k) {
      if (full[k] !== null && full[k] !== undefined) {
        body[k] = full[k];
      }
    });
    var text = JSON.stringify(body);
    var slot = state.keys[path];
    if (!slot || slot.body !== text) {
      slot = state.keys[path] = { body: text, key: newKey() };
    }
    return api('POST', path, body, { 'Idempotency-Key': slot.key }).then(function (res) {
      if (res.ok) {
        delete state.keys[path];
      }
      return res;
    });
  }

  function apiMessage(res) {
    var err = res.data && res.data.error;
    if (res.status === 0) {
      return 'Not saved: the server could not be reached. Check your connection and press Save again.';
    }
    if (res.status === 401) {
      return 'Not saved: you have been signed out. Sign in again in a new tab, then press Save again here.';
    }
    return 'Not saved: ' + (err && err.message ? err.message : 'the server answered HTTP ' + res.status + '.');
  }

  // ---------------------------------------------------------------------------------------
  // Map and drawing
  // ---------------------------------------------------------------------------------------

  var map = L.map(mapEl, {
    preferCanvas: true, keyboard: true, doubleClickZoom: false, attributionControl: false,
    zoomSnap: 0.25, maxZoom: 19,
  }).setView([54.6, 1.2], 13);
  var cssColour = window.getComputedStyle(document.documentElement);
  var DRAW = cssColour.getPropertyValue('--rec-draw').trim() || '#c2185b';
  var TODAY = cssColour.getPropertyValue('--rec-today').trim() || '#1d4ed8';
  var drawLayer = L.layerGroup().addTo(map);
  var todayLayer = L.featureGroup().addTo(map);
  var pinIcon = L.divIcon({ className: 'rec-pin', iconSize: [26, 26], iconAnchor: [13, 24], html: '' });

  var basemapDone = window.csmapBasemap
    ? window.csmapBasemap.draw(map, page.dataset.basemapUrl).then(function (bounds) {
      if (bounds) {
        map.fitBounds(bounds, { padding: [8, 8], animate: false });
      }
    }).catch(function (err) { showAlert(String(err.message || err)); })
    : Promise.resolve();

  function minPoints() { return state.mode === 'LineString' ? 2 : state.mode === 'Polygon' ? 3 : 1; }

  function redraw() {
    drawLayer.clearLayers();
    var pts = state.pts;
    if (state.mode === 'Point') {
      if (pts.length) {
        L.marker(pts[0], { icon: pinIcon, interactive: false, keyboard: false }).addTo(drawLayer);
      }
    } else {
      var closed = state.mode === 'Polygon' && pts.length >= 3;
      if (closed) {
        L.polygon(pts, { color: DRAW, weight: 3, fillOpacity: 0.2, interactive: false }).addTo(drawLayer);
      } else if (pts.length >= 2) {
        L.polyline(pts, { color: DRAW, weight: 4, dashArray: state.finished ? null : '8 6',
          interactive: false }).addTo(drawLayer);
      }
      pts.forEach(function (p) {
        L.circleMarker(p, { radius: 6, color: '#ffffff', weight: 2, fillColor: DRAW, fillOpacity: 1,
          interactive: false }).addTo(drawLayer);
      });
    }
    syncDrawUi();
  }

  function geometryText() {
    var n = state.pts.length;
    if (state.mode === 'Point') {
      return n ? 'Pin placed. Tap the map again to move it.'
        : 'No pin yet. Tap the map where it was, or move the map and use “Add point at map centre”.';
    }
    var what = state.mode === 'LineString' ? 'line' : 'area';
    if (!n) {
      return 'Tap the map to add the first point of the ' + what + '.';
    }
    var count = n + (n === 1 ? ' point' : ' points');
    if (n < minPoints()) {
      return count + ' — add at least ' + (minPoints() - n) + ' more.';
    }
    return state.finished ? 'The ' + what + ' is finished: ' + count + '.'
      : count + ' — finish the ' + what + ' when done.';
  }

  function setEnabled(btn, on) {
    btn.setAttribute('aria-disabled', on ? 'false' : 'true');
  }

  function syncDrawUi() {
    var multi = state.mode !== 'Point';
    var n = state.pts.length;
    $('btn-undo').hidden = !multi;
    $('btn-finish').hidden = !multi;
    setEnabled($('btn-undo'), n > 0);
    setEnabled($('btn-finish'), n >= minPoints() && !state.finished);
    setEnabled($('btn-clear'), n > 0);
    statusEl.textContent = geometryText();
  }

  function addPoint(latlng) {
    if (state.mode === 'Point') {
      state.pts = [latlng];
    } else {
      state.pts.push(latlng);
      state.finished = false;
    }
    clearFieldError('geometry');
    redraw();
  }

  function setMode(mode) {
    if (mode === state.mode) {
      return;
    }
    if (mode === 'Point') {
      state.pts = state.pts.length === 1 ? state.pts : [];
    }
    state.mode = mode;
    state.finished = false;
    redraw();
  }

  function geometry() {
    var c = state.pts.map(function (p) { return [+p.lng.toFixed(6), +p.lat.toFixed(6)]; });
    if (c.length < minPoints()) {
      return null;
    }
    if (state.mode === 'Point') {
      return { type: 'Point', coordinates: c[0] };
    }
    if (state.mode === 'LineString') {
      return { type: 'LineString', coordinates: c };
    }
    return { type: 'Polygon', coordinates: [c.concat([c[0]])] };
  }

  map.on('click', function (e) { addPoint(e.latlng); });

  function onButton(id, action) {
    $(id).addEventListener('click', function () {
      if ($(id).getAttribute('aria-disabled') !== 'true') {
        action();
      }
    });
  }
  onButton('btn-centre', function () {
    map.stop(); // an arrow-key pan may still be moving: take what is under the crosshair now
    addPoint(map.getCenter());
  });
  onButton('btn-undo', function () { state.pts.pop(); state.finished = false; redraw(); });
  onButton('btn-finish', function () { state.finished = true; redraw(); });
  onButton('btn-clear', function () { state.pts = []; state.finished = false; redraw(); });

  // ---------------------------------------------------------------------------------------
  // What is being recorded
  // ---------------------------------------------------------------------------------------

  function allowedShapes() {
    if (state.rtype !== 'context') {
      return ['Point'];
    }
    return state.kinds[kindSel.value] || ['Point'];
  }

  function syncShape() {
    var shapes = allowedShapes();
    var box = $('f-shape');
    var current = box.querySelector('input:checked');
    var chosen = current && shapes.indexOf(current.value) >= 0 ? current.value
      : shapes.indexOf(state.mode) >= 0 ? state.mode : shapes[0];
    Array.prototype.slice.call(box.querySelectorAll('.choice')).forEach(function (n) { box.removeChild(n); });
    shapes.forEach(function (shape) {
      var label = el('label', 'choice');
      var input = el('input');
      input.type = 'radio';
      input.name = 'shape';
      input.value = shape;
      input.checked = shape === chosen;
      input.addEventListener('change', function () { setMode(shape); });
      label.appendChild(input);
      label.appendChild(document.createTextNode(' ' + (SHAPE_LABELS[shape] || shape)));
      box.appendChild(label);
    });
    box.hidden = shapes.length < 2;
    setMode(chosen);
  }

  function syncType() {
    var checked = form.querySelector('input[name="rtype"]:checked');
    state.rtype = checked ? checked.value : 'observation';
    Array.prototype.forEach.call(form.querySelectorAll('[data-for]'), function (node) {
      node.hidden = node.dataset.for.split(' ').indexOf(state.rtype) < 0;
    });
    Array.prototype.forEach.call(form.querySelectorAll('[data-for-kind]'), function (node) {
      node.hidden = node.dataset.forKind !== kindSel.value;
    });
    $('new-vehicle').hidden = Boolean(vehicleSel.value);
    $('record-heading').textContent = HEADINGS[state.rtype];
    clearErrors();
    syncShape();
  }

  form.addEventListener('change', function (e) {
    if (e.target.name === 'rtype' || e.target === kindSel || e.target === vehicleSel) {
      syncType();
    }
    if (e.target === vehicleSel) {
      showVehicleNote();
    }
  });

  function showVehicleNote() {
    var v = state.vehicles.filter(function (x) { return x.id === vehicleSel.value; })[0];
    var note = $('vehicle-note');
    if (note) {
      note.parentNode.removeChild(note);
    }
    var lines = alsoReported(v);
    if (lines.length) {
      note = el('p', 'flash flash-warning vehicle-note', lines.join(' '));
      note.id = 'vehicle-note';
      vehicleSel.parentNode.appendChild(note);
    }
  }

  function alsoReported(vehicle) {
    var others = vehicle && Array.isArray(vehicle.also_reported_by) ? vehicle.also_reported_by : [];
    return others.map(function (o) {
      return 'Also reported by another agency — contact their lead: ' + o.agency + ', ' + o.contact + '.';
    });
  }

  // ---------------------------------------------------------------------------------------
  // Lists from the API
  // ---------------------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function addOption(select, value, label, selected) {
    var o = el('option', null, label);
    o.value = value;
    o.selected = Boolean(selected);
    select.appendChild(o);
  }

  function contextOption(feature) {
    var p = feature.properties || {};
    addOption($('f-context_id'), feature.id, (p.name || 'Unnamed') + ' (' + (state.kindLabels[p.kind] || p.kind) + ')');
  }

  function vehicleLabel(v) {
    var desc = [v.colour, v.make, v.model].filter(Boolean).join(' ');
    return v.registration_mark + (desc ? ' — ' + desc : '');
  }

  function localNow() {
    var d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  /** "2026-03-05T14:30" (local) -> "2026-03-05T14:30:00+00:00". */
  function isoWithOffset(value) {
    var d = new Date(value);
    if (!value || isNaN(d.getTime())) {
      return value || null;
    }
    var off = -d.getTimezoneOffset();
    var pad = function (n) { return String(Math.abs(n)).padStart(2, '0'); };
    return value.slice(0, 16) + ':00' + (off < 0 ? '-' : '+') + pad(Math.trunc(off / 60)) + ':' + pad(off % 60);
  }

  function loadLists() {
    return Promise.all(['/vocabulary', '/categories', '/place-features', '/contexts', '/vehicles']
      .map(function (p) { return api('GET', p); }))
      .then(function (r) {
        var voc = r[0].data || {};
        (voc.context_kinds || []).forEach(function (k) {
          state.kinds[k.code] = k.geometry;
          state.kindLabels[k.code] = k.label;
          addOption(kindSel, k.code, k.label);
        });
        (voc.context_statuses || []).forEach(function (s) {
          addOption($('f-status'), s, s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, ' '));
        });
        (voc.source_grades || []).forEach(function (g) {
          addOption($('f-source_grade'), g, SOURCE_LABELS[g] || g, g === 'C');
        });
        (voc.info_grades || []).forEach(function (g) {
          addOption($('f-info_grade'), String(g), INFO_LABELS[g] || String(g), String(g) === '3');
        });
        ((r[1].data || {}).categories || []).forEach(function (c) {
          state.categories[c.code] = c.label;
          addOption($('f-category'), c.code, c.label);
        });
        var box = $('f-features');
        ((r[2].data || {}).place_features || []).forEach(function (f) {
          var wrap = el('div', 'checkbox');
          var input = el('input');
          input.type = 'checkbox';
          input.name = 'features';
          input.value = f.code;
          input.id = 'f-features-' + f.code;
          var label = el('label', null, f.label);
          label.htmlFor = input.id;
          wrap.appendChild(input);
          wrap.appendChild(label);
          box.appendChild(wrap);
        });
        ((r[3].data || {}).features || []).forEach(contextOption);
        state.vehicles = (r[4].data || {}).vehicles || [];
        state.vehicles.forEach(function (v) { addOption(vehicleSel, v.id, vehicleLabel(v)); });
        syncType();
        var failed = r.filter(function (x) { return !x.ok; });
        if (failed.length) {
          showAlert('Some lists could not be loaded (HTTP ' + failed[0].status + '). Reload the page to try again.');
        }
      });
  }

  // ---------------------------------------------------------------------------------------
  // Errors beside their fields
  // ---------------------------------------------------------------------------------------

  function showAlert(text) {
    alertEl.textContent = text;
    alertEl.hidden = !text;
  }

  function fieldTarget(name) {
    return name === 'geometry' ? mapEl : $('f-' + name);
  }

  function isShown(node) {
    return Boolean(node && node.getClientRects().length);
  }

  function clearFieldError(name) {
    if (name === 'geometry') {
      geomErrorEl.hidden = true;
      geomErrorEl.textContent = '';
      mapEl.setAttribute('aria-describedby', 'geom-status');
      mapEl.classList.remove('has-error');
      return;
    }
    var target = $('f-' + name);
    var err = $('f-' + name + '-error');
    if (err && err !== geomErrorEl) {
      err.parentNode.removeChild(err);
    }
    if (target) {
      target.removeAttribute('aria-invalid');
      target.removeAttribute('data-invalid');
      target.classList.remove('has-error');
      var hint = $('f-' + name + '-hint');
      if (hint) {
        target.setAttribute('aria-describedby', hint.id);
      } else {
        target.removeAttribute('aria-describedby');
      }
    }
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (n) {
      clearFieldError(n.id.replace(/^f-/, '').replace(/-error$/, ''));
    });
    clearFieldError('geometry');
    showAlert('');
  }

  /** fields: {name: message}. Returns the messages that have no field on the page. */
  function showErrors(fields) {
    var orphans = [];
    var shown = [];
    Object.keys(fields).forEach(function (raw) {
      var name = raw.split(/[.[]/)[0];
      var message = /^field required$/i.test(String(fields[raw])) && REQUIRED[name] ? REQUIRED[name]
        : String(fields[raw]).replace(/, or send repair=true to have it repaired/,
          ' (tap Clear and go round the edge without crossing the lines)');
      var target = fieldTarget(name);
      if (!isShown(target)) {
        orphans.push(message.charAt(0).toUpperCase() + message.slice(1));
        return;
      }
      var hint = $('f-' + name + '-hint');
      var err = name === 'geometry' ? geomErrorEl : $('f-' + name + '-error');
      if (!err) {
        err = el('p', 'field-error');
        err.id = 'f-' + name + '-error';
        (target.tagName === 'FIELDSET' ? target : target.closest('.field') || target.parentNode).appendChild(err);
      }
      err.textContent = message.charAt(0).toUpperCase() + message.slice(1);
      err.hidden = false;
      if (name === 'geometry') {
        mapEl.classList.add('has-error');
        mapEl.setAttribute('aria-describedby', 'geom-status ' + err.id);
      } else {
        target.setAttribute(target.tagName === 'FIELDSET' ? 'data-invalid' : 'aria-invalid', 'true');
        target.classList.add('has-error');
        target.setAttribute('aria-describedby', err.id + (hint ? ' ' + hint.id : ''));
      }
      shown.push(target);
    });
    shown.sort(function (a, b) {
      return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    if (shown.length) {
      var first = shown[0];
      var focusable = first.tagName === 'FIELDSET' ? first.querySelector('input') : first;
      (focusable || first).focus();
      // Wide screens: the form scrolls in its own column; bring its first problem into view
      // too, even when the focus went to the map.
      var firstInForm = shown.filter(function (t) { return form.contains(t); })[0];
      if (firstInForm && window.getComputedStyle(form).overflowY === 'auto') {
        (firstInForm.closest('.field') || firstInForm).scrollIntoView({ block: 'nearest' });
      }
    }
    return orphans;
  }

  function handleFailure(res) {
    var fields = res.data && res.data.error && res.data.error.fields;
    if (res.status === 422 && fields && Object.keys(fields).length) {
      var orphans = showErrors(fields);
      showAlert('Not saved. Check the fields marked.' + (orphans.length ? ' ' + orphans.join(' ') : ''));
      if (orphans.length === Object.keys(fields).length) {
        alertEl.focus();
      }
    } else {
      showAlert(apiMessage(res));
      alertEl.focus();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Saving
  // ---------------------------------------------------------------------------------------

  function refs() {
    return val('f-young_person_refs').split(',').map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function observationFields(geom) {
    return {
      occurred_at: isoWithOffset(val('f-occurred_at')), geometry: geom, note: val('f-note'),
      young_person_refs: refs(), source_grade: val('f-source_grade') || null,
      info_grade: val('f-info_grade') ? Number(val('f-info_grade')) : null,
      context_id: val('f-context_id') || null,
    };
  }

  function contextBody(geom) {
    var route = kindSel.value === 'transport_route';
    var name = val('f-name');
    if (!name && route && val('f-route_name')) {
      name = 'Route ' + val('f-route_name') + (val('f-operator') ? ' (' + val('f-operator') + ')' : '');
    }
    return {
      kind: kindSel.value || null, name: name || null, geometry: geom,
      public_place: $('f-public_place').checked,
      features: Array.prototype.map.call(form.querySelectorAll('input[name="features"]:checked'),
        function (i) { return i.value; }),
      status: val('f-status') || null, last_confirmed: null,
      route_name: route ? val('f-route_name') || null : null,
      operator: route ? val('f-operator') || null : null,
    };
  }

  /** The sighting's vehicle: the chosen one, or the typed one, sent with the sighting so the
   *  vehicle, the sighting and the cross-agency match are saved together (or not at all). */
  function sightingVehicle() {
    if (vehicleSel.value) {
      return { vehicle_id: vehicleSel.value };
    }
    var vehicle = {};
    ['registration_mark', 'make', 'model', 'colour'].forEach(function (k) {
      if (val('f-' + k)) {
        vehicle[k] = val('f-' + k); // left out when empty: the server names a missing mark
      }
    });
    return { vehicle: vehicle };
  }

  /** After a sighting is saved: its vehicle joins the list (once) with what the match said. */
  function rememberVehicle(feature, notes) {
    var id = (feature.properties || {}).vehicle_id;
    var known = state.vehicles.filter(function (x) { return x.id === id; })[0];
    if (!known && id) {
      known = { id: id, registration_mark: val('f-registration_mark').toUpperCase(), make: val('f-make'),
        model: val('f-model'), colour: val('f-colour') };
      state.vehicles.push(known);
      addOption(vehicleSel, id, vehicleLabel(known));
    }
    if (known) {
      known.also_reported_by = feature.also_reported_by;
    }
    alsoReported(feature).forEach(function (line) { notes.push(line); });
  }

  /** A new vehicle's fields come back as vehicle.registration_mark etc.: show them by theirs. */
  function vehicleFields(res) {
    var fields = res.data && res.data.error && res.data.error.fields;
    if (fields) {
      Object.keys(fields).forEach(function (k) {
        if (k.indexOf('vehicle.') === 0) {
          fields[k.slice('vehicle.'.length)] = fields[k];
          delete fields[k];
        }
      });
    }
    return res;
  }

  function save() {
    var geom = geometry();
    if (!geom && state.pts.length) {
      showErrors({ geometry: state.mode === 'LineString' ? 'A line needs at least 2 points.'
        : 'An area needs at least 3 points.' });
      return Promise.resolve();
    }
    var notes = [];
    var rtype = state.rtype;
    var request;
    if (rtype === 'context') {
      request = post('/contexts', contextBody(geom));
    } else if (rtype === 'observation') {
      request = post('/observations', Object.assign(observationFields(geom),
        { category: val('f-category') || null, vehicle_id: null }));
    } else if (!geom) {
      showErrors({ geometry: 'Place the sighting on the map.' });
      return Promise.resolve();
    } else {
      request = post('/sightings', Object.assign(observationFields(geom), sightingVehicle())).then(vehicleFields);
    }
    return request.then(function (res) {
      if (!res.ok) {
        handleFailure(res);
        return;
      }
      if (rtype === 'sighting') {
        rememberVehicle(res.data, notes);
      }
      saved(res.data, rtype === 'context' ? 'context' : 'observation', notes);
    });
  }

  function saved(feature, kind, notes) {
    var p = feature.properties || {};
    var label = kind === 'context' ? (p.name || 'Place') + ' (' + (state.kindLabels[p.kind] || p.kind) + ')'
      : state.categories[p.category] || p.category || 'Observation';
    L.geoJSON(feature, {
      style: function () { return { color: TODAY, weight: 4, fillOpacity: 0.2 }; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: '#ffffff', weight: 2, fillColor: TODAY, fillOpacity: 1 });
      },
    }).bindTooltip(function () { return el('span', null, 'Recorded today: ' + label); })
      .addTo(todayLayer);
    mapEl.dataset.recordedToday = String(todayLayer.getLayers().length);
    if (kind === 'context') {
      contextOption(feature);
    }
    while (resultEl.firstChild) {
      resultEl.removeChild(resultEl.firstChild);
    }
    var line = el('p', 'flash flash-success');
    line.appendChild(document.createTextNode('Saved: ' + label + '. '));
    var link = el('a', null, 'View it');
    link.href = page.dataset.detailUrl.replace('__kind__', kind).replace('__id__', encodeURIComponent(feature.id));
    line.appendChild(link);
    resultEl.appendChild(line);
    notes.forEach(function (n) { resultEl.appendChild(el('p', 'flash flash-warning', n)); });
    resetForm();
    // Back to the map (the new record is on it), the confirmation just below it in view.
    resultEl.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    form.scrollTop = 0;
  }

  function resetForm() {
    ['f-note', 'f-young_person_refs', 'f-name', 'f-route_name', 'f-operator', 'f-registration_mark',
      'f-make', 'f-model', 'f-colour', 'f-category', 'f-context_id', 'f-vehicle_id'].forEach(function (id) {
      $(id).value = '';
    });
    Array.prototype.forEach.call(form.querySelectorAll('input[name="features"]'), function (i) { i.checked = false; });
    $('f-public_place').checked = true;
    $('f-source_grade').value = 'C';
    $('f-info_grade').value = '3';
    $('f-status').selectedIndex = 0;
    $('f-occurred_at').value = localNow();
    showVehicleNote();
    state.pts = [];
    state.finished = false;
    syncType();
    redraw();
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (state.busy) {
      return; // a double tap: the first submission is still on its way
    }
    clearErrors();
    state.busy = true;
    saveBtn.setAttribute('aria-disabled', 'true');
    saveBtn.textContent = 'Saving…';
    save().then(function () {
      state.busy = false;
      saveBtn.setAttribute('aria-disabled', 'false');
      saveBtn.textContent = 'Save';
    });
  });

  $('f-occurred_at').value = localNow();
  redraw();
  Promise.all([basemapDone, loadLists()]).then(function () {
    document.body.dataset.recordReady = '1';
  });
}());
