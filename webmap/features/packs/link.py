"""A named external recipient's briefing pack, by the share's signed link:
/s/<token>/pack.pdf and /s/<token>/pack.html.

The token is the share's link (:mod:`webmap.features.sharing.link`), checked the same way on every
request: a bad or superseded token is 404, a revoked or expired share 410. Withdrawing a pack
revokes its share, so its link answers 410 too. Only the stored, inspected files are served.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webmap.features.packs import service as packs
from webmap.features.packs.pages import file_response, gone
from webmap.features.sharing.link import checked_share_id
from webmap.infra.db import get_session, unit_of_work
from webmap.infra.errors import DomainError, Gone

bp = Blueprint("pack_link", __name__, url_prefix="/s")


def _file(token: str, fmt: str) -> Any:
    try:
        share_id = checked_share_id(token)
        session = get_session()
        pack = packs.pack_for_share(session, share_id)
        body = packs.download(session, pack, fmt, None)
    except DomainError as exc:
        if isinstance(exc, Gone):
            return gone(exc.message)
        raise
    return file_response(pack, fmt, body)


@bp.get("/<token>/pack.pdf")
@unit_of_work
def pdf(token: str) -> Any:
    return _file(token, "pdf")


@bp.get("/<token>/pack.html")
@unit_of_work
def html(token: str) -> Any:
    return _file(token, "html")
