# Production-style image: the csmap app under gunicorn. The database is a separate PostGIS
# container (see docker-compose.yml). Wheels for shapely/pyproj/h3/psycopg carry their own
# native libraries, so the slim base needs no GIS packages. WeasyPrint (briefing-pack PDFs)
# needs Pango and a font from Debian.
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fontconfig \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CSMAP_MODE=production CSMAP_VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
COPY webmap ./webmap
COPY spatial ./spatial
COPY migrations ./migrations
COPY static ./static
# Editable install keeps migrations/ and static/ beside the package, where csmap looks.
RUN pip install -e . && useradd --system --home /app csmap && mkdir -p var && chown csmap var
USER csmap
EXPOSE 8000
# `csmap serve` runs gunicorn with no access log (a path can hold a signed link's token): the
# app logs one line per request with the route pattern instead.
CMD ["csmap", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "3"]
