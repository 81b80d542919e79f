"""The one translation of pydantic's errors, for the API and the HTML forms alike."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from webmap.infra.errors import Invalid

_M = TypeVar("_M", bound=BaseModel)
_POINT_EXAMPLE = '{"type": "Point", "coordinates": [lon, lat]}'


def validated(model: type[_M], data: dict[str, Any]) -> _M:
    """``data`` as ``model``, or an DomainError (422) naming each bad field and its problem —
    the one translation of pydantic's errors for the API and the HTML forms."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for err in exc.errors():
            loc = err["loc"]
            name = str(loc[0]) if loc else "body"
            if name == "vehicle" and len(loc) > 1:  # a new vehicle given inline: its field
                name = f"vehicle.{loc[1]}"
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "is not a field of this record"
            elif name == "geometry" and err["type"] == "dict_type":
                message = "must be a GeoJSON geometry object, e.g. " + _POINT_EXAMPLE
            fields.setdefault(name, message)
        first = next(iter(fields))
        raise Invalid(f"{first}: {fields[first]}", fields) from None
