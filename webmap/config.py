"""Configuration: every setting comes from a ``CSMAP_``-prefixed environment variable.

The settings are declared once, in :class:`Settings`, with their defaults and documentation;
the README's configuration table is checked against this class by a test, so a setting cannot
exist without being documented.

Defaults are safe for the local demo only. Outside demo/test mode the secret key has no
default: the app refuses to start without one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENV_PREFIX = "CSMAP_"
REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the variable and the problem."""


class Settings(BaseModel):
    """All csmap settings. Field name ``foo_bar`` is read from ``CSMAP_FOO_BAR``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["demo", "test", "production"] = Field(
        "demo", description="demo and test allow generated secrets; production requires all."
    )
    secret_key: str | None = Field(
        None, description="Flask secret key (signs sessions). Required in production."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL the web app connects with (the non-owner app role). "
        "Default: the private cluster under var/.",
    )
    owner_database_url: str | None = Field(
        None,
        description="URL of the schema owner, used only by migrations and the demo loader. "
        "Default: the private cluster under var/.",
    )
    read_database_url: str | None = Field(
        None,
        description="Optional SQLAlchemy URL of a hot standby (the app role): layers, tiles "
        "and lists read from it under the same RLS; writes and a writer's next reads stay on "
        "the primary. Unreachable: reads fall back to the primary. `csmap db replica up` "
        "prints it for the private cluster.",
    )
    hmac_key: str | None = Field(
        None,
        description="Key for the HMAC of registration marks (cross-agency matching). "
        "Required in production; generated once into var/secrets.json in demo/test mode.",
    )
    app_role: str = Field(
        "csmap_app", description="Name of the app's database role, granted rights by migrations."
    )
    var_dir: Path = Field(
        REPO_ROOT / "var", description="Where the private cluster and its state live."
    )
    pg_port: int = Field(
        55432, ge=1024, le=65535, description="TCP port of the private cluster (localhost only)."
    )
    service_area: tuple[float, float, float, float] = Field(
        (1.10, 54.54, 1.30, 54.66),
        description="Bounding box min_lon,min_lat,max_lon,max_lat that records must fall in.",
    )
    tile_url: str = Field(
        "",
        description="Optional XYZ tile URL template for a real base map (empty: the demo "
        "town's own layers are drawn instead; no web tiles).",
    )
    tile_attribution: str = Field("", description="Attribution shown for tile_url.")
    projected_srid: int = Field(
        27700, description="Projected CRS for metric work (British National Grid by default)."
    )
    max_request_bytes: int = Field(
        1_000_000, ge=1024, description="Largest request body accepted (413 above it)."
    )
    session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="Sign out after this many minutes without a request."
    )
    session_absolute_hours: int = Field(
        12, ge=1, le=72, description="Sign out this many hours after signing in, whatever."
    )
    login_max_failures: int = Field(
        3,
        ge=1,
        le=100,
        description="Failed log-ins of one account from one client address before that pair "
        "must wait (1 s, doubling to 5 minutes; 429). One address across accounts: ten times "
        "this in 15 minutes.",
    )
    vehicle_match_per_user_hour: int = Field(
        10,
        ge=1,
        le=1000,
        description="Registration marks one user may match against other agencies' records "
        "per hour (each sighting saved runs a match); beyond it 429 and nothing is saved.",
    )
    vehicle_match_per_agency_hour: int = Field(
        50,
        ge=1,
        le=10000,
        description="Registration marks one agency's users together may match per hour.",
    )
    proxy_count: int = Field(
        0,
        ge=0,
        le=5,
        description="Number of reverse proxies in front of the app whose X-Forwarded-For/"
        "-Proto to trust (0: none). Needed for HSTS and per-client log-in limits behind TLS.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level. Logs never carry coordinates, notes or person refs."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or as one JSON object per line."
    )
    metrics_token: str | None = Field(
        None,
        min_length=32,
        description="Bearer token that may read /metrics from anywhere (without it, only "
        "requests from this machine's loopback that no proxy forwarded may).",
    )

    @field_validator("service_area", mode="before")
    @classmethod
    def _parse_bbox(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = tuple(float(p) for p in value.split(","))
            except ValueError as exc:
                raise ValueError("must be four numbers: min_lon,min_lat,max_lon,max_lat") from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        min_lon, min_lat, max_lon, max_lat = self.service_area
        if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
            raise ValueError(
                "service_area: expected min_lon<max_lon and min_lat<max_lat in degrees"
            )
        for name in ("secret_key", "hmac_key"):
            value = getattr(self, name)
            if self.mode == "production" and not value:
                raise ValueError(f"{name}: required when CSMAP_MODE=production")
            if value is not None and len(value) < 32:
                raise ValueError(f"{name}: must be at least 32 characters")
        return self

    # -- derived values -------------------------------------------------------------------

    @property
    def cluster_file(self) -> Path:
        return self.var_dir / "cluster.json"

    def secret(self, name: Literal["secret_key", "hmac_key"]) -> str:
        """A secret from the environment or, in demo/test mode only, from var/secrets.json
        (generated once, so sessions and HMACs survive a restart)."""
        value: str | None = getattr(self, name)
        if value:
            return value
        if self.mode == "production":
            raise ConfigError(f"{ENV_PREFIX}{name.upper()}: required when CSMAP_MODE=production")
        path = self.var_dir / "secrets.json"
        try:
            stored: dict[str, str] = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            stored = {}
        if name not in stored:
            stored[name] = secrets.token_urlsafe(48)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stored))
            path.chmod(0o600)
        return stored[name]

    def local_cluster(self) -> dict[str, Any] | None:
        """The private cluster's connection facts, if ``csmap db up`` has created one."""
        try:
            data: dict[str, Any] = json.loads(self.cluster_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return data

    def _cluster_url(self, user_key: str, database: str | None) -> str:
        cluster = self.local_cluster()
        if cluster is None:
            raise ConfigError(
                "CSMAP_DATABASE_URL: not set, and no private cluster found in "
                f"{self.var_dir} (run `csmap db up` or `make db-up`)"
            )
        role = cluster["roles"][user_key]
        db = database or cluster["database"]
        return (
            f"postgresql+psycopg://{role['name']}:{role['password']}"
            f"@127.0.0.1:{cluster['port']}/{db}"
        )

    def app_url(self, database: str | None = None) -> str:
        """URL for the app role (never owner, never superuser)."""
        return self.database_url or self._cluster_url("app", database)

    def read_url(self) -> str | None:
        """Where the app reads layers, tiles and lists from: ``CSMAP_READ_DATABASE_URL``, or —
        when the app uses the private cluster itself — its standby while ``csmap db replica
        up`` has it enabled (``var/replica/standby.json``); else None (the primary)."""
        if self.read_database_url or self.database_url:
            return self.read_database_url
        try:
            state = json.loads((self.var_dir / "replica" / "standby.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if not state.get("enabled"):
            return None
        primary = self._cluster_url("app", None)
        return re.sub(r"@127\.0\.0\.1:\d+/", f"@127.0.0.1:{int(state['port'])}/", primary, count=1)

    def owner_url(self, database: str | None = None) -> str:
        """URL for the schema owner (migrations, demo loading)."""
        return self.owner_database_url or self._cluster_url("owner", database)


def settings_fields() -> dict[str, str]:
    """Every environment variable csmap reads, with its description (for docs and tests)."""
    return {
        ENV_PREFIX + name.upper(): (field.description or "")
        for name, field in Settings.model_fields.items()
    }


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read settings from the environment, apply ``overrides``, validate.

    Raises :class:`ConfigError` naming the variable and the problem.

    >>> load_settings({"CSMAP_PG_PORT": "6000"}).pg_port
    6000
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    known = set(Settings.model_fields)
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in known:
            values[name] = raw
    values.update(overrides or {})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            name = ENV_PREFIX + loc.upper() if loc else "configuration"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("; ".join(problems)) from None
