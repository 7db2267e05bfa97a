#!/usr/bin/env bash
# Builds the CLI and the browser verifier, creates a demo publisher (a real key, keys.json and
# signatures made with the CLI) and sample wheels, then serves the page on loopback.
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

if [ "$(cat demo/.base 2>/dev/null)" != "$base" ]; then
  echo "[start] creating the demo publisher and sample wheels in demo/"
  # Private keys stay outside the served demo/ tree, as a publisher's would stay off their site.
  keys=target/demo-keys
  rm -rf demo "$keys" && mkdir -p demo/wheels demo/releases "$keys"
  "$ws" keygen --out "$keys/publisher.jwk" >/dev/null 2>&1
  "$ws" keygen --out "$keys/stranger.jwk" >/dev/null 2>&1
  "$ws" jwks "$keys/publisher.jwk" --projects sampledemo > demo/keys.json
  .venv/bin/python scripts/make_sample_wheels.py demo/wheels sampledemo==1.0 sampledemo==1.1 sampledemo==2.0 otherdemo==0.1 >/dev/null
  w=demo/wheels
  # 1.0: detached signature published on the key site (releases/), found via the key URL.
  "$ws" sign --key "$keys/publisher.jwk" --key-url "$base/demo/keys.json" --out-dir demo/releases/sampledemo "$w/sampledemo-1.0-py3-none-any.whl" 2>/dev/null
  # 1.1: embedded RECORD.jws (readable by wheel 0.31's `wheel verify`).
  "$ws" sign --embed --key "$keys/publisher.jwk" --key-url "$base/demo/keys.json" "$w/sampledemo-1.1-py3-none-any.whl" 2>/dev/null
  # 2.0: signed by a key the publisher does not list.
  "$ws" sign --embed --key "$keys/stranger.jwk" "$w/sampledemo-2.0-py3-none-any.whl" 2>/dev/null
  # 1.0 as a compromised mirror would serve it: one module changed, RECORD kept.
  .venv/bin/python scripts/make_sample_wheels.py demo/wheels "tamper:$w/sampledemo-1.0-py3-none-any.whl=>$w/tampered/sampledemo-1.0-py3-none-any.whl" >/dev/null
  .venv/bin/python - "$base" <<'PY'
import html, sys
base = sys.argv[1]
rows = [
    ("wheels/sampledemo-1.0-py3-none-any.whl", "trusted: detached signature under releases/, key listed at the key URL"),
    ("wheels/sampledemo-1.1-py3-none-any.whl", "trusted: embedded RECORD.jws"),
    ("wheels/sampledemo-2.0-py3-none-any.whl", "untrusted: signed by a key the publisher does not list"),
    ("wheels/otherdemo-0.1-py3-none-any.whl", "unsigned: intact, no signature"),
    ("wheels/tampered/sampledemo-1.0-py3-none-any.whl", "invalid: core.py changed after release"),
]
items = "\n".join(f'<li><a href="{html.escape(p)}" download>{html.escape(p.rsplit("/", 1)[-1])}</a> &mdash; {html.escape(d)}</li>' for p, d in rows)
page = f"""<!doctype html><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>wheelsig demo publisher</title>
<link rel="stylesheet" href="../page.css"><main><h1>Demo publisher</h1>
<p>Key URL: <code>{base}/demo/keys.json</code> (<a href="keys.json">keys.json</a>). Download a sample and drop it on
<a href="../?key-url={base}/demo/keys.json">the verifier</a>.</p><ul>{items}</ul></main>"""
open("demo/index.html", "w").write(page)
PY
  echo "$base" > demo/.base
fi

cat <<EOM

  wheelsig demo
  Verifier:       $base/?key-url=$base/demo/keys.json
  Sample wheels:  $base/demo/   (download one, drop it on the verifier)
  CLI:            $ws verify --key-url $base/demo/keys.json demo/wheels/*.whl

EOM
exec node scripts/serve.mjs "$port"
