// Geometry for naming and placing (static/js/lib/geo.js): compass words, boxes, marks that
// keep clear of labels.
import assert from 'node:assert/strict';
import test from 'node:test';

import { boxCentre, compass, overlaps, placeClear, ringCentre } from '../../static/js/lib/geo.js';

test('compass words from a centre', () => {
  const c = [1.2, 54.6];
  assert.equal(compass(c, [1.2, 54.7]), 'north');
  assert.equal(compass(c, [1.4, 54.6]), 'east');
  assert.equal(compass(c, [1.0, 54.5]), 'south-west');
  assert.equal(compass(c, [1.201, 54.601]), 'centre');
  assert.equal(compass(c, [1.3, 54.8]), 'north'); // longitude shrinks at 54.6° N
});

test('centres of rings and boxes', () => {
  assert.deepEqual(ringCentre([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]), [1, 1]);
  assert.deepEqual(boxCentre({ type: 'MultiPolygon', coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]],
    [[[3, 3], [4, 3], [4, 5], [3, 3]]]] }), [2, 2.5]);
});

test('boxes overlap only when they share area', () => {
  const a = { x: 0, y: 0, w: 10, h: 10 };
  assert.ok(overlaps(a, { x: 5, y: 5, w: 10, h: 10 }));
  assert.equal(overlaps(a, { x: 10, y: 0, w: 5, h: 5 }), false); // touching
  assert.equal(overlaps(a, { x: 0, y: 20, w: 5, h: 5 }), false);
});

test('marks move off labels and off each other', () => {
  const label = { x: 0, y: 0, w: 40, h: 12 };
  const at = (x, y) => ({ x, y, w: 10, h: 10 });
  const spots = (x, y) => [at(x, y), at(x, y + 16), at(x, y - 16), at(x + 16, y)];
  const chosen = placeClear([spots(5, 0), spots(5, 0), spots(100, 100)], [label]);
  chosen.forEach((box) => assert.equal(overlaps(box, label), false));
  assert.equal(overlaps(chosen[0], chosen[1]), false);
  assert.deepEqual(chosen[2], at(100, 100)); // a free spot keeps its place
  // Nowhere free: the spot that covers least.
  const boxed = placeClear([[at(0, 0), at(50, 0)]], [label, { x: 45, y: 0, w: 20, h: 20 }, { x: 0, y: 0, w: 5, h: 5 }]);
  assert.deepEqual(boxed[0], at(50, 0));
});
