/*
 * csmap – the panel's month slider and Play: the range input moves through the months (the
 * keyboard works as on any slider), Play steps one month a second and stops at the end.
 */
import { $ } from '../lib/dom.js';
import { isInProgress, monthShort } from '../lib/months.js';

const STEP_MS = 1000;

export function createSlider(P) {
  const range = $('pnl-month');
  const play = $('pnl-play');
  let playing = false;
  let timer = null;
  const last = () => P.state.months.length - 1;

  function stop() {
    playing = false;
    window.clearTimeout(timer);
    if (play) {
      play.textContent = 'Play';
    }
  }

  function step() {
    if (!playing) {
      return;
    }
    if (P.state.idx >= last()) {
      stop();
      return;
    }
    P.setMonth(P.state.idx + 1).then(() => {
      if (!playing) {
        return;
      }
      if (P.state.idx >= last()) {
        stop();
      } else {
        timer = window.setTimeout(step, STEP_MS);
      }
    });
  }

  function start() {
    playing = true;
    play.textContent = 'Pause';
    const first = P.state.idx >= last() ? P.setMonth(0) : Promise.resolve();
    first.then(() => { timer = window.setTimeout(step, STEP_MS); });
  }

  return {
    /** Enable the controls once the months are known. */
    wire() {
      range.max = String(last());
      range.disabled = false;
      play.disabled = false;
      $('pnl-month-first').textContent = monthShort(P.state.months[0]);
      const end = P.state.months[last()];
      $('pnl-month-last').textContent = isInProgress(end, P.cfg.current)
        ? `${monthShort(end)} (in progress)` : monthShort(end);
      range.addEventListener('input', () => P.setMonth(Number(range.value)));
      play.addEventListener('click', () => (playing ? stop() : start()));
      stop();
    },
    /** Show the chosen month on the slider. */
    sync(text) {
      if (range) {
        range.value = String(P.state.idx);
        range.setAttribute('aria-valuetext', text);
      }
    },
  };
}
