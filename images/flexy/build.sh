#!/usr/bin/env bash
# Builds the Flexy sandbox image without any container registry:
# debootstrap a Debian root filesystem from Debian's archive, add the
# non-root user, then `docker import` it with the image settings.
# Usage: images/flexy/build.sh [IMAGE] (default flexy-dev-sandbox:latest)
set -euo pipefail

IMAGE="${1:-${IMAGE_NAME:-flexy-dev-sandbox:latest}}"
SUITE="${FLEXY_SUITE:-sid}"           # ttyd 1.7.7 is only in testing/unstable
MIRROR="${FLEXY_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="ttyd,bash,git,tmux,curl,ca-certificates,passwd,procps,less,nano"

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "flexy image: installing debootstrap" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
fi

ROOTFS="$(mktemp -d /tmp/flexy-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

echo "flexy image: debootstrap $SUITE into $ROOTFS (about a minute)" >&2
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" \
  | awk '/^I: (Retrieving|Validating|Extracting|Installing|Configuring) / { n++; if (n % 25 == 0) print "  ... " $0; next } { print "  " $0 }' >&2

echo "flexy image: adding user flexy and /workspace" >&2
chroot "$ROOTFS" useradd --create-home --uid 1000 --shell /bin/bash flexy
mkdir -p "$ROOTFS/workspace"
chroot "$ROOTFS" chown flexy:flexy /workspace
# Keep the image small: package lists and caches are not needed at run time.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*

echo "flexy image: importing as $IMAGE" >&2
tar -C "$ROOTFS" -c . | docker import \
  --change 'USER flexy' \
  --change 'WORKDIR /workspace' \
  --change 'ENV HOME=/home/flexy SHELL=/bin/bash LANG=C.UTF-8 TERM=xterm-256color' \
  --change 'EXPOSE 9681' \
  --change 'CMD ["ttyd", "--writable", "--port", "9681", "bash", "-l"]' \
  --change 'LABEL org.opencontainers.image.title=flexy-dev-sandbox' \
  - "$IMAGE" >/dev/null
echo "flexy image: built $IMAGE" >&2
