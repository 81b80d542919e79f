#!/usr/bin/env bash
# Install the OS packages csmap needs, only when they are missing.
#   PostgreSQL server + PostGIS and Pango + fonts (always: the app renders briefing-pack PDFs
#   with WeasyPrint); Chromium, fonts and Node.js (with --browser, for the tests: Node runs the
#   front end's unit tests with its built-in test runner).
# On Debian/Ubuntu as root this uses apt-get; anywhere else it stops and names the packages.
set -euo pipefail

want_browser=0
[[ "${1:-}" == "--browser" ]] && want_browser=1

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }
pg_version() { ls /usr/lib/postgresql | sort -V | tail -1; }
have_postgis() { [[ -f "/usr/share/postgresql/$(pg_version)/extension/postgis.control" ]]; }
have_browser() { command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi dejavu; }
# GDAL 3.6 (Debian bookworm's, as in many QGIS installs) with its validate_gpkg.py: the tests
# check that exports open there too, not only in pyogrio's newer GDAL.
have_gdal_py() { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import osgeo_utils.samples.validate_gpkg" 2>/dev/null; }
have_node() { command -v node >/dev/null; }
# grep without -q: reading all of ldconfig's output avoids a SIGPIPE failing the pipefail.
have_pango() {
  ldconfig -p 2>/dev/null | grep -F libpangoft2-1.0.so.0 >/dev/null &&
    [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]
}

missing=()
have_postgres || missing+=(postgresql)
if have_postgres && ! have_postgis; then missing+=("postgresql-$(pg_version)-postgis-3"); fi
if ! have_postgres; then missing+=("postgresql-<version>-postgis-3"); fi
have_pango || missing+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
if (( want_browser )) && ! have_browser; then missing+=(chromium fonts-dejavu-core); fi
if (( want_browser )) && ! have_gdal_py; then missing+=(python3-gdal); fi
if (( want_browser )) && ! have_node; then missing+=(nodejs); fi

(( ${#missing[@]} == 0 )) && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "csmap needs these OS packages: ${missing[*]}" >&2
  echo "Install them with your package manager (as root), then run make again." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() {
  apt-get -y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold --no-install-recommends "$@"
}
echo "Installing OS packages: ${missing[*]}"
apt-get update -q
if ! have_postgres; then
  # Don't let the package create and start a system cluster on 5432: csmap runs its own.
  mkdir -p /etc/postgresql-common
  if [[ ! -f /etc/postgresql-common/createcluster.conf ]]; then
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
  apt_get install postgresql postgresql-contrib
fi
have_postgis || apt_get install "postgresql-$(pg_version)-postgis-3"
have_pango || apt_get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fontconfig
if (( want_browser )) && ! have_browser; then apt_get install chromium fonts-dejavu-core fontconfig; fi
if (( want_browser )) && ! have_gdal_py; then apt_get install python3-gdal; fi
if (( want_browser )) && ! have_node; then apt_get install nodejs; fi
echo "OS packages ready."
