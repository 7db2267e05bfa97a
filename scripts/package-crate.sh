#!/usr/bin/env bash
# Prove the crate publishes on its own: copy the key-site template and the built widget into
# crate/template/ and crate/widget/ (build.rs embeds them from there when ../ is not around),
# then `cargo publish --dry-run`, which packages the crate and builds the package in isolation.
# The copies are removed afterwards. Needs www/pkg (the wasm build) first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f www/pkg/wheelsig_bg.wasm ]; then
  echo "www/pkg is missing: build the wasm first (npm test and npm start do)" >&2
  exit 2
fi
cleanup() { rm -rf crate/template crate/widget; }
trap cleanup EXIT
cleanup
mkdir -p crate/template crate/widget/pkg
cp -r static-site-template/. crate/template/
cp www/wheel-verify.js www/worker.js www/worker-client.js www/first-use.js www/log-memory.js www/escape.js crate/widget/
cp www/pkg/wheelsig.js www/pkg/wheelsig_bg.wasm crate/widget/pkg/
cargo publish --dry-run --locked --allow-dirty -p wheelsig "$@"
# What the package holds: no repository paths outside the crate, the embedded files present.
list=$(cargo package --list --locked --allow-dirty -p wheelsig)
for need in Cargo.toml build.rs src/bin/wheelsig/main.rs template/tools/build-site.mjs widget/pkg/wheelsig_bg.wasm; do
  grep -qx "$need" <<<"$list" || { echo "the package lacks $need" >&2; exit 1; }
done
for never in tests/vectors.rs fuzz/Cargo.toml examples/index_probe.rs; do
  if grep -qx "$never" <<<"$list"; then echo "the package should not hold $never" >&2; exit 1; fi
done
echo "crate package ok: $(wc -l <<<"$list") files"
