// Words for numbers and plain-English field messages (lib/format.js, lib/messages.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { excerpt, percentWords, plural, sentence, words } from '../../static/js/lib/format.js';
import { plainFields, plainMessage } from '../../static/js/lib/messages.js';

test('plurals and percentages in words', () => {
  assert.equal(plural(1, 'record'), '1 record');
  assert.equal(plural(0, 'record'), '0 records');
  assert.equal(plural(2, 'place or route', 'places and routes'), '2 places and routes');
  assert.equal(percentWords(null, 3), 'new');
  assert.equal(percentWords(null, 0), 'none either time');
  assert.equal(percentWords(0, 4), 'no change');
  assert.equal(percentWords(150, 5), 'up 150%');
  assert.equal(percentWords(-12.345, 5), 'down 12%');
  assert.equal(percentWords(4.44, 5), 'up 4.4%');
});

test('sentences, vocabulary words and excerpts', () => {
  assert.equal(sentence('Saved'), 'Saved.');
  assert.equal(sentence('Saved?'), 'Saved?');
  assert.equal(words('place_of_concern'), 'Place of concern');
  assert.equal(excerpt('a  b\nc', 10), 'a b c');
  assert.equal(excerpt('abcdefghij', 5), 'abcd…');
});

test("the validator's words never reach a person", () => {
  assert.equal(plainMessage('List should have at least 1 item after validation, not 0'), 'Choose at least 1.');
  assert.equal(plainMessage('List should have at least 1 item after validation, not 0', 'Choose at least one area'),
    'Choose at least one area.');
  assert.equal(plainMessage('Field required', 'Choose what was seen.'), 'Choose what was seen.');
  assert.equal(plainMessage('Field required'), 'Enter or choose a value.');
  assert.equal(plainMessage('String should have at most 200 characters'), 'Use 200 characters or fewer.');
  assert.equal(plainMessage("Input should be 'B' or 'C'"), 'Choose one of the options.');
  assert.equal(plainMessage('Input should be a valid date or datetime, input is too short'), 'Enter a real date.');
  // The server's own sentences pass through, capitalised and ended.
  assert.equal(plainMessage('Value error, must be a pseudonymous reference: never record a name'),
    'Must be a pseudonymous reference: never record a name.');
});

test('plainFields keys by the field, first message wins', () => {
  assert.deepEqual(plainFields({ 'areas': 'Field required', 'geometry.coordinates': 'bad ring' },
    { areas: 'Choose at least one area' }), { areas: 'Choose at least one area.', geometry: 'Bad ring.' });
});
