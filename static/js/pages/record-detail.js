/*
 * csmap – one record (/records/observation/<id>, /records/context/<id>): its fields, a small
 * map, its version history, Edit (PATCH with If-Match; a 409 keeps what the user typed) and
 * Delete (with a reason). Signal for browser tests: body[data-detail-ready="1"].
 */
import { problem, request } from '../lib/api.js';
import { $, addOption, checkbox, clear, el, val } from '../lib/dom.js';
import { words } from '../lib/format.js';
import { clearErrors, focusable, showAlert, showFieldErrors } from '../lib/forms.js';
import { plainFields } from '../lib/messages.js';
import { longDate, longDateTime } from '../lib/months.js';
import { fitTo, recordLayer, smallMap } from '../record/smallmap.js';
import { INFO_WORDS, SOURCE_WORDS, loadVocabulary } from '../record/vocabulary.js';

const root = $('detail-page');
const ACTIONS = { created: 'Created', updated: 'Changed', deleted: 'Deleted', note_redacted: 'Note redacted' };

function start() {
  const api = root.dataset.api || '/api/v1';
  const kind = root.dataset.kind;
  const url = root.dataset.recordUrl;
  const alertEl = $('detail-alert');
  const statusEl = $('detail-status');
  const editForm = $('edit-form');
  const deleteForm = $('delete-form');
  const state = { feature: null, etag: null, busy: false, vocab: null };
  let sm = null;
  let shape = null;

  const detailUrl = (k, id) => root.dataset.detailUrl.replace('__kind__', k).replace('__id__', encodeURIComponent(id));
  const etagOf = (res) => {
    const v = res.data && res.data.properties && res.data.properties.version;
    return res.etag || (v !== undefined ? `"${v}"` : null);
  };
  const say = (text) => {
    clear(statusEl);
    statusEl.appendChild(el('p', 'flash flash-success', text));
  };
  const row = (list, term, value) => {
    list.appendChild(el('dt', null, term));
    list.appendChild(el('dd', null, value === null || value === undefined || value === '' ? '—' : String(value)));
  };

  function render() {
    const p = state.feature.properties || {};
    const v = state.vocab;
    const dl = $('detail-fields');
    clear(dl);
    if (kind === 'observation') {
      const category = v.categories[p.category] || words(p.category);
      $('detail-heading').textContent = category || 'Observation';
      row(dl, 'When', longDateTime(p.occurred_at));
      row(dl, 'What was seen', category);
      row(dl, 'Note', p.note);
      row(dl, 'Young-person references', (p.young_person_refs || []).join(', '));
      row(dl, 'Source grade', p.source_grade ? `${p.source_grade} — ${SOURCE_WORDS[p.source_grade] || ''}` : null);
      row(dl, 'Information grade', p.info_grade ? `${p.info_grade} — ${INFO_WORDS[p.info_grade] || ''}` : null);
      row(dl, 'Linked place', state.contextName || (p.context_id ? 'Yes' : null));
      if (p.vehicle_id) {
        row(dl, 'Vehicle', state.vehicleName || 'Linked');
        const link = el('a', null, 'Open the vehicle (and who else asked about it)');
        link.href = detailUrl('vehicle', p.vehicle_id);
        dl.lastChild.appendChild(document.createTextNode(' '));
        dl.lastChild.appendChild(link);
      }
    } else {
      $('detail-heading').textContent = p.name || 'Place or route';
      row(dl, 'Name', p.name);
      row(dl, 'Kind', v.kinds[p.kind] || words(p.kind));
      row(dl, 'Status', words(p.status));
      row(dl, 'Public place', p.public_place ? 'Yes' : 'No');
      row(dl, 'What it is like', (p.features || []).map((c) => v.features[c] || words(c)).join(', '));
      if (p.route_name || p.operator) {
        row(dl, 'Route', p.route_name);
        row(dl, 'Operator', p.operator);
      }
      if (p.last_confirmed) {
        row(dl, 'Last confirmed', longDate(p.last_confirmed));
      }
    }
    if (p.recorded_by_name) {
      row(dl, 'Recorded by', p.recorded_by_name);
    }
    row(dl, 'Recorded', longDateTime(p.created_at));
    row(dl, 'Last changed', longDateTime(p.updated_at));
    row(dl, 'Version', p.version);
  }

  function drawShape() {
    if (!sm) {
      sm = smallMap($('detail-map'), root.dataset.basemapUrl);
    }
    sm.drawn.then((bounds) => {
      if (shape) {
        sm.map.removeLayer(shape);
      }
      shape = recordLayer(state.feature).addTo(sm.map);
      fitTo(sm.map, shape, bounds);
    });
  }

  async function loadHistory() {
    const res = await request('GET', `${url}/history`);
    const list = $('history');
    clear(list);
    if (!res.ok) {
      list.appendChild(el('li', null, `The history could not be loaded: ${problem(res)}`));
      return;
    }
    ((res.data && res.data.versions) || []).forEach((v) => {
      const li = el('li', 'history-item');
      li.appendChild(el('strong', null, `${ACTIONS[v.action] || words(v.action)} (version ${v.version})`));
      li.appendChild(document.createTextNode(` — ${longDateTime(v.changed_at)}, by ${v.changed_by_name || 'someone'}`));
      if (v.changed_fields && v.changed_fields.length && v.action === 'updated') {
        li.appendChild(el('span', 'history-fields', `Changed: ${v.changed_fields.map(words).join(', ')}`));
      }
      list.appendChild(li);
    });
  }

  function fillEditForm() {
    const p = state.feature.properties || {};
    const v = state.vocab;
    if (kind === 'observation') {
      const cat = $('f-category');
      clear(cat);
      Object.keys(v.categories).forEach((c) => addOption(cat, c, v.categories[c], c === p.category));
      $('f-note').value = p.note || '';
      clear($('f-source_grade'));
      v.source.forEach((g) => addOption($('f-source_grade'), g, `${g} — ${SOURCE_WORDS[g] || ''}`, g === p.source_grade));
      clear($('f-info_grade'));
      v.info.forEach((g) => addOption($('f-info_grade'), String(g), `${g} — ${INFO_WORDS[g] || ''}`, g === p.info_grade));
    } else {
      $('f-name').value = p.name || '';
      clear($('f-status'));
      v.statuses.forEach((s) => addOption($('f-status'), s, words(s), s === p.status));
      $('f-public_place').checked = Boolean(p.public_place);
      const box = $('f-features');
      box.querySelectorAll('.checkbox').forEach((n) => box.removeChild(n));
      Object.keys(v.features).forEach((code) => {
        box.appendChild(checkbox('features', code, v.features[code], (p.features || []).indexOf(code) >= 0));
      });
    }
  }

  function changes() {
    const p = state.feature.properties || {};
    const now = kind === 'observation'
      ? { category: val('f-category'), note: $('f-note').value, source_grade: val('f-source_grade'),
        info_grade: Number(val('f-info_grade')) }
      : { name: val('f-name'), status: val('f-status'), public_place: $('f-public_place').checked,
        features: Array.from(editForm.querySelectorAll('input[name="features"]:checked'), (i) => i.value) };
    const body = {};
    Object.keys(now).forEach((k) => {
      if (JSON.stringify(now[k]) !== JSON.stringify(p[k] === undefined ? null : p[k])) {
        body[k] = now[k];
      }
    });
    return body;
  }

  function showErrors(formEl, fields) {
    const { shown, orphans } = showFieldErrors(formEl, plainFields(fields));
    if (orphans.length) {
      showAlert(alertEl, orphans.join(' '), false);
    }
    if (shown.length) {
      focusable(shown[0]).focus();
    }
  }

  function failed(formEl, res) {
    const fields = res.data && res.data.error && res.data.error.fields;
    if (res.status === 409) {
      showAlert(alertEl, 'Someone else changed this record since you opened it. Reload to see their changes.');
    } else if (res.status === 422 && fields && Object.keys(fields).length) {
      showErrors(formEl, fields);
    } else {
      showAlert(alertEl, problem(res, 'Not saved'));
    }
  }

  function toggle(formEl, button, open) {
    formEl.hidden = !open;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      const first = formEl.querySelector('input, select, textarea');
      if (first) {
        first.focus();
      }
    } else {
      clearErrors(formEl);
      showAlert(alertEl, '');
      button.focus();
    }
  }

  $('btn-edit').addEventListener('click', () => {
    if (editForm.hidden) {
      fillEditForm();
      toggle(deleteForm, $('btn-delete'), false);
    }
    toggle(editForm, $('btn-edit'), editForm.hidden);
  });
  $('btn-edit-cancel').addEventListener('click', () => toggle(editForm, $('btn-edit'), false));
  $('btn-delete').addEventListener('click', () => {
    if (deleteForm.hidden && !editForm.hidden) {
      toggle(editForm, $('btn-edit'), false);
    }
    toggle(deleteForm, $('btn-delete'), deleteForm.hidden);
  });
  $('btn-delete-cancel').addEventListener('click', () => toggle(deleteForm, $('btn-delete'), false));

  function submitting(formEl, run) {
    formEl.addEventListener('submit', (e) => {
      e.preventDefault();
      if (state.busy) {
        return;
      }
      clearErrors(formEl);
      showAlert(alertEl, '');
      clear(statusEl);
      state.busy = true;
      run().finally(() => { state.busy = false; });
    });
  }

  submitting(editForm, async () => {
    const body = changes();
    if (!Object.keys(body).length) {
      say('Nothing was changed.');
      return;
    }
    const res = await request('PATCH', url, body, { 'If-Match': state.etag });
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

  submitting(deleteForm, async () => {
    const reason = val('f-reason');
    if (!reason) {
      showErrors(deleteForm, { reason: 'Give a reason for deleting this record.' });
      return;
    }
    const res = await request('DELETE', url, { reason }, { 'If-Match': state.etag });
    if (!res.ok) {
      failed(deleteForm, res);
      return;
    }
    deleteForm.hidden = true;
    editForm.hidden = true;
    $('detail-actions').hidden = true;
    root.classList.add('is-deleted');
    clear(statusEl);
    statusEl.appendChild(el('p', 'flash flash-warning', `This record has been deleted. Reason given: ${reason}`));
    statusEl.focus();
    // A deleted record's history is no longer served; note the deletion here.
    $('history').appendChild(el('li', 'history-item', `Deleted — ${longDateTime(new Date())}, by you`));
  });

  /** The linked place's name and the vehicle's registration mark, for an observation. */
  async function linkedNames() {
    const p = state.feature.properties || {};
    const [ctx, veh] = await Promise.all([
      p.context_id ? request('GET', `${api}/contexts/${encodeURIComponent(p.context_id)}`) : null,
      p.vehicle_id ? request('GET', `${api}/vehicles/${encodeURIComponent(p.vehicle_id)}`) : null,
    ]);
    if (ctx && ctx.ok) {
      state.contextName = (ctx.data.properties || {}).name;
    }
    if (veh && veh.ok) {
      const v = veh.data;
      state.vehicleName = `${v.registration_mark} — ${[v.colour, v.make, v.model].filter(Boolean).join(' ')}`;
    }
  }

  Promise.all([request('GET', url), loadVocabulary(api)]).then(async ([res, vocab]) => {
    state.vocab = vocab;
    if (!res.ok) {
      if (res.status === 404) {
        $('detail-heading').textContent = 'Not found';
      }
      showAlert(alertEl, problem(res));
      return;
    }
    state.feature = res.data;
    state.etag = etagOf(res);
    await linkedNames();
    $('detail-body').hidden = false;
    render();
    drawShape();
    await loadHistory();
  }).finally(() => { document.body.dataset.detailReady = '1'; });
}

if (root && window.L) {
  start();
}
