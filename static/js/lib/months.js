/*
 * csmap – calendar months as "YYYY-MM" strings: arithmetic, names and the one date style
 * ("6 December 2026", "December 2026"). Pure: no DOM, unit-tested under Node (tests/js/).
 */

export const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July',
  'August', 'September', 'October', 'November', 'December'];

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Whether s is a month, "YYYY-MM". */
export function isMonth(s) {
  return MONTH_RE.test(String(s || ''));
}

/** The month n months after ym (n may be negative). */
export function addMonths(ym, n) {
  const [y, m] = String(ym).split('-').map(Number);
  const total = y * 12 + m - 1 + n;
  const month = (total % 12 + 12) % 12 + 1;
  return `${Math.floor(total / 12)}-${month < 10 ? '0' : ''}${month}`;
}

/** Every month from a to b, both included ([] when a is after b). */
export function monthsBetween(a, b) {
  const out = [];
  for (let m = a; m <= b; m = addMonths(m, 1)) {
    out.push(m);
  }
  return out;
}

/** "2026-11" -> "November 2026". */
export function monthName(ym) {
  const [y, m] = String(ym).split('-');
  return `${MONTH_NAMES[Number(m) - 1]} ${y}`;
}

/** "2026-11" -> "Nov 2026" (slider ends and sparkline labels, where room is short). */
export function monthShort(ym) {
  const [y, m] = String(ym).split('-');
  return `${MONTH_NAMES[Number(m) - 1].slice(0, 3)} ${y}`;
}

/** "October 2026", or "August – October 2026" / "November 2025 – January 2026". */
export function periodName(from, to) {
  if (from === to) {
    return monthName(to);
  }
  if (from.slice(0, 4) === to.slice(0, 4)) {
    return `${MONTH_NAMES[Number(from.slice(5)) - 1]} – ${monthName(to)}`;
  }
  return `${monthName(from)} – ${monthName(to)}`;
}

/** The month a date falls in, "YYYY-MM" (local time). */
export function monthOf(date) {
  const m = date.getMonth() + 1;
  return `${date.getFullYear()}-${m < 10 ? '0' : ''}${m}`;
}

/** The last month that has ended by the day of `today` (a month in progress is not it). */
export function lastCompleteMonth(today) {
  return addMonths(monthOf(today), -1);
}

/** Whether ym has not ended yet, as of the month in progress `current`. */
export function isInProgress(ym, current) {
  return Boolean(current) && ym >= current;
}

/** The words every place shows after the month in progress. */
export const IN_PROGRESS = 'in progress — incomplete';

/** "November 2026", or "December 2026 (in progress — incomplete)". */
export function monthLabel(ym, current) {
  return isInProgress(ym, current) ? `${monthName(ym)} (${IN_PROGRESS})` : monthName(ym);
}

/** A calendar date or instant in the one date style: "6 December 2026". Accepts
 * "YYYY-MM-DD", an ISO 8601 instant or a Date; '' for nothing. */
export function longDate(value) {
  if (!value) {
    return '';
  }
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (plain) {
    return `${Number(plain[3])} ${MONTH_NAMES[Number(plain[2]) - 1]} ${plain[1]}`;
  }
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) {
    return String(value);
  }
  return `${d.getDate()} ${MONTH_NAMES[d.getMonth()]} ${d.getFullYear()}`;
}

/** A date and time in the one style: "6 December 2026, 14:05" (local time). */
export function longDateTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (!value || Number.isNaN(d.getTime())) {
    return value ? String(value) : '—';
  }
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  return `${longDate(d)}, ${hh}:${mm}`;
}
