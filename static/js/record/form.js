/*
 * csmap – the recording form's fields: what it sends for each kind of record, the lists it
 * offers (kinds, statuses, grades, categories, features, contexts, vehicles), and which
 * fields show for the kind of record chosen.
 */
import { request } from '../lib/api.js';
import { $, addOption, checkbox, val } from '../lib/dom.js';
import { words } from '../lib/format.js';
import { INFO_WORDS, SOURCE_WORDS } from './vocabulary.js';

export const SHAPE_LABELS = { Point: 'A single point', LineString: 'A line (tap each point along it)',
  Polygon: 'An area (tap round its edge)' };

/** "2026-03-05T14:30" now, in local time, for a datetime-local field. */
export function localNow() {
  const d = new Date();
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** "2026-03-05T14:30" (local) -> "2026-03-05T14:30:00+00:00". */
export function isoWithOffset(value) {
  const d = new Date(value);
  if (!value || Number.isNaN(d.getTime())) {
    return value || null;
  }
  const off = -d.getTimezoneOffset();
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  return `${value.slice(0, 16)}:00${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

export function vehicleLabel(v) {
  const desc = [v.colour, v.make, v.model].filter(Boolean).join(' ');
  return v.registration_mark + (desc ? ` — ${desc}` : '');
}

/** Lines saying which other agencies reported the vehicle, and whom to contact. */
export function alsoReported(vehicle) {
  const others = vehicle && Array.isArray(vehicle.also_reported_by) ? vehicle.also_reported_by : [];
  return others.map((o) => `Also reported by another agency — contact their lead: ${o.agency}, ${o.contact}.`);
}

const refs = () => val('f-young_person_refs').split(',').map((s) => s.trim()).filter(Boolean);

/** What an observation and a sighting have in common. */
export function observationFields(geom) {
  return {
    occurred_at: isoWithOffset(val('f-occurred_at')), geometry: geom, note: val('f-note'),
    young_person_refs: refs(), source_grade: val('f-source_grade') || null,
    info_grade: val('f-info_grade') ? Number(val('f-info_grade')) : null,
    context_id: val('f-context_id') || null,
  };
}

/** A context's body; a route left unnamed is named from its number and operator. */
export function contextBody(form, geom) {
  const route = val('f-kind') === 'transport_route';
  let name = val('f-name');
  if (!name && route && val('f-route_name')) {
    name = `Route ${val('f-route_name')}${val('f-operator') ? ` (${val('f-operator')})` : ''}`;
  }
  return {
    kind: val('f-kind') || null, name: name || null, geometry: geom,
    public_place: $('f-public_place').checked,
    features: Array.from(form.querySelectorAll('input[name="features"]:checked'), (i) => i.value),
    status: val('f-status') || null, last_confirmed: null,
    route_name: route ? val('f-route_name') || null : null,
    operator: route ? val('f-operator') || null : null,
  };
}

/** The sighting's vehicle: the chosen one, or the typed one, sent with the sighting so the
 * vehicle, the sighting and the cross-agency match are saved together (or not at all). */
export function sightingVehicle() {
  if (val('f-vehicle_id')) {
    return { vehicle_id: val('f-vehicle_id') };
  }
  const vehicle = {};
  ['registration_mark', 'make', 'model', 'colour'].forEach((k) => {
    if (val(`f-${k}`)) {
      vehicle[k] = val(`f-${k}`); // left out when empty: the server names a missing mark
    }
  });
  return { vehicle };
}

export function contextOption(state, feature) {
  const p = feature.properties || {};
  addOption($('f-context_id'), feature.id, `${p.name || 'Unnamed'} (${state.kindLabels[p.kind] || p.kind})`);
}

/** Fill the form's lists from the API; resolves with the answers that failed. */
export async function loadLists(api, state) {
  const r = await Promise.all(['/vocabulary', '/categories', '/place-features', '/contexts', '/vehicles']
    .map((p) => request('GET', api + p)));
  const voc = r[0].data || {};
  (voc.context_kinds || []).forEach((k) => {
    state.kinds[k.code] = k.geometry;
    state.kindLabels[k.code] = k.label;
    addOption($('f-kind'), k.code, k.label);
  });
  // No status is chosen for the user: a new place is not silently "Referred".
  addOption($('f-status'), '', 'Choose a status');
  (voc.context_statuses || []).forEach((s) => addOption($('f-status'), s, words(s)));
  (voc.source_grades || []).forEach((g) => {
    addOption($('f-source_grade'), g, SOURCE_WORDS[g] ? `${g} — ${SOURCE_WORDS[g]}` : g, g === 'C');
  });
  (voc.info_grades || []).forEach((g) => {
    addOption($('f-info_grade'), String(g), INFO_WORDS[g] ? `${g} — ${INFO_WORDS[g]}` : String(g), String(g) === '3');
  });
  ((r[1].data || {}).categories || []).forEach((c) => {
    state.categories[c.code] = c.label;
    addOption($('f-category'), c.code, c.label);
  });
  ((r[2].data || {}).place_features || []).forEach((f) => {
    $('f-features').appendChild(checkbox('features', f.code, f.label));
  });
  ((r[3].data || {}).features || []).forEach((f) => contextOption(state, f));
  state.vehicles = (r[4].data || {}).vehicles || [];
  state.vehicles.forEach((v) => addOption($('f-vehicle_id'), v.id, vehicleLabel(v)));
  return r.filter((x) => !x.ok);
}
