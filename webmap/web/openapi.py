"""The OpenAPI document, generated from the routes and the validation models.

Paths come from the app's URL map (so a new route appears without anyone remembering to
document it); each route declares its request body and answer models with :func:`documented`
(so this module knows no feature), and each operation's summary comes from the policy rule
that guards it (the permission decorator puts the rule's description on the view).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

F = TypeVar("F", bound=Callable[..., Any])


def documented(
    body: type[BaseModel] | None = None,
    response: tuple[str, type[BaseModel]] | None = None,
    too_many: bool = False,
) -> Callable[[F], F]:
    """Declare a route's request body model, its answer's (status, model), and whether it may
    answer 429 (the rate-limited cross-agency vehicle match)."""

    def mark(view: F) -> F:
        view.csmap_body = body  # type: ignore[attr-defined]
        view.csmap_response = response  # type: ignore[attr-defined]
        view.csmap_too_many = too_many  # type: ignore[attr-defined]
        return view

    return mark


TOO_MANY = {
    "description": "The match limit is reached (per user or per agency, per hour): nothing "
    "was saved. error.fields.limit names the setting; Retry-After says when to try again.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
ERRORS = {
    "401": "Not signed in.",
    "403": "Your role may never do this.",
    "404": "No such record, or not yours to see (the two are indistinguishable).",
    "409": "The record changed since you read it (stale If-Match).",
    "413": "Request body too large.",
    "422": "Invalid input: error.fields names each bad field and its problem.",
    "428": "If-Match is required (the version you last read).",
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
}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _declared(app: Flask) -> tuple[dict[str, type[BaseModel]], dict[str, tuple[str, Any]]]:
    bodies: dict[str, type[BaseModel]] = {}
    responses: dict[str, tuple[str, Any]] = {}
    for endpoint, view in app.view_functions.items():
        body = getattr(view, "csmap_body", None)
        response = getattr(view, "csmap_response", None)
        if body is not None:
            bodies[endpoint] = body
        if response is not None:
            responses[endpoint] = response
    return bodies, responses


def build(app: Flask) -> dict[str, Any]:
    BODIES, RESPONSES = _declared(app)
    _, components = models_json_schema(
        [(m, "validation") for m in set(BODIES.values())]
        + [(m, "serialization") for _, m in set(RESPONSES.values())],
        ref_template="#/components/schemas/{model}",
    )
    schemas_ = {**components.get("$defs", {}), "Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        summary = getattr(view, "csmap_summary", "")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                "summary": summary,
                "description": (view.__doc__ or "").strip(),
                "parameters": [
                    {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                    for arg in sorted(rule.arguments)
                ],
                "responses": {
                    "200": {"description": "OK"},
                    **{
                        code: {
                            "description": text,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        }
                        for code, text in ERRORS.items()
                    },
                },
            }
            if method in {"PATCH", "DELETE"}:
                op["parameters"].append(
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                )
            if method == "POST" and rule.endpoint in BODIES and "redact" not in rule.endpoint:
                op["parameters"].append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    }
                )
                op["responses"]["201"] = {"description": "Created"}
            if rule.endpoint in RESPONSES:
                status, out = RESPONSES[rule.endpoint]
                op["responses"][status] = {
                    "description": "Created" if status == "201" else "OK",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{out.__name__}"}
                        }
                    },
                }
            if method == "POST" and getattr(view, "csmap_too_many", False):
                op["responses"]["429"] = TOO_MANY
            model = BODIES.get(rule.endpoint)
            if model is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                }
            paths.setdefault(_path(rule.rule), {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "csmap API",
            "version": "1",
            "description": "Record and read your agency's contexts, observations, sightings "
            "and vehicles. GeoJSON in WGS84 [longitude, latitude]. Sign in first; every "
            "state-changing request needs the X-CSRFToken header.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas_,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "csmap"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
        "security": [{"session": [], "csrf": []}],
        "paths": paths,
    }
