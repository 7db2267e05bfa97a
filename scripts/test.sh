#!/usr/bin/env bash
# Runs every test suite. A stage is skipped only when its tests do not exist; no switch turns
# one off.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
stage() { printf '\n==== %s ====\n' "$*"; }

stage "setup"
bash scripts/setup.sh

stage "Rust: formatting (rustfmt, the workspace and the fuzz crate)"
cargo fmt --all --check
cargo fmt --manifest-path crate/fuzz/Cargo.toml --check

stage "Rust: unit, vector and CLI transcript tests (all targets), then doc tests"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked

stage "Rust: the debug CLI the interop tests run (target/debug/wheelsig)"
cargo build --locked --bin wheelsig

if [ -f crate/fuzz/Cargo.toml ]; then
  stage "fuzz targets: build, then run each once over the committed vectors"
  cargo build --manifest-path crate/fuzz/Cargo.toml --locked --quiet
  for target in archive jws key_set record site tlog; do
    case $target in
      archive) seeds=$(find tests/vectors -name '*.whl') ;;
      jws) seeds=$(find tests/vectors -name '*.jws') ;;
      key_set) seeds=$(find tests/vectors/keys -name '*.json') ;;
      record) seeds=$(find tests/vectors -name 'vectors.json') ;;
      site) seeds=$(find crate/fuzz/seeds/site -type f) ;;
      tlog) seeds=$(find crate/fuzz/seeds/tlog -type f) ;;
    esac
    # shellcheck disable=SC2086
    if ! out=$(crate/fuzz/target/debug/$target -runs=0 $seeds 2>&1); then
      printf '%s\n' "$out" | tail -30
      echo "fuzz target $target crashed on a committed input" >&2
      exit 1
    fi
    echo "fuzz target $target: ran $(grep -c '^Executed' <<<"$out") inputs without a crash"
  done
fi

if compgen -G "crate/tests/wasm*.rs" >/dev/null; then
  stage "wasm: the vectors inside headless Chromium"
  WASM_BINDGEN_TEST_TIMEOUT=300 wasm-pack test --headless --chrome crate --no-default-features --features wasm
fi

stage "wasm: build the browser package into www/pkg"
wasm-pack --quiet build crate --release --target web --out-dir ../www/pkg --no-default-features --features wasm

stage "Python package: the CLI as a maturin binary wheel, pip-installed into a fresh venv"
# After the wasm build: the binary carries the widget `site init` copies.
rm -rf target/wheels target/pypi-venv
.venv/bin/maturin build --release --locked --quiet -m crate/Cargo.toml --out target/wheels
python3 -m venv target/pypi-venv
target/pypi-venv/bin/pip install --quiet --no-index --disable-pip-version-check target/wheels/wheelsig-*.whl
WHEELSIG_WHEEL=$(ls target/wheels/wheelsig-*.whl)
export WHEELSIG_WHEEL

stage "crates.io: the crate packages and builds on its own (cargo publish --dry-run)"
bash scripts/package-crate.sh --quiet

stage "interop (against the pip-installed CLI): wheel 0.31.1, jwcrypto, key URLs, witnesses, indexes, real PyPI wheels"
WHEELSIG="$PWD/target/pypi-venv/bin/wheelsig" .venv/bin/pytest tests/interop -q

if compgen -G "tests/e2e/*.test.mjs" >/dev/null; then
  stage "browser end-to-end (Playwright + Debian chromium)"
  node --test tests/e2e/
fi

stage "tracked files unchanged by the run"
git diff --exit-code
