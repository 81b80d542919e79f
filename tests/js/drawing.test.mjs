// The recording map's drawing and the API client's retry policy.
import assert from 'node:assert/strict';
import test from 'node:test';

import { RETRY, shouldRetry } from '../../static/js/lib/api.js';
import { drawingText, geometryOf } from '../../static/js/record/draw.js';

const p = (lng, lat) => ({ lng, lat });

test('geometries from the points drawn', () => {
  assert.equal(geometryOf('Point', []), null);
  assert.deepEqual(geometryOf('Point', [p(1.2000001, 54.6)]), { type: 'Point', coordinates: [1.2, 54.6] });
  assert.equal(geometryOf('LineString', [p(1, 2)]), null);
  assert.deepEqual(geometryOf('LineString', [p(1, 2), p(3, 4)]).coordinates, [[1, 2], [3, 4]]);
  assert.equal(geometryOf('Polygon', [p(1, 2), p(3, 4)]), null);
  const ring = geometryOf('Polygon', [p(1, 2), p(3, 4), p(5, 2)]).coordinates[0];
  assert.deepEqual(ring[0], ring[ring.length - 1]); // closed
});

test('what the drawing status says', () => {
  assert.match(drawingText('Point', 0, false), /^No pin yet/);
  assert.match(drawingText('Point', 1, false), /^Pin placed/);
  assert.equal(drawingText('Polygon', 1, false), '1 point — add at least 2 more.');
  assert.equal(drawingText('LineString', 2, true), 'The line is finished: 2 points.');
});

test('one retry policy: only what cannot change anything twice is retried', () => {
  assert.ok(shouldRetry('GET', {}, 0, 1));
  assert.ok(shouldRetry('GET', {}, 503, 1));
  assert.equal(shouldRetry('GET', {}, 404, 1), false);
  assert.equal(shouldRetry('GET', {}, 0, RETRY.attempts), false); // tried enough
  assert.equal(shouldRetry('PATCH', {}, 0, 1), false);
  assert.equal(shouldRetry('POST', {}, 0, 1), false);
  assert.ok(shouldRetry('POST', { 'Idempotency-Key': 'k' }, 502, 1));
});

test('the home area and a remembered view are checked before use', async () => {
  const { parseHome, validView } = await import('../../static/js/record/view.js');
  assert.deepEqual(parseHome('1.1,54.5,1.3,54.7'), [[54.5, 1.1], [54.7, 1.3]]);
  for (const bad of ['', '1,2,3', '1.3,54.5,1.1,54.7', 'a,b,c,d', null]) {
    assert.equal(parseHome(bad), null, String(bad));
  }
  const box = [[54.5, 1.1], [54.7, 1.3]];
  assert.deepEqual(validView({ lat: 54.6, lng: 1.2, zoom: 16 }, box), { lat: 54.6, lng: 1.2, zoom: 16 });
  assert.equal(validView({ lat: 51.5, lng: -0.1, zoom: 16 }, box), null); // somewhere else
  assert.equal(validView({ lat: 54.6, lng: 1.2, zoom: 40 }, box), null);
  assert.equal(validView({ lat: '54.6', lng: 1.2, zoom: 3 }, box), null);
  assert.equal(validView(null, box), null);
});
