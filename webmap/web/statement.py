"""/accessibility: the accessibility statement, public and without sign-in (issue 18).

It follows the UK model statement for public sector bodies (gov.uk, "Sample accessibility
statement"): the standard, how far the service meets it and what does not yet, how to report
a problem, the enforcement procedure, and when it was last tested. The date is a person's:
the day the statement was last reviewed against a test run, not the day the page is served
(the same checks also run in the test suite on every change).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from flask import Blueprint, render_template

from webmap.infra.db import unit_of_work

bp = Blueprint("accessibility", __name__)

#: When the statement was last reviewed, with the tests it reports (axe-core over every page
#: and state, keyboard-only core jobs). Change it when the statement is reviewed again.
LAST_REVIEWED: Final = date(2026, 12, 6)
#: What tested it, as the statement says.
AXE_VERSION: Final = "4.14.1"


@bp.get("/accessibility")
@unit_of_work  # as every page: the footer and menu read who is signed in, if anyone
def statement() -> str:
    return render_template("accessibility.html", reviewed=LAST_REVIEWED, axe=AXE_VERSION)
