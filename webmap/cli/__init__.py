"""The ``csmap`` command: each group lives in a module of its own; this assembles them.

Commands import the work they do inside the command (not at the top of their module), so that
``csmap --help`` and ``csmap db up`` start without loading geopandas, the app or the demo
town: a choice for start-up time, not a way round an import cycle (import-linter checks that
there are none).
"""

from __future__ import annotations

import click

from webmap.cli import (
    admin,
    backup,
    db,
    demo,
    importing,
    profiles,
    publications,
    replica,
    serve,
    tokens,
)

db.db.add_command(replica.replica)  # `csmap db replica up|down|status`


@click.group()
def main() -> None:
    """csmap: contextual safeguarding place-and-space mapping."""


for command in backup.COMMANDS:
    db.db.add_command(command)

for command in (
    db.db,
    demo.demo,
    admin.users,
    admin.agencies,
    admin.audit,
    admin.vocab,
    importing.import_,
    profiles.profiles,
    publications.publications,
    serve.serve,
    tokens.tokens,
):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()
