#!/usr/bin/env bash
# Makes sure a Docker engine answers. Uses the one that is there; on a machine
# with none, installs Debian's docker.io and starts dockerd in the background
# (there may be no systemd). Idempotent.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if docker info >/dev/null 2>&1; then
  echo "docker engine: running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [[ "${DOCKER_HOST}" != unix://* ]]; then
  echo "docker engine: DOCKER_HOST=${DOCKER_HOST} does not answer; start that engine, or unset DOCKER_HOST to use a local one" >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker engine: installing Debian's docker.io (a minute or two)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io >/dev/null
fi

LOG=/var/log/kai-dockerd.log
echo "docker engine: starting dockerd (log: $LOG)"
# A pid file left by a dockerd that was killed would stop the new one.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then $SUDO rm -f /var/run/docker.pid; fi
$SUDO sh -c "setsid dockerd >>$LOG 2>&1 </dev/null &"

for second in $(seq 1 90); do
  if docker info >/dev/null 2>&1; then
    echo "docker engine: ready after ${second}s"
    exit 0
  fi
  sleep 1
done
echo "docker engine: dockerd did not answer within 90s; last lines of $LOG:" >&2
tail -20 "$LOG" >&2 || true
exit 1
