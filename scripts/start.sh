#!/usr/bin/env bash
# Builds the CLI and the browser verifier, creates a demo publisher's key site (real keys,
# made with `wheelsig site`) and sample wheels, then serves both on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
port=${PORT:-8000}
base="http://127.0.0.1:$port"

bash scripts/setup.sh
echo "[start] building the CLI and the wasm verifier"
cargo build --release --locked --quiet --bin wheelsig
# wasm-pack reruns wasm-bindgen and wasm-opt (~15 s) even when nothing changed: skip it when
# www/pkg is newer than every input of the wasm build.
pkg=www/pkg/wheelsig_bg.wasm
if [ ! -f "$pkg" ] || [ -n "$(find Cargo.toml Cargo.lock crate/Cargo.toml crate/build.rs crate/src -newer "$pkg" -print -quit)" ]; then
  wasm-pack --quiet build crate --release --target web --out-dir ../www/pkg --no-default-features --features wasm
fi
ws=target/release/wheelsig
wdir=target/demo-witness   # two independent witnesses (C2SP tlog-witness) on loopback
w1_port=$((port + 1)) w2_port=$((port + 2))

# Start (or restart) the two witnesses for the demo log; they run as long as this script.
pids=()
start_witnesses() {
  for i in 1 2; do
    local p=$((port + i))
    "$ws" witness serve --listen "127.0.0.1:$p" --db "$wdir/w$i.db" --key "$wdir/w$i.key" --log "$(cat target/demo-site/log/vkey)" 2>>"$wdir/w$i.log" &
    pids+=("$!")
  done
  for i in 1 2; do
    local p=$((port + i)) n=0
    until grep -q "listening on http://127.0.0.1:$p" "$wdir/w$i.log" 2>/dev/null; do
      n=$((n + 1)); [ "$n" -lt 200 ] || { echo "[start] witness $i did not start: $(tail -3 "$wdir/w$i.log")" >&2; exit 1; }
      sleep 0.05
    done
  done
}
stop_witnesses() { [ "${#pids[@]}" -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop_witnesses EXIT INT TERM

# The demo is rebuilt when the address, the CLI or the widget changed.
stamp="$base $(stat -c %Y "$ws" "$pkg" www/*.js | tr '\n' ' ')"
if [ "$(cat demo/.stamp 2>/dev/null)" != "$stamp" ]; then
  echo "[start] creating the demo publisher's key site and sample wheels in demo/"
  # A real key site made with `wheelsig site`: sources in target/demo-site, private keys in
  # target/demo-keys (off the site, as a publisher's would be), the built site in demo/.
  keys=target/demo-keys src=target/demo-site
  rm -rf demo "$keys" "$src" "$wdir" && mkdir -p demo/wheels "$keys" "$wdir"
  for k in publisher old-publisher stranger; do "$ws" keygen --out "$keys/$k.jwk" >/dev/null 2>&1; done
  for i in 1 2; do "$ws" witness keygen --name "witness-$i.demo.localhost" --out "$wdir/w$i.key" > "$wdir/w$i.vkey" 2>/dev/null; done
  "$ws" site init "$src" --publisher "Demo Publisher" --site-url "$base/demo/" --projects sampledemo,otherdemo --widget www --log-key "$keys/log.key" 2>/dev/null
  "$ws" site add-key "$src" --key "$keys/publisher.jwk" --projects sampledemo 2>/dev/null
  for i in 1 2; do "$ws" site add-witness "$src" --vkey "$(cat "$wdir/w$i.vkey")" --url "http://127.0.0.1:$((port + i))/" 2>/dev/null; done
  start_witnesses
  # A key rotated out at the start of 2026: still listed, retired.
  "$ws" site add-key "$src" --key "$keys/old-publisher.jwk" --projects sampledemo 2>/dev/null
  old_kid=$("$ws" jwks "$keys/old-publisher.jwk" | sed -n 's/.*"kid": "\(.*\)".*/\1/p')
  "$ws" site retire-key "$src" "$old_kid" --date 2026-01-01 2>/dev/null
  .venv/bin/python scripts/make_sample_wheels.py demo/wheels sampledemo==1.0 sampledemo==1.1 sampledemo==2.0 otherdemo==0.1 >/dev/null
  w=demo/wheels
  # 1.0: detached signature published on the key site (releases/), found via the key URL.
  "$ws" site publish "$src" --key "$keys/publisher.jwk" --log-key "$keys/log.key" "$w/sampledemo-1.0-py3-none-any.whl" 2>/dev/null
  # 1.1: embedded RECORD.jws (readable by wheel 0.31's `wheel verify`).
  "$ws" sign --embed --key "$keys/publisher.jwk" --key-url "$base/demo/keys.json" "$w/sampledemo-1.1-py3-none-any.whl" 2>/dev/null
  # 2.0: signed by a key the publisher does not list.
  "$ws" sign --embed --key "$keys/stranger.jwk" "$w/sampledemo-2.0-py3-none-any.whl" 2>/dev/null
  # 1.0 as a compromised mirror would serve it: one module changed, RECORD kept.
  .venv/bin/python scripts/make_sample_wheels.py demo/wheels "tamper:$w/sampledemo-1.0-py3-none-any.whl=>$w/tampered/sampledemo-1.0-py3-none-any.whl" >/dev/null
  # Both witnesses cosign the log's checkpoint; the proofs land next to the signatures.
  "$ws" site cosign "$src" 2>/dev/null
  "$ws" site build "$src" --out demo
  # site build wrote demo/witness-policy.txt: the log's key, both witnesses, both required.
  .venv/bin/python - "$base" <<'PY'
import html, sys
base = sys.argv[1]
rows = [
    ("sampledemo-1.0-py3-none-any.whl", "trusted: detached signature under releases/, key listed at the key URL"),
    ("sampledemo-1.1-py3-none-any.whl", "trusted: embedded RECORD.jws"),
    ("sampledemo-2.0-py3-none-any.whl", "untrusted: signed by a key the publisher does not list"),
    ("otherdemo-0.1-py3-none-any.whl", "unsigned: intact, no signature"),
    ("tampered/sampledemo-1.0-py3-none-any.whl", "invalid: core.py changed after release"),
]
items = "\n".join(f'<li><a href="{html.escape(p)}" download>{html.escape(p)}</a> &mdash; {html.escape(d)}</li>' for p, d in rows)
page = f"""<!doctype html><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>wheelsig demo: sample wheels</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="../../page.css"><main><h1>Sample wheels</h1>
<p>Download one and drop it on <a href="../../?key-url={base}/demo/keys.json">the verifier</a> or on
<a href="../">the demo publisher's key page</a>.</p><ul>{items}</ul></main>"""
open("demo/wheels/index.html", "w").write(page)
PY
  echo "$stamp" > demo/.stamp
else
  start_witnesses
fi

cat <<EOM

  wheelsig demo
  Verifier:       $base/?key-url=$base/demo/keys.json&witness-policy=$base/demo/witness-policy.txt
  Key site:       $base/demo/   (the demo publisher's page, made by wheelsig site build)
  Sample wheels:  $base/demo/wheels/   (download one, drop it on the verifier or the key site)
  Witnesses:      http://127.0.0.1:$w1_port/ and http://127.0.0.1:$w2_port/   (C2SP tlog-witness; they cosigned the demo log)
  CLI:            $ws verify --key-url $base/demo/keys.json demo/wheels/*.whl
  Release log:    $ws verify --key-url $base/demo/keys.json --witness-policy demo/witness-policy.txt \\
                    --require-logged demo/wheels/sampledemo-1.0-py3-none-any.whl

EOM
node scripts/serve.mjs "$port"
