/*
 * csmap – the server's field errors in plain English, as the GOV.UK Design System writes
 * them: say what to do ("Choose at least one area"), never the validator's words ("List
 * should have at least 1 item after validation, not 0"). Pure (unit-tested under Node).
 *
 * The server's own sentences (e.g. "Never record a name here: …") pass through as they are,
 * with a capital letter and a full stop.
 */

/** [pattern, plain words] for the validator's stock phrases. $1 is the pattern's number. */
const STOCK = [
  [/^field required$/i, 'Enter or choose a value'],
  [/^input should be a valid (date|datetime)\b/i, 'Enter a real date'],
  [/^input should be a valid (integer|number)\b/i, 'Enter a whole number'],
  [/^input should be a valid uuid\b/i, 'Choose one of the options'],
  [/^input should be a valid boolean\b/i, 'Choose yes or no'],
  [/^input should be (?:a valid string|'.*)/i, 'Choose one of the options'],
  [/^list should have at least (\d+) items? after validation/i, 'Choose at least $1'],
  [/^list should have at most (\d+) items? after validation/i, 'Choose no more than $1'],
  [/^string should have at least (\d+) characters?/i, 'Enter at least $1 characters'],
  [/^string should have at most (\d+) characters?/i, 'Use $1 characters or fewer'],
  [/^input should be greater than or equal to (\S+)/i, 'Enter $1 or more'],
  [/^input should be less than or equal to (\S+)/i, 'Enter $1 or less'],
  [/^string should match pattern/i, 'Enter it in the form shown in the hint'],
];

function tidy(text) {
  const t = String(text || '').trim().replace(/^value error, /i, '');
  if (!t) {
    return '';
  }
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * One field's message in plain English. required: the words for this field when it is
 * missing ("Choose what was seen"); stock phrases without a field's own words fall back to
 * the general wording above.
 */
export function plainMessage(raw, required) {
  const text = String(raw || '').trim().replace(/^value error, /i, '');
  for (const [pattern, plain] of STOCK) {
    const found = pattern.exec(text);
    if (found) {
      if (required && (/^field required$/i.test(text) || /at least 1 item/i.test(text))) {
        return tidy(required);
      }
      return tidy(plain.replace('$1', found[1] || ''));
    }
  }
  return tidy(text);
}

/** Every field's message in plain English; required: {field: words when it is missing}. */
export function plainFields(fields, required) {
  const out = {};
  Object.keys(fields || {}).forEach((name) => {
    const key = name.split(/[.[]/)[0];
    if (!(key in out)) {
      out[key] = plainMessage(fields[name], (required || {})[key]);
    }
  });
  return out;
}
