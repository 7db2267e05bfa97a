#!/usr/bin/env bash
# Prints verification throughput, peak memory and CPU time for wheelsig (CLI and page) and
# pypa installer on one large synthetic wheel, and on a real torch wheel when one is here.
# A benchmark, not a test: it prints figures and asserts nothing.
#   BENCH_SCALE=0.1 npm run bench      # a quick, ~110 MB synthetic wheel
#   BENCH_RUNS=5 npm run bench         # more repetitions (default 3)
#   BENCH_TORCH=path/to/torch.whl      # the real wheel (default: target/real-wheels/torch/, bench/out/real/)
#   BENCH_TORCH=download               # fetch one with pip download into bench/out/real/
#   BENCH_TORCH=none                   # skip it
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
small=$(ls bench/out/small/*.whl 2>/dev/null | head -1 || true)
[ -n "$small" ] || small=$($py bench/make_small_wheel.py bench/out/small 100)
torch=${BENCH_TORCH:-}
if [ "$torch" = download ]; then
  mkdir -p bench/out/real
  $py -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 torch -d bench/out/real
  torch=$(ls bench/out/real/torch-*.whl | head -1)
elif [ -z "$torch" ]; then
  torch=$(ls target/real-wheels/torch/torch-*.whl bench/out/real/torch-*.whl 2>/dev/null | head -1 || true)
fi
[ "$torch" = none ] && torch=""

echo "== machine"
echo "cpus: $(nproc)  model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
describe() {
  $py -c "
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1]); i = z.infolist()
print(len(i), os.path.getsize(sys.argv[1]), sum(x.file_size for x in i))" "$1"
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
bench_wheel() { # name, wheel
  local name=$1 w=$2 members compressed uncompressed
  read -r members compressed uncompressed < <(describe "$w")
  echo "$name: $w"
  echo "  members: $members  compressed: $((compressed / 1048576)) MiB  uncompressed: $((uncompressed / 1048576)) MiB"
  # Rows: label, then the command. Add a row here to benchmark another verifier.
  $py bench/measure.py "$name: wheelsig verify (CLI)" target/release/wheelsig verify "$w" | sed "s/^{/{\"wheel\": \"$name\", \"uncompressed\": $uncompressed, /" >> "$results"
  $py bench/measure.py "$name: installer validate_record" "$py" bench/installer_validate.py "$w" | sed "s/^{/{\"wheel\": \"$name\", \"uncompressed\": $uncompressed, /" >> "$results"
  if [ -x /usr/bin/chromium ] && [ -f www/pkg/wheelsig_bg.wasm ]; then
    node bench/browser.mjs "$w" --label "$name:" --old --workers 1,2,4 ${3:+--small "$3"} | sed "s/^{/{\"wheel\": \"$name\", \"uncompressed\": $uncompressed, /" >> "$results"
  fi
}
echo "== wheels"
bench_wheel synthetic "$wheel" "$small"
if [ -n "$torch" ]; then bench_wheel torch "$torch"; else echo "torch: none here (BENCH_TORCH=download fetches one)"; fi

echo "== results (MB/s = uncompressed bytes / best wall time; CPU = least user+system seconds, all Chromium processes for the page)"
$py - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def cell(v, f):
    return f.format(v) if isinstance(v, (int, float)) else "-"
print(f"{'tool':<48} {'best s':>7} {'median':>7} {'MB/s':>6} {'CPU s':>6} {'RSS MiB':>8}  page memory / engine")
for r in rows:
    mbs = r["uncompressed"] / 1e6 / r["best"] if r["best"] and "drop to card" not in r["tool"] else 0
    mem = ""
    if "wasm_mib" in r:
        mem = (f"renderer RSS peak {r['rss_mib']:.0f} (idle {r['base_rss_mib']:.0f}); JS heap {r['js_heap_mib']:.0f}; wasm/worker {r['wasm_mib']:.0f}; "
               f"JS buffers granted {r['buffers_mib']:.0f} of {r['budget_mib']:.0f}; main-thread gap {r['lag_ms']:.0f} ms; {r['engine']}")
    best = f"{r['best']:.2f}" if r["best"] >= 0.1 else f"{r['best'] * 1000:.0f}ms"
    median = f"{r['median']:.2f}" if r["median"] >= 0.1 else f"{r['median'] * 1000:.0f}ms"
    print(f"{r['tool']:<48} {best:>7} {median:>7} {mbs:>6.0f} {cell(r.get('cpu_s'), '{:.2f}'):>6} {r['rss_mib']:>8.1f}  {mem}")
print()
for wheel in dict.fromkeys(r["wheel"] for r in rows):
    group = [r for r in rows if r["wheel"] == wheel]
    cli = next((r for r in group if "(CLI)" in r["tool"]), None)
    inst = next((r for r in group if "installer" in r["tool"]), None)
    if cli and inst:
        print(f"{wheel}: CLI vs installer {inst['best'] / cli['best']:.1f}x (best), {inst['median'] / cli['median']:.1f}x (median); CLI peak RSS {cli['rss_mib']:.0f} MiB")
    for r in group:
        if "page" in r["tool"] and "drop to card" not in r["tool"] and cli:
            print(f"  {r['tool']}: {r['best'] / cli['best']:.2f}x the CLI's time (best), {r['median'] / cli['median']:.2f}x (median)")
        if "drop to card" in r["tool"]:
            print(f"  {r['tool']}: best {r['best'] * 1000:.0f} ms, median {r['median'] * 1000:.0f} ms; longest main-thread gap {r['lag_ms']:.0f} ms")
PY
