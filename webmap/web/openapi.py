"""The OpenAPI document, generated from the routes and the validation models.

Paths come from the app's URL map (so a new route appears without anyone remembering to
document it); each route declares with :func:`documented` its request body, its answer
(status, model or schema, media type), its query parameters and the errors of its own that
it may give (so this module knows no feature); each operation's summary comes from the policy
rule that guards it (the permission decorator puts the rule's description on the view).

The document is exact, and a fuzzer (schemathesis, in ``make test``) holds the server to it:
ids are UUIDs, ``If-Match`` is the ETag a read gave, every error a route can give is listed
with its status, and 429 and 503 carry ``Retry-After``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

F = TypeVar("F", bound=Callable[..., Any])

GEOJSON = "application/geo+json"
JSON = "application/json"

# -- parameter schemas route modules use ------------------------------------------------------

# An optional query parameter sent empty (``?to=``) counts as not sent: the schemas say so.
MONTH: dict[str, Any] = {"type": "string", "pattern": r"^([0-9]{4}-(0[1-9]|1[0-2]))?$"}
DATE: dict[str, Any] = {"type": "string", "anyOf": [{"format": "date"}, {"maxLength": 0}]}
CELL_RES: dict[str, Any] = {"type": "string", "enum": ["7", "8", "9"]}
BANDWIDTH: dict[str, Any] = {"type": "integer", "minimum": 100, "maximum": 2000}
SLUG: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "maxLength": 64,
}


def query(
    name: str, schema: Mapping[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    """One query parameter of a route, for :func:`documented`."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": dict(schema),
    }


def documented(
    body: type[BaseModel] | None = None,
    response: tuple[str, type[BaseModel] | Mapping[str, Any]] | None = None,
    too_many: bool = False,
    *,
    media: str = JSON,
    query: Iterable[Mapping[str, Any]] = (),
    errors: Iterable[int] = (),
    path: Mapping[str, Mapping[str, Any]] | None = None,
    form: Mapping[str, Any] | None = None,
) -> Callable[[F], F]:
    """Declare a route's request body model; its answer (status, a model or a JSON schema)
    and media type; its query parameters; the errors of its own it may give beyond the ones
    every route can (e.g. 410 for a revoked share); a schema for a URL variable; and whether it
    may answer 429 (the rate-limited cross-agency vehicle match); ``form`` is the JSON schema of
    a multipart/form-data body (a file upload) for a route that takes no JSON."""

    def mark(view: F) -> F:
        view.csmap_body = body  # type: ignore[attr-defined]
        view.csmap_response = response  # type: ignore[attr-defined]
        view.csmap_too_many = too_many  # type: ignore[attr-defined]
        view.csmap_media = media  # type: ignore[attr-defined]
        view.csmap_query = tuple(dict(q) for q in query)  # type: ignore[attr-defined]
        view.csmap_errors = tuple(errors)  # type: ignore[attr-defined]
        view.csmap_path = dict(path or {})  # type: ignore[attr-defined]
        view.csmap_form = dict(form) if form is not None else None  # type: ignore[attr-defined]
        return view

    return mark


# -- what every answer can be -----------------------------------------------------------------

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "description": "Seconds to wait before trying again.",
    }
}
ERRORS: dict[int, str] = {
    400: "The request was malformed, or its CSRF token (X-CSRFToken) missing or wrong. HTTP "
    "the server cannot parse at all (a bad header, a request line over 4094 bytes) is refused "
    "before the app, with an HTML page.",
    401: "Not signed in.",
    403: "Your role may never do this.",
    404: "No such record, or not yours to see (the two are indistinguishable).",
    409: "The record changed since you read it (stale If-Match), or the action does not fit "
    "its state.",
    410: "No longer available: revoked, expired or withdrawn.",
    413: "Request body too large (CSMAP_MAX_REQUEST_BYTES).",
    422: "Invalid input: error.fields names each bad field or query parameter and its problem "
    "(control characters and nesting over 32 levels are refused everywhere).",
    428: "If-Match is required (the ETag of the version you last read).",
    429: "The match limit is reached (per user or per agency, per hour): nothing was saved. "
    "error.fields.limit names the setting.",
    503: "The database is not available just now; nothing was changed.",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
FEATURE = {
    "type": "object",
    "properties": {
        "type": {"const": "Feature"},
        "geometry": {"type": ["object", "null"]},
        "properties": {"type": ["object", "null"]},
    },
    "required": ["type", "geometry", "properties"],
}
FEATURE_COLLECTION = {
    "type": "object",
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
    },
    "required": ["type", "features"],
}
#: ``If-Match``: the ETag of a read (``"3"``); weak and unquoted forms are accepted too.
ETAG = {"type": "string", "pattern": '^(W/)?"?[0-9]{1,9}"?$'}
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 200}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _path_schema(rule: str, name: str, declared: Mapping[str, Any]) -> dict[str, Any]:
    if name in declared:
        return dict(declared[name])
    if re.search(rf"<int:{name}>", rule):
        return {"type": "integer", "minimum": 0}
    if name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    if name == "slug":
        return dict(SLUG)
    return {"type": "string", "minLength": 1}


def _error(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERRORS[code],
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if code == 400:
        answer["content"]["text/html"] = {"schema": {"type": "string"}}
    if code in (429, 503):
        answer["headers"] = RETRY_AFTER
    return answer


def _errors(method: str, view: Any) -> list[int]:
    codes = {400, 401, 403, 404, 422, 503, *getattr(view, "csmap_errors", ())}
    if method != "GET":
        codes.add(413)
    if method in ("PATCH", "DELETE"):
        codes |= {409, 428}
    if method == "POST" and getattr(view, "csmap_too_many", False):
        codes.add(429)
    return sorted(codes)


def _placeholder(model: type[Any]) -> str:
    """A model's reference until pydantic names it: two models may share a class name
    (meetings' and sharing's DecisionIn), and pydantic then names both by their module."""
    return f"csmap-model:{model.__module__}.{model.__qualname__}"


def _resolve(node: Any, refs: Mapping[str, str]) -> None:
    """Replace every placeholder reference under ``node`` with pydantic's own."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"] in refs:
            node["$ref"] = refs[node["$ref"]]
        for value in node.values():
            _resolve(value, refs)
    elif isinstance(node, list):
        for value in node:
            _resolve(value, refs)


def _success(method: str, view: Any, models: set[type[BaseModel]]) -> tuple[str, dict[str, Any]]:
    declared = getattr(view, "csmap_response", None)
    media = getattr(view, "csmap_media", JSON)
    created = method == "POST" and getattr(view, "csmap_body", None) is not None
    status = "201" if created and "redact" not in view.__name__ else "200"
    schema: Mapping[str, Any] = {"$ref": "#/components/schemas/FeatureCollection"}
    if media not in (GEOJSON,):
        schema = {"type": "object"} if media == JSON else {"type": "string"}
    if declared is not None:
        status, out = declared
        if isinstance(out, type) and issubclass(out, BaseModel):
            models.add(out)
            schema = {"$ref": _placeholder(out)}
        else:
            schema = out
    content = {m.strip(): {"schema": dict(schema)} for m in media.split(",")}
    return status, {"description": "Created" if status == "201" else "OK", "content": content}


def _operation(rule: Any, method: str, view: Any, models: set[type[BaseModel]]) -> dict[str, Any]:
    declared_paths = getattr(view, "csmap_path", {})
    parameters: list[dict[str, Any]] = [
        {
            "name": arg,
            "in": "path",
            "required": True,
            "schema": _path_schema(rule.rule, arg, declared_paths),
        }
        for arg in sorted(rule.arguments)
    ]
    parameters += [dict(q) for q in getattr(view, "csmap_query", ())]
    if method in ("PATCH", "DELETE") or "redact" in view.__name__:
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                # Needed all the same: without it the answer is 428 Precondition Required,
                # the status made for exactly that (a fuzzer expects 400 for a "required" one).
                "required": False,
                "description": 'The ETag of the version you last read, e.g. "3". Without it: 428.',
                "schema": ETAG,
            }
        )
    body = getattr(view, "csmap_body", None)
    status, success = _success(method, view, models)
    if method == "POST" and body is not None and status == "201":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Send the same key to retry: the first answer is replayed.",
                "schema": IDEMPOTENCY_KEY,
            }
        )
    op: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
        "summary": getattr(view, "csmap_summary", ""),
        "description": (view.__doc__ or "").strip(),
        "parameters": parameters,
        "responses": {status: success, **{str(c): _error(c) for c in _errors(method, view)}},
    }
    if body is not None:
        models.add(body)
        op["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": {"$ref": _placeholder(body)}}},
        }
    form = getattr(view, "csmap_form", None)
    if form is not None:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": form}}}
    return op


def build(app: Flask) -> dict[str, Any]:
    """The whole document: every route under /api/v1/ and /tiles/."""
    paths: dict[str, dict[str, Any]] = {}
    bodies: set[type[BaseModel]] = set()
    answers: set[type[BaseModel]] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(("/api/v1/", "/tiles/")):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            models: set[type[BaseModel]] = set()
            op = _operation(rule, method, view, models)
            body = getattr(view, "csmap_body", None)
            bodies |= {m for m in models if m is body}
            answers |= {m for m in models if m is not body}
            paths.setdefault(_path(rule.rule), {})[method.lower()] = op
    keys, components = models_json_schema(
        [(m, "validation") for m in sorted(bodies, key=lambda m: m.__name__)]
        + [(m, "serialization") for m in sorted(answers, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    _resolve(paths, {_placeholder(m): ref["$ref"] for (m, _mode), ref in keys.items()})
    schemas = {
        **components.get("$defs", {}),
        "Error": ERROR_SCHEMA,
        "Feature": FEATURE,
        "FeatureCollection": FEATURE_COLLECTION,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "csmap API",
            "version": "1",
            "description": "Record and read your agency's contexts, observations, sightings "
            "and vehicles. GeoJSON in WGS84 [longitude, latitude]. Sign in first; every "
            "state-changing request needs the X-CSRFToken header. A method a path does not "
            "take is a 405 with Allow naming those it does.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "csmap"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
        "security": [{"session": [], "csrf": []}],
        "paths": paths,
    }
