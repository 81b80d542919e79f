"""`csmap import`: observations from CSV/GeoJSON, and police.uk reference data."""

from __future__ import annotations

import sys
import time

import click

from webmap.cli.common import owner_session
from webmap.cli.common import settings as _settings

# -- import ---------------------------------------------------------------------------------


@click.group("import")
def import_() -> None:
    """Bulk import: an agency's observations, and the police.uk reference layer."""


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


@import_.command("observations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--agency", "agency_slug", required=True, help="Slug of the recording agency.")
@click.option(
    "--as", "as_email", default=None, help="E-mail of the agency's user recorded as author."
)
@click.option(
    "--mode",
    type=click.Choice(["all-or-nothing", "skip-bad"]),
    default="all-or-nothing",
    show_default=True,
    help="With bad rows: import nothing (exit 1), or import the good rows.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Per-row error report (CSV row,field,problem). Default: FILE.errors.csv.",
)
@click.option(
    "--crs", type=int, default=None, help="EPSG code of easting/northing columns (default 27700)."
)
@click.option("--database", default=None)
def import_observations(
    file: str,
    agency_slug: str,
    as_email: str | None,
    mode: str,
    errors_path: str | None,
    crs: int | None,
    database: str | None,
) -> None:
    """Import observations from a CSV or GeoJSON FILE, checked with the API's rules.

    CSV columns: occurred_at, category, note, young_person_refs (separated by ';'),
    source_grade, info_grade, context_id, and lon, lat (WGS84) or easting, northing. GeoJSON:
    a FeatureCollection of Points with those properties. Times without a zone must be
    'YYYY-MM-DD HH:MM' and are read as UK local time.
    """
    from pathlib import Path

    from sqlalchemy import text

    from webmap.features.recording import importing as imp

    settings = _settings()
    started = time.monotonic()
    path = Path(file)
    with owner_session(database) as session:
        agency_id = session.execute(
            text("SELECT id FROM agency WHERE slug = :s"), {"s": agency_slug}
        ).scalar_one_or_none()
        if agency_id is None:
            raise click.BadParameter(
                f"no agency '{agency_slug}' (see `csmap agencies`)", param_hint="--agency"
            )
        user_id = None
        if as_email:
            user = session.execute(
                text("SELECT id, agency_id FROM app_user WHERE lower(email) = lower(:e)"),
                {"e": as_email},
            ).one_or_none()
            if user is None or user.agency_id != agency_id:
                raise click.BadParameter(
                    f"{as_email} is not a user of agency '{agency_slug}'", param_hint="--as"
                )
            user_id = user.id
        try:
            source = imp.read_source(path, crs, settings.projected_srid)
        except imp.ImportProblem as exc:
            raise click.ClickException(str(exc)) from None
        total = len(source.props)
        if total == 0:
            click.echo(f"nothing to import: {path.name} has no rows")
            return
        if source.ignored_columns:
            click.echo(f"ignoring columns: {', '.join(source.ignored_columns)}", err=True)
        lookups = imp.load_lookups(session, agency_id)
        checked = imp.Checked()
        with click.progressbar(
            imp.spans(total), label=f"checking {_rows(total)}", file=sys.stderr
        ) as bar:
            for start, stop in bar:
                part = imp.validate(source, start, stop, lookups, settings.service_area)
                checked.good += part.good
                checked.errors += part.errors
        if checked.errors:
            report = Path(errors_path) if errors_path else path.with_name(path.name + ".errors.csv")
            imp.write_report(report, checked.errors)
            click.echo(
                f"{_rows(checked.bad_rows)} of {total:,} with problems, listed in {report} "
                "(rows are counted from 1: data rows after the header, or features)"
            )
            if mode == "all-or-nothing":
                raise click.ClickException(
                    f"nothing imported: {_rows(checked.bad_rows)} bad (fix them, or use "
                    "--mode skip-bad to import the good rows)"
                )
        if not checked.good:
            click.echo("no good rows: nothing imported")
            return
        frame = imp.observation_frame(checked.good, agency_id, user_id)
        count = imp.insert_observations(session, frame, agency_id, user_id)
        session.commit()
    skipped = f", {_rows(checked.bad_rows)} skipped" if checked.errors else ""
    click.echo(
        f"imported {count:,} observations for {agency_slug}{skipped} "
        f"in {time.monotonic() - started:.1f}s"
    )


@import_.command("police-uk")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--errors",
    "errors_path",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Per-row error report (CSV file,row,column,problem). Default: first FILE.errors.csv.",
)
@click.option("--database", default=None)
def import_police_uk(files: tuple[str, ...], errors_path: str | None, database: str | None) -> None:
    """Load data.police.uk street-level crime CSVs into the reference layer (all agencies
    see it). A bad row (wrong number of fields, bad Month, unknown crime type, bad coordinate)
    is skipped and written to the report with its row number; the rest of the file loads.
    Rows without coordinates, outside the service area, or already loaded are counted."""
    from pathlib import Path

    from webmap.features.reference.police_uk import (
        insert_reference_crimes,
        read_police_file,
        write_report,
    )
    from webmap.infra.errors import ImportProblem

    settings = _settings()
    first = Path(files[0])
    report = Path(errors_path) if errors_path else first.with_name(first.name + ".errors.csv")
    try:
        read = [read_police_file(Path(f), settings.service_area) for f in files]
    except ImportProblem as exc:
        raise click.ClickException(str(exc)) from None
    with owner_session(database) as session:
        total = insert_reference_crimes(session, read)
        session.commit()
    for f in read:
        click.echo(f"{f.name}: {_rows(f.rows)}, {f.inserted:,} loaded")
        for count, why in (
            (f.no_coordinates, "without coordinates (police.uk could not place them)"),
            (f.outside, "outside the service area (CSMAP_SERVICE_AREA)"),
            (f.already_loaded, "already loaded (same Crime ID, or the same row without one)"),
            (f.rejected, f"with problems, listed in {report}"),
        ):
            if count:
                click.echo(f"  {_rows(count)} {why} skipped")
    click.echo(f"{total:,} reference crimes loaded from {len(read)} file(s)")
    if any(f.problems for f in read):
        written = write_report(report, read)
        click.echo(f"{written:,} problem(s) written to {report}")


@import_.command("boundaries")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--set", "set_name", required=True, help="Name of the boundary set, e.g. 'Wards'.")
@click.option(
    "--kind",
    default="other",
    show_default=True,
    help="council_ward, police_neighbourhood, health_area, school_catchment, ldsm_area or other.",
)
@click.option("--code-field", default=None, help="Attribute holding each area's code.")
@click.option("--name-field", default=None, help="Attribute holding each area's name.")
@click.option("--crs", default=None, help="CRS of a file that does not say (e.g. EPSG:27700).")
@click.option("--database", default=None)
def import_boundaries_cmd(
    file: str,
    set_name: str,
    kind: str,
    code_field: str | None,
    name_field: str | None,
    crs: str | None,
    database: str | None,
) -> None:
    """Import a boundary set (GeoJSON, GeoPackage or zipped Shapefile, any CRS) as a new
    generation; invalid areas are repaired or rejected, each with its reason."""
    from pathlib import Path

    from webmap.features.reference.boundaries import (
        BoundaryImportError,
        import_boundaries,
        read_boundaries,
    )

    try:
        frame = read_boundaries(Path(file), crs)
        with owner_session(database) as session:
            report = import_boundaries(
                session, frame, set_name, kind, code_field, name_field, _settings().service_area
            )
            session.commit()
    except BoundaryImportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{report.set_slug} generation {report.generation}: {report.imported} areas"
        f" imported, {len(report.repaired)} repaired, {len(report.rejected)} rejected"
    )
    for code, reason in report.repaired:
        click.echo(f"  repaired {code}: {reason}")
    for code, reason in report.rejected:
        click.echo(f"  rejected {code}: {reason}")
    if report.outside:
        click.echo(
            f"  warning: {len(report.outside)} area(s) outside the service area hold no cell:"
            f" {', '.join(report.outside[:10])}"
        )
