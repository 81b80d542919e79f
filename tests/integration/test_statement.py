"""The accessibility statement (issue 18): public, reachable signed out, following the UK model
statement, and linked from every page's footer (the browser suite also finds the link on
every page it opens: tests/e2e/test_every_page.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from webmap.web.statement import LAST_REVIEWED
from webmap.web.wording import long_date

pytestmark = pytest.mark.db

LINK = 'href="/accessibility"'


def test_the_statement_is_public_and_says_what_the_model_asks(app: Flask) -> None:
    resp = app.test_client().get("/accessibility")
    assert resp.status_code == 200, resp.status_code
    page = resp.get_data(as_text=True)
    for needed in (
        "Accessibility statement for csmap",
        "Web Content Accessibility Guidelines\n    version 2.2 (www.w3.org/TR/WCAG22) AA standard",
        "partially compliant",
        "How accessible this service is",
        "not tagged PDFs",
        "Feedback and contact information",
        "Enforcement procedure",
        "Equality and Human Rights Commission (EHRC)",
        "Equality Commission for\n    Northern Ireland (ECNI)",
        "Non-accessible content",
        "Preparation of this accessibility statement",
        f'<strong id="statement-reviewed">{long_date(LAST_REVIEWED)}</strong>',
        "checked automatically by the test suite on every change",
    ):
        assert needed in page, needed


@pytest.mark.parametrize("path", ["/login", "/accessibility", "/no-such-page", "/s/not-a-token"])
def test_linked_from_pages_signed_out(app: Flask, path: str) -> None:
    resp = app.test_client().get(path)
    assert resp.mimetype == "text/html", path
    assert LINK in resp.get_data(as_text=True), path


def test_linked_from_every_page_signed_in(app: Flask, signed_in: Any) -> None:
    """Every GET page without URL variables, as a system admin and as an analyst."""
    pages = [
        r.rule
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or set())
        and not r.arguments
        and not r.rule.startswith(("/api/", "/static", "/tiles", "/ogc", "/metrics", "/healthz"))
    ]
    assert "/panel" in pages and "/accessibility" in pages
    for role in ("system_admin", "analyst", "panel_chair"):
        client = signed_in("police", role)
        for path in pages:
            resp = client.get(path)
            if resp.mimetype == "text/html" and resp.status_code != 302:
                assert LINK in resp.get_data(as_text=True), (role, path, resp.status_code)
