/*
 * csmap – a map as a table: what the map draws, as a real table (a caption, column headers,
 * a row header per row) inside the map's "Show as a table" disclosure (templates/
 * _map_table.html). Keyboard and screen-reader users, and anyone who would rather read
 * numbers than colours, get the same picture. Callers build the rows from the very data
 * their map draws, never from anything finer.
 */
import { clear, el } from './dom.js';

/**
 * Fill the table of the disclosure with id `id`: caption text, columns [{label, num}], rows
 * [{key, cells: [text, …]}] (the first cell heads its row). empty: the one-line text shown
 * when there are no rows. Each row carries data-key, so tests can match it to the map.
 */
export function fillTable(id, caption, columns, rows, empty) {
  const table = document.getElementById(`${id}-table`);
  if (!table) {
    return;
  }
  table.caption.textContent = caption;
  const head = table.tHead.rows[0];
  clear(head);
  columns.forEach((c) => {
    const th = el('th', c.num ? 'num' : null, c.label);
    th.scope = 'col';
    head.appendChild(th);
  });
  const body = table.tBodies[0];
  clear(body);
  rows.forEach((row) => {
    const tr = el('tr');
    tr.dataset.key = row.key;
    row.cells.forEach((text, i) => {
      const cell = el(i === 0 ? 'th' : 'td', columns[i] && columns[i].num ? 'num' : null, text);
      if (i === 0) {
        cell.scope = 'row';
      }
      tr.appendChild(cell);
    });
    body.appendChild(tr);
  });
  if (!rows.length) {
    const tr = el('tr');
    const td = el('td', null, empty || 'Nothing shown on the map.');
    td.colSpan = columns.length;
    tr.appendChild(td);
    body.appendChild(tr);
  }
  table.closest('details').dataset.rows = String(rows.length);
}

/** Call draw() now and whenever the disclosure opens (drawing a closed table is wasted). */
export function whenOpen(id, draw) {
  const details = document.getElementById(id);
  if (!details) {
    return () => {};
  }
  details.addEventListener('toggle', () => {
    if (details.open) {
      draw();
    }
  });
  return () => {
    if (details.open) {
      draw();
    }
  };
}
