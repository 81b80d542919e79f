/*
 * csmap – a map's status line: "Loading…" while requests are out, and errors by source, the
 * newest shown. An error is cleared only by its own source succeeding on retry. The error's
 * code is also put on <body> (data-<signal>-error) for browser tests.
 */
export class StatusLine {
  /** node: the role=status element; signal: e.g. 'map' sets body[data-map-error]. */
  constructor(node, signal) {
    this.node = node;
    this.key = `${signal}Error`;
    this.pending = 0;
    this.errors = new Map();
  }

  set(text, isError) {
    if (this.node) {
      this.node.textContent = text || '';
      this.node.classList.toggle('is-error', Boolean(isError));
    }
  }

  show() {
    let last = null;
    this.errors.forEach((value) => { last = value; });
    if (last) {
      this.set(last.message, true);
      document.body.dataset[this.key] = last.code;
    } else {
      delete document.body.dataset[this.key];
      this.set(this.pending ? this.message : '', false);
    }
  }

  begin(message) {
    this.pending += 1;
    this.message = message || 'Loading…';
    if (!this.errors.size) {
      this.set(this.message, false);
    }
  }

  end() {
    this.pending = Math.max(0, this.pending - 1);
    if (!this.pending && !this.errors.size) {
      this.set('', false);
    }
  }

  /** Run promise with "message" shown until it settles. */
  during(promise, message) {
    this.begin(message);
    return promise.finally(() => this.end());
  }

  report(source, message, code) {
    this.errors.delete(source);
    this.errors.set(source, { message, code: code || 'error' });
    this.show();
  }

  clear(source) {
    if (this.errors.delete(source)) {
      this.show();
    }
  }

  get failed() {
    return this.errors.size > 0;
  }
}
