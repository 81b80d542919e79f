/*
 * csmap – the agency's records: the list (/records) and one record (/records/<kind>/<id>).
 *
 * List: reads category/from/to/page from the address, asks the API, fills the two tables,
 * the pager and a small map. Detail: all fields, a small map, the version history, Edit
 * (PATCH with If-Match; a 409 keeps what the user typed) and Delete (with a reason).
 *
 * Vehicle (/records/vehicle/<id>): its fields, and which other agencies asked about its mark
 * (by saving a sighting of it) and when.
 *
 * Signals for browser tests on <body>: data-records-ready="1" / data-detail-ready="1".
 * Plain ES2018; never writes style attributes or markup from data.
 */
(function () {
  'use strict';

  var listPage = document.getElementById('records-page');
  var detailPage = document.getElementById('detail-page');
  var vehiclePage = document.getElementById('vehicle-page');
  var root = listPage || detailPage || vehiclePage;
  if (!root || (!vehiclePage && typeof window.L === 'undefined')) {
    return; // the vehicle page has no map
  }
  var L = window.L;
  var API = root.dataset.api || '/api/v1';

  function $(id) { return document.getElementById(id); }
  function val(id) { var e = $(id); return e ? String(e.value || '').trim() : ''; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function empty(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  /** Resolves (never rejects) with {ok, status, data, etag}; status 0 means no answer. */
  function api(method, url, body, headers) {
    var h = Object.assign({ Accept: 'application/json' }, headers || {});
    if (method !== 'GET') {
      h['X-CSRFToken'] = csrfToken();
    }
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
    }
    return fetch(url.charAt(0) === '/' && url.indexOf(API) !== 0 ? API + url : url, {
      method: method, headers: h, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        return { ok: r.ok, status: r.status, data: data, etag: r.headers.get('ETag') };
      });
    }, function () {
      return { ok: false, status: 0, data: null, etag: null };
    });
  }

  function apiMessage(res) {
    var err = res.data && res.data.error;
    if (res.status === 0) {
      return 'The server could not be reached. Check your connection and try again.';
    }
    if (res.status === 401) {
      return 'You have been signed out. Sign in again in a new tab, then try again here.';
    }
    if (res.status === 404) {
      return 'There is no such record, or you cannot see it.';
    }
    return err && err.message ? err.message : 'The server answered HTTP ' + res.status + '.';
  }

  function showAlert(node, text) {
    node.textContent = text || '';
    node.hidden = !text;
    if (text) {
      node.focus();
    }
  }

  function when(iso) {
    var d = new Date(iso);
    return iso && !isNaN(d.getTime())
      ? d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : (iso || '—');
  }

  function words(code) {
    var s = String(code || '').replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  var labels = { categories: {}, features: {}, kinds: {}, statuses: [], source: [], info: [] };

  function loadLabels() {
    return Promise.all([api('GET', '/categories'), api('GET', '/place-features'), api('GET', '/vocabulary')])
      .then(function (r) {
        ((r[0].data || {}).categories || []).forEach(function (c) { labels.categories[c.code] = c.label; });
        ((r[1].data || {}).place_features || []).forEach(function (f) { labels.features[f.code] = f.label; });
        var voc = r[2].data || {};
        (voc.context_kinds || []).forEach(function (k) { labels.kinds[k.code] = k.label; });
        labels.statuses = voc.context_statuses || [];
        labels.source = voc.source_grades || [];
        labels.info = voc.info_grades || [];
      });
  }

  function addOption(select, value, label, selected) {
    var o = el('option', null, label);
    o.value = value;
    o.selected = Boolean(selected);
    select.appendChild(o);
  }

  function smallMap(node) {
    var map = L.map(node, { preferCanvas: true, keyboard: true, attributionControl: false, zoomSnap: 0.25,
      maxZoom: 19, scrollWheelZoom: false }).setView([54.6, 1.2], 13);
    var drawn = window.csmapBasemap ? window.csmapBasemap.draw(map, root.dataset.basemapUrl).catch(function () {
      return null;
    }) : Promise.resolve(null);
    return { map: map, drawn: drawn };
  }

  var RECORD_COLOUR = window.getComputedStyle(document.documentElement).getPropertyValue('--rec-today').trim() ||
    '#1d4ed8';

  function recordLayer(data) {
    return L.geoJSON(data, {
      style: function () { return { color: RECORD_COLOUR, weight: 4, fillOpacity: 0.2 }; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 7, color: '#ffffff', weight: 2, fillColor: RECORD_COLOUR,
          fillOpacity: 1 });
      },
    });
  }

  function fitTo(m, layer, fallback) {
    var b = layer.getBounds();
    if (b.isValid()) {
      m.fitBounds(b, { padding: [24, 24], maxZoom: 16, animate: false });
    } else if (fallback) {
      m.fitBounds(fallback, { animate: false });
    }
  }

  // =======================================================================================
  // The list
  // =======================================================================================

  function detailUrl(kind, id) {
    return root.dataset.detailUrl.replace('__kind__', kind).replace('__id__', encodeURIComponent(id));
  }

  function linkCell(text, href) {
    var td = el('td', 'name');
    var a = el('a', null, text);
    a.href = href;
    td.appendChild(a);
    return td;
  }

  function excerpt(text, n) {
    var s = String(text || '').replace(/\s+/g, ' ').trim();
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }

  function showFilterErrors(fields) {
    Object.keys(fields).forEach(function (name) {
      var input = $('f-' + name);
      if (!input) {
        return;
      }
      var err = el('p', 'field-error', words(fields[name]));
      err.id = 'f-' + name + '-error';
      input.parentNode.appendChild(err);
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', err.id);
    });
  }

  function renderPager(nav, params, page, pages) {
    empty(nav);
    if (pages <= 1) {
      return;
    }
    function link(p, text, rel) {
      var q = new URLSearchParams(params);
      q.set('page', String(p));
      var a = el('a', null, text);
      a.href = '?' + q.toString();
      a.rel = rel;
      nav.appendChild(a);
    }
    if (page > 1) {
      link(page - 1, 'Previous page', 'prev');
    }
    nav.appendChild(el('span', null, 'Page ' + page + ' of ' + pages));
    if (page < pages) {
      link(page + 1, 'Next page', 'next');
    }
  }

  function vehicleWords(v) {
    return [v.colour, v.make, v.model].filter(Boolean).join(' ');
  }

  function initList() {
    var here = new URLSearchParams(window.location.search);
    var params = new URLSearchParams();
    ['category', 'from', 'to', 'page'].forEach(function (k) {
      if (here.get(k)) {
        params.set(k, here.get(k));
      }
    });
    params.set('per_page', '50');
    var alertEl = $('records-alert');
    var sm = smallMap($('records-map'));
    var contextNames = {};

    var ctxDone = api('GET', '/contexts').then(function (res) {
      var rows = $('ctx-rows');
      if (!res.ok) {
        $('ctx-count').textContent = 'Could not load places and routes: ' + apiMessage(res);
        return;
      }
      var features = (res.data && res.data.features) || [];
      $('ctx-count').textContent = features.length + (features.length === 1 ? ' place or route' : ' places and routes');
      features.forEach(function (f) {
        var p = f.properties || {};
        contextNames[f.id] = p.name || 'Unnamed';
        var tr = el('tr');
        tr.appendChild(linkCell(p.name || 'Unnamed', detailUrl('context', f.id)));
        tr.appendChild(el('td', null, labels.kinds[p.kind] || words(p.kind)));
        tr.appendChild(el('td', null, words(p.status)));
        rows.appendChild(tr);
      });
      if (!features.length) {
        var none = el('tr');
        none.appendChild(el('td', null, 'None yet.')).colSpan = 3;
        rows.appendChild(none);
      }
    });

    var labelsDone = loadLabels().then(function () {
      var sel = $('f-category');
      Object.keys(labels.categories).forEach(function (code) {
        addOption(sel, code, labels.categories[code], code === sel.dataset.selected);
      });
    });

    var obsDone = Promise.all([api('GET', '/observations?' + params.toString()), labelsDone, ctxDone])
      .then(function (r) {
        var res = r[0];
        var rows = $('obs-rows');
        if (!res.ok) {
          var fields = res.data && res.data.error && res.data.error.fields;
          if (res.status === 422 && fields) {
            showFilterErrors(fields);
          }
          $('obs-count').textContent = 'Could not load observations.';
          showAlert(alertEl, 'Could not load observations: ' + apiMessage(res));
          return;
        }
        var fc = res.data || {};
        var features = fc.features || [];
        var total = typeof fc.total === 'number' ? fc.total : features.length;
        var page = fc.page || 1;
        var pages = Math.max(1, Math.ceil(total / (fc.per_page || 50)));
        $('obs-count').textContent = total + (total === 1 ? ' observation' : ' observations') +
          (pages > 1 ? ' · page ' + page + ' of ' + pages : '');
        features.forEach(function (f) {
          var p = f.properties || {};
          var tr = el('tr');
          tr.appendChild(linkCell(when(p.occurred_at), detailUrl('observation', f.id)));
          tr.appendChild(el('td', null, labels.categories[p.category] || words(p.category)));
          tr.appendChild(el('td', 'note-excerpt', excerpt(p.note, 80)));
          tr.appendChild(el('td', null, p.context_id ? contextNames[p.context_id] || 'Linked' : '—'));
          rows.appendChild(tr);
        });
        if (!features.length) {
          var none = el('tr');
          none.appendChild(el('td', null, 'No observations match.')).colSpan = 4;
          rows.appendChild(none);
        }
        renderPager($('obs-pager'), params, page, pages);
        return sm.drawn.then(function (bounds) {
          var layer = recordLayer({ type: 'FeatureCollection', features: features }).addTo(sm.map);
          fitTo(sm.map, layer, bounds);
        });
      });

    var vehDone = api('GET', '/vehicles').then(function (res) {
      var rows = $('veh-rows');
      if (!res.ok) {
        $('veh-count').textContent = 'Could not load vehicles: ' + apiMessage(res);
        return;
      }
      var vehicles = (res.data && res.data.vehicles) || [];
      $('veh-count').textContent = vehicles.length + (vehicles.length === 1 ? ' vehicle' : ' vehicles');
      vehicles.forEach(function (v) {
        var tr = el('tr');
        tr.appendChild(linkCell(v.registration_mark, detailUrl('vehicle', v.id)));
        tr.appendChild(el('td', null, vehicleWords(v) || '—'));
        tr.appendChild(el('td', null, String(v.sightings)));
        tr.appendChild(el('td', null, v.matched_by_total ? String(v.matched_by_total) : '—'));
        rows.appendChild(tr);
      });
      if (!vehicles.length) {
        var none = el('tr');
        none.appendChild(el('td', null, 'None yet.')).colSpan = 4;
        rows.appendChild(none);
      }
    });

    Promise.all([obsDone, vehDone]).then(function () { document.body.dataset.recordsReady = '1'; });
  }

  // =======================================================================================
  // One record
  // =======================================================================================

  var SOURCE_WORDS = { A: 'always reliable', B: 'mostly reliable', C: 'sometimes reliable', D: 'unreliable',
    E: 'untested source' };
  var INFO_WORDS = { 1: 'known to be true', 2: 'known to the source, not to the recorder',
    3: 'not known directly, but corroborated', 4: 'cannot be judged', 5: 'suspected false' };
  var ACTIONS = { created: 'Created', updated: 'Changed', deleted: 'Deleted', note_redacted: 'Note redacted' };

  function initDetail() {
    var kind = root.dataset.kind;
    var url = root.dataset.recordUrl;
    var alertEl = $('detail-alert');
    var statusEl = $('detail-status');
    var state = { feature: null, etag: null, deleted: false, busy: false };
    var sm = null;
    var shape = null;

    function etagOf(res) {
      var v = res.data && res.data.properties && res.data.properties.version;
      return res.etag || (v !== undefined ? '"' + v + '"' : null);
    }

    function say(text) {
      empty(statusEl);
      statusEl.appendChild(el('p', 'flash flash-success', text));
    }

    function row(list, term, value) {
      list.appendChild(el('dt', null, term));
      list.appendChild(el('dd', null, value === null || value === undefined || value === '' ? '—' : String(value)));
    }

    function render() {
      var p = state.feature.properties || {};
      var dl = $('detail-fields');
      empty(dl);
      if (kind === 'observation') {
        $('detail-heading').textContent = labels.categories[p.category] || words(p.category) || 'Observation';
        row(dl, 'When', when(p.occurred_at));
        row(dl, 'What was seen', labels.categories[p.category] || words(p.category));
        row(dl, 'Note', p.note);
        row(dl, 'Young-person references', (p.young_person_refs || []).join(', '));
        row(dl, 'Source grade', p.source_grade ? p.source_grade + ' — ' + (SOURCE_WORDS[p.source_grade] || '') : null);
        row(dl, 'Information grade', p.info_grade ? p.info_grade + ' — ' + (INFO_WORDS[p.info_grade] || '') : null);
        row(dl, 'Linked place', state.contextName || (p.context_id ? 'Yes' : null));
        if (p.vehicle_id) {
          row(dl, 'Vehicle', state.vehicleName || 'Linked');
          var link = el('a', null, 'Open the vehicle (and who else asked about it)');
          link.href = detailUrl('vehicle', p.vehicle_id);
          dl.lastChild.appendChild(document.createTextNode(' '));
          dl.lastChild.appendChild(link);
        }
      } else {
        $('detail-heading').textContent = p.name || 'Place or route';
        row(dl, 'Name', p.name);
        row(dl, 'Kind', labels.kinds[p.kind] || words(p.kind));
        row(dl, 'Status', words(p.status));
        row(dl, 'Public place', p.public_place ? 'Yes' : 'No');
        row(dl, 'What it is like', (p.features || []).map(function (c) { return labels.features[c] || words(c); })
          .join(', '));
        if (p.route_name || p.operator) {
          row(dl, 'Route', p.route_name);
          row(dl, 'Operator', p.operator);
        }
        if (p.last_confirmed) {
          row(dl, 'Last confirmed', p.last_confirmed);
        }
      }
      if (p.recorded_by_name) {
        row(dl, 'Recorded by', p.recorded_by_name);
      }
      row(dl, 'Recorded', when(p.created_at));
      row(dl, 'Last changed', when(p.updated_at));
      row(dl, 'Version', p.version);
    }

    function drawShape() {
      if (!sm) {
        sm = smallMap($('detail-map'));
      }
      sm.drawn.then(function (bounds) {
        if (shape) {
          sm.map.removeLayer(shape);
        }
        shape = recordLayer(state.feature).addTo(sm.map);
        fitTo(sm.map, shape, bounds);
      });
    }

    function loadHistory() {
      return api('GET', url + '/history').then(function (res) {
        var list = $('history');
        empty(list);
        if (!res.ok) {
          list.appendChild(el('li', null, 'The history could not be loaded: ' + apiMessage(res)));
          return;
        }
        ((res.data && res.data.versions) || []).forEach(function (v) {
          var li = el('li', 'history-item');
          li.appendChild(el('strong', null, (ACTIONS[v.action] || words(v.action)) + ' (version ' + v.version + ')'));
          li.appendChild(document.createTextNode(' — ' + when(v.changed_at) + ', by ' + (v.changed_by_name || 'someone')));
          if (v.changed_fields && v.changed_fields.length && v.action === 'updated') {
            li.appendChild(el('span', 'history-fields', 'Changed: ' + v.changed_fields.map(words).join(', ')));
          }
          list.appendChild(li);
        });
      });
    }

    // -- edit ------------------------------------------------------------------------------

    var editForm = $('edit-form');
    var deleteForm = $('delete-form');

    function fillEditForm() {
      var p = state.feature.properties || {};
      if (kind === 'observation') {
        var cat = $('f-category');
        empty(cat);
        Object.keys(labels.categories).forEach(function (c) {
          addOption(cat, c, labels.categories[c], c === p.category);
        });
        $('f-note').value = p.note || '';
        empty($('f-source_grade'));
        labels.source.forEach(function (g) {
          addOption($('f-source_grade'), g, g + ' — ' + (SOURCE_WORDS[g] || ''), g === p.source_grade);
        });
        empty($('f-info_grade'));
        labels.info.forEach(function (g) {
          addOption($('f-info_grade'), String(g), g + ' — ' + (INFO_WORDS[g] || ''), g === p.info_grade);
        });
      } else {
        $('f-name').value = p.name || '';
        empty($('f-status'));
        labels.statuses.forEach(function (s) { addOption($('f-status'), s, words(s), s === p.status); });
        $('f-public_place').checked = Boolean(p.public_place);
        var box = $('f-features');
        Array.prototype.slice.call(box.querySelectorAll('.checkbox')).forEach(function (n) { box.removeChild(n); });
        Object.keys(labels.features).forEach(function (code) {
          var wrap = el('div', 'checkbox');
          var input = el('input');
          input.type = 'checkbox';
          input.name = 'features';
          input.value = code;
          input.id = 'f-features-' + code;
          input.checked = (p.features || []).indexOf(code) >= 0;
          var label = el('label', null, labels.features[code]);
          label.htmlFor = input.id;
          wrap.appendChild(input);
          wrap.appendChild(label);
          box.appendChild(wrap);
        });
      }
    }

    function changes() {
      var p = state.feature.properties || {};
      var now = kind === 'observation'
        ? { category: val('f-category'), note: $('f-note').value, source_grade: val('f-source_grade'),
          info_grade: Number(val('f-info_grade')) }
        : { name: val('f-name'), status: val('f-status'), public_place: $('f-public_place').checked,
          features: Array.prototype.map.call(editForm.querySelectorAll('input[name="features"]:checked'),
            function (i) { return i.value; }) };
      var body = {};
      Object.keys(now).forEach(function (k) {
        if (JSON.stringify(now[k]) !== JSON.stringify(p[k] === undefined ? null : p[k])) {
          body[k] = now[k];
        }
      });
      return body;
    }

    function clearErrors(formEl) {
      Array.prototype.forEach.call(formEl.querySelectorAll('.field-error'), function (n) {
        n.parentNode.removeChild(n);
      });
      Array.prototype.forEach.call(formEl.querySelectorAll('[aria-invalid]'), function (n) {
        n.removeAttribute('aria-invalid');
        var hint = $(n.id + '-hint');
        if (hint) {
          n.setAttribute('aria-describedby', hint.id);
        } else {
          n.removeAttribute('aria-describedby');
        }
      });
      showAlert(alertEl, '');
    }

    function showErrors(formEl, fields) {
      var first = null;
      var orphans = [];
      Object.keys(fields).forEach(function (name) {
        var target = formEl.querySelector('#f-' + name.split(/[.[]/)[0]);
        if (!target) {
          orphans.push(words(fields[name]));
          return;
        }
        var err = el('p', 'field-error', words(fields[name]));
        err.id = target.id + '-error';
        (target.tagName === 'FIELDSET' ? target : target.closest('.field') || target.parentNode).appendChild(err);
        var hint = $(target.id + '-hint');
        if (target.tagName !== 'FIELDSET') {
          target.setAttribute('aria-invalid', 'true');
        }
        target.setAttribute('aria-describedby', err.id + (hint ? ' ' + hint.id : ''));
        if (!first) {
          first = target.tagName === 'FIELDSET' ? target.querySelector('input') : target;
        }
      });
      if (orphans.length) {
        showAlert(alertEl, orphans.join(' '));
      }
      if (first) {
        first.focus();
      }
    }

    function failed(formEl, res) {
      var fields = res.data && res.data.error && res.data.error.fields;
      if (res.status === 409) {
        showAlert(alertEl, 'Someone else changed this record since you opened it. Reload to see their changes.');
      } else if (res.status === 422 && fields && Object.keys(fields).length) {
        showErrors(formEl, fields);
      } else {
        showAlert(alertEl, 'Not saved: ' + apiMessage(res));
      }
    }

    function toggle(formEl, button, open) {
      formEl.hidden = !open;
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open) {
        var first = formEl.querySelector('input, select, textarea');
        if (first) {
          first.focus();
        }
      } else {
        clearErrors(formEl);
        button.focus();
      }
    }

    $('btn-edit').addEventListener('click', function () {
      if (editForm.hidden) {
        fillEditForm();
        toggle(deleteForm, $('btn-delete'), false);
      }
      toggle(editForm, $('btn-edit'), editForm.hidden);
    });
    $('btn-edit-cancel').addEventListener('click', function () { toggle(editForm, $('btn-edit'), false); });
    $('btn-delete').addEventListener('click', function () {
      if (deleteForm.hidden && !editForm.hidden) {
        toggle(editForm, $('btn-edit'), false);
      }
      toggle(deleteForm, $('btn-delete'), deleteForm.hidden);
    });
    $('btn-delete-cancel').addEventListener('click', function () { toggle(deleteForm, $('btn-delete'), false); });

    function submitting(formEl, run) {
      formEl.addEventListener('submit', function (e) {
        e.preventDefault();
        if (state.busy) {
          return;
        }
        clearErrors(formEl);
        empty(statusEl);
        state.busy = true;
        run().then(function () { state.busy = false; });
      });
    }

    submitting(editForm, function () {
      var body = changes();
      if (!Object.keys(body).length) {
        say('Nothing was changed.');
        return Promise.resolve();
      }
      return api('PATCH', url, body, { 'If-Match': state.etag }).then(function (res) {
        if (!res.ok) {
          failed(editForm, res);
          return;
        }
        state.feature = res.data;
        state.etag = etagOf(res);
        render();
        drawShape();
        toggle(editForm, $('btn-edit'), false);
        say('Saved your changes.');
        loadHistory();
      });
    });

    submitting(deleteForm, function () {
      var reason = val('f-reason');
      if (!reason) {
        showErrors(deleteForm, { reason: 'Give a reason for deleting this record.' });
        return Promise.resolve();
      }
      return api('DELETE', url, { reason: reason }, { 'If-Match': state.etag }).then(function (res) {
        if (!res.ok) {
          failed(deleteForm, res);
          return;
        }
        state.deleted = true;
        deleteForm.hidden = true;
        editForm.hidden = true;
        $('detail-actions').hidden = true;
        root.classList.add('is-deleted');
        empty(statusEl);
        statusEl.appendChild(el('p', 'flash flash-warning', 'This record has been deleted. Reason given: ' + reason));
        statusEl.focus();
        // A deleted record's history is no longer served; note the deletion here.
        $('history').appendChild(el('li', 'history-item', 'Deleted — ' + when(new Date().toISOString()) +
          ', by you'));
      });
    });

    /** The linked place's name and the vehicle's registration mark, for an observation. */
    function linkedNames() {
      var p = state.feature.properties || {};
      var asks = [
        p.context_id ? api('GET', '/contexts/' + encodeURIComponent(p.context_id)) : null,
        p.vehicle_id ? api('GET', '/vehicles/' + encodeURIComponent(p.vehicle_id)) : null,
      ];
      return Promise.all(asks).then(function (r) {
        if (r[0] && r[0].ok) {
          state.contextName = (r[0].data.properties || {}).name;
        }
        if (r[1] && r[1].ok) {
          var v = r[1].data;
          state.vehicleName = v.registration_mark + ' — ' + vehicleWords(v);
        }
        return true;
      });
    }

    Promise.all([api('GET', url), loadLabels()]).then(function (r) {
      var res = r[0];
      if (!res.ok) {
        $('detail-heading').textContent = res.status === 404 ? 'Not found' : $('detail-heading').textContent;
        showAlert(alertEl, apiMessage(res));
        return;
      }
      state.feature = res.data;
      state.etag = etagOf(res);
      return linkedNames();
    }).then(function (found) {
      if (!found) {
        return;
      }
      $('detail-body').hidden = false;
      render();
      drawShape();
      return loadHistory();
    }).then(function () { document.body.dataset.detailReady = '1'; });
  }

  // =======================================================================================
  // One vehicle
  // =======================================================================================

  function initVehicle() {
    var alertEl = $('detail-alert');
    api('GET', root.dataset.recordUrl).then(function (res) {
      if (!res.ok) {
        $('detail-heading').textContent = res.status === 404 ? 'Not found' : $('detail-heading').textContent;
        showAlert(alertEl, apiMessage(res));
        return;
      }
      var v = res.data;
      $('detail-heading').textContent = 'Vehicle ' + v.registration_mark;
      var dl = $('detail-fields');
      [['Registration mark', v.registration_mark], ['Make', v.make], ['Model', v.model], ['Colour', v.colour],
        ['Sightings', v.sightings], ['Recorded', when(v.created_at)]].forEach(function (pair) {
        dl.appendChild(el('dt', null, pair[0]));
        dl.appendChild(el('dd', null, pair[1] === null || pair[1] === undefined || pair[1] === '' ? '—'
          : String(pair[1])));
      });
      var notices = v.matched_by || [];
      var total = v.matched_by_total || 0;
      $('matched-count').textContent = !total ? 'No other agency has asked about this vehicle.'
        : total === 1 ? 'Asked about once.'
          : 'Asked about ' + total + ' times' + (total > notices.length ? ' (the latest ' + notices.length
            + ' are listed).' : '.');
      var list = $('matched-by');
      notices.forEach(function (n) {
        var li = el('li', 'history-item');
        li.appendChild(el('strong', null, 'Also queried by ' + n.agency));
        li.appendChild(document.createTextNode(' (' + n.user + ', ' + words(n.role) + '), ' + when(n.at)));
        list.appendChild(li);
      });
      $('detail-body').hidden = false;
    }).then(function () { document.body.dataset.detailReady = '1'; });
  }

  if (listPage) {
    initList();
  } else if (vehiclePage) {
    initVehicle();
  } else {
    initDetail();
  }
}());
