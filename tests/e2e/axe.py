"""axe-core in the browser suite (issue 18): WCAG 2.2 AA, checked on a page as it stands.

axe-core is vendored from npm, pinned in frontend/package-lock.json, into tests/e2e/vendor/
(scripts/vendor-assets.sh; `make vendor-check`): the tests inject it, the app never serves it.

It goes in through ``page.evaluate`` of the file's text rather than ``add_script_tag``: a
script tag's content is inline script, which the app's CSP (``script-src 'self'``) refuses;
evaluation from the driver is not page script, so the CSP stays on and the page is tested as
users get it (no ``bypass_csp``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

#: WCAG 2.0, 2.1 and 2.2 at levels A and AA: the standard public sector bodies must meet.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_JS = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    more: Math.max(0, v.nodes.length - 5),
  }));
}"""


@cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def violations(page: Any, where: str) -> list[str]:
    """Run axe on ``page`` as it stands; one line per violation (id, impact, targets, help URL),
    each prefixed by ``where``. An empty list is a pass."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source())
    found = page.evaluate(RUN_JS, TAGS)
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} at {v['targets']}"
        + (f" and {v['more']} more" if v["more"] else "")
        + f" — {v['helpUrl']}"
        for v in found
    ]


def assert_accessible(page: Any, where: str) -> None:
    """Fail with every violation listed (id, impact, target and help URL)."""
    found = violations(page, where)
    assert not found, "axe (WCAG 2.2 AA) violations:\n" + "\n".join(found)
