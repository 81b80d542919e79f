/*
 * csmap – the panel's layer choice (Counts, Fine cells, Trends, Change, By area) and its
 * filters: category, the Change layer's period, the By area layer's boundary set, and the
 * last meeting's month.
 */
import { $, fillSelect } from '../lib/dom.js';
import { monthName } from '../lib/months.js';

/** Show the chosen layer's own filters; drop a selection of the other kind of shape. */
export function chooseLayer(P, name) {
  const { state } = P;
  state.layer = name;
  const radio = document.querySelector(`input[name="pnl-layer"][value="${name}"]`);
  if (radio) {
    radio.checked = true;
  }
  const period = $('pnl-period-field');
  if (period) {
    period.hidden = name !== 'change';
  }
  const setField = $('pnl-set-field');
  if (setField) {
    setField.hidden = name !== 'areas';
  }
  if (state.selected && (state.selected.kind === 'area') !== (name === 'areas')) {
    state.selected = null;
  }
}

export function wireLayers(P) {
  const { state } = P;
  document.querySelectorAll('input[name="pnl-layer"]').forEach((radio) => {
    radio.addEventListener('change', () => {
      if (radio.checked) {
        P.setLayer(radio.value);
      }
    });
  });

  const category = $('pnl-category');
  category.addEventListener('change', () => {
    state.category = category.value;
    P.data.forgetChange();
    P.syncPrintLink();
    Promise.all([P.data.loadSeries(), P.data.loadTrends()])
      .then(() => {
        P.renderChanges();
        return P.draw();
      }).catch(P.fail);
  });

  const period = $('pnl-period');
  period.addEventListener('change', () => {
    state.period = period.value === 'quarter' ? 'quarter' : 'month';
    P.draw();
  });

  const setSel = $('pnl-set');
  setSel.addEventListener('change', () => {
    state.set = setSel.value;
    P.draw();
  });

  const meeting = $('pnl-meeting');
  if (meeting) {
    fillSelect(meeting, P.meetingMonths().map((m) => ({ value: m, label: monthName(m) })), state.meeting);
    meeting.addEventListener('change', () => {
      state.meeting = meeting.value;
      P.syncPrintLink();
      Promise.all([P.data.loadTrends(), P.data.loadContexts()]).then(() => P.renderChanges()).then(() => {
        if (state.layer === 'trends') {
          P.view.restyle();
          P.renderLegend();
        }
      }).catch(P.fail);
    });
  }
}
