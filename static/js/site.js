/*
 * csmap – what every page does: the menu button that folds the navigation on narrow screens
 * (so every item, Sign out included, is one tap away), and, after a form came back with
 * problems, focus on its error summary (the GOV.UK Design System's pattern: the summary is
 * read out first, and its links lead to the fields).
 */
const header = document.querySelector('.site-header');
const toggle = header ? header.querySelector('.site-menu-toggle') : null;
const list = document.getElementById('site-nav-list');

function setOpen(open) {
  header.classList.toggle('is-open', open);
  toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  toggle.textContent = open ? 'Close menu' : 'Menu';
}

if (toggle && list) {
  toggle.addEventListener('click', () => setOpen(!header.classList.contains('is-open')));
  header.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && header.classList.contains('is-open')) {
      setOpen(false);
      toggle.focus();
    }
  });
  // Tabbing out of the open menu closes it, as clicking elsewhere does.
  header.addEventListener('focusout', (e) => {
    if (header.classList.contains('is-open') && e.relatedTarget && !header.contains(e.relatedTarget)) {
      setOpen(false);
    }
  });
  document.addEventListener('click', (e) => {
    if (header.classList.contains('is-open') && !header.contains(e.target)) {
      setOpen(false);
    }
  });
}

const summary = document.querySelector('.error-summary');
if (summary) {
  summary.focus();
  // A link in the summary moves focus to its field (not just scrolls to it).
  summary.addEventListener('click', (e) => {
    const link = e.target.closest('a[href^="#"]');
    const field = link ? document.getElementById(link.getAttribute('href').slice(1)) : null;
    if (field) {
      e.preventDefault();
      const target = field.matches('fieldset') ? field.querySelector('input, select, textarea') || field : field;
      const folded = target.closest('details:not([open])');
      if (folded) {
        folded.open = true; // a group of choices folded away: open it to reach the first
      }
      target.focus();
      field.scrollIntoView({ block: 'center' });
    }
  });
}
