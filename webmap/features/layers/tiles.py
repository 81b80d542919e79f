"""Vector tiles (Mapbox Vector Tile, built by PostGIS's ST_AsMVT) of the cell layers, and the
per-process cache of their bytes.

The cell size grows as you zoom out (res 9 from z14, res 8 at z12–13, res 7 below), so a tile
never carries more cells than it can draw; if a tile would still pass the size cap, the next
coarser resolution is used instead. Counts come from ``cell_month`` as for every layer.

**Caching, and why it cannot serve a stale or someone else's tile.** Tile bytes are kept per
process, keyed by (audience, layer, filter, z/x/y):

- an agency's own counts (tier A) are keyed by the agency and cached under the *cube
  version* of the months asked for (revision 0016): the cube's triggers bump a counter per
  (agency, month) in the same transaction as any change, and the version is read with every
  request, in the same statement that would build the tile (``csmap_counts_tile``, one round
  trip, which builds nothing when the caller already holds that version). So several app
  servers behind a load balancer, each with its own cache, can never disagree with the data;
- a share's tiles are read from the publication ledger, which never changes, so they are kept
  until the share ends (its expiry), keyed by the share, the reader's agency and the period.

Authorisation runs before any lookup, on every request (the routes' policy decorator, the
session check, and for a share the check that it is live and readable): the cache only saves
the work after it. The ETag is a digest of the key and the version, so a browser's copy is
revalidated cheaply (304) and one audience's ETag never matches another's tile.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from webmap.features.layers.queries import LayerQuery
from webmap.infra.db import DbContext
from webmap.infra.reads import statement

MAX_TILE_BYTES = 500_000
#: Tiles are served from z0; past z16 a client over-zooms (the finest cells are drawn at z14).
MIN_ZOOM, MAX_ZOOM = 0, 16
#: Bytes of tiles each process keeps (least recently used go first).
CACHE_BYTES = 64 * 1024 * 1024
#: The version of a share's tile: the ledger never changes.
LEDGER = "ledger"


def resolution_for_zoom(z: int) -> int:
    """Coarser cells when zoomed out.

    >>> [resolution_for_zoom(z) for z in (10, 12, 14)]
    [7, 8, 9]
    """
    if z >= 14:
        return 9
    if z >= 12:
        return 8
    return 7


@dataclass(frozen=True)
class Tile:
    """A tile's bytes under one version; ``body`` is None when the caller's copy is current."""

    key: tuple[Hashable, ...]
    version: str
    body: bytes | None
    res: int | None = None

    @property
    def etag(self) -> str:
        return etag(self.key, self.version)


def etag(key: tuple[Hashable, ...], version: str) -> str:
    """A strong ETag naming the audience, filter, tile and version (a digest of them all), and
    the version itself, so a revalidation can ask the database about exactly that version.

    >>> etag(("own", "a", 12, 1, 2), "ab12cd34.7")
    '"ab12cd34.7-64721149a6b5f34b33656a5d"'
    """
    digest = hashlib.sha256(repr((key, version)).encode()).hexdigest()[:24]
    return f'"{version}-{digest}"'


def version_from_etag(key: tuple[Hashable, ...], header: str | None) -> str | None:
    """The version an If-None-Match header holds for this very key, if it holds one.

    >>> k = ("own", "a", 12, 1, 2)
    >>> version_from_etag(k, etag(k, "ab12cd34.7"))
    'ab12cd34.7'
    >>> version_from_etag(("own", "b", 12, 1, 2), etag(k, "ab12cd34.7")) is None
    True
    """
    for candidate in (header or "").split(","):
        tag = candidate.strip().removeprefix("W/")
        version = tag.strip('"').rpartition("-")[0]
        if version and tag == etag(key, version):
            return version
    return None


class TileCache:
    """Tile bytes by key, least recently used first out, bounded in bytes; thread-safe (a
    gthread worker serves several requests at once)."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Hashable, ...], tuple[str, bytes, int | None, float]] = (
            OrderedDict()
        )
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...]) -> Tile | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            version, body, res, until = item
            if until and until <= time.time():
                self._drop(key)
                return None
            self._items.move_to_end(key)
        return Tile(key, version, body, res)

    def put(self, tile: Tile, until: float = 0.0) -> None:
        """Keep ``tile`` (until the epoch time ``until``, if given)."""
        if tile.body is None or len(tile.body) > self.max_bytes // 16:
            return
        with self._lock:
            self._drop(tile.key)
            self._items[tile.key] = (tile.version, tile.body, tile.res, until)
            self._bytes += len(tile.body)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def _drop(self, key: tuple[Hashable, ...]) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= len(item[1])

    def __len__(self) -> int:
        return len(self._items)


def app_cache(extensions: MutableMapping[str, Any]) -> TileCache:
    """The app's (this process's) tile cache."""
    cache: TileCache = extensions.setdefault("csmap.tile_cache", TileCache())
    return cache


# -- an agency's own counts ------------------------------------------------------------------

_COUNTS_TILE = (
    "SELECT version, res, tile FROM csmap_counts_tile(%(user)s, %(agency)s, %(role)s,"
    " %(res)s, %(m_from)s, %(m_to)s, %(cats)s::text[], %(z)s, %(x)s, %(y)s, %(known)s,"
    " %(max_bytes)s)"
)


def counts_key(agency: uuid.UUID, q: LayerQuery, z: int, x: int, y: int) -> tuple[Hashable, ...]:
    """The cache key of an agency's counts tile: the agency is the audience (every role that
    may read the layer reads the same counts)."""
    return ("counts", str(agency), q.month_from, q.month_to, tuple(sorted(q.categories)), z, x, y)


def counts_tile(
    cache: TileCache,
    ctx: DbContext,
    q: LayerQuery,
    z: int,
    x: int,
    y: int,
    if_none_match: str | None = None,
) -> Tile:
    """The agency's counts tile, in one round trip: the database answers with the current
    version and builds the tile only if neither this process nor the client (its ETag) holds
    that version. ``body`` is None when the client's copy is current (answer 304)."""
    key = counts_key(uuid.UUID(ctx.agency_id), q, z, x, y)
    cached = cache.get(key)
    client = version_from_etag(key, if_none_match)
    known = cached.version if cached is not None else client
    ((version, res, body),) = statement(
        _COUNTS_TILE,
        {
            "user": ctx.user_id,
            "agency": ctx.agency_id,
            "role": ctx.role,
            "res": resolution_for_zoom(z),
            "m_from": q.month_from,
            "m_to": q.month_to,
            "cats": list(q.categories),
            "z": z,
            "x": x,
            "y": y,
            "known": known or "",
            "max_bytes": MAX_TILE_BYTES,
        },
        read=True,
    )
    if body is not None:
        tile = Tile(key, version, bytes(body), res)
        cache.put(tile)
        return Tile(key, version, None, res) if client == version else tile
    if client == version:
        return Tile(key, version, None, cached.res if cached else None)
    assert cached is not None and cached.version == version
    return cached


# -- a share's published cells ---------------------------------------------------------------

# A shared layer's tile: the published cells of one period, read from the ledger through the
# share's own function (never recomputed here), drawn on the fixed outlines. Counts are
# integers; a banded publication carries its band label instead.
_SHARED_MVT = """
WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
pub AS (SELECT cell, n, band FROM csmap_share_published_cells(:s) WHERE period = :p)
SELECT ST_AsMVT(t, 'shared', 4096, 'geom') FROM (
  SELECT pub.cell::text AS cell, pub.n AS count, pub.band, CAST(:p AS text) AS period,
         ST_AsMVTGeom(ST_Transform(c.geom, 3857), env.e, 4096, 64, true) AS geom
  FROM pub JOIN cell c ON c.res = ((pub.cell >> 52) & 15) AND c.cell = pub.cell, env
  WHERE c.geom && ST_Transform(env.e, 4326)
) t
"""


def shared_key(
    share_id: str, reader_agency: str, period: str, z: int, x: int, y: int
) -> tuple[Hashable, ...]:
    """The cache key of a share's tile: the share and the reader's agency (the audience), the
    published period and the tile."""
    return ("shared", str(share_id), reader_agency, period, z, x, y)


def shared_tile(session: Session, share_id: str, period: str, z: int, x: int, y: int) -> bytes:
    """A tile of one share's published cells of ``period``, in one round trip."""
    params: dict[str, Any] = {"s": share_id, "p": period, "z": z, "x": x, "y": y}
    return bytes(session.execute(text(_SHARED_MVT), params).scalar_one() or b"")


def cached_shared_tile(
    cache: TileCache,
    session: Session,
    key: tuple[Hashable, ...],
    until: datetime,
    build: Mapping[str, Any],
) -> Tile:
    """A share's tile from the cache, else built from the ledger (``build``: share id,
    period, z, x, y) and kept until the share ends. Call only once the reader is authorised."""
    tile = cache.get(key)
    if tile is None:
        tile = Tile(key, LEDGER, shared_tile(session, **build))
        cache.put(tile, until=until.timestamp())
    return tile


def tilejson(
    *,
    name: str,
    description: str,
    tiles: str,
    bounds: tuple[float, float, float, float],
    layer: str,
    fields: Mapping[str, str],
) -> dict[str, Any]:
    """A TileJSON 3.0.0 document for one vector tile layer, so QGIS, MapLibre and GDAL's MVT
    driver find the tiles, their extent and each field's type (counts are Numbers) without
    guessing. ``description`` carries the layer's precision statement.

    >>> doc = tilejson(name="Counts", description="Cells about 0.1 km².",
    ...                tiles="https://x/tiles/counts/{z}/{x}/{y}.mvt",
    ...                bounds=(1.1, 54.5, 1.3, 54.7),
    ...                layer="cells", fields={"cell": "String", "n": "Number"})
    >>> doc["tilejson"], doc["center"], doc["vector_layers"][0]["fields"]["n"]
    ('3.0.0', [1.2, 54.6, 12], 'Number')
    """
    west, south, east, north = bounds
    return {
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "attribution": "csmap",
        "scheme": "xyz",
        "tiles": [tiles],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), 12],
        "vector_layers": [
            {
                "id": layer,
                "description": description,
                "minzoom": MIN_ZOOM,
                "maxzoom": MAX_ZOOM,
                "fields": dict(fields),
            }
        ],
    }
