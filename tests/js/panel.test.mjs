// The panel's pure parts: reading order of shapes, tile resolution, point in area, and which
// cells "What changed" lists.
import assert from 'node:assert/strict';
import test from 'node:test';

import { contains } from '../../static/js/lib/geo.js';
import { groupByArea, thenText, watchList } from '../../static/js/panel/changes.js';
import { tileResolution } from '../../static/js/panel/mapview.js';
import { nameCells, readingOrder } from '../../static/js/panel/places.js';

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

const square = (x, y, size, name, code) => ({
  type: 'Feature',
  properties: { name, code },
  geometry: { type: 'Polygon', coordinates: [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]] },
});

test('cells are named by area, numbered in reading order, with where they lie', () => {
  const areas = [square(1.0, 54.5, 0.1, 'Ferry Hill', 'W01'), square(1.1, 54.5, 0.1, 'Kingsley', 'W02')];
  const centres = { a: [1.01, 54.59], b: [1.09, 54.59], c: [1.05, 54.55], d: [1.15, 54.55], e: [2, 2] };
  const names = nameCells(centres, areas, 'Outside the wards');
  assert.equal(names.a.name, 'Cell 1, Ferry Hill (north-west)');
  assert.equal(names.b.name, 'Cell 2, Ferry Hill (north-east)');
  assert.equal(names.c.name, 'Cell 3, Ferry Hill (centre)');
  assert.equal(names.c.short, 'Cell 3 (centre)');
  assert.equal(names.d.name, 'Cell 1, Kingsley (centre)');
  assert.equal(names.e.name, 'Cell 1, Outside the wards');
  assert.equal(names.e.areaKey, '');
  // Every cell's name is its own.
  const all = Object.values(names).map((n) => n.name);
  assert.equal(new Set(all).size, all.length);
});

test('"What changed" is grouped by area, each cell once, numbered as shown', () => {
  const names = { a: { area: 'Ferry Hill', areaKey: 'W01' }, b: { area: 'Kingsley', areaKey: 'W02' },
    c: { area: 'Ferry Hill', areaKey: 'W01' } };
  const rows = [{ cell: 'a', key: 'new' }, { cell: 'b', key: 'new' }, { cell: 'c', key: 'dropped' },
    { cell: 'x', key: 'dropped' }];
  const groups = groupByArea(rows, names, 'Elsewhere');
  assert.deepEqual(groups.map((g) => [g.area, g.rows.map((r) => r.cell)]),
    [['Ferry Hill', ['a', 'c']], ['Kingsley', ['b']], ['Elsewhere', ['x']]]);
  assert.deepEqual(groups.flatMap((g) => g.rows.map((r) => r.number)), [1, 2, 3, 4]);
  const cells = groups.flatMap((g) => g.rows.map((r) => r.cell));
  assert.equal(new Set(cells).size, cells.length);
});

test('what a cell was at the last meeting, in words', () => {
  assert.equal(thenText({ key: 'dropped', was: 'new' }, null), 'was New');
  assert.equal(thenText({ key: 'new' }, null), 'not flagged at the last meeting');
  assert.equal(thenText({ key: 'new' }, 'new'), 'the same at the last meeting');
  assert.equal(thenText({ key: 'intensifying' }, 'consecutive'),
    'was Recent run (consecutive) at the last meeting');
});
