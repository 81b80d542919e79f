"""``Idempotency-Key`` on creates: the same key and body replay the first response; the same
key with a different body is a 422. The key, a hash of the body and the response are stored
in the same transaction as the create, so a retry can never write twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webmap.infra.errors import Invalid

MAX_KEY = 200


def _body_hash() -> str:
    return hashlib.sha256(request.get_data(cache=True)).hexdigest()


def _stored(session: Session, key: str) -> Any:
    return (
        session.execute(
            text(
                "SELECT endpoint, body_hash, status, response FROM idempotency_key"
                " WHERE user_id = :u AND key = :k"
            ),
            {"u": current_user.id, "k": key},
        )
        .mappings()
        .first()
    )


def _replay(row: Any, endpoint: str, body_hash: str) -> Response:
    if row["endpoint"] != endpoint or row["body_hash"] != body_hash:
        raise Invalid(
            "This Idempotency-Key was already used with a different request body.",
            {"Idempotency-Key": "already used with a different body"},
            code="idempotency_key_reused",
        )
    resp = Response(row["response"], status=row["status"], mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def create_once(session: Session, make: Callable[[], tuple[dict[str, Any], int]]) -> Response:
    """Run ``make`` (which writes, without committing) at most once per Idempotency-Key."""
    key = request.headers.get("Idempotency-Key")
    endpoint = request.endpoint or request.path
    if key is None:
        body, status = make()
        session.commit()
        return _json(body, status)
    if not 1 <= len(key) <= MAX_KEY:
        raise Invalid(
            f"Idempotency-Key must be 1 to {MAX_KEY} characters",
            {"Idempotency-Key": f"must be 1 to {MAX_KEY} characters"},
        )
    body_hash = _body_hash()
    row = _stored(session, key)
    if row is not None:
        return _replay(row, endpoint, body_hash)
    body, status = make()
    payload = json.dumps(body)
    try:
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO idempotency_key (user_id, key, agency_id, endpoint, body_hash,"
                    " status, response) VALUES (:u, :k, :a, :e, :h, :s, :r)"
                ),
                {
                    "u": current_user.id,
                    "k": key,
                    "a": current_user.agency_id,
                    "e": endpoint,
                    "h": body_hash,
                    "s": status,
                    "r": payload,
                },
            )
        session.commit()
    except IntegrityError:
        # A concurrent request with the same key won: undo ours, answer with theirs.
        session.rollback()
        row = _stored(session, key)
        if row is None:
            raise
        return _replay(row, endpoint, body_hash)
    return _json(body, status)


def _json(body: dict[str, Any], status: int) -> Response:
    resp = Response(json.dumps(body), status=status, mimetype="application/json")
    version = body.get("properties", {}).get("version") or body.get("version")
    if version is not None:
        resp.headers["ETag"] = f'"{version}"'
    return resp
