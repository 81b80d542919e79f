"""Small value helpers every feature shares: ids from requests, times as shown, form text,
slugs, and the keyed hash that keeps e-mail and network addresses out of the database."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from webmap.infra.errors import Invalid

#: A URL-safe name: lower-case letters, digits and inner dashes, at most 64 characters.
SLUG: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    """``raw`` as a UUID, or None for anything that is not one.

    >>> parse_uuid("nonsense") is None, str(parse_uuid("00000000-0000-0000-0000-000000000001"))
    (True, '00000000-0000-0000-0000-000000000001')
    """
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def utc_minute(at: datetime | None) -> str:
    """ISO 8601 to the minute, in UTC: ``2026-11-26T11:14Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if at else ""


def form_text(form: Mapping[str, str], name: str) -> str:
    """A form field's text, trimmed ('' when absent)."""
    return (form.get(name) or "").strip()


def keyed_hash(value: str, key: str) -> str:
    """A keyed hash for rate-limit and refusal keys: no e-mail or IP address is ever stored."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def parse_bbox(raw: str, name: str = "bbox") -> tuple[float, float, float, float]:
    """``min lon,min lat,max lon,max lat`` (WGS 84), or Invalid naming the parameter.

    >>> parse_bbox("1.1,54.5,1.3,54.7")
    (1.1, 54.5, 1.3, 54.7)
    >>> parse_bbox("54.5,1.1,54.7,91")
    Traceback (most recent call last):
    ...
    webmap.infra.errors.Invalid: bbox: four numbers: min lon, min lat, max lon, max lat (WGS 84)
    """
    try:
        parts = [float(v) for v in raw.split(",")]
    except ValueError:
        parts = []
    if (
        len(parts) != 4
        or not all(math.isfinite(v) for v in parts)
        or not (-180 <= parts[0] <= parts[2] <= 180 and -90 <= parts[1] <= parts[3] <= 90)
    ):
        raise Invalid.field(name, "four numbers: min lon, min lat, max lon, max lat (WGS 84)")
    return parts[0], parts[1], parts[2], parts[3]
