#!/bin/bash
# Builds an OCI image layout from directories, without any image tool:
#   mkimage.sh OUT TAG CMD LAYERDIR...
# Each LAYERDIR becomes one gzip layer (lowest first), taken as is: files
# named .wh.NAME and .wh..wh..opq are the OCI whiteout markers. CMD is the
# image's Cmd (one word). Prints the manifest digest. With IMAGE_CONFIG set,
# it is the config's whole `config` object instead (Entrypoint, Env, ...).
set -euo pipefail
out=$1 tag=$2 cmd=$3
shift 3
mkdir -p "$out/blobs/sha256"
blob() { # FILE -> its digest; moves FILE into the layout
    local hex
    hex=$(sha256sum "$1" | cut -d' ' -f1)
    mv "$1" "$out/blobs/sha256/$hex"
    echo "$hex"
}
layers="" diffs=""
for dir in "$@"; do
    tmp=$(mktemp -p "$out")
    tar -C "$dir" --numeric-owner --sort=name -cf "$tmp.tar" .
    diff=$(sha256sum "$tmp.tar" | cut -d' ' -f1)
    gzip -n -c "$tmp.tar" >"$tmp"
    rm "$tmp.tar"
    size=$(stat -c %s "$tmp")
    hex=$(blob "$tmp")
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
    diffs+="${diffs:+,}\"sha256:$diff\""
done
cfg=$(mktemp -p "$out")
config=${IMAGE_CONFIG:-$(printf '{"Cmd":["%s"],"Env":["PATH=/bin"]}' "$cmd")}
printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$config" "$diffs" >"$cfg"
csize=$(stat -c %s "$cfg")
chex=$(blob "$cfg")
man=$(mktemp -p "$out")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$chex" "$csize" "$layers" >"$man"
msize=$(stat -c %s "$man")
mhex=$(blob "$man")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$mhex" "$msize" "$tag" >"$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
echo "sha256:$mhex"
