/*
 * csmap – the one API client: same-origin JSON with the CSRF header, a time limit, one retry
 * policy, and server errors turned into readable messages (and field messages, see
 * messages.js). Every page's requests go through request() or getJSON().
 */

/** A failed request, with a message a person can read. */
export class ApiError extends Error {
  constructor(message, code, status, fields) {
    super(message);
    this.name = 'ApiError';
    this.code = code || 'error';
    this.status = status || 0;
    this.fields = fields || null;
  }
}

export const TIMEOUT_MS = 30000;

/**
 * The one retry policy: a request that cannot change anything twice (a GET, or a create that
 * carries an Idempotency-Key) is tried once more after a short pause when no answer came or
 * the server was briefly unavailable. Anything else is reported at once.
 */
export const RETRY = { attempts: 2, delayMs: 700, statuses: [0, 502, 503, 504] };

export function shouldRetry(method, headers, status, attempt) {
  const safe = method === 'GET' || Boolean(headers && headers['Idempotency-Key']);
  return safe && attempt < RETRY.attempts && RETRY.statuses.indexOf(status) >= 0;
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : '';
}

/** A random UUID for Idempotency-Key. */
export function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') {
    return window.crypto.randomUUID();
  }
  const b = window.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function pause(ms) {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

async function once(method, target, body, headers) {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(target, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
    const data = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data, etag: response.headers.get('ETag') };
  } catch (err) {
    return { ok: false, status: 0, data: null, etag: null, timeout: err && err.name === 'AbortError' };
  } finally {
    window.clearTimeout(timer);
  }
}

/**
 * Resolves (never rejects) with {ok, status, data, etag}; status 0 means no answer.
 * Only same-origin addresses are fetched: a data address pointing elsewhere is refused.
 */
export async function request(method, url, body, extraHeaders) {
  const target = new URL(url, window.location.href);
  if (target.origin !== window.location.origin) {
    return { ok: false, status: -1, data: null, etag: null };
  }
  const headers = { Accept: 'application/json', ...(extraHeaders || {}) };
  if (method !== 'GET') {
    headers['X-CSRFToken'] = csrfToken();
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let res = await once(method, target.href, body, headers);
  for (let attempt = 1; shouldRetry(method, headers, res.status, attempt); attempt += 1) {
    await pause(RETRY.delayMs);
    res = await once(method, target.href, body, headers);
  }
  return res;
}

/** The ApiError an unsuccessful answer stands for. */
export function errorOf(res) {
  if (res.status === -1) {
    return new ApiError('A data address points to another site; it was not loaded.', 'cross_origin');
  }
  if (res.status === 0) {
    return res.timeout
      ? new ApiError('The server took too long to respond.', 'timeout')
      : new ApiError('The server could not be reached. Check your connection.', 'network');
  }
  const e = res.data && typeof res.data === 'object' ? res.data.error : null;
  return new ApiError(
    e && e.message ? String(e.message) : `The server returned an error (HTTP ${res.status}).`,
    e && e.code ? String(e.code) : `http_${res.status}`,
    res.status,
    e && e.fields ? e.fields : null,
  );
}

/** GET a same-origin JSON object; rejects with an ApiError carrying a readable message. */
export async function getJSON(url) {
  const res = await request('GET', url);
  if (!res.ok) {
    throw errorOf(res);
  }
  if (!res.data || typeof res.data !== 'object') {
    throw new ApiError('The server sent data the page could not read.', 'bad_response', res.status);
  }
  return res.data;
}

/** GET a GeoJSON FeatureCollection. */
export async function getFeatures(url) {
  const data = await getJSON(url);
  if (data.type !== 'FeatureCollection' || !Array.isArray(data.features)) {
    throw new ApiError('The server sent map data in an unexpected format.', 'bad_geojson');
  }
  return data;
}

/** Every page of a paged GeoJSON layer (one whose pages carry a `next` link, as the police.uk
 * reference layer's do), up to maxPages; `complete` says whether the last page was reached. */
export async function getAllFeatures(url, maxPages = 20) {
  const features = [];
  let next = url;
  for (let page = 0; next && page < maxPages; page += 1) {
    const data = await getFeatures(next);
    features.push(...data.features);
    const link = (data.links || []).find((l) => l && l.rel === 'next');
    next = link && typeof link.href === 'string' ? link.href : null;
  }
  return { type: 'FeatureCollection', features, complete: next === null };
}

/**
 * A writer of creates: POST with an Idempotency-Key that stays the same while the same body
 * is retried (a double tap or a lost answer cannot make two records), renewed after success.
 * Empty (null) fields are left out, so the server names each missing required one.
 */
export function creator() {
  const keys = {};
  return async function post(url, full) {
    const body = {};
    Object.keys(full).forEach((k) => {
      if (full[k] !== null && full[k] !== undefined) {
        body[k] = full[k];
      }
    });
    const text = JSON.stringify(body);
    if (!keys[url] || keys[url].body !== text) {
      keys[url] = { body: text, key: newKey() };
    }
    const res = await request('POST', url, body, { 'Idempotency-Key': keys[url].key });
    if (res.ok) {
      delete keys[url];
    }
    return res;
  };
}

/** What went wrong, in a sentence for the page ("Not saved: …" when a save failed). */
export function problem(res, prefix) {
  const lead = prefix ? `${prefix}: ` : '';
  if (res.status === 0) {
    return `${lead}The server could not be reached. Check your connection and try again.`;
  }
  if (res.status === 401) {
    return `${lead}You have been signed out. Sign in again in a new tab, then try again here.`;
  }
  if (res.status === 404) {
    return `${lead}There is no such record, or you cannot see it.`;
  }
  return lead + errorOf(res).message;
}
