#!/usr/bin/env bash
# Prints verification throughput and peak memory for wheelsig and pypa installer on one large
# synthetic wheel. A benchmark, not a test: it prints figures and asserts nothing.
#   BENCH_SCALE=0.1 npm run bench   # a quick, ~110 MB run
#   BENCH_RUNS=5 npm run bench      # more repetitions (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${BENCH_SCALE:-1.15}
out=bench/out/scale-$scale
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
if ! $py -c 'import installer' 2>/dev/null; then
  python3 -m venv bench/out/venv && bench/out/venv/bin/pip install --quiet installer==1.1.0
  py=bench/out/venv/bin/python
fi

echo "== build"
cargo build --release --locked --quiet --bin wheelsig
wheel=$(ls "$out"/*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  echo "generating the synthetic wheel (scale $scale, once; cached in $out)"
  wheel=$($py bench/make_big_wheel.py "$out" "$scale")
fi
read -r members compressed uncompressed < <($py -c "
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1]); i = z.infolist()
print(len(i), os.path.getsize(sys.argv[1]), sum(x.file_size for x in i))" "$wheel")

echo "== machine"
echo "cpus: $(nproc)  model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wheel: $wheel"
echo "members: $members  compressed: $((compressed / 1048576)) MiB  uncompressed: $((uncompressed / 1048576)) MiB"

results=$(mktemp)
# Rows: label, then the command. Add a row here to benchmark another verifier.
$py bench/measure.py "wheelsig verify (native)" target/release/wheelsig verify "$wheel" >> "$results"
$py bench/measure.py "installer validate_record" "$py" bench/installer_validate.py "$wheel" >> "$results"
if [ -f bench/browser.mjs ] && [ -x /usr/bin/chromium ] && [ -f www/pkg/wheelsig_bg.wasm ]; then
  node bench/browser.mjs "$wheel" >> "$results"
fi

echo "== results (uncompressed MB/s = uncompressed bytes / best wall time)"
$py - "$results" "$uncompressed" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
total = int(sys.argv[2])
base = next((r for r in rows if r["tool"].startswith("installer")), None)
print(f"{'tool':<30} {'best s':>8} {'median s':>9} {'MB/s':>8} {'peak RSS MiB':>13} {'vs installer':>13}")
for r in rows:
    mbs = total / 1e6 / r["best"]
    ratio = f"{base['best'] / r['best']:.1f}x" if base else "-"
    extra = f"  ({r['note']})" if r.get("note") else ""
    print(f"{r['tool']:<30} {r['best']:>8.2f} {r['median']:>9.2f} {mbs:>8.0f} {r['rss_mib']:>13.1f} {ratio:>13}{extra}")
PY
