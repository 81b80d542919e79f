// The police.uk reference layer comes in pages of 1,000 with `next` links: the map must
// follow them, stop at its page cap and say when it did.
import assert from 'node:assert/strict';
import { test } from 'node:test';

globalThis.window = {
  location: { href: 'http://127.0.0.1:5000/map', origin: 'http://127.0.0.1:5000' },
  setTimeout, clearTimeout,
};
globalThis.document = { cookie: '', querySelector: () => null };

const { getAllFeatures } = await import('../../static/js/lib/api.js');

function serve(total, size) {
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(url);
    const offset = Number(new URL(url).searchParams.get('offset') || 0);
    const features = Array.from({ length: Math.min(size, total - offset) },
      (_, i) => ({ type: 'Feature', properties: { n: offset + i }, geometry: null }));
    const links = offset + size < total
      ? [{ rel: 'next', href: `http://127.0.0.1:5000/api/v1/reference/police-uk?offset=${offset + size}` }]
      : [];
    return {
      ok: true, status: 200, headers: { get: () => null },
      json: async () => ({ type: 'FeatureCollection', features, links }),
    };
  };
  return asked;
}

test('follows next links until the last page', async () => {
  const asked = serve(2500, 1000);
  const fc = await getAllFeatures('/api/v1/reference/police-uk');
  assert.equal(fc.features.length, 2500);
  assert.deepEqual(fc.features.map((f) => f.properties.n), [...Array(2500).keys()]);
  assert.equal(fc.complete, true);
  assert.equal(asked.length, 3);
});

test('stops at the page cap and says the layer is incomplete', async () => {
  const asked = serve(5000, 1000);
  const fc = await getAllFeatures('/api/v1/reference/police-uk', 2);
  assert.equal(fc.features.length, 2000);
  assert.equal(fc.complete, false);
  assert.equal(asked.length, 2);
});

test('one page without links is complete', async () => {
  serve(10, 1000);
  const fc = await getAllFeatures('/api/v1/reference/police-uk');
  assert.equal(fc.features.length, 10);
  assert.equal(fc.complete, true);
});
