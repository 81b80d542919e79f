"""A named external recipient's signed link: an itsdangerous signature over (share, nonce).
The token is the credential; revoking a share clears its nonce, so the link stops."""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeSerializer

from webmap.infra.errors import Invalid, NotFound
from webmap.models.sharing import Share


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="csmap.share-link")


def link_token(share: Share, secret: str) -> str:
    """The signed token of an external recipient's link (it expires with the share)."""
    if share.recipient_kind != "external" or not share.link_nonce:
        raise Invalid.field("recipient_kind", "only a share with an external recipient has a link")
    return _serializer(secret).dumps({"s": str(share.id), "n": share.link_nonce})


def read_link(token: str, secret: str) -> tuple[str, str]:
    """(share id, nonce) from a link token, or 404 for anything not signed by us."""
    try:
        data = _serializer(secret).loads(token)
        return str(uuid.UUID(data["s"])), str(data["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("No such link.") from None
