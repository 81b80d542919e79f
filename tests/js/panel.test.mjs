// The panel's pure parts: reading order of shapes, tile resolution, point in area, and which
// cells "What changed" lists.
import assert from 'node:assert/strict';
import test from 'node:test';

import { watchList } from '../../static/js/panel/changes.js';
import { contains } from '../../static/js/panel/data.js';
import { readingOrder, tileResolution } from '../../static/js/panel/mapview.js';

test('shapes are read top row first, west to east', () => {
  const at = { a: [1.20, 54.60], b: [1.10, 54.60], c: [1.15, 54.62], d: [1.30, 54.599] };
  const order = readingOrder(Object.keys(at), (k) => at[k]);
  assert.deepEqual(order, ['c', 'b', 'a', 'd']);
});

test('the tiles’ cell size follows the zoom', () => {
  assert.deepEqual([10, 11, 12, 13, 14, 17].map(tileResolution), [7, 7, 8, 8, 9, 9]);
});

test('point in polygon, with a hole and a multipolygon', () => {
  const square = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]];
  const hole = [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]];
  assert.ok(contains({ type: 'Polygon', coordinates: [square] }, 2, 2));
  assert.equal(contains({ type: 'Polygon', coordinates: [square, hole] }, 2, 2), false);
  assert.ok(contains({ type: 'Polygon', coordinates: [square, hole] }, 0.5, 2));
  assert.ok(contains({ type: 'MultiPolygon', coordinates: [[hole], [square.map(([x, y]) => [x + 10, y])]] }, 11, 1));
  assert.equal(contains({ type: 'Point', coordinates: [2, 2] }, 2, 2), false);
});

test('the watch list: flagged cells first by class, then hot spots that stopped', () => {
  const now = { a: { pattern: 'consecutive', z: 3 }, b: { pattern: 'new', z: 2 },
    c: { pattern: 'persistent', z: 5 }, d: { pattern: 'historical', z: 1 }, e: { pattern: 'new', z: 4 } };
  const then = { d: { pattern: 'persistent' }, f: { pattern: 'sporadic' }, g: { pattern: 'intensifying' } };
  const rows = watchList(now, then);
  assert.deepEqual(rows.map((r) => [r.cell, r.key]),
    [['e', 'new'], ['b', 'new'], ['a', 'consecutive'], ['d', 'dropped'], ['g', 'dropped']]);
});
