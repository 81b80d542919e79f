/*
 * csmap – errors on forms the scripts submit, in the GOV.UK Design System's pattern: each
 * message beside its field (aria-invalid, aria-describedby), the first problem focused, and
 * anything without a field on the page in the form's alert.
 */
import { $, el } from './dom.js';

/** Show (and focus) or hide an alert box. */
export function showAlert(node, text, focus) {
  node.textContent = text || '';
  node.hidden = !text;
  if (text && focus !== false) {
    node.focus();
  }
}

/** Remove every error shown in formEl, restoring each field's hint as its description. */
export function clearErrors(formEl) {
  formEl.querySelectorAll('.field-error').forEach((n) => {
    if (n.dataset.keep) {
      n.hidden = true;
      n.textContent = '';
    } else {
      n.parentNode.removeChild(n);
    }
  });
  formEl.querySelectorAll('[aria-invalid], [data-invalid]').forEach((n) => {
    n.removeAttribute('aria-invalid');
    n.removeAttribute('data-invalid');
    n.classList.remove('has-error');
    const hint = $(`${n.id}-hint`);
    if (hint) {
      n.setAttribute('aria-describedby', hint.id);
    } else {
      n.removeAttribute('aria-describedby');
    }
  });
}

/**
 * Put each message beside its field (#f-<name>). fields: {name: message}, already in plain
 * English. Returns {shown: [field elements, in page order], orphans: [messages without a
 * field on the page]}.
 */
export function showFieldErrors(formEl, fields, targetOf) {
  const shown = [];
  const orphans = [];
  Object.keys(fields).forEach((name) => {
    const target = targetOf ? targetOf(name) : formEl.querySelector(`#f-${name}`);
    if (!target || !target.getClientRects().length) {
      orphans.push(fields[name]);
      return;
    }
    let err = $(`f-${name}-error`);
    if (!err) {
      err = el('p', 'field-error');
      err.id = `f-${name}-error`;
      (target.tagName === 'FIELDSET' ? target : target.closest('.field') || target.parentNode).appendChild(err);
    }
    err.textContent = fields[name];
    err.hidden = false;
    const hint = $(`f-${name}-hint`);
    target.setAttribute(target.tagName === 'FIELDSET' || target.tagName === 'DIV' ? 'data-invalid' : 'aria-invalid', 'true');
    target.classList.add('has-error');
    target.setAttribute('aria-describedby', err.id + (hint ? ` ${hint.id}` : ''));
    shown.push(target);
  });
  shown.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  return { shown, orphans };
}

/** The element to focus for a field: its first input when it is a group. */
export function focusable(target) {
  return target.tagName === 'FIELDSET' ? target.querySelector('input') || target : target;
}
