#!/bin/sh
# Reproduce web/static/vendor/ from the npm registry (never a CDN).
#
# Downloads the pinned package tarballs with `npm pack`, checks each against the
# sha512 integrity pinned below (the registry's dist.integrity at the time of
# vendoring, so a re-published or tampered tarball is refused), and copies the
# dist files and licences into web/static/vendor/. To refresh: change a version,
# set its integrity to the output of `npm view <pkg>@<version> dist.integrity`,
# run this script, update web/static/vendor/README.md, review the diff.
set -eu

BPMN_JS_VERSION=18.31.1
BPMN_JS_INTEGRITY='sha512-Hc7LzrgwfcBRUAdI/380Q2v1MJ115atGEVGadawLfDbHdo+r+IkmNj8fuYPFmWglUYt1KYIaC46OeX16HGTKQw=='
HTMX_VERSION=2.0.11
HTMX_INTEGRITY='sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=='

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENDOR="$ROOT/web/static/vendor"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fetch() {  # fetch <package> <version> <integrity> -> unpacks into $WORK/<package>/package
    pkg=$1; version=$2; integrity=$3
    mkdir -p "$WORK/$pkg"
    tarball=$(cd "$WORK/$pkg" && npm pack --silent "$pkg@$version" 2>/dev/null | tail -n 1)
    actual="sha512-$(openssl dgst -sha512 -binary "$WORK/$pkg/$tarball" | base64 | tr -d '\n')"
    if [ "$actual" != "$integrity" ]; then
        echo "vendor.sh: $pkg@$version integrity mismatch: got $actual" >&2
        exit 1
    fi
    tar xzf "$WORK/$pkg/$tarball" -C "$WORK/$pkg"
}

fetch bpmn-js "$BPMN_JS_VERSION" "$BPMN_JS_INTEGRITY"
fetch htmx.org "$HTMX_VERSION" "$HTMX_INTEGRITY"

# bpmn-js: the three production builds, their CSS and font, the LICENSE (its
# watermark clause is why the bpmn.io logo stays on every diagram).
B="$WORK/bpmn-js/package"
rm -rf "$VENDOR/bpmn-js"
mkdir -p "$VENDOR/bpmn-js/assets"
for f in bpmn-viewer.production.min.js bpmn-navigated-viewer.production.min.js \
         bpmn-modeler.production.min.js; do
    cp "$B/dist/$f" "$VENDOR/bpmn-js/$f"
done
cp "$B/dist/assets/bpmn-js.css" "$B/dist/assets/diagram-js.css" "$VENDOR/bpmn-js/assets/"
cp -R "$B/dist/assets/bpmn-font" "$VENDOR/bpmn-js/assets/bpmn-font"
cp "$B/LICENSE" "$VENDOR/bpmn-js/LICENSE"

# htmx 2: the minified build and its licence (0BSD).
H="$WORK/htmx.org/package"
rm -rf "$VENDOR/htmx"
mkdir -p "$VENDOR/htmx"
cp "$H/dist/htmx.min.js" "$H/LICENSE" "$VENDOR/htmx/"

echo "vendored bpmn-js@$BPMN_JS_VERSION and htmx.org@$HTMX_VERSION into $VENDOR"
