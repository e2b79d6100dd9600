#!/usr/bin/env bash
# Runs drydock's whole test suite from a fresh clone: installs what the tests need, starts
# the servers they run against (none yet; the cloud providers add theirs here), builds once
# and runs every test of the workspace once.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/drydock-target}"
if ! command -v cargo >/dev/null; then
  echo "tests/run.sh: cargo is required (https://rustup.rs)" >&2
  exit 2
fi
# The dashboard's end-to-end tests drive the real binary inside tmux.
if ! command -v tmux >/dev/null; then
  echo "tests/run.sh: installing tmux" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq tmux >/dev/null
fi
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  echo "tests/run.sh: cargo-nextest not found; using cargo test" >&2
  cargo test --workspace --no-fail-fast "$@"
fi
