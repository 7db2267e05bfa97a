#!/usr/bin/env bash
# Assemble the publisher template as it is pushed to a GitHub template repository:
# static-site-template/ plus the built <wheel-verify> widget in wheelsig/ (the same files
# `wheelsig site init` copies). Output: target/static-site-template/ (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/static-site-template}
if [ ! -f www/pkg/wheelsig_bg.wasm ]; then
  echo "www/pkg is missing: run npm start or npm test first (they build the wasm)" >&2
  exit 2
fi
rm -rf "$out" && mkdir -p "$out/wheelsig/pkg"
cp -r static-site-template/. "$out/"
cp www/wheel-verify.js www/worker.js www/worker-client.js www/first-use.js www/log-memory.js www/escape.js "$out/wheelsig/"
cp www/pkg/wheelsig.js www/pkg/wheelsig_bg.wasm "$out/wheelsig/pkg/"
echo "template ready in $out: push it as a repository and mark it a template on GitHub"
