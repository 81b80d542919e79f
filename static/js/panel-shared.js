/*
 * csmap – the panel page's "partners' shared layers by boundary set": choose a layer shared
 * with the user's agency and a month; static/js/share.js `compare` sums its published cells by
 * two boundary sets side by side. Plain ES2018; safe under "script-src 'self'".
 */
(function () {
  'use strict';

  var root = document.getElementById('pnl-shared');
  if (!root || !window.csmapShared) {
    return;
  }
  var shared = window.csmapShared;
  var shareSelect = document.getElementById('pnl-share');
  var periodSelect = document.getElementById('share-period');
  var precision = document.getElementById('pnl-share-precision');
  var compareEl = document.getElementById('share-compare');
  var doc = null;

  function url(template, id) {
    return template.replace('__id__', encodeURIComponent(id));
  }

  var comparison = shared.compare(compareEl, {
    doc: function () { return doc; },
    period: function () { return periodSelect.value; },
    areasUrl: function (slug) {
      if (!shareSelect.value) {
        return '';
      }
      return url(compareEl.dataset.areasUrl, shareSelect.value).replace('__slug__', encodeURIComponent(slug));
    },
  });

  function loadShare() {
    doc = null;
    return shared.getJSON(url(root.dataset.layerUrl, shareSelect.value)).then(function (layer) {
      doc = layer;
      shared.fillPeriods(periodSelect, layer.periods_published || []);
      precision.textContent = layer.share.label + '. ' + layer.precision;
      return comparison.reload();
    });
  }

  shared.getJSON(root.dataset.sharesUrl)
    .then(function (data) {
      var live = (data.received || []).filter(function (s) { return s.state === 'active' && s.tier === 'B'; });
      shareSelect.textContent = '';
      live.forEach(function (s) {
        var opt = document.createElement('option');
        opt.value = s.id;
        opt.textContent = s.label + ' — ' + s.recipients;
        shareSelect.appendChild(opt);
      });
      shareSelect.disabled = !live.length;
      if (!live.length) {
        precision.textContent = 'No partner shares a layer with your agency yet.';
        return null;
      }
      return loadShare();
    })
    .then(function () { root.dataset.ready = '1'; })
    .catch(function (err) { precision.textContent = 'Could not load shared layers: ' + err.message; });
  shareSelect.addEventListener('change', loadShare);
  periodSelect.addEventListener('change', function () { comparison.draw(); });
}());
