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
# Configs: the embedded defaults and a config with accounts, subscriptions and contexts.
mkdir -p corpus/config corpus/plan corpus/image_list corpus/snapshot corpus/packages corpus/ova_unpack
cp ../config/default.toml corpus/config/default
printf '[general]\nreadonly = true\n\n[[aws.accounts]]\nname = "prod"\nregions = ["eu-west-1"]\nproduction = true\n\n[[azure.subscriptions]]\nname = "az"\nid = "00000000-0000-0000-0000-000000000000"\nlocations = ["westeurope"]\n\n[[contexts]]\nname = "prod"\nreadonly = true\n\n[[policy.image_lists]]\nname = "egi"\nsource = "list.json"\n' > corpus/config/accounts
printf '[[aws.organizations]]\nname = "acme"\nprofile = "org"\nregions = "all"\ninclude = ["ou:/Root/*", "111122223333"]\nexclude = ["tag:drydock=skip", "name:sandbox-*"]\nproduction = ["ou:/Root/Prod/*"]\nreadonly = ["tag:env=prod"]\nrole_chain = ["arn:aws:iam::1:role/jump"]\nexternal_id = "x"\n\n[scan]\ncontexts_at_once = 4\ncontext_timeout_secs = 30\nshared_max_age_secs = 0\n' > corpus/config/organizations
# A snapshot and a plan made from it by drydock itself.
drydock demo generate --vms 30 --images 6 --seed 3 -o corpus/snapshot/small >/dev/null
drydock demo generate --vms 30 --images 6 --seed 3 -o corpus/snapshot/small.json >/dev/null
DRYDOCK_DATA_DIR="$tmp/data" drydock plan new --family web-base-0 --snapshot corpus/snapshot/small -o corpus/plan/generated >/dev/null 2>&1 ||
  printf 'id = "web-20261101-000000"\nfamily = "web"\nversion = "2"\ncreated = "2026-11-01T00:00:00Z"\n\n[settings]\nconcurrency = 1\n' > corpus/plan/minimal
# An image list as AppDB publishes them.
printf '{"hv:imagelist": {"dc:title": "EGI", "hv:version": "42", "dc:date:created": "2026-11-01T00:00:00Z", "dc:date:expires": "2027-01-01T00:00:00Z", "dc:identifier": "list-uuid", "hv:images": [{"hv:image": {"dc:identifier": "img-ubuntu", "dc:title": "Ubuntu 22.04", "hv:version": "2026.11", "sl:checksum:sha512": "bbb222", "ad:mpuri": "https://appdb.egi.eu/store/vm/image/img-ubuntu:77/"}}]}}' > corpus/image_list/appdb
# Package databases.
printf 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2-1\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36-9\n' > corpus/packages/dpkg
printf 'P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\nP:busybox\nV:1.36.1-r5\nL:GPL-2.0-only\n' > corpus/packages/apk
printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n' > corpus/packages/dep5
cp "$tmp/x.ova" corpus/ova_unpack/drydock
