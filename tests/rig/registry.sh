#!/bin/bash
# Starts the bench's registries inside the guest, once per boot (trials call
# it concurrently; the first does the work under a lock). Both listen on the
# loopback of their own network namespace `podctl-reg` (the container guest
# shares the host's network, which the tests must not touch):
#   localhost:5000  TLS (a CA made here), htpasswd auth (bench / bench-pw)
#   localhost:5001  plain HTTP, anonymous (`insecure` in registries.conf)
# Run commands against them with `ip netns exec podctl-reg CMD`.
# Also writes /etc/podctl-bench/registries.conf and mounts a tmpfs for test
# stores at /var/lib/podctl-images (overlayfs whiteouts and trusted xattrs
# cannot be written through the guest's own overlay root).
set -euo pipefail
B=/etc/podctl-bench
READY=/run/podctl-bench-registry.ready
exec 9>/run/podctl-bench-registry.lock
flock 9
[ -e "$READY" ] && exit 0

mkdir -p "$B" /var/lib/podctl-images /etc/containers/certs.d/localhost:5000
mountpoint -q /var/lib/podctl-images || mount -t tmpfs -o mode=0700 tmpfs /var/lib/podctl-images

# The debootstrapped root has no /etc/hosts: "localhost" must not go to DNS.
grep -qs '^127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts || echo '127.0.0.1 localhost' >>/etc/hosts
ip netns add podctl-reg 2>/dev/null || true
ip -n podctl-reg link set lo up

# A CA and a server certificate for localhost (not 127.0.0.1: that name is
# the trials' "wrong certificate").
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=podctl-bench-ca \
    -keyout "$B/ca.key" -out "$B/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
    -keyout "$B/server.key" -out "$B/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' >"$B/san.ext"
openssl x509 -req -in "$B/server.csr" -CA "$B/ca.crt" -CAkey "$B/ca.key" -CAcreateserial \
    -days 2 -extfile "$B/san.ext" -out "$B/server.crt" 2>/dev/null
cp "$B/ca.crt" /etc/containers/certs.d/localhost:5000/ca.crt
htpasswd -Bbn bench bench-pw >"$B/htpasswd"

cat >"$B/registry-secure.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: /var/lib/podctl-reg/secure}, delete: {enabled: true}}
http:
  addr: 127.0.0.1:5000
  tls: {certificate: $B/server.crt, key: $B/server.key}
auth:
  htpasswd: {realm: podctl-bench, path: $B/htpasswd}
YML
cat >"$B/registry-plain.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: /var/lib/podctl-reg/plain}, delete: {enabled: true}}
http:
  addr: 127.0.0.1:5001
YML
cat >"$B/registries.conf" <<TOML
unqualified-search-registries = ["localhost:5001"]

[[registry]]
location = "localhost:5001"
insecure = true
TOML

for r in secure plain; do
    systemctl reset-failed "podctl-registry-$r.service" 2>/dev/null || true
    systemd-run --unit="podctl-registry-$r" --collect \
        -p NetworkNamespacePath=/run/netns/podctl-reg \
        /usr/bin/docker-registry serve "$B/registry-$r.yml" >/dev/null
done
for port in 5000 5001; do
    for _ in $(seq 100); do
        ip netns exec podctl-reg bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
        sleep 0.1
    done
done
touch "$READY"
