// Month arithmetic and the one date style (static/js/lib/months.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import {
  IN_PROGRESS, addMonths, isInProgress, isMonth, lastCompleteMonth, longDate, longDateTime,
  monthLabel, monthName, monthOf, monthShort, monthsBetween, periodName,
} from '../../static/js/lib/months.js';

test('addMonths crosses year ends both ways', () => {
  assert.equal(addMonths('2026-12', 1), '2027-01');
  assert.equal(addMonths('2026-01', -1), '2025-12');
  assert.equal(addMonths('2026-03', -15), '2024-12');
  assert.equal(addMonths('2026-11', 0), '2026-11');
  assert.equal(addMonths('1999-12', 25), '2002-01');
});

test('monthsBetween includes both ends and is empty when reversed', () => {
  assert.deepEqual(monthsBetween('2025-11', '2026-02'), ['2025-11', '2025-12', '2026-01', '2026-02']);
  assert.deepEqual(monthsBetween('2026-05', '2026-05'), ['2026-05']);
  assert.deepEqual(monthsBetween('2026-06', '2026-05'), []);
});

test('isMonth accepts YYYY-MM only', () => {
  assert.ok(isMonth('2026-12'));
  for (const bad of ['2026-13', '2026-00', '2026-1', '26-01', '', null, '2026-01-01']) {
    assert.equal(isMonth(bad), false, String(bad));
  }
});

test('names: long, short and periods', () => {
  assert.equal(monthName('2026-11'), 'November 2026');
  assert.equal(monthShort('2026-09'), 'Sep 2026');
  assert.equal(periodName('2026-10', '2026-10'), 'October 2026');
  assert.equal(periodName('2026-08', '2026-10'), 'August – October 2026');
  assert.equal(periodName('2025-11', '2026-01'), 'November 2025 – January 2026');
});

test('the last complete month is the one before the month in progress, on any day', () => {
  assert.equal(lastCompleteMonth(new Date(2026, 11, 6)), '2026-11');
  assert.equal(lastCompleteMonth(new Date(2026, 11, 1)), '2026-11');
  assert.equal(lastCompleteMonth(new Date(2026, 11, 31, 23, 59)), '2026-11');
  assert.equal(lastCompleteMonth(new Date(2027, 0, 1)), '2026-12');
  assert.equal(lastCompleteMonth(new Date(2028, 2, 1)), '2028-02'); // after a leap February
  assert.equal(monthOf(new Date(2026, 0, 31)), '2026-01');
});

test('the month in progress is marked wherever its label is used', () => {
  assert.ok(isInProgress('2026-12', '2026-12'));
  assert.equal(isInProgress('2026-11', '2026-12'), false);
  assert.equal(isInProgress('2026-11', ''), false); // the page did not say: mark nothing
  assert.equal(monthLabel('2026-11', '2026-12'), 'November 2026');
  assert.equal(monthLabel('2026-12', '2026-12'), `December 2026 (${IN_PROGRESS})`);
  assert.equal(IN_PROGRESS, 'in progress — incomplete');
});

test('one date style: "6 December 2026"', () => {
  assert.equal(longDate('2026-12-06'), '6 December 2026');
  assert.equal(longDate('2027-01-31'), '31 January 2027');
  assert.equal(longDate(new Date(2026, 1, 28)), '28 February 2026');
  assert.equal(longDate(''), '');
  assert.equal(longDate('not a date'), 'not a date');
  assert.equal(longDateTime(new Date(2026, 11, 6, 9, 5)), '6 December 2026, 09:05');
  assert.equal(longDateTime(''), '—');
});
