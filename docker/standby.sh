#!/usr/bin/env bash
# The standby's entrypoint: the first time, copy the primary with pg_basebackup (a replication
# slot keeps the WAL it still needs; -R writes standby.signal and the primary's connection),
# then run PostgreSQL as a hot standby. Row-level security, roles and grants come with the copy.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h db -U postgres; do sleep 1; done
  mkdir -p "$PGDATA" && chown postgres "$PGDATA" && chmod 700 "$PGDATA"
  gosu postgres env PGPASSWORD="$CSMAP_REPLICATION_PASSWORD" pg_basebackup \
    --host db --username csmap_replicator --pgdata "$PGDATA" --wal-method=stream \
    --checkpoint=fast --create-slot --slot standby1 --write-recovery-conf
  echo "hot_standby_feedback = on" >> "$PGDATA/postgresql.conf"
fi
exec gosu postgres postgres
