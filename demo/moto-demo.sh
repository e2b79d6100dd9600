#!/usr/bin/env bash
# Live demo against a local EC2 endpoint: starts moto (installed like tests/run.sh does),
# seeds the fleet of demo/moto_fleet.py in two regions, and opens the dashboard on it.
# Extra arguments go to drydock (e.g. `report --format table`). Stops moto on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.5
VENV="${DRYDOCK_TEST_VENV:-$HOME/.cache/drydock-test-venv}"
if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "moto[ec2,autoscaling,server]==$MOTO_VERSION"
fi
work=$(mktemp -d)
port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/python" demo/moto_fleet.py amis "$work/amis.json"
MOTO_AMIS_PATH="$work/amis.json" "$VENV/bin/python" crates/testkit/servers/moto_server.py "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done
"$VENV/bin/python" demo/moto_fleet.py seed "http://127.0.0.1:$port"
cat >"$work/config.toml" <<TOML
[[aws.accounts]]
name = "moto"
regions = ["eu-west-1", "us-east-1"]
endpoint_url = "http://127.0.0.1:$port"
production = true
TOML
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
cargo run --release --quiet -- --config "$work/config.toml" "$@"
