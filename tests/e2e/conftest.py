"""Browser fixtures: a real server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium (CSMAP_CHROMIUM
overrides), with the flags that keep Chromium from phoning home on a closed network.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # request lines carry query strings
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    p = context.new_page()
    yield p
    context.close()


def browser_sign_in(page: Any, base: str, user: Any, owner_session_factory: Any) -> None:
    """Sign in through the real pages, as a person would: password, then the TOTP code."""
    import pyotp
    from sqlalchemy import text

    with owner_session_factory() as s:  # allow another sign-in within the same 30 s step
        s.execute(text("UPDATE app_user SET totp_last_step = NULL WHERE id = :id"), {"id": user.id})
        s.commit()
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code")
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(user.totp_secret).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(base + "/")


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under tests/artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


# -- watching for markup that runs (tests/e2e/test_stored_markup.py) --------------------------

#: Elements that planted markup injects, and any inline handler (CSP forbids them anyway).
INJECTED = '.xss-injected, img[src="x"], [onerror], [onload]'

#: Before any page script: note every injected element as it is attached (or the planted
#: script), every CSP violation, and every Leaflet map made (to open its tooltips later).
WATCH_JS = """(() => {
  const SEL = __SEL__;
  const seen = window.__xssSeen = [];
  const note = (n) => seen.push((n.outerHTML || String(n)).slice(0, 200));
  const planted = (n) => n.tagName === 'SCRIPT' && n.textContent.trim() === 'window.__xss=1';
  const scan = (n) => {
    if (n.nodeType !== 1) return;
    if (n.matches(SEL) || planted(n)) note(n);
    n.querySelectorAll(SEL).forEach(note);
  };
  new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach(scan)))
    .observe(document, { childList: true, subtree: true });
  document.addEventListener('securitypolicyviolation',
    (e) => seen.push('CSP ' + e.violatedDirective + ' ' + e.sample));
  window.__maps = [];
  const hook = function () { window.__maps.push(this); };
  let leaflet;
  Object.defineProperty(window, 'L', { configurable: true, get: () => leaflet, set: (v) => {
    leaflet = v;
    if (v && v.Map && v.Map.addInitHook) v.Map.addInitHook(hook);
  } });
})();""".replace("__SEL__", json.dumps(INJECTED))

#: Open (and close again) every tooltip and popup of every map; their texts as shown.
OPEN_ALL_JS = """() => {
  const texts = [];
  const show = (layer, get, open, close, isOpen) => {
    const item = layer[get] && layer[get]();
    if (!item) return;
    const was = layer[isOpen]();
    try { layer[open](); } catch (e) { return; }
    const node = item.getElement && item.getElement();
    if (node) texts.push(node.textContent);
    if (!was) layer[close]();
  };
  (window.__maps || []).forEach((map) => map.eachLayer((layer) => {
    show(layer, 'getTooltip', 'openTooltip', 'closeTooltip', 'isTooltipOpen');
    show(layer, 'getPopup', 'openPopup', 'closePopup', 'isPopupOpen');
  }));
  return texts;
}"""

STATE_JS = """(sel) => ({ xss: typeof window.__xss, seen: window.__xssSeen || [],
  now: Array.from(document.querySelectorAll(sel)).map((n) => n.outerHTML.slice(0, 200)) })"""

#: Text of every match: option labels and field values too.
TEXT_JS = """(sel) => Array.from(document.querySelectorAll(sel)).map((n) =>
  typeof n.value === 'string' ? n.value + ' ' + n.textContent : n.textContent).join('\\n')"""


class Watched:
    """A browser context that records anything that planted markup runs or injects."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.add_init_script(WATCH_JS)
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # The planted <img src=x> asks for /x as soon as it is parsed, attached or not.
        self.context.on("request", self._request)

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def _request(self, request: Any) -> None:
        if urlsplit(request.url).path.endswith("/x"):
            self.problems.append(f"request for {request.url}")

    def open(self, path: str, ready: str | None = None) -> Any:
        self.page.goto(path if "://" in path else self.base + path)
        if ready:
            self.page.wait_for_selector(ready, state="attached", timeout=30_000)
        return self.page

    def settle(self) -> None:
        self.page.wait_for_load_state("networkidle")

    def check(self, where: str) -> str:
        """Open every tooltip of every map, then assert that nothing ran and nothing was
        injected; returns the tooltips' texts."""
        texts = self.page.evaluate(OPEN_ALL_JS)
        state = self.page.evaluate(STATE_JS, INJECTED)
        assert state["xss"] == "undefined", f"{where}: window.__xss was set"
        assert not state["seen"] and not state["now"], f"{where}: {state}"
        assert not self.problems, f"{where}: {self.problems}"
        return "\n".join(texts)

    def text_of(self, selector: str) -> str:
        return str(self.page.evaluate(TEXT_JS, selector))


@pytest.fixture()
def watched(browser: Any, live_server: str, owner_session_factory: Any) -> Iterator[Any]:
    """Factory: a :class:`Watched` context, signed in as ``user`` (or anonymous)."""
    made: list[Watched] = []

    def make(user: Any = None) -> Watched:
        w = Watched(browser, live_server)
        made.append(w)
        if user is not None:
            browser_sign_in(w.page, live_server, user, owner_session_factory)
        return w

    yield make
    for w in made:
        w.context.close()
