#!/usr/bin/env bash
# Runs once, as the PostGIS image's superuser, when the primary's volume is first created: a
# role the standby streams with (REPLICATION only: it reads no table through SQL), and the
# pg_hba line that lets it in from the compose network.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres --dbname postgres \
     -v repl_pw="$CSMAP_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE csmap_replicator LOGIN REPLICATION PASSWORD :'repl_pw';
SQL
echo "host replication csmap_replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
