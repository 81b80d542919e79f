#!/usr/bin/env bash
# Vendor pinned front-end assets into static/vendor/ (served) and tests/e2e/vendor/ (test-only).
#
# Usage:
#   scripts/vendor-assets.sh           # install from frontend/package-lock.json and
#                                      # (re)write static/vendor/ + MANIFEST.txt
#   scripts/vendor-assets.sh --check   # rebuild in a temp dir and fail (exit 1) if the
#                                      # committed static/vendor/ differs
#
# The exact versions come from frontend/package-lock.json (installed with `npm ci`,
# which verifies the lockfile's sha512 integrity hashes). Only the files the app
# serves are copied; nothing is ever fetched at run time (no CDN).
#
# axe-core (a devDependency) goes to tests/e2e/vendor/, outside static/: the browser tests
# inject it into each page to run the WCAG checks; the app never serves it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
VENDOR="$ROOT/static/vendor"
TEST_VENDOR="$ROOT/tests/e2e/vendor"

export LC_ALL=C

usage() {
    echo "usage: $0 [--check]" >&2
    exit 2
}

MODE=write
case "${1:-}" in
    "") ;;
    --check) MODE=check ;;
    -h|--help) usage ;;
    *) usage ;;
esac
[ "$#" -le 1 ] || usage

command -v npm >/dev/null || { echo "error: npm not found on PATH" >&2; exit 2; }
command -v node >/dev/null || { echo "error: node not found on PATH" >&2; exit 2; }
command -v sha256sum >/dev/null || { echo "error: sha256sum not found on PATH" >&2; exit 2; }

# npm_install DIR: reproducible install of the lockfile in DIR (into DIR/node_modules).
npm_install() {
    (cd "$1" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
}

# pkg_field MODULE_DIR FIELD: read a field from an installed package.json.
pkg_field() {
    node -e 'const p = require(process.argv[1] + "/package.json"); process.stdout.write(String(p[process.argv[2]] || ""));' "$1" "$2"
}

# lock_integrity FRONTEND_DIR PACKAGE: integrity hash recorded in the lockfile.
lock_integrity() {
    node -e '
        const lock = require(process.argv[1] + "/package-lock.json");
        const entry = (lock.packages || {})["node_modules/" + process.argv[2]];
        if (!entry) { console.error("package " + process.argv[2] + " missing from lockfile"); process.exit(1); }
        process.stdout.write(entry.integrity || "");
    ' "$1" "$2"
}

# copy_file SRC DEST: copy with normalised permissions (timestamps are irrelevant to the check).
copy_file() {
    install -D -m 0644 "$1" "$2"
}

# build FRONTEND_DIR OUT_DIR: populate OUT_DIR (a static/vendor tree) from FRONTEND_DIR/node_modules.
build() {
    local fe="$1" out="$2"
    local leaflet="$fe/node_modules/leaflet"
    [ -f "$leaflet/dist/leaflet.js" ] || { echo "error: $leaflet/dist/leaflet.js missing after npm ci" >&2; exit 1; }

    rm -rf "$out/leaflet"
    mkdir -p "$out/leaflet/images"
    copy_file "$leaflet/dist/leaflet.js" "$out/leaflet/leaflet.js"
    # leaflet.css refers to images/... relative to itself, so images/ sits next to it.
    copy_file "$leaflet/dist/leaflet.css" "$out/leaflet/leaflet.css"
    local img
    for img in "$leaflet"/dist/images/*; do
        copy_file "$img" "$out/leaflet/images/$(basename "$img")"
    done
    copy_file "$leaflet/LICENSE" "$out/leaflet/LICENSE"

    # leaflet.vectorgrid: only its self-contained bundle (pbf, vector-tile, ... inside).
    local vgrid="$fe/node_modules/leaflet.vectorgrid"
    local vgrid_js="$vgrid/dist/Leaflet.VectorGrid.bundled.min.js"
    [ -f "$vgrid_js" ] || { echo "error: $vgrid_js missing after npm ci" >&2; exit 1; }
    rm -rf "$out/leaflet.vectorgrid"
    mkdir -p "$out/leaflet.vectorgrid"
    copy_file "$vgrid_js" "$out/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"
    # The npm package ships no LICENSE file: its licence (Beerware) and the list of bundled
    # libraries are in its README ("## Legalese", "includes all of VectorGrid's dependencies").
    node -e '
        const fs = require("fs");
        const readme = fs.readFileSync(process.argv[1] + "/README.md", "utf8").split("\n");
        const at = readme.findIndex((l) => /^## Legalese/.test(l));
        if (at < 0) { console.error("leaflet.vectorgrid README has no Legalese section"); process.exit(1); }
        const bundled = readme.filter((l) => /^\* \[.*\(Under .* license\)/.test(l));
        const out = [
            "leaflet.vectorgrid " + require(process.argv[1] + "/package.json").version +
                " -- licence text taken from the package README (the npm package has no LICENSE file).",
            "",
        ].concat(readme.slice(at + 1).join("\n").trim().split("\n"), [
            "",
            "Leaflet.VectorGrid.bundled.min.js also includes these libraries (per the README):",
            "",
        ], bundled, [""]);
        fs.writeFileSync(process.argv[2], out.join("\n"));
    ' "$vgrid" "$out/leaflet.vectorgrid/LICENSE"
    chmod 0644 "$out/leaflet.vectorgrid/LICENSE"

    local version license integrity
    version="$(pkg_field "$leaflet" version)"
    license="$(pkg_field "$leaflet" license)"
    integrity="$(lock_integrity "$fe" leaflet)"
    local vg_version vg_license vg_integrity
    vg_version="$(pkg_field "$vgrid" version)"
    vg_license="$(pkg_field "$vgrid" license)"
    vg_integrity="$(lock_integrity "$fe" leaflet.vectorgrid)"

    {
        echo "# static/vendor/MANIFEST.txt -- generated by scripts/vendor-assets.sh; do not edit by hand."
        echo "# Source of truth: frontend/package.json + frontend/package-lock.json (installed with npm ci)."
        echo "# Verify the files: (cd static/vendor && sha256sum -c MANIFEST.txt)"
        echo "# Verify against the pinned lockfile: scripts/vendor-assets.sh --check"
        echo "#"
        echo "# package: leaflet@$version ($license) integrity $integrity"
        echo "# package: leaflet.vectorgrid@$vg_version ($vg_license) integrity $vg_integrity"
        (cd "$out" && find leaflet leaflet.vectorgrid -type f -print | sort | xargs sha256sum)
    } > "$out/MANIFEST.txt"
}

# build_test FRONTEND_DIR OUT_DIR: populate OUT_DIR (a tests/e2e/vendor tree): test-only tools.
build_test() {
    local fe="$1" out="$2"
    local axe="$fe/node_modules/axe-core"
    [ -f "$axe/axe.min.js" ] || { echo "error: $axe/axe.min.js missing after npm ci" >&2; exit 1; }
    rm -rf "$out/axe-core"
    mkdir -p "$out/axe-core"
    copy_file "$axe/axe.min.js" "$out/axe-core/axe.min.js"
    copy_file "$axe/LICENSE" "$out/axe-core/LICENSE"
    {
        echo "# tests/e2e/vendor/MANIFEST.txt -- generated by scripts/vendor-assets.sh; do not edit by hand."
        echo "# Test-only: injected by the browser tests, never served by the app."
        echo "# Verify against the pinned lockfile: scripts/vendor-assets.sh --check"
        echo "#"
        echo "# package: axe-core@$(pkg_field "$axe" version) ($(pkg_field "$axe" license)) integrity $(lock_integrity "$fe" axe-core)"
        (cd "$out" && find axe-core -type f -print | sort | xargs sha256sum)
    } > "$out/MANIFEST.txt"
}

if [ "$MODE" = write ]; then
    npm_install "$FRONTEND"
    mkdir -p "$VENDOR" "$TEST_VENDOR"
    build "$FRONTEND" "$VENDOR"
    build_test "$FRONTEND" "$TEST_VENDOR"
    echo "Vendored into ${VENDOR#"$ROOT"/}:"
    sed -n 's/^# package: /  /p' "$VENDOR/MANIFEST.txt"
    echo "  $(grep -vc '^#' "$VENDOR/MANIFEST.txt") files, see static/vendor/MANIFEST.txt"
    echo "Vendored into ${TEST_VENDOR#"$ROOT"/} (test-only, never served):"
    sed -n 's/^# package: /  /p' "$TEST_VENDOR/MANIFEST.txt"
    exit 0
fi

# --check: rebuild from the lockfile in a scratch directory and compare.
TMP="$(mktemp -d "${TMPDIR:-/tmp}/csmap-vendor-check.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/frontend" "$TMP/vendor" "$TMP/test-vendor"
cp "$FRONTEND/package.json" "$FRONTEND/package-lock.json" "$TMP/frontend/"
[ ! -f "$FRONTEND/.npmrc" ] || cp "$FRONTEND/.npmrc" "$TMP/frontend/"
npm_install "$TMP/frontend"
build "$TMP/frontend" "$TMP/vendor"
build_test "$TMP/frontend" "$TMP/test-vendor"

status=0
# compare BUILT COMMITTED LABEL: report every differing, missing or unexpected file by its
# path under LABEL (static/vendor or tests/e2e/vendor).
compare() {
    local built="$1" committed="$2" label="$3" line rel rest dir name
    if [ ! -d "$committed" ]; then
        echo "vendor check FAILED: $label/ does not exist; run scripts/vendor-assets.sh" >&2
        status=1
        return
    fi
    while IFS= read -r line; do
        status=1
        case "$line" in
            "Files "*" differ")
                rel="${line#Files "$built/"}"; rel="${rel%% and *}"
                echo "vendor check FAILED: $label/$rel differs from the pinned package" >&2 ;;
            "Only in $built"*)
                rest="${line#Only in "$built"}"; dir="${rest%%: *}"; dir="${dir#/}"; name="${rest#*: }"
                echo "vendor check FAILED: $label/${dir:+$dir/}$name is missing" >&2 ;;
            "Only in $committed"*)
                rest="${line#Only in "$committed"}"; dir="${rest%%: *}"; dir="${dir#/}"; name="${rest#*: }"
                echo "vendor check FAILED: $label/${dir:+$dir/}$name is not produced by the vendoring script" >&2 ;;
            *)
                echo "vendor check FAILED: $line" >&2 ;;
        esac
    done < <(diff -rq "$built" "$committed" || true)
}
compare "$TMP/vendor" "$VENDOR" static/vendor
compare "$TMP/test-vendor" "$TEST_VENDOR" tests/e2e/vendor

if [ "$status" -ne 0 ]; then
    echo "Run scripts/vendor-assets.sh to regenerate static/vendor/ and tests/e2e/vendor/ from frontend/package-lock.json." >&2
    exit 1
fi
echo "vendor check OK: static/vendor/ and tests/e2e/vendor/ match frontend/package-lock.json"
