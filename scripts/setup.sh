#!/usr/bin/env bash
# Prepares this machine for Kai: npm dependencies and build, a running Docker
# engine and the Flexy image. With --test, also the tiny image the tests use.
# Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST_IMAGE=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST_IMAGE=1 ;;
    *) echo "usage: scripts/setup.sh [--test]" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
IMAGE="${IMAGE_NAME:-flexy-dev-sandbox:latest}"

step "npm dependencies"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "node_modules is current"
fi

step "build"
npm run build --silent

step "Docker engine"
bash scripts/ensure-engine.sh

step "Flexy image ($IMAGE)"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "present"
else
  bash images/flexy/build.sh "$IMAGE"
fi

if [ "$WITH_TEST_IMAGE" = 1 ]; then
  step "test image (kai-test-busybox:latest)"
  TEST_IMAGE_VERSION=$(sed -n 's/^TEST_IMAGE_VERSION=//p' images/busybox/build.sh)
  if [ "$(docker image inspect -f '{{ index .Config.Labels "kai.test-image" }}' kai-test-busybox:latest 2>/dev/null)" = "$TEST_IMAGE_VERSION" ]; then
    echo "present (version $TEST_IMAGE_VERSION)"
  else
    bash images/busybox/build.sh kai-test-busybox:latest
  fi
fi

if [ "$WITH_TEST_IMAGE" = 1 ]; then
  # test/swarm.test.ts builds a three-node Swarm with scripts/swarm-cluster.sh: namespaces, veths, a bridge, iptables.
  step "Swarm test cluster tools (ip, iptables, nsenter, unshare)"
  missing=()
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  { command -v nsenter >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; } || missing+=(util-linux)
  if [ ${#missing[@]} -eq 0 ]; then
    echo "present"
  else
    SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    echo "installed ${missing[*]}"
  fi
fi

if [ "$WITH_TEST_IMAGE" = 1 ]; then
  step "chromium (the web console's end-to-end tests drive it with playwright-core)"
  if [ -x "${KAI_CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "present ($("${KAI_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo unknown version))"
  else
    echo "installing Debian's chromium (no browser download from elsewhere)"
    SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    echo "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
  fi
fi
