/*
 * csmap – small words for numbers: plurals, percentages, sentences. Pure (unit-tested).
 */

/** "1 record", "3 records" (many: the plural when it is not one + "s"). */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : (many || `${one}s`)}`;
}

/** A percent change in words: "up 50%", "down 12.5%", "no change", "new". */
export function percentWords(pct, current) {
  if (pct === null || pct === undefined) {
    return current > 0 ? 'new' : 'none either time';
  }
  if (pct === 0) {
    return 'no change';
  }
  const n = Math.abs(pct);
  const text = n >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
  return `${pct > 0 ? 'up' : 'down'} ${text}%`;
}

/** The text ending in a full stop. */
export function sentence(text) {
  const t = String(text).trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A vocabulary code as words: "place_of_concern" -> "Place of concern". */
export function words(code) {
  const s = String(code || '').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The first n characters of text on one line, with an ellipsis when cut. */
export function excerpt(text, n) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
