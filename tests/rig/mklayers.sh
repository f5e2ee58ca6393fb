#!/bin/bash
# Builds an OCI image layout from ready-made layer blobs, as they are:
#   mklayers.sh OUT TAG LAYERBLOB...
# Each LAYERBLOB (gzip, zstd or plain tar, lowest first) becomes one layer
# with the gzip media type, whatever it holds: the hostile-image trials
# hand it layers no tar writer would make. The image runs /bin/sh. Prints
# the manifest digest.
set -euo pipefail
out=$1 tag=$2
shift 2
mkdir -p "$out/blobs/sha256"
blob() { # FILE -> its digest; copies FILE into the layout
    local hex
    hex=$(sha256sum "$1" | cut -d' ' -f1)
    cp "$1" "$out/blobs/sha256/$hex"
    echo "$hex"
}
layers="" diffs=""
for f in "$@"; do
    size=$(stat -c %s "$f")
    hex=$(blob "$f")
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
    diffs+="${diffs:+,}\"sha256:$hex\""
done
cfg=$(mktemp -p "$out")
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$diffs" >"$cfg"
csize=$(stat -c %s "$cfg")
chex=$(blob "$cfg")
rm "$cfg"
man=$(mktemp -p "$out")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$chex" "$csize" "$layers" >"$man"
msize=$(stat -c %s "$man")
mhex=$(blob "$man")
rm "$man"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$mhex" "$msize" "$tag" >"$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
echo "sha256:$mhex"
