/*
 * csmap – the one DOM helper: build elements as text (never markup from data), read design
 * tokens back from CSS, fill selects.
 *
 * Nothing here touches the document when the module is imported, so the pure modules that
 * import it can be unit-tested under Node.
 */

/** The element with this id, or null. */
export function $(id) {
  return document.getElementById(id);
}

/** A field's trimmed value ('' when the field is missing). */
export function val(id) {
  const node = $(id);
  return node ? String(node.value || '').trim() : '';
}

/** <tag class=className>text</tag>: text is always set as text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = text;
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (values as strings). */
export function svg(tag, attrs, className) {
  const node = document.createElementNS(SVG_NS, tag);
  Object.keys(attrs || {}).forEach((k) => node.setAttribute(k, String(attrs[k])));
  if (className) {
    node.setAttribute('class', className);
  }
  return node;
}

/** Remove every child of node. */
export function clear(node) {
  while (node && node.firstChild) {
    node.removeChild(node.firstChild);
  }
}

/** Append <option value>label</option>. */
export function addOption(select, value, label, selected) {
  const option = el('option', null, label);
  option.value = value;
  option.selected = Boolean(selected);
  select.appendChild(option);
  return option;
}

/** options: [{value, label}]. */
export function fillSelect(select, options, selected) {
  options.forEach((o) => addOption(select, o.value, o.label, o.value === selected));
}

/** A decorative colour swatch (its meaning is always in the text beside it). */
export function swatch(className) {
  const node = el('span', className);
  node.setAttribute('aria-hidden', 'true');
  return node;
}

/** A labelled checkbox in the .checkbox pattern the forms use. */
export function checkbox(name, value, label, checked) {
  const wrap = el('div', 'checkbox');
  const input = el('input');
  input.type = 'checkbox';
  input.name = name;
  input.value = value;
  input.id = `f-${name}-${value}`;
  input.checked = Boolean(checked);
  const text = el('label', null, label);
  text.htmlFor = input.id;
  wrap.appendChild(input);
  wrap.appendChild(text);
  return wrap;
}

let rootStyle = null;

/** A CSS custom property of :root (design tokens live in static/css/tokens.css), so the
 * colours drawn on a map and the legend's swatches come from one place. */
export function cssVar(name, fallback) {
  if (!rootStyle) {
    rootStyle = window.getComputedStyle(document.documentElement);
  }
  return rootStyle.getPropertyValue(name).trim() || fallback;
}

/** Call fn(matches) now and whenever the media query flips. */
export function onMedia(query, fn) {
  const mq = window.matchMedia(query);
  mq.addEventListener('change', () => fn(mq.matches));
  return mq;
}

/** Resolve after the browser has painted twice (Leaflet's canvas draws on the next frame). */
export function nextFrames() {
  return new Promise((resolve) => {
    window.requestAnimationFrame(() => window.requestAnimationFrame(() => resolve()));
  });
}

/** A same-page address with query parameters set (empty values left out). */
export function withQuery(url, params) {
  const target = new URL(url, window.location.href);
  Object.keys(params).forEach((k) => {
    if (params[k] !== '' && params[k] !== null && params[k] !== undefined) {
      target.searchParams.set(k, params[k]);
    }
  });
  return target.pathname + target.search;
}
