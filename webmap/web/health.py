"""/healthz: is the app up and can it reach PostGIS? Says clearly which part is down."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    engine = current_app.extensions["csmap.engine"]
    try:
        with engine.connect() as conn:
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        # Say what failed, not the driver's text (which can name hosts and users).
        kind = type(getattr(exc, "orig", exc)).__name__
        return jsonify(
            {
                "status": "error",
                "database": "unreachable",
                "message": f"The database cannot be reached ({kind}). "
                "Is the cluster running? Try `csmap db up`.",
            }
        ), 503
    except SQLAlchemyError as exc:
        kind = type(getattr(exc, "orig", exc)).__name__
        return jsonify(
            {
                "status": "error",
                "database": "not_ready",
                "message": f"The database answers but is not ready ({kind}). "
                "Run `csmap db upgrade`.",
            }
        ), 503
    return jsonify(
        {"status": "ok", "database": "ok", "postgis": postgis, "schema_revision": revision}
    ), 200
