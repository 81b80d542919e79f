/*
 * csmap – the panel page's "partners' shared layers by boundary set": choose a layer shared
 * with the user's agency and a month; lib/shared.js `compare` sums its published cells by two
 * boundary sets side by side. Signal for browser tests: #pnl-shared[data-ready="1"].
 */
import { getJSON } from '../lib/api.js';
import { $, el } from '../lib/dom.js';
import * as shared from '../lib/shared.js';

export function startShared(root) {
  const shareSelect = $('pnl-share');
  const periodSelect = $('share-period');
  const precision = $('pnl-share-precision');
  const compareEl = $('share-compare');
  let doc = null;
  const url = (template, id) => template.replace('__id__', encodeURIComponent(id));

  const comparison = shared.compare(compareEl, {
    doc: () => doc,
    period: () => periodSelect.value,
    areasUrl: (slug) => (shareSelect.value
      ? url(compareEl.dataset.areasUrl, shareSelect.value).replace('__slug__', encodeURIComponent(slug))
      : ''),
  });

  function loadShare() {
    doc = null;
    return getJSON(url(root.dataset.layerUrl, shareSelect.value)).then((layer) => {
      doc = layer;
      shared.fillPeriods(periodSelect, layer.periods_published || []);
      precision.textContent = `${layer.share.label}. ${layer.precision}`;
      return comparison.reload();
    });
  }

  getJSON(root.dataset.sharesUrl)
    .then((data) => {
      const live = (data.received || []).filter((s) => s.state === 'active' && s.tier === 'B');
      shareSelect.textContent = '';
      live.forEach((s) => {
        const option = el('option', null, `${s.label} — ${s.recipients}`);
        option.value = s.id;
        shareSelect.appendChild(option);
      });
      shareSelect.disabled = !live.length;
      if (!live.length) {
        precision.textContent = 'No partner shares a layer with your agency yet.';
        return null;
      }
      return loadShare();
    })
    .then(() => { root.dataset.ready = '1'; })
    .catch((err) => { precision.textContent = `Could not load shared layers: ${err.message}`; });
  shareSelect.addEventListener('change', loadShare);
  periodSelect.addEventListener('change', () => comparison.draw());
}
