#!/bin/bash
# Builds the bench's cached Debian 12 systems (called by tests/bench/cache.rs).
# The sha256 of this file is part of every cache key: change anything here
# (packages, configuration) and the next run rebuilds.
#
#   mkroot.sh container OUT          debootstrapped root for systemd-nspawn
#   mkroot.sh vm CONTAINER_ROOT OUT  OUT/{base.img,vmlinuz,initrd.img} for QEMU
set -euo pipefail

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
# python3: the examples' web server (python3 -m http.server), as on a stock Debian host.
# crun, runc: the OCI runtimes that start every container (crun is the default).
CONTAINER_PACKAGES=systemd,systemd-sysv,dbus,iproute2,procps,python3,crun,runc
# Images: a real registry (CNCF distribution), skopeo to push test
# images (its containers-common needs a container-network-stack: netavark),
# busybox-static to build them, htpasswd and openssl for auth and TLS.
CONTAINER_PACKAGES+=,docker-registry,skopeo,netavark,busybox-static,apache2-utils,openssl
# Pod networks: netavark (above) is the engine; aardvark-dns its
# DNS server, iptables its firewall backend (iptables-nft); curl the network
# trials' client.
CONTAINER_PACKAGES+=,aardvark-dns,iptables,curl
# Kubernetes manifests: nginx, for the test image `nginx:1.25` the
# docs-style manifest names (its service is masked: the image runs it).
CONTAINER_PACKAGES+=,nginx
# The VM's peer for `podman kube play` / `kube generate`: Podman
# and what it needs with no recommends (tests/benchmark/packages); netavark
# (from the container root) is its network stack.
# Rootless pods: newuidmap/newgidmap (uidmap) map a user's subordinate IDs;
# pasta (passt) is their network; pam_systemd (libpam-systemd) gives a lingering
# user's manager its XDG_RUNTIME_DIR.
VM_PACKAGES=(linux-image-cloud-amd64 podman conmon catatonit golang-github-containers-common uidmap passt libpam-systemd)
IMAGE_SIZE=2G

die() { echo "mkroot.sh: $*" >&2; exit 1; }

build_container() {
    local out=$1
    echo "== debootstrap $SUITE into $out"
    debootstrap --variant=minbase --include="$CONTAINER_PACKAGES" "$SUITE" "$out" "$MIRROR"
    echo podctl-bench >"$out/etc/hostname"
    # The guest shares the host's network: trials start their own registries
    # in a network namespace; the packaged one must not listen on the host's :5000.
    chroot "$out" systemctl mask docker-registry.service nginx.service
    chroot "$out" apt-get clean
}

# Installs the kernel into ROOT; /proc and resolv.conf are needed by apt and
# the initramfs hooks, and are undone on every exit path.
install_kernel() {
    local root=$1
    mount -t proc proc "$root/proc"
    trap 'umount "$root/proc" 2>/dev/null || true' EXIT
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get update -q
    DEBIAN_FRONTEND=noninteractive chroot "$root" \
        apt-get install -y -q --no-install-recommends "${VM_PACKAGES[@]}"
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/*
    umount "$root/proc"
    trap - EXIT
}

build_vm() {
    local base=$1 out=$2
    [ -d "$base/etc" ] || die "container root $base does not exist"
    mkdir -p "$out"
    local root=$out/root
    echo "== copying $base to $root"
    cp -a "$base" "$root"
    echo "== installing ${VM_PACKAGES[*]}"
    install_kernel "$root"
    echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
    # Directories the per-run image fills with debugfs (which cannot mkdir -p).
    mkdir -p "$root/opt/podctl-test" "$root/var/lib/podctl-test" \
        "$root/usr/local/share/podctl/examples" \
        "$root/etc/systemd/system/multi-user.target.wants"
    cp "$root"/boot/vmlinuz-* "$out/vmlinuz"
    cp "$root"/boot/initrd.img-* "$out/initrd.img"
    echo "== making $out/base.img ($IMAGE_SIZE, ext4)"
    truncate -s "$IMAGE_SIZE" "$out/base.img"
    mkfs.ext4 -q -F -L podctl-bench -d "$root" "$out/base.img"
    rm -rf "$root"
}

case "${1:-}" in
    container) [ $# -eq 2 ] || die "usage: mkroot.sh container OUT"; build_container "$2" ;;
    vm) [ $# -eq 3 ] || die "usage: mkroot.sh vm CONTAINER_ROOT OUT"; build_vm "$2" "$3" ;;
    *) die "usage: mkroot.sh container OUT | vm CONTAINER_ROOT OUT" ;;
esac
