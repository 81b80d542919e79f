"""A share's downloads: GeoJSON, CSV, GeoPackage and FlatGeobuf, written for GIS clients.

Every file is built from one :class:`~webmap.features.sharing.output.Publication` (read from the
ledger), and every feature or row carries its provenance (share id, source, tier, period,
precision, when published, when the share expires), because GDAL and QGIS show features, not a
file's header. Contexts are features of their own file or layer. The GeoPackage is written as
version 1.3, which GDAL 3.6 (Debian bookworm, many QGIS installs) reads fully, with the share's
terms in ``gpkg_metadata``, a description in ``gpkg_contents`` and datetimes typed. A re-fetch
gives the same bytes: GDAL is told the publication's time instead of now.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any, Final

import shapely.geometry

from spatial.redaction_output import contexts_geojson
from webmap.features.sharing.output import Publication, layer_geojson, provenance_features
from webmap.infra.errors import NotFound

EXPORT_TYPES: Final = {
    "geojson": "application/geo+json",
    "contexts.geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "fgb": "application/vnd.flatgeobuf",
}
CSV_FIELDS: Final = [
    "share_id",
    "source",
    "tier",
    "period",
    "cell",
    "count",
    "band",
    "lon",
    "lat",
    "wkt",
    "precision",
    "published_at",
    "expires_at",
]


def context_features(pub: Publication) -> list[dict[str, Any]]:
    """The shared contexts as features, each carrying the share's provenance."""
    meta = pub.metadata()
    latest = pub.releases[-1] if pub.releases else None
    return [
        {
            **f,
            "properties": {
                **f["properties"],
                "share_id": meta["share_id"],
                "source": meta["source"],
                "tier": meta["tier"],
                "period": latest.period if latest else None,
                "precision": meta["precision"],
                "published_at": latest.published_at.isoformat() if latest else None,
                "expires_at": meta["expires_at"],
            },
        }
        for f in contexts_geojson(pub.contexts)["features"]
    ]


def _csv(pub: Publication) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for f in provenance_features(pub):
        shape = shapely.geometry.shape(f["geometry"])
        centre = shape.centroid
        writer.writerow(
            {
                **f["properties"],
                "lon": f"{centre.x:.6f}",
                "lat": f"{centre.y:.6f}",
                "wkt": shapely.to_wkt(shape, rounding_precision=6),
            }
        )
    return out.getvalue().encode()


def _frames(pub: Publication) -> tuple[Any, Any]:
    import geopandas as gpd  # loaded only when a GIS file is asked for
    import pandas as pd

    def frame(features: list[dict[str, Any]], columns: list[str]) -> Any:
        rows = [f["properties"] for f in features]
        df = gpd.GeoDataFrame(
            pd.DataFrame(rows, columns=columns),
            geometry=[shapely.geometry.shape(f["geometry"]) for f in features],
            crs="EPSG:4326",
        )
        for column in ("published_at", "expires_at"):  # typed, not text
            if column in df:
                df[column] = pd.to_datetime(df[column], utc=True)
        return df

    cells = frame(
        provenance_features(pub),
        ["share_id", "source", "tier", "period", "cell", "count", "band", "precision",
         "published_at", "expires_at"],
    )  # fmt: skip
    contexts = frame(
        context_features(pub),
        ["share_id", "source", "tier", "kind", "name", "precise", "period", "precision",
         "published_at", "expires_at"],
    )  # fmt: skip
    return cells, contexts


def _stamp(pub: Publication) -> str:
    at = pub.releases[-1].published_at if pub.releases else pub.expires_at
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # the form gpkg_contents.last_change takes


def _gis_file(pub: Publication, driver: str, suffix: str) -> bytes:
    import pyogrio

    cells, contexts = _frames(pub)
    meta = {k: str(v) for k, v in pub.metadata().items()}
    # GDAL stamps files with the current time unless told otherwise: the latest
    # publication's time keeps a re-fetched file byte-identical.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _stamp(pub)})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"share.{suffix}"
        if driver == "GPKG":
            description = f"{pub.label}; {pub.periods}; {pub.precision}"
            for layer, frame in (("cells", cells), ("contexts", contexts)):
                pyogrio.write_dataframe(
                    frame,
                    path,
                    layer=layer,
                    driver="GPKG",
                    append=layer == "contexts",
                    dataset_options={"VERSION": "1.3"} if layer == "cells" else None,
                    layer_options={"DESCRIPTION": f"{layer} of {description}"},
                    dataset_metadata=meta if layer == "cells" else None,
                    layer_metadata=meta,
                )
        else:
            pyogrio.write_dataframe(cells, path, driver=driver, layer="cells")
        return path.read_bytes()


def export(pub: Publication, fmt: str) -> bytes:
    """The share as one of :data:`EXPORT_TYPES`."""
    if fmt == "geojson":
        doc = {**layer_geojson(pub), "features": provenance_features(pub)}
        doc.pop("contexts", None)  # contexts are a file of their own
        return json.dumps(doc, ensure_ascii=False).encode()
    if fmt == "contexts.geojson":
        doc = {"type": "FeatureCollection", "share": pub.metadata(),
               "features": context_features(pub)}  # fmt: skip
        return json.dumps(doc, ensure_ascii=False).encode()
    if fmt == "csv":
        return _csv(pub)
    if fmt == "gpkg":
        return _gis_file(pub, "GPKG", "gpkg")
    if fmt == "fgb":
        return _gis_file(pub, "FlatGeobuf", "fgb")
    raise NotFound("No such export format (geojson, contexts.geojson, csv, gpkg or fgb).")
