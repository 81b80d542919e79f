// Class breaks of every map's colour ramp (static/js/lib/classes.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import {
  breaksFor, changeClass, classLabel, classOf, seqIndex, sharedClassOf, sharedClasses, threshold,
} from '../../static/js/lib/classes.js';

test('breaks are increasing, end at the maximum, at most five', () => {
  assert.deepEqual(breaksFor(0), []);
  assert.deepEqual(breaksFor(1), [1]);
  assert.deepEqual(breaksFor(3), [1, 2, 3]);
  for (const max of [2, 5, 7, 27, 100, 1000]) {
    const b = breaksFor(max);
    assert.ok(b.length >= 1 && b.length <= 5, `${max}: ${b}`);
    assert.equal(b[b.length - 1], max);
    b.slice(1).forEach((x, i) => assert.ok(x > b[i], `${max}: ${b}`));
  }
  assert.deepEqual(breaksFor(27), [2, 4, 7, 14, 27]); // log-spaced: skewed counts
});

test('classOf puts every count in one class, none for zero', () => {
  const b = breaksFor(27);
  assert.equal(classOf(b, 0), -1);
  assert.equal(classOf(b, 1), 0);
  assert.equal(classOf(b, 2), 0);
  assert.equal(classOf(b, 3), 1);
  assert.equal(classOf(b, 27), 4);
  assert.equal(classOf(b, 99), 4); // above the top break: the top class
  assert.equal(classOf(b, Number.NaN), -1);
});

test('class labels cover 1..max without gaps', () => {
  const b = breaksFor(27);
  assert.deepEqual(b.map((_, i) => classLabel(b, i)), ['1–2', '3–4', '5–7', '8–14', '15–27']);
  assert.equal(classLabel([1], 0), '1');
});

test('palette index: darkest last, spread over five colours', () => {
  assert.equal(seqIndex(0, 1), 4);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => seqIndex(i, 5)), [0, 1, 2, 3, 4]);
  assert.deepEqual([0, 1, 2].map((i) => seqIndex(i, 3)), [2, 3, 4]);
});

test('shared classes double from k, read from the precision statement', () => {
  assert.equal(threshold('Cells of about 0.74 km², counts under 5 hidden, by month.'), 5);
  assert.equal(threshold('counts under 10 hidden'), 10);
  assert.equal(threshold(''), 5);
  const ramp = ['a', 'b', 'c', 'd', 'e'];
  const cls = sharedClasses([5, 9, 40], 'counts under 5 hidden', ramp);
  assert.deepEqual(cls.map((c) => c.label), ['5–9', '10–19', '20–39', '40–79', '80+']);
  assert.equal(sharedClassOf(5, cls).colour, 'a');
  assert.equal(sharedClassOf(19, cls).colour, 'b');
  assert.equal(sharedClassOf(1000, cls).colour, 'e');
});

test('banded counts keep their bands in order', () => {
  const cls = sharedClasses(['20–49', '10–19', '50+', '10–19'], 'x', ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(cls.map((c) => c.label), ['10–19', '20–49', '50+']);
  assert.equal(sharedClassOf('50+', cls).colour, 'd');
});

test('change classes from percent change', () => {
  assert.equal(changeClass(null), null);
  assert.equal(changeClass({ percent_change: null, current: 3 }), 'new');
  assert.equal(changeClass({ percent_change: null, current: 0 }), null);
  assert.equal(changeClass({ percent_change: 50 }), 'up2');
  assert.equal(changeClass({ percent_change: 10 }), 'up1');
  assert.equal(changeClass({ percent_change: 9.9 }), 'same');
  assert.equal(changeClass({ percent_change: -10 }), 'down1');
  assert.equal(changeClass({ percent_change: -50 }), 'down2');
  assert.equal(changeClass({ percent_change: -100 }), 'down2');
});
