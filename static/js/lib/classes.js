/*
 * csmap – class breaks for the colour ramps of every map: the panel's counts (log-spaced,
 * fixed over the year) and shared layers' counts (doubling from the threshold k, or the
 * publication's bands). Pure (unit-tested under Node).
 */

/** Upper bounds of up to 5 classes for counts 1..max, evenly spaced on a log scale (counts are
 * skewed: most cells have a few records, a few have many). Fixed over the months shown, so a
 * colour means the same in every month. */
export function breaksFor(max) {
  const out = [];
  let prev = 0;
  for (let i = 1; i <= 5 && prev < max; i += 1) {
    let b = i === 5 ? max : Math.round(max ** (i / 5));
    b = Math.min(max, Math.max(b, prev + 1));
    out.push(b);
    prev = b;
  }
  return out;
}

/** The class index of n (−1 for none). */
export function classOf(breaks, n) {
  if (!(n > 0)) {
    return -1;
  }
  for (let i = 0; i < breaks.length; i += 1) {
    if (n <= breaks[i]) {
      return i;
    }
  }
  return breaks.length - 1;
}

/** Palette index (0..4) for class i of k: spread over the 5 colours, darkest always last. */
export function seqIndex(i, k) {
  return k <= 1 ? 4 : Math.round(4 - (k - 1 - i) * (4 / Math.max(4, k - 1)));
}

/** "1", "2–3", "4–9": the counts class i covers. */
export function classLabel(breaks, i) {
  const lo = i === 0 ? 1 : breaks[i - 1] + 1;
  const hi = breaks[i];
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** The threshold k of a precision statement ("counts under 5 hidden"), 5 when it says none. */
export function threshold(precision) {
  const match = /counts under (\d+) hidden/.exec(precision || '');
  return match ? Number(match[1]) : 5;
}

/**
 * Classes of a shared layer: doubling from k (k–(2k−1), 2k–(4k−1), …, the last open), or,
 * where the publication bands its counts, one class per band in order. ramp: the source's
 * colours, light to dark.
 */
export function sharedClasses(counts, precision, ramp) {
  const bands = counts.filter((c) => typeof c === 'string');
  if (bands.length) {
    const labels = Array.from(new Set(bands)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    return labels.map((label, i) => ({ band: label, label,
      colour: ramp[Math.min(ramp.length - 1, i + 1)], index: Math.min(ramp.length - 1, i + 1) }));
  }
  const k = threshold(precision);
  return ramp.map((colour, i) => {
    const min = k * 2 ** i;
    const max = i === ramp.length - 1 ? null : k * 2 ** (i + 1) - 1;
    return { min, max, colour, index: i, label: max === null ? `${min}+` : `${min}–${max}` };
  });
}

/** The class a shared count falls in. */
export function sharedClassOf(count, classes) {
  for (let i = classes.length - 1; i >= 0; i -= 1) {
    const c = classes[i];
    if (c.band !== undefined ? c.band === count : count >= c.min) {
      return c;
    }
  }
  return classes[0];
}

/** The Change layer's class of a cell's change: new, up2, up1, same, down1, down2 (or null). */
export function changeClass(c) {
  if (!c) {
    return null;
  }
  const pct = c.percent_change;
  if (pct === null || pct === undefined) {
    return c.current > 0 ? 'new' : null;
  }
  if (pct >= 50) {
    return 'up2';
  }
  if (pct >= 10) {
    return 'up1';
  }
  if (pct > -10) {
    return 'same';
  }
  return pct > -50 ? 'down1' : 'down2';
}

/** Words for the five colours of a ramp, lightest first: a class is never colour alone. */
export const CLASS_WORDS = ['Very low', 'Low', 'Medium', 'High', 'Very high'];

/** A count's class in words, with the counts it covers: "High (12–20)"; "None" below 1. */
export function classWords(breaks, n) {
  const i = classOf(breaks, n);
  return i < 0 ? 'None' : `${CLASS_WORDS[seqIndex(i, breaks.length)]} (${classLabel(breaks, i)})`;
}

/** A shared layer's class in words (its place on the source's ramp): "Low (10–19)". */
export function sharedClassWords(c) {
  return `${CLASS_WORDS[Math.max(0, Math.min(4, c.index))]} (${c.label})`;
}
