/*
 * csmap – the new-pack form (/packs/new): show only the recipient field that applies, and
 * start the wording from the first chosen area that has its own (unless it has been edited).
 */
import { $ } from '../lib/dom.js';

const form = document.querySelector('form.pack-form');

function start() {
  const showRecipient = () => {
    const kind = form.querySelector('input[name=recipient_kind]:checked');
    form.querySelectorAll('[data-recipient]').forEach((node) => {
      node.hidden = Boolean(kind) && node.getAttribute('data-recipient') !== kind.value;
    });
  };
  form.querySelectorAll('input[name=recipient_kind]').forEach((r) => r.addEventListener('change', showRecipient));
  showRecipient();

  let texts = {};
  try {
    texts = JSON.parse(form.getAttribute('data-texts') || '{}');
  } catch (e) {
    texts = {};
  }
  const signs = $('f-signs');
  const report = $('f-how_to_report');
  const note = $('texts-note');
  if (!signs || !report) {
    return;
  }
  let edited = false;
  let applied = signs.value === (texts[''] || {}).signs ? '' : null;
  [signs, report].forEach((node) => node.addEventListener('input', () => { edited = true; }));

  const chosenWording = () => {
    const box = Array.from(form.querySelectorAll('input[name=areas]:checked')).find((b) => texts[b.value]);
    return box ? box.value : '';
  };
  form.addEventListener('change', (event) => {
    if (event.target.name !== 'areas' || edited || applied === null) {
      return;
    }
    const key = chosenWording();
    if (key === applied || !texts[key]) {
      return;
    }
    signs.value = texts[key].signs;
    report.value = texts[key].how_to_report;
    applied = key;
    note.hidden = false;
    note.textContent = key
      ? `The wording below is the one saved for ${
        form.querySelector(`input[name=areas][value='${CSS.escape(key)}']`).parentNode.textContent.trim()}.`
      : 'The wording below is your agency\'s default.';
  });
}

if (form) {
  start();
}
