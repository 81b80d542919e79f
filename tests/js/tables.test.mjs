// A table behind every map (issue 18): classes in words, the panel's month-on-month change,
// and a shared layer's rows (the period's published cells, then its places).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { classWords, sharedClassWords } from '../../static/js/lib/classes.js';
import { tableRows } from '../../static/js/lib/shared.js';
import { monthChange } from '../../static/js/panel/table.js';

test('a count class is words and its range, never colour alone', () => {
  const breaks = [1, 3, 9, 20, 50];
  assert.equal(classWords(breaks, 0), 'None');
  assert.equal(classWords(breaks, 1), 'Very low (1)');
  assert.equal(classWords(breaks, 12), 'High (10–20)');
  assert.equal(classWords(breaks, 50), 'Very high (21–50)');
  assert.equal(classWords([4], 2), 'Very high (1–4)'); // one class: the darkest colour
  assert.equal(sharedClassWords({ index: 1, label: '10–19' }), 'Low (10–19)');
});

test('the change on the month before', () => {
  assert.equal(monthChange(5, 2), 'up 3 from 2');
  assert.equal(monthChange(1, 4), 'down 3 from 4');
  assert.equal(monthChange(3, 3), 'no change');
  assert.equal(monthChange(3, null), '—');
});

const cell = (id, period, count, lon) => ({
  type: 'Feature',
  properties: { cell: id, period, count },
  geometry: { type: 'Polygon', coordinates: [[[lon, 54.6], [lon + 0.01, 54.6], [lon + 0.01, 54.61], [lon, 54.6]]] },
});

test("a shared layer's rows: the period's cells, most first, then its places", () => {
  const doc = {
    share: { source: 'Wrenmouth Police', tier: 'B', periods: 'August to October 2026' },
    precision: 'counts under 5 hidden',
    features: [cell('a', '2026-10', 6, 1.2), cell('b', '2026-10', 12, 1.1), cell('c', '2026-09', 40, 1.2)],
    contexts: { features: [{ properties: { name: 'Harbour Bus Station', precise: true } },
      { properties: { name: 'Place of concern', precise: false } }] },
  };
  const rows = tableRows(doc, '2026-10', ['#1', '#2', '#3', '#4', '#5']);
  assert.deepEqual(rows.map((r) => r.cells[5]), ['12', '6', '—', '—']);
  assert.deepEqual(rows[0].cells.slice(1, 5), ['Published cell', 'Wrenmouth Police', 'B (partner)', 'October 2026']);
  assert.equal(rows[0].cells[6], 'Low (10–19)');
  assert.match(rows[0].cells[0], /^54\.60\d° N, 1\.1\d\d° E$/);
  assert.equal(rows[3].cells[0], 'Place of concern (shown at its cell’s centre)');
  assert.equal(rows[3].cells[4], 'August to October 2026');
});

test('the live region speaks at most once a second, the last value winning', async () => {
  const { throttledAnnouncer } = await import('../../static/js/lib/announce.js');
  let t = 0;
  const timers = [];
  const said = [];
  const clock = { now: () => t, setTimeout: (fn, ms) => timers.push({ at: t + ms, fn }) };
  const run = (to) => {
    t = to;
    const due = timers.filter((x) => x.at <= to);
    due.forEach((x) => timers.splice(timers.indexOf(x), 1));
    due.forEach((x) => x.fn());
  };
  const announce = throttledAnnouncer((text) => said.push([t, text]), clock);
  announce('May 2026'); // at once
  run(200);
  announce('June 2026');
  run(400);
  announce('July 2026'); // replaces June: last value wins
  run(1000);
  assert.deepEqual(said, [[0, 'May 2026'], [1000, 'July 2026']]);
  run(2500);
  announce('August 2026'); // a second and more since the last: at once
  assert.deepEqual(said.at(-1), [2500, 'August 2026']);
});
