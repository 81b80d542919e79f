/*
 * csmap – a polite live region that does not chatter: at most one announcement a second,
 * the last value winning. Moving the panel's slider with a held arrow key, or Play stepping
 * a month a second, would otherwise queue announcements faster than a screen reader speaks
 * them. Pure apart from the node and the clock it is given (unit-tested under Node).
 */

export const ANNOUNCE_MS = 1000;

/**
 * write(text): puts text in the live region; clock: {now(), setTimeout(fn, ms)}. Returns
 * announce(text): written at once if the last write was ANNOUNCE_MS or more ago, else
 * written then — only the latest text asked for by that time.
 */
export function throttledAnnouncer(write, clock, ms = ANNOUNCE_MS) {
  let last = -Infinity;
  let pending = null;
  let timer = false;
  const flush = () => {
    timer = false;
    last = clock.now();
    write(pending);
    pending = null;
  };
  return (text) => {
    pending = text;
    if (timer) {
      return;
    }
    const wait = last + ms - clock.now();
    if (wait <= 0) {
      flush();
    } else {
      timer = true;
      clock.setTimeout(flush, wait);
    }
  };
}

/** The announcer of a live region node in the page (its text replaced on each write). */
export function liveRegion(node) {
  return throttledAnnouncer((text) => {
    if (node) {
      node.textContent = text;
    }
  }, { now: () => Date.now(), setTimeout: (fn, ms) => window.setTimeout(fn, ms) });
}
