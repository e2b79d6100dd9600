#!/usr/bin/env bash
# Live demo against a local Azure Resource Manager: starts crates/testkit/servers/fake_arm.py (Python
# standard library) seeded with a realistic subscription (`--demo`: lineage, end of life,
# excluded-from-latest versions, marketplace images with newer versions, a scale set with
# instances off its model, VMs whose image was deleted) and opens the dashboard on it.
# Extra arguments go to drydock (e.g. `report --format table`). Stops the fake on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 crates/testkit/servers/fake_arm.py "$port" --demo >"$work/fake.log" 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done
cat >"$work/config.toml" <<TOML
[[azure.subscriptions]]
id = "6b1f3c2e-0f4d-4a6b-9a53-2d8e7c1b4f90"
name = "fake-az"
locations = ["westeurope"]
endpoint = "http://127.0.0.1:$port"
credential = "token"
production = true
TOML
export DRYDOCK_AZURE_TOKEN=demo
cargo run --release --quiet -- --config "$work/config.toml" "$@"
