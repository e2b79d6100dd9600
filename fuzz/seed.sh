#!/usr/bin/env bash
# Seed each fuzz target's corpus with small images qemu-img made (and drydock wrote).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 300000 /dev/urandom > "$tmp/a.raw"
printf 'root:x:0:0:root:/root:/bin/bash\n%.0s' $(seq 1 2000) >> "$tmp/a.raw"
truncate -s 1M "$tmp/a.raw"
mkdir -p corpus/{qcow2,vhd,vmdk,vhdx,ova}
qemu-img convert -f raw -O qcow2 "$tmp/a.raw" corpus/qcow2/plain
qemu-img convert -f raw -O qcow2 -c "$tmp/a.raw" corpus/qcow2/compressed
qemu-img convert -f raw -O qcow2 -o compat=0.10,cluster_size=4096 "$tmp/a.raw" corpus/qcow2/v2-4k
qemu-img convert -f raw -O vpc "$tmp/a.raw" corpus/vhd/dynamic
qemu-img convert -f raw -O vmdk "$tmp/a.raw" corpus/vmdk/sparse
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$tmp/a.raw" corpus/vmdk/stream
qemu-img convert -f raw -O vhdx "$tmp/a.raw" corpus/vhdx/plain
cargo run -q --manifest-path ../Cargo.toml -- convert -q "$tmp/a.raw" corpus/vmdk/drydock-stream.vmdk
cargo run -q --manifest-path ../Cargo.toml -- convert -q "$tmp/a.raw" "$tmp/x.ova"
cp "$tmp/x.ova" corpus/ova/drydock
