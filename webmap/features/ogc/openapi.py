"""The OpenAPI 3.0 description of the OGC API at /ogc (its ``oas30`` conformance class).

Written out here rather than generated: OGC API – Features fixes these paths and parameters,
and GIS clients read them as the standard names them.
"""

from __future__ import annotations

from typing import Any

_JSON = {"application/json": {"schema": {"type": "object"}}}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}}
_ERRORS = {
    "401": {"description": "No token or session (WWW-Authenticate says how to sign in)."},
    "404": {"description": "No such collection or feature, or not one you may read."},
    "422": {"description": "A bad parameter: error.fields names it and its problem."},
}


def _param(
    name: str, description: str, schema: dict[str, Any], where: str = "query"
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "description": description,
            "schema": schema}  # fmt: skip


def _op(
    summary: str, content: dict[str, Any], params: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": params or [],
        "responses": {"200": {"description": "OK", "content": content}, **_ERRORS},
    }


def openapi(base: str) -> dict[str, Any]:
    collection = _param("collectionId", "A collection's id.", {"type": "string"}, "path")
    page = [
        _param("bbox", "min lon, min lat, max lon, max lat (CRS84).",
               {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}),
        _param("datetime", "An RFC 3339 instant or interval (../end, start/..).",
               {"type": "string"}),
        _param("limit", "Features per page.",
               {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}),
        _param("offset", "Features to skip (the next link carries it).",
               {"type": "integer", "minimum": 0, "default": 0}),
    ]  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "csmap OGC API – Features",
            "version": "1.0",
            "description": "Read-only. Sign in with Authorization: Bearer <personal access token>.",
        },
        "servers": [{"url": base}],
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "security": [{"token": []}],
        "paths": {
            "/": {"get": _op("Landing page", _JSON)},
            "/conformance": {"get": _op("Conformance classes", _JSON)},
            "/api": {"get": _op("This document", _JSON)},
            "/collections": {"get": _op("The collections you may read", _JSON)},
            "/collections/{collectionId}": {"get": _op("One collection", _JSON, [collection])},
            "/collections/{collectionId}/items": {
                "get": _op("Its features, a page at a time", _GEOJSON, [collection, *page])
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": _op(
                    "One feature",
                    _GEOJSON,
                    [
                        collection,
                        _param("featureId", "A feature's id.", {"type": "string"}, "path"),
                    ],
                )
            },
        },
    }
