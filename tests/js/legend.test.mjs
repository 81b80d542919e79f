// Legend and precision text (static/js/map/legend.js, lib/shared.js): what a folded legend
// says, what the caption says for what is shown, and how a shared layer is labelled.
import assert from 'node:assert/strict';
import test from 'node:test';

import { PRECISION, precisionText, summaryText } from '../../static/js/map/legend.js';
import { layerLabel, periodText, sourceNumbers } from '../../static/js/lib/shared.js';

const none = { sets: [], contexts: [], reference: false, shared: [] };
const tierB = 'Cells of about 0.74 km², counts under 5 hidden, by month.';

test('the caption says the precision of what is shown', () => {
  assert.equal(precisionText(none), PRECISION.base);
  assert.equal(precisionText({ ...none, contexts: ['hotspot'] }), PRECISION.contexts);
  const shared = [
    { source: 'Wrenmouth Police', precision: tierB },
    { source: 'Wrenmouth Police', precision: tierB },
    { source: "Children's Services", precision: tierB },
  ];
  assert.equal(precisionText({ ...none, shared }),
    `Wrenmouth Police, Children's Services: ${tierB}`);
  const mixed = precisionText({ ...none, contexts: ['hotspot'], reference: true,
    shared: [{ source: 'A', precision: tierB }, { source: 'B', precision: 'Coarse cells.' }] });
  assert.equal(mixed, `${PRECISION.contexts} A: ${tierB} B: Coarse cells. ${PRECISION.reference}`);
});

test('a folded legend is one line naming what the map shows', () => {
  assert.equal(summaryText(none), 'base map');
  assert.equal(summaryText({ sets: [1], contexts: ['a', 'b'], reference: true, shared: [1, 2] }),
    'base map, 1 boundary set, 2 kinds of context, police.uk crimes, 2 shared layers');
});

test('a shared layer names its source, tier, period and agreement', () => {
  assert.equal(layerLabel('Wrenmouth Police · tier B (partner)', '2026-10', 'ISA-WRN-2026-04'),
    'Wrenmouth Police · tier B (partner) · October 2026 · ISA-WRN-2026-04');
  assert.equal(layerLabel('X · tier C (briefing)', '', ''), 'X · tier C (briefing) · nothing published yet');
  assert.equal(periodText('2026-Q3'), '2026-Q3');
});

test('each source keeps one number (its colours) whatever the order', () => {
  assert.deepEqual(sourceNumbers(['B', 'A', 'B', 'C']), { A: 0, B: 1, C: 2 });
  assert.deepEqual(sourceNumbers(['C', 'A']), { A: 0, C: 1 });
});
