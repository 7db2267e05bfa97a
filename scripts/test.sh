#!/usr/bin/env bash
# Runs every test suite. Each stage runs when its tests exist; none can be switched off.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
stage() { printf '\n==== %s ====\n' "$*"; }

stage "setup"
bash scripts/setup.sh

stage "Rust: unit, vector, CLI transcript and doc tests"
cargo test --workspace --locked

stage "fuzz targets: build, then run each once over the committed vectors"
cargo build --manifest-path crate/fuzz/Cargo.toml --locked --quiet
for target in archive jws key_set record; do
  case $target in
    archive) seeds=$(find tests/vectors -name '*.whl') ;;
    jws) seeds=$(find tests/vectors -name '*.jws') ;;
    key_set) seeds=$(find tests/vectors/keys -name '*.json') ;;
    record) seeds=$(find tests/vectors -name 'vectors.json') ;;
  esac
  # shellcheck disable=SC2086
  if ! out=$(crate/fuzz/target/debug/$target -runs=0 $seeds 2>&1); then
    printf '%s\n' "$out" | tail -30
    echo "fuzz target $target crashed on a committed input" >&2
    exit 1
  fi
  echo "fuzz target $target: ran $(grep -c '^Executed' <<<"$out") inputs without a crash"
done

stage "wasm: the vectors inside headless Chromium"
WASM_BINDGEN_TEST_TIMEOUT=300 wasm-pack test --headless --chrome crate --no-default-features --features wasm

stage "wasm: build the browser package into www/pkg"
wasm-pack --quiet build crate --release --target web --out-dir ../www/pkg --no-default-features --features wasm

stage "interop: wheel 0.31.1, jwcrypto, a loopback key URL, real PyPI wheels"
WHEELSIG="$PWD/target/debug/wheelsig" .venv/bin/pytest tests/interop -q

if compgen -G "tests/e2e/*.test.mjs" >/dev/null; then
  stage "browser end-to-end (Playwright + Debian chromium)"
  node --test tests/e2e/
fi

stage "tracked files unchanged by the run"
git diff --exit-code
