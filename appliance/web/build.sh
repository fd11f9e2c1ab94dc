#!/bin/bash
# appliance/web/build.sh OUT: builds the web console into OUT (index.html,
# app.js, app.css) with esbuild. The npm packages come from
# package-lock.json, installed by `npm ci` into $VHDVISOR_CACHE/web-npm
# (once, online; afterwards the build is offline). `build.sh --deps` only
# installs them (scripts/deps.sh).
set -euo pipefail
SRC=$(dirname "$(readlink -f "$0")")
OUT=${1:?usage: build.sh OUT}
NPM=${VHDVISOR_WEB_NPM:-${VHDVISOR_CACHE:-/var/cache/vhdvisor}/web-npm}
if ! cmp -s "$SRC/package-lock.json" "$NPM/package-lock.json" || [[ ! -d $NPM/node_modules ]]; then
	echo "  NPM     $NPM (npm ci)"
	mkdir -p "$NPM"
	cp "$SRC/package.json" "$SRC/package-lock.json" "$NPM/"
	(cd "$NPM" && npm ci --no-audit --no-fund --loglevel=error)
fi
[[ $OUT == --deps ]] && exit 0
mkdir -p "$OUT"
NODE_PATH=$NPM/node_modules "$NPM/node_modules/.bin/esbuild" --log-level=warning \
	--bundle --minify --format=iife --target=chrome100,firefox100,safari15 \
	--loader:.css=css "$SRC/src/app.js" "$SRC/src/app.css" --outdir="$OUT"
cp "$SRC/src/index.html" "$OUT/index.html"
gzip -9 -n -k -f "$OUT/app.js" "$OUT/app.css"    # vhdvisord sends these to gzip clients
chmod 0644 "$OUT"/*
