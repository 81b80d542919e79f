"""What every `csmap` command shares: the settings, and the schema owner's database session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from webmap.config import ConfigError, Settings, load_settings
from webmap.infra.db import owner_session as _owner_session


def settings() -> Settings:
    """The settings from the environment, or a clear error naming the bad setting."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def owner_session(database: str | None = None) -> Iterator[Session]:
    """A session as the schema owner (the CLI's administrative rights), on the private
    cluster's ``database`` or the configured one; its engine is disposed afterwards."""
    with _owner_session(settings(), database) as session:
        yield session
