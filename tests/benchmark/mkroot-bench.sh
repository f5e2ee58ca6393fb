#!/bin/bash
# Builds the benchmark VM image (called by tests/rig/cache.rs, vm_bench_base):
# the test VM's recipe (tests/rig/mkroot.sh vm) applied to a copy of the
# container root with the packages of tests/benchmark/packages added. The
# test roots and their cache keys are untouched.
#
#   mkroot-bench.sh CONTAINER_ROOT OUT   OUT/{base.img,vmlinuz,initrd.img}
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: mkroot-bench.sh CONTAINER_ROOT OUT" >&2; exit 1; }
base=$1 out=$2
[ -d "$base/etc" ] || { echo "mkroot-bench.sh: $base is not a root" >&2; exit 1; }
mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages")

work=$(dirname "$out")/.tmp-bench-root-$$
cleanup() {
    umount "$work/proc" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
echo "== copying $base to $work"
cp -a "$base" "$work"
mount -t proc proc "$work/proc"
cp /etc/resolv.conf "$work/etc/resolv.conf"
echo "== installing ${packages[*]}"
DEBIAN_FRONTEND=noninteractive chroot "$work" apt-get update -q
DEBIAN_FRONTEND=noninteractive chroot "$work" \
    apt-get install -y -q --no-install-recommends "${packages[@]}"
chroot "$work" apt-get clean
rm -rf "$work"/var/lib/apt/lists/*
umount "$work/proc"
# Podman's default events/log backends are journald, which the VM has.
echo "== building the VM image from it"
bash "$here/../rig/mkroot.sh" vm "$work" "$out"
