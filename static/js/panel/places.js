/*
 * csmap – names for the panel's cells that a person can tell apart: the area of the first
 * boundary set holding the cell's centre, the cell's number in that area (in reading order,
 * top row first, west to east) and where in the area it lies — "Cell 3, Ferry Hill
 * (north-east)". Pure (unit-tested).
 */
import { boxCentre, compass, contains } from '../lib/geo.js';

/** Reading order: top row first, west to east (rows about a cell's height apart). */
export function readingOrder(items, centreOf) {
  return items.slice().sort((a, b) => {
    const ca = centreOf(a);
    const cb = centreOf(b);
    const ra = Math.round(ca[1] / 0.005);
    const rb = Math.round(cb[1] / 0.005);
    return ra !== rb ? rb - ra : ca[0] - cb[0];
  });
}

/**
 * centres: {cell: [lon, lat]}; areas: GeoJSON features of one boundary set (name, code).
 * outside: what to call the cells no area holds (e.g. "outside the council wards").
 * Returns {cell: {area, areaKey, number, where, name, short}}: short leaves out the area, for
 * lists grouped by area; areaKey is '' for cells outside every area.
 */
export function nameCells(centres, areas, outside) {
  const shaped = areas.filter((a) => a.geometry && /Polygon$/.test(a.geometry.type));
  const byArea = {};
  const areaOf = {};
  Object.keys(centres).forEach((cell) => {
    const c = centres[cell];
    const area = shaped.find((a) => contains(a.geometry, c[0], c[1]));
    const key = area ? String(area.properties.code || area.properties.name) : '';
    areaOf[cell] = area || null;
    (byArea[key] = byArea[key] || []).push(cell);
  });
  const out = {};
  Object.keys(byArea).forEach((key) => {
    readingOrder(byArea[key], (cell) => centres[cell]).forEach((cell, i) => {
      const area = areaOf[cell];
      const name = area ? String(area.properties.name || area.properties.code) : outside;
      const where = area ? compass(boxCentre(area.geometry), centres[cell]) : '';
      out[cell] = {
        area: name,
        areaKey: key,
        number: i + 1,
        where,
        name: `Cell ${i + 1}, ${name}${where ? ` (${where})` : ''}`,
        short: `Cell ${i + 1}${where ? ` (${where})` : ''}`,
      };
    });
  });
  return out;
}
