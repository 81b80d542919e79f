/*
 * csmap – one vehicle of interest (/records/vehicle/<id>): its fields, and which other
 * agencies asked about its mark (by saving a sighting of it) and when.
 * Signal for browser tests: body[data-detail-ready="1"].
 */
import { problem, request } from '../lib/api.js';
import { $, el } from '../lib/dom.js';
import { words } from '../lib/format.js';
import { showAlert } from '../lib/forms.js';
import { longDateTime } from '../lib/months.js';

const root = $('vehicle-page');

async function start() {
  const res = await request('GET', root.dataset.recordUrl);
  if (!res.ok) {
    if (res.status === 404) {
      $('detail-heading').textContent = 'Not found';
    }
    showAlert($('detail-alert'), problem(res));
    return;
  }
  const v = res.data;
  $('detail-heading').textContent = `Vehicle ${v.registration_mark}`;
  const dl = $('detail-fields');
  [['Registration mark', v.registration_mark], ['Make', v.make], ['Model', v.model], ['Colour', v.colour],
    ['Sightings', v.sightings], ['Recorded', longDateTime(v.created_at)]].forEach(([term, value]) => {
    dl.appendChild(el('dt', null, term));
    dl.appendChild(el('dd', null, value === null || value === undefined || value === '' ? '—' : String(value)));
  });
  const notices = v.matched_by || [];
  const total = v.matched_by_total || 0;
  let count = 'No other agency has asked about this vehicle.';
  if (total === 1) {
    count = 'Asked about once.';
  } else if (total > 1) {
    count = `Asked about ${total} times${total > notices.length ? ` (the latest ${notices.length} are listed).` : '.'}`;
  }
  $('matched-count').textContent = count;
  const list = $('matched-by');
  notices.forEach((n) => {
    const li = el('li', 'history-item');
    li.appendChild(el('strong', null, `Also queried by ${n.agency}`));
    li.appendChild(document.createTextNode(` (${n.user}, ${words(n.role)}), ${longDateTime(n.at)}`));
    list.appendChild(li);
  });
  $('detail-body').hidden = false;
}

if (root) {
  start().finally(() => { document.body.dataset.detailReady = '1'; });
}
