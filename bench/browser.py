"""Time for the panel page to become interactive in headless Chromium (Debian's, never a
downloaded one), with the flags the browser tests use to keep it off the network."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from bench.common import LOOPBACK, get, say, summary
from bench.servers import BenchUser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
]

PAGES = {
    "/panel": 'body[data-panel-ready="1"]',
    "/": 'body[data-map-ready="1"]',
}
ERRORS = {"/panel": "panelError", "/": "mapError"}


def chromium() -> str:
    return os.environ.get("CSMAP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _time_page(browser: Any, state: Any, base: str, path: str, repeats: int) -> dict[str, Any]:
    wall, nav = [], []
    for i in range(repeats + 1):
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=state)
        try:
            page = ctx.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e, p=problems: p.append(f"script error: {e}"))
            t0 = time.perf_counter()
            page.goto(base + path, wait_until="commit")
            try:
                page.wait_for_selector(PAGES[path], state="attached", timeout=60_000)
            except Exception as exc:
                why = "; ".join(problems)[:300] or "no script error seen"
                raise RuntimeError(f"{path} not ready after 60 s ({why})") from exc
            elapsed = (time.perf_counter() - t0) * 1000
            since_nav = float(page.evaluate("performance.now()"))
            error = page.evaluate(f"document.body.dataset.{ERRORS[path]} || ''")
        finally:
            ctx.close()
        if error:
            raise RuntimeError(f"{path} reported an error: {error}")
        if i:
            wall.append(elapsed)
            nav.append(since_nav)
    return {"path": path, "wall": summary(wall), "since_navigation_start": summary(nav)}


def page_ready(port: int, cookie: str, user: BenchUser, repeats: int) -> dict[str, Any]:
    """Median time from navigation to the page's ready signal, cold browser cache each time
    (a fresh browser context per run, signed in by cookie), server warm. The panel page if it
    answers; otherwise (or if it fails) the map page, said so in the results."""
    from playwright.sync_api import sync_playwright

    base = f"http://{LOOPBACK}:{port}"
    status = get(port, "/panel", cookie).status
    out: dict[str, Any] = {"panel_status": status}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        out["chromium"] = browser.version
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            page.goto(base + "/login")
            page.get_by_label("E-mail address").fill(user.email)
            page.get_by_label("Password").fill(user.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/")
            state = ctx.storage_state()
            ctx.close()
            if status == 200:
                try:
                    out.update(_time_page(browser, state, base, "/panel", repeats))
                    return out
                except Exception as exc:
                    out["panel_error"] = str(exc)
                    say(f"/panel failed ({exc}); timing the map page / instead")
            else:
                say(f"/panel answered {status}: timing the map page / instead")
            out.update(_time_page(browser, state, base, "/", repeats))
        finally:
            browser.close()
    return out
