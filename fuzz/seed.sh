#!/usr/bin/env bash
# Seed each fuzz target's corpus with small images qemu-img made (and drydock wrote), small so each run is quick.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 40000 /dev/urandom > "$tmp/a.raw"
printf 'root:x:0:0:root:/root:/bin/bash\n%.0s' $(seq 1 1000) >> "$tmp/a.raw"
truncate -s 200K "$tmp/a.raw"
# drydock's own writers add seeds too: $DRYDOCK, else built from this checkout.
drydock() {
  if [ -n "${DRYDOCK:-}" ]; then "$DRYDOCK" "$@"; else cargo run -q --release --manifest-path ../Cargo.toml -- "$@"; fi
}
mkdir -p corpus/{qcow2,vhd,vmdk,vhdx,ova}
qemu-img convert -f raw -O qcow2 -o cluster_size=4096 "$tmp/a.raw" corpus/qcow2/plain
qemu-img convert -f raw -O qcow2 -c -o cluster_size=4096 "$tmp/a.raw" corpus/qcow2/compressed
qemu-img convert -f raw -O qcow2 -o compat=0.10,cluster_size=4096 "$tmp/a.raw" corpus/qcow2/v2-4k
qemu-img convert -f raw -O vpc "$tmp/a.raw" corpus/vhd/dynamic
qemu-img convert -f raw -O vpc -o subformat=fixed "$tmp/a.raw" corpus/vhd/fixed
qemu-img convert -f raw -O vmdk "$tmp/a.raw" corpus/vmdk/sparse
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$tmp/a.raw" corpus/vmdk/stream
qemu-img convert -f raw -O vhdx "$tmp/a.raw" corpus/vhdx/plain
drydock convert -q "$tmp/a.raw" corpus/vmdk/drydock-stream.vmdk
drydock convert -q "$tmp/a.raw" "$tmp/x.ova"
cp "$tmp/x.ova" corpus/ova/drydock
# The filesystem target: a small ext4 made by mkfs.ext4 -d from a tree with a dpkg status.
mkdir -p corpus/filesystem "$tmp/tree/var/lib/dpkg" "$tmp/tree/etc"
printf 'ID=debian\n' > "$tmp/tree/etc/os-release"
printf 'Package: bash\nStatus: install ok installed\nVersion: 5.2\n' > "$tmp/tree/var/lib/dpkg/status"
PATH="$PATH:/usr/sbin:/sbin" mkfs.ext4 -q -F -d "$tmp/tree" corpus/filesystem/ext4 256k
