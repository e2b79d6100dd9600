#!/usr/bin/env bash
# Live demo against a local OpenStack: starts crates/testkit/servers/fake_openstack.py (Python
# standard library: Keystone v3, Glance v2, Nova v2.1 and Cinder volumes) seeded with its demo
# site (`--demo`: images with lineage, a deactivated and a hidden version, a public vendor base
# and an image-list image shared from another project, a server booted from a volume) and opens
# the dashboard on it, configured the OpenStack way: a clouds.yaml entry named by
# [[openstack.clouds]]. Extra arguments go to drydock (e.g. `report --format table`). Stops
# the fake on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 crates/testkit/servers/fake_openstack.py "$port" --demo >"$work/fake.log" 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done
cat >"$work/clouds.yaml" <<YAML
clouds:
  fake-site:
    auth:
      auth_url: http://127.0.0.1:$port/identity
      username: drydock
      password: secret
      project_id: b7d1bd5e4f4a4c5ba5b1c8e3a0d2f001
      user_domain_name: Default
    region_name: RegionOne
YAML
cat >"$work/config.toml" <<TOML
[[openstack.clouds]]
cloud = "fake-site"
production = true
TOML
export OS_CLIENT_CONFIG_FILE="$work/clouds.yaml"
cargo run --release --quiet -- --config "$work/config.toml" "$@"
