"""The MACE panel page (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("panel", __name__)
