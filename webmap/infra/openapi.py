"""The OpenAPI document, generated from the routes and the validation models.

Paths come from the app's URL map (so a new route appears without anyone remembering to
document it), request bodies from the pydantic models, and each operation's summary from the
policy rule that guards it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webmap.access.policy import POLICY
from webmap.features.recording import schemas
from webmap.features.sharing.service import ShareIn

#: endpoint → request body model (for POST/PATCH/DELETE).
BODIES: dict[str, type[BaseModel]] = {
    "records.observation_create": schemas.ObservationIn,
    "records.sighting_create": schemas.SightingIn,
    "records.observation_update": schemas.ObservationPatch,
    "records.observation_redact": schemas.RedactIn,
    "records.observation_delete": schemas.DeleteIn,
    "records.context_create": schemas.ContextIn,
    "records.context_update": schemas.ContextPatch,
    "records.context_delete": schemas.DeleteIn,
    "records.vehicle_create": schemas.VehicleIn,
    "shares_api.create": ShareIn,
}
#: endpoint → (status, response model), where the answer's shape is worth documenting.
RESPONSES: dict[str, tuple[str, type[BaseModel]]] = {
    "records.sighting_create": ("201", schemas.SightingOut),
    "records.vehicle_create": ("201", schemas.VehicleOut),
    "records.vehicle": ("200", schemas.VehicleOut),
    "records.vehicle_list": ("200", schemas.VehicleList),
}
#: Endpoints that save sightings, and so run the rate-limited cross-agency match.
MATCH_LIMITED = {"records.sighting_create", "records.observation_create"}
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


def build(app: Flask) -> dict[str, Any]:
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
        perm = getattr(view, "csmap_permission", None)
        summary = POLICY[perm].description if perm else ""
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
            if method == "POST" and rule.endpoint in MATCH_LIMITED:
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
