#!/usr/bin/env bash
# A tiny image for fast tests: Debian's static busybox imported as a root
# filesystem. Its default command serves HTTP on 9681 like the Flexy image's
# terminal port, so tests can reach it through the 127.0.0.1-published port.
# Usage: images/busybox/build.sh [IMAGE] (default kai-test-busybox:latest)
set -euo pipefail

IMAGE="${1:-kai-test-busybox:latest}"
# Bump when the image changes, so scripts/setup.sh rebuilds an older one.
TEST_IMAGE_VERSION=3
BUSYBOX=/bin/busybox
linkage="$(ldd "$BUSYBOX" 2>&1 || true)"
if [ ! -x "$BUSYBOX" ] || [[ "$linkage" != *"not a dynamic"* ]]; then
  echo "busybox image: installing busybox-static" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static
fi

ROOTFS="$(mktemp -d /tmp/busybox-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
mkdir -p "$ROOTFS"/{bin,www,tmp,workspace,etc}
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
# The applets the tests use: a shell, process tools for the terminal's clean-up, stty for resize checks.
for applet in sh ash sleep cat echo printf ls httpd env id tr grep kill killall ps netstat stty head yes dd seq nc wc true false mkdir rm; do
  ln -s busybox "$ROOTFS/bin/$applet"
done
echo "kai test image" > "$ROOTFS/www/index.html"
echo 'root:x:0:0:root:/:/bin/sh' > "$ROOTFS/etc/passwd"

tar -C "$ROOTFS" -c . | docker import \
  --change 'WORKDIR /workspace' \
  --change "LABEL kai.test-image=$TEST_IMAGE_VERSION" \
  --change 'EXPOSE 9681' \
  --change 'CMD ["/bin/busybox", "httpd", "-f", "-p", "9681", "-h", "/www"]' \
  - "$IMAGE" >/dev/null
echo "busybox image: built $IMAGE" >&2
