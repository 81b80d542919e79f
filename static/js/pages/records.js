/*
 * csmap – the agency's records (/records): observations (filtered by category and dates from
 * the address, a page at a time, on a small map too), places and routes, and vehicles.
 * Signal for browser tests: body[data-records-ready="1"].
 */
import { problem, request } from '../lib/api.js';
import { $, addOption, clear, el } from '../lib/dom.js';
import { excerpt, plural, words } from '../lib/format.js';
import { showAlert } from '../lib/forms.js';
import { longDateTime } from '../lib/months.js';
import { fitTo, recordLayer, smallMap } from '../record/smallmap.js';
import { loadVocabulary } from '../record/vocabulary.js';

const root = $('records-page');

function detailUrl(kind, id) {
  return root.dataset.detailUrl.replace('__kind__', kind).replace('__id__', encodeURIComponent(id));
}

function linkCell(text, href) {
  const td = el('td', 'name');
  const a = el('a', null, text);
  a.href = href;
  td.appendChild(a);
  return td;
}

function emptyRow(rows, text, span) {
  const tr = el('tr');
  tr.appendChild(el('td', null, text)).colSpan = span;
  rows.appendChild(tr);
}

function showFilterErrors(fields) {
  Object.keys(fields).forEach((name) => {
    const input = $(`f-${name}`);
    if (input) {
      const err = el('p', 'field-error', words(fields[name]));
      err.id = `f-${name}-error`;
      input.parentNode.appendChild(err);
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', err.id);
    }
  });
}

function renderPager(nav, params, page, pages) {
  clear(nav);
  if (pages <= 1) {
    return;
  }
  const link = (p, text, rel) => {
    const q = new URLSearchParams(params);
    q.set('page', String(p));
    const a = el('a', null, text);
    a.href = `?${q.toString()}`;
    a.rel = rel;
    nav.appendChild(a);
  };
  if (page > 1) {
    link(page - 1, 'Previous page', 'prev');
  }
  nav.appendChild(el('span', null, `Page ${page} of ${pages}`));
  if (page < pages) {
    link(page + 1, 'Next page', 'next');
  }
}

const vehicleWords = (v) => [v.colour, v.make, v.model].filter(Boolean).join(' ');

async function contexts(api, names) {
  const res = await request('GET', `${api}/contexts`);
  const rows = $('ctx-rows');
  if (!res.ok) {
    $('ctx-count').textContent = `Could not load places and routes: ${problem(res)}`;
    return;
  }
  const features = (res.data && res.data.features) || [];
  $('ctx-count').textContent = features.length === 1 ? '1 place or route' : `${features.length} places and routes`;
  const vocab = await names.vocabulary;
  features.forEach((f) => {
    const p = f.properties || {};
    names.contexts[f.id] = p.name || 'Unnamed';
    const tr = el('tr');
    tr.appendChild(linkCell(p.name || 'Unnamed', detailUrl('context', f.id)));
    tr.appendChild(el('td', null, vocab.kinds[p.kind] || words(p.kind)));
    tr.appendChild(el('td', null, words(p.status)));
    rows.appendChild(tr);
  });
  if (!features.length) {
    emptyRow(rows, 'None yet.', 3);
  }
}

async function observations(api, params, names, sm) {
  const [res, vocab] = await Promise.all([request('GET', `${api}/observations?${params}`), names.vocabulary,
    names.contextsDone]);
  const rows = $('obs-rows');
  if (!res.ok) {
    const fields = res.data && res.data.error && res.data.error.fields;
    if (res.status === 422 && fields) {
      showFilterErrors(fields);
    }
    $('obs-count').textContent = 'Could not load observations.';
    showAlert($('records-alert'), `Could not load observations: ${problem(res)}`);
    return;
  }
  const fc = res.data || {};
  const features = fc.features || [];
  const total = typeof fc.total === 'number' ? fc.total : features.length;
  const page = fc.page || 1;
  const pages = Math.max(1, Math.ceil(total / (fc.per_page || 50)));
  $('obs-count').textContent = plural(total, 'observation') + (pages > 1 ? ` · page ${page} of ${pages}` : '');
  features.forEach((f) => {
    const p = f.properties || {};
    const tr = el('tr');
    tr.appendChild(linkCell(longDateTime(p.occurred_at), detailUrl('observation', f.id)));
    tr.appendChild(el('td', null, vocab.categories[p.category] || words(p.category)));
    tr.appendChild(el('td', 'note-excerpt', excerpt(p.note, 80)));
    tr.appendChild(el('td', null, p.context_id ? names.contexts[p.context_id] || 'Linked' : '—'));
    rows.appendChild(tr);
  });
  if (!features.length) {
    emptyRow(rows, 'No observations match.', 4);
  }
  renderPager($('obs-pager'), params, page, pages);
  const bounds = await sm.drawn;
  fitTo(sm.map, recordLayer({ type: 'FeatureCollection', features }).addTo(sm.map), bounds);
}

async function vehicles(api) {
  const res = await request('GET', `${api}/vehicles`);
  const rows = $('veh-rows');
  if (!res.ok) {
    $('veh-count').textContent = `Could not load vehicles: ${problem(res)}`;
    return;
  }
  const list = (res.data && res.data.vehicles) || [];
  $('veh-count').textContent = plural(list.length, 'vehicle');
  list.forEach((v) => {
    const tr = el('tr');
    tr.appendChild(linkCell(v.registration_mark, detailUrl('vehicle', v.id)));
    tr.appendChild(el('td', null, vehicleWords(v) || '—'));
    tr.appendChild(el('td', null, String(v.sightings)));
    tr.appendChild(el('td', null, v.matched_by_total ? String(v.matched_by_total) : '—'));
    rows.appendChild(tr);
  });
  if (!list.length) {
    emptyRow(rows, 'None yet.', 4);
  }
}

if (root && window.L) {
  const api = root.dataset.api || '/api/v1';
  const here = new URLSearchParams(window.location.search);
  const params = new URLSearchParams();
  ['category', 'from', 'to', 'page'].forEach((k) => {
    if (here.get(k)) {
      params.set(k, here.get(k));
    }
  });
  params.set('per_page', '50');
  const sm = smallMap($('records-map'), root.dataset.basemapUrl);
  const names = { contexts: {}, vocabulary: loadVocabulary(api) };
  names.vocabulary.then((vocab) => {
    const sel = $('f-category');
    Object.keys(vocab.categories).forEach((code) => {
      addOption(sel, code, vocab.categories[code], code === sel.dataset.selected);
    });
  });
  names.contextsDone = contexts(api, names);
  Promise.all([observations(api, params, names, sm), vehicles(api)])
    .finally(() => { document.body.dataset.recordsReady = '1'; });
}
