/*
 * csmap – the words for the agency's records: categories, place features, context kinds and
 * statuses, and the source and information grades (the UK 5x5x5 wording).
 */
import { request } from '../lib/api.js';

export const SOURCE_WORDS = { A: 'always reliable', B: 'mostly reliable', C: 'sometimes reliable',
  D: 'unreliable', E: 'untested source' };
export const INFO_WORDS = { 1: 'known to be true', 2: 'known to the source, not to the recorder',
  3: 'not known directly, but corroborated', 4: 'cannot be judged', 5: 'suspected false' };

/** {categories: {code: label}, features, kinds, kindShapes, statuses, source, info}. */
export async function loadVocabulary(api) {
  const [cats, feats, voc] = await Promise.all(['/categories', '/place-features', '/vocabulary']
    .map((p) => request('GET', api + p)));
  const out = { categories: {}, features: {}, kinds: {}, kindShapes: {}, statuses: [], source: [],
    info: [], failed: [cats, feats, voc].filter((r) => !r.ok) };
  ((cats.data || {}).categories || []).forEach((c) => { out.categories[c.code] = c.label; });
  ((feats.data || {}).place_features || []).forEach((f) => { out.features[f.code] = f.label; });
  const v = voc.data || {};
  (v.context_kinds || []).forEach((k) => {
    out.kinds[k.code] = k.label;
    out.kindShapes[k.code] = k.geometry;
  });
  out.statuses = v.context_statuses || [];
  out.source = v.source_grades || [];
  out.info = v.info_grades || [];
  return out;
}
