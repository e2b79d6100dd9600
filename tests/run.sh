#!/usr/bin/env bash
# Runs drydock's whole test suite from a fresh clone: checks for and installs every
# prerequisite the tests need (a Rust toolchain new enough, a C compiler, qemu-img, tmux,
# python3 with venv support, a pinned moto in a venv, a pinned Azurite with npm), then builds once and runs every test
# of the workspace once. PostgreSQL (Debian's, 15 on bookworm) is installed when missing and a
# throwaway cluster is started on a free loopback port for the store's tests, then stopped. Where something cannot be installed it says what and how, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/drydock-target}"

say() { echo "tests/run.sh: $*" >&2; }
missing() {
  say "missing: $1"
  say "  $2"
  exit 2
}

# --- Rust: the minimum version is Cargo.toml's rust-version (the locked SDK crates need it).
MIN_RUST="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
command -v cargo >/dev/null ||
  missing "cargo (Rust $MIN_RUST or newer)" "install it with rustup: https://rustup.rs"
have_rust="$(rustc --version | awk '{print $2}')"
if [ "$(printf '%s\n%s\n' "$MIN_RUST" "$have_rust" | sort -V | head -n1)" != "$MIN_RUST" ]; then
  missing "Rust $MIN_RUST or newer (found $have_rust)" "run: rustup update stable"
fi

# --- Debian packages: qemu-img (the conversion engine's oracle), tmux (the dashboard's
# end-to-end tests), a C compiler (rusqlite's bundled SQLite, aws-lc), python3 + venv (moto).
# mkfs.ext4, mkswap, mkfs.vfat + mcopy build the inspection tests' disks (they live in sbin);
# rpmbuild + rpm make a real rpm SQLite database.
export PATH="$PATH:/usr/sbin:/sbin"
need_pkgs=()
command -v qemu-img >/dev/null || need_pkgs+=(qemu-utils)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
command -v mkswap >/dev/null || need_pkgs+=(util-linux)
command -v mkfs.vfat >/dev/null || need_pkgs+=(dosfstools)
command -v mcopy >/dev/null || need_pkgs+=(mtools)
command -v rpmbuild >/dev/null || need_pkgs+=(rpm)
command -v tmux >/dev/null || need_pkgs+=(tmux)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v cc >/dev/null || need_pkgs+=(gcc libc6-dev)
command -v python3 >/dev/null || need_pkgs+=(python3)
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
if [ -z "${DRYDOCK_TEST_PG_URL:-}" ] && [ ! -x "$(pg_bin)/initdb" ]; then need_pkgs+=(postgresql); fi
if command -v python3 >/dev/null && ! python3 -c "import ensurepip, venv" 2>/dev/null; then
  need_pkgs+=("python3-venv")
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if ! command -v apt-get >/dev/null || [ "$sudo" = none ]; then
    missing "${need_pkgs[*]}" "install them with your package manager (as root on Debian/Ubuntu: apt-get install ${need_pkgs[*]})"
  fi
  say "installing ${need_pkgs[*]} with apt-get"
  $sudo apt-get update -qq
  # python3-venv is versioned on some releases (python3.11-venv): try both.
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; then
    py="$(python3 -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}-venv")' 2>/dev/null || true)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]/python3-venv/$py}" >/dev/null ||
      missing "${need_pkgs[*]}" "apt-get could not install them; install them by hand"
  fi
fi
for tool in qemu-img tmux cc python3 mkfs.ext4 mkswap; do
  command -v "$tool" >/dev/null || missing "$tool" "it is still not on PATH after installing"
done

# --- moto (a local EC2 API server for the AWS provider's tests), pinned, in a venv.
MOTO_VERSION=5.2.5
VENV="${DRYDOCK_TEST_VENV:-$HOME/.cache/drydock-test-venv}"
if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  say "installing moto $MOTO_VERSION into $VENV"
  python3 -m venv "$VENV" ||
    missing "python3 venv support" "install python3-venv (Debian/Ubuntu) or your Python's venv module"
  "$VENV/bin/pip" install -q "moto[ec2,autoscaling,server]==$MOTO_VERSION" ||
    missing "moto $MOTO_VERSION" "pip could not install it from PyPI into $VENV"
fi
# Each moto-backed test starts its own server on a free loopback port with this python.
export DRYDOCK_TEST_PYTHON="$VENV/bin/python"

# --- Azurite (Microsoft's Azure Storage emulator: the page blobs behind the fake Resource
# Manager's disk grants, for the transfer tests), pinned, with npm into a cache directory.
AZURITE_VERSION=3.35.0
AZURITE_DIR="${DRYDOCK_TEST_AZURITE_DIR:-$HOME/.cache/drydock-azurite}"
if ! command -v npm >/dev/null; then
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    say "installing nodejs and npm with apt-get"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  command -v npm >/dev/null || missing "npm (Node.js 18 or newer)" "install Node.js and npm (Debian/Ubuntu: apt-get install nodejs npm)"
fi
have_azurite="$(node -p "require('$AZURITE_DIR/node_modules/azurite/package.json').version" 2>/dev/null || true)"
if [ "$have_azurite" != "$AZURITE_VERSION" ]; then
  say "installing azurite $AZURITE_VERSION into $AZURITE_DIR"
  mkdir -p "$AZURITE_DIR"
  npm install --prefix "$AZURITE_DIR" --no-audit --no-fund --silent "azurite@$AZURITE_VERSION" >/dev/null ||
    missing "azurite $AZURITE_VERSION" "npm could not install it into $AZURITE_DIR"
fi
# Each transfer test starts its own Azurite on a free loopback port.
export DRYDOCK_TEST_AZURITE="$AZURITE_DIR/node_modules/.bin/azurite-blob"

# --- PostgreSQL: a throwaway cluster (data and socket in a temp dir, loopback only, trust
# auth) unless DRYDOCK_TEST_PG_URL names an existing server. It refuses to run as root, so as
# root it runs as the `postgres` user.
if [ -z "${DRYDOCK_TEST_PG_URL:-}" ]; then
  PG_BIN="$(pg_bin)"
  [ -x "$PG_BIN/initdb" ] || missing "PostgreSQL server" "apt-get install postgresql (or set DRYDOCK_TEST_PG_URL)"
  PG_DIR="$(mktemp -d /tmp/drydock-pg.XXXXXX)"
  PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U drydock >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; missing "a PostgreSQL cluster" "initdb failed (log above)"; }
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; missing "a running PostgreSQL" "pg_ctl start failed (log above)"; }
  stop_pg() { "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; }
  trap stop_pg EXIT
  export DRYDOCK_TEST_PG_URL="postgres://drydock@127.0.0.1:$PG_PORT/postgres"
  say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
fi

# --- Build once (dev profile, in $CARGO_TARGET_DIR), then run every test once.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  say "cargo-nextest not found; using cargo test"
  cargo test --workspace --no-fail-fast "$@"
fi
