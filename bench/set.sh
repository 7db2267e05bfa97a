#!/usr/bin/env bash
# A dependency set at scale: N signed wheels (default 200) checked against a dependency key
# list, by the CLI (all cores) and by the page in headless Chromium (folder chooser). Prints
# wall times; asserts nothing.   BENCH_SET=500 npm run bench:set
set -euo pipefail
cd "$(dirname "$0")/.."
count=${BENCH_SET:-200}
out=bench/out/set-$count
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
cargo build --release --locked --quiet --bin wheelsig
ws=target/release/wheelsig
if [ ! -f "$out/deps-keys.json" ]; then
  echo "generating $count signed wheels in $out (once)"
  rm -rf "$out" && mkdir -p "$out/wheels"
  $py bench/make_wheel_set.py "$out/wheels" "$count" >/dev/null
  $ws keygen --out "$out/publisher.jwk" >/dev/null 2>&1
  $ws sign --key "$out/publisher.jwk" "$out"/wheels/*.whl 2>/dev/null
  $ws lock --jwks <($ws jwks "$out/publisher.jwk") --allow-signed --out "$out/deps-keys.json" "$out"/wheels/*.whl 2>/dev/null
fi
bytes=$(du -cb "$out"/wheels/*.whl | tail -1 | cut -f1)
echo "== set: $count wheels, $((bytes / 1048576)) MiB compressed, $(nproc) cpus"
start=$(date +%s.%N)
$ws verify --jwks "$out/deps-keys.json" --require-trusted "$out"/wheels/*.whl >/dev/null
end=$(date +%s.%N)
printf 'cli     wheelsig verify --jwks … --require-trusted: %.2f s wall (all %d trusted)\n' "$(echo "$end - $start" | bc)" "$count"
if [ -x /usr/bin/chromium ] && [ -f www/pkg/wheelsig_bg.wasm ]; then
  node bench/set-browser.mjs "$out" "$count"
fi
