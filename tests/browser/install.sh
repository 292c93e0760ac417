#!/usr/bin/env bash
# Install the browser harness's npm dependencies (playwright-core, pinned in package-lock.json)
# into a cache outside the repository and print the node_modules directory, for
# SUNPEAK_HARNESS_MODULES. Idempotent: the cache key is the lockfile's hash.
#
#   SUNPEAK_RS_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/sunpeak-rs)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SUNPEAK_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sunpeak-rs}"
KEY="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-16)"
DEST="$CACHE/browser-harness-$KEY"
if [ ! -f "$DEST/.installed" ]; then
  # Parallel tests on an empty cache: one installs, the others wait and then find it ready.
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.browser-harness.lock"
  flock 9
fi
if [ ! -f "$DEST/.installed" ]; then
  rm -rf "$DEST"; mkdir -p "$DEST"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DEST/"
  # playwright-core has no install script and downloads no browser: Debian's chromium is used.
  (cd "$DEST" && npm ci --no-audit --no-fund --silent --ignore-scripts >&2)
  touch "$DEST/.installed"
fi
echo "$DEST/node_modules"
