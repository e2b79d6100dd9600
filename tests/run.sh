#!/usr/bin/env bash
# Runs drydock's whole test suite from a fresh clone: installs what the tests need, starts
# what the tests run against (tmux for the dashboard, moto for AWS), builds once
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
# The AWS provider's tests run against moto (a local EC2 API server), pinned, in a venv.
MOTO_VERSION=5.2.5
VENV="${DRYDOCK_TEST_VENV:-$HOME/.cache/drydock-test-venv}"
if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "tests/run.sh: installing moto $MOTO_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "moto[ec2,autoscaling,server]==$MOTO_VERSION"
fi
# Each moto-backed test starts its own server on a free loopback port with this python.
export DRYDOCK_TEST_PYTHON="$VENV/bin/python"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  echo "tests/run.sh: cargo-nextest not found; using cargo test" >&2
  cargo test --workspace --no-fail-fast "$@"
fi
