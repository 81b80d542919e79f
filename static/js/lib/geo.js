/*
 * csmap – small geometry on [lon, lat] pairs for naming and placing things on maps: point in
 * area, centres, compass words, and boxes that must not overlap. Pure (unit-tested).
 */

/** Whether the point (x, y) lies inside a GeoJSON Polygon or MultiPolygon (even-odd rule). */
export function contains(geometry, x, y) {
  let polys = [];
  if (geometry.type === 'Polygon') {
    polys = [geometry.coordinates];
  } else if (geometry.type === 'MultiPolygon') {
    polys = geometry.coordinates;
  }
  let inside = false;
  polys.forEach((rings) => {
    rings.forEach((ring) => {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) {
          inside = !inside;
        }
      }
    });
  });
  return inside;
}

/** The mean of a ring's vertices (its closing point not counted twice). */
export function ringCentre(ring) {
  const n = Math.max(1, ring.length - 1);
  let x = 0;
  let y = 0;
  for (let i = 0; i < n; i += 1) {
    x += ring[i][0];
    y += ring[i][1];
  }
  return [x / n, y / n];
}

/** The centre of a Polygon's or MultiPolygon's bounding box. */
export function boxCentre(geometry) {
  const rings = geometry.type === 'Polygon' ? geometry.coordinates : [].concat(...geometry.coordinates);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  rings.forEach((ring) => ring.forEach(([x, y]) => {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }));
  return [(x0 + x1) / 2, (y0 + y1) / 2];
}

const COMPASS = ['east', 'north-east', 'north', 'north-west', 'west', 'south-west', 'south', 'south-east'];

/**
 * Where `point` lies as seen from `centre`, in words ("north-east"), or "centre" when it is
 * within `near` degrees. Longitude is scaled by the latitude, so directions are true ones.
 */
export function compass(centre, point, near) {
  const dx = (point[0] - centre[0]) * Math.cos((centre[1] * Math.PI) / 180);
  const dy = point[1] - centre[1];
  if (Math.hypot(dx, dy) < (near === undefined ? 0.004 : near)) {
    return 'centre';
  }
  const angle = (Math.atan2(dy, dx) * 180) / Math.PI;
  return COMPASS[((Math.round(angle / 45) % 8) + 8) % 8];
}

/** Whether two boxes {x, y, w, h} overlap (touching edges do not). */
export function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Places for markers that must not cover labels or each other: each marker takes the first
 * of its candidate boxes (its own spot first, then nearby ones) that overlaps no label box
 * and no marker already placed; if none is free, the one that covers the fewest.
 * markers: [[box, box, …], …]; labels: [box]. Returns the chosen box of each marker.
 */
export function placeClear(markers, labels) {
  const placed = [];
  return markers.map((candidates) => {
    let best = candidates[0];
    let bestHits = Infinity;
    for (const box of candidates) {
      const hits = labels.filter((l) => overlaps(box, l)).length
        + placed.filter((p) => overlaps(box, p)).length;
      if (hits < bestHits) {
        best = box;
        bestHits = hits;
      }
      if (!hits) {
        break;
      }
    }
    placed.push(best);
    return best;
  });
}
