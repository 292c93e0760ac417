#!/usr/bin/env bash
# Prepare a copy of the template app that ships inside the npm package `sunpeak`, the way
# `sunpeak new` scaffolds it, with its npm dependencies installed. Idempotent and cached.
#
#   tests/support/prepare-template.sh [DEST]      prints DEST (default: $CACHE/template)
#
#   SUNPEAK_VERSION   npm sunpeak version (default 0.20.79)
#   TEMPLATE_ZOD      if set, pin the project's zod to this version (e.g. 4.4.3, which
#                     `npx sunpeak start` 0.20.79 needs to list tools)
#   SUNPEAK_RS_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/sunpeak-rs)
#
# Nothing here is committed: the template is copied from node_modules at test time.
set -euo pipefail
VERSION="${SUNPEAK_VERSION:-0.20.79}"
CACHE="${SUNPEAK_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sunpeak-rs}"
DEST="${1:-$CACHE/template-$VERSION${TEMPLATE_ZOD:+-zod$TEMPLATE_ZOD}}"
PKG="$CACHE/npm-sunpeak-$VERSION"

if [ -f "$DEST/.prepared" ]; then echo "$DEST"; exit 0; fi
# Tests run in parallel and may all ask for the template at once on an empty cache: one
# prepares it, the others wait for it and then find it ready.
mkdir -p "$CACHE"
exec 9>"$CACHE/.prepare-template.lock"
flock 9
if [ -f "$DEST/.prepared" ]; then echo "$DEST"; exit 0; fi
if [ ! -d "$PKG/node_modules/sunpeak/template" ]; then
  mkdir -p "$PKG"
  npm install --prefix "$PKG" --no-audit --no-fund --silent --ignore-scripts "sunpeak@$VERSION" >&2
fi
rm -rf "$DEST"; mkdir -p "$(dirname "$DEST")"
cp -R "$PKG/node_modules/sunpeak/template" "$DEST"
cd "$DEST"
for f in _gitignore _prettierignore _prettierrc; do [ -e "$f" ] && mv "$f" ".${f#_}"; done
find src/resources -name deps.json -delete
rm -rf dist .tmp test-results   # the npm package ships a prebuilt dist/: start clean
node -e '
  const fs = require("fs"); const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
  if (p.dependencies.sunpeak === "workspace:*") p.dependencies.sunpeak = "^" + process.argv[1];
  if (process.argv[2]) p.dependencies.zod = process.argv[2];
  fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");
' "$VERSION" "${TEMPLATE_ZOD:-}"
npm install --no-audit --no-fund --silent >&2
touch .prepared
echo "$DEST"
