"""The ``csmap`` command: each group lives in a module of its own; this assembles them."""

from __future__ import annotations

import click

from webmap.cli import admin, db, demo, importing, profiles, publications, serve


@click.group()
def main() -> None:
    """csmap: contextual safeguarding place-and-space mapping."""


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
):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()
