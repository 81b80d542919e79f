/*
 * csmap – the meeting pack's numbered marks: each cell of "What changed" gets its number on
 * the map, placed so that it never covers a district name (nor another mark). A mark moves
 * off its cell's centre to a free spot nearby; a name that no mark can avoid moves instead.
 */
import { el } from '../lib/dom.js';
import { overlaps, placeClear } from '../lib/geo.js';

const SIZE = 24; // a mark's box in pixels (its circle is 22px, with a little room)
const STEPS = [[0, 0], [0, -16], [0, 16], [-16, 0], [16, 0], [-14, -14], [14, -14], [-14, 14],
  [14, 14], [0, -28], [0, 28], [-28, 0], [28, 0]];

/** A box {x, y, w, h} of an element, in the map container's pixels. */
function boxOf(node, origin) {
  const r = node.getBoundingClientRect();
  return { x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height };
}

/** The district names drawn on the map: [{marker, node}]. */
function labelsOf(base) {
  const out = [];
  if (base) {
    base.groups.labels.eachLayer((group) => group.eachLayer((marker) => {
      const node = marker.getElement && marker.getElement();
      if (node && node.firstChild) {
        out.push({ marker, node: node.firstChild });
      }
    }));
  }
  return out;
}

/** Number the rows' cells on the map (rows: [{cell, number}], in the list's order). */
export function markCells(P, rows) {
  const L = window.L;
  const { map, markLayer } = P.view;
  markLayer.clearLayers();
  const origin = map.getContainer().getBoundingClientRect();
  const shown = rows.filter((row) => P.view.centreOf(row.cell));
  const candidates = shown.map((row) => {
    const c = P.view.centreOf(row.cell);
    const p = map.latLngToContainerPoint([c[1], c[0]]);
    return STEPS.map(([dx, dy]) => ({ x: p.x + dx - SIZE / 2, y: p.y + dy - SIZE / 2, w: SIZE, h: SIZE }));
  });
  const labels = labelsOf(P.base);
  const chosen = placeClear(candidates, labels.map((l) => boxOf(l.node, origin)));
  chosen.forEach((box, i) => {
    const at = map.containerPointToLatLng([box.x + SIZE / 2, box.y + SIZE / 2]);
    L.marker(at, {
      pane: 'pnl-marks', interactive: false, keyboard: false,
      icon: L.divIcon({ className: 'pnl-mark', html: el('span', 'pnl-mark__text', String(shown[i].number)),
        iconSize: null }),
    }).addTo(markLayer);
  });
  // A name still under a mark (nowhere near was free) steps out of the way, onto a spot
  // clear of the marks and of the other names.
  const boxes = labels.map((l) => boxOf(l.node, origin));
  labels.forEach((label, i) => {
    if (!chosen.some((m) => overlaps(boxes[i], m))) {
      return;
    }
    const p = map.latLngToContainerPoint(label.marker.getLatLng());
    const step = SIZE + 2;
    const moves = [[0, -step], [0, step], [0, -2 * step], [0, 2 * step], [-step, 0], [step, 0],
      [-2 * step, 0], [2 * step, 0], [-step, -step], [step, step], [-step, step], [step, -step]];
    for (const [dx, dy] of moves) {
      const moved = { ...boxes[i], x: boxes[i].x + dx, y: boxes[i].y + dy };
      if (!chosen.some((m) => overlaps(moved, m)) && !boxes.some((b, j) => j !== i && overlaps(moved, b))) {
        label.marker.setLatLng(map.containerPointToLatLng([p.x + dx, p.y + dy]));
        boxes[i] = moved;
        break;
      }
    }
  });
  P.mapEl.dataset.marks = String(chosen.length);
}
