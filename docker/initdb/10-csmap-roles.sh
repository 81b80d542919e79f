#!/usr/bin/env bash
# Runs once, as the PostGIS image's superuser, when the data volume is first created.
# Same shape as `csmap db up` on the private cluster: an owner that runs migrations and an
# app role that is not owner, not superuser, and cannot bypass row-level security.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres --dbname postgres \
     -v owner_pw="$CSMAP_OWNER_PASSWORD" -v app_pw="$CSMAP_APP_PASSWORD" <<'SQL'
CREATE ROLE csmap_owner LOGIN PASSWORD :'owner_pw' NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
CREATE ROLE csmap_app LOGIN PASSWORD :'app_pw' NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
CREATE DATABASE csmap OWNER csmap_owner;
\connect csmap
CREATE EXTENSION IF NOT EXISTS postgis;
ALTER SCHEMA public OWNER TO csmap_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE csmap FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE csmap TO csmap_app;
GRANT USAGE ON SCHEMA public TO csmap_app;
SQL
