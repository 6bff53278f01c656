#!/usr/bin/env bash
# Copies one image from the local Docker engine into other engines, for
# clusters that have no registry (a Swarm schedules a task on a node only if
# that node can find the image itself).
#
# The image is saved once to a temporary tar and loaded into every endpoint in
# parallel. Endpoints that already hold the same image id are skipped, so
# running it again is cheap.
set -euo pipefail

PROG=swarm-load-image

usage() {
  cat <<EOF
Usage: $(basename "$0") [-h] [--sequential] IMAGE ENDPOINT...

Saves IMAGE from the local engine (the one \`docker\` talks to: \$DOCKER_HOST,
or the default socket) once, and loads it into each ENDPOINT. An ENDPOINT is
anything \`docker -H\` accepts, for example:
  unix:///var/run/kai-swarm/n2.sock
  tcp://10.0.0.12:2376          (TLS settings come from \$DOCKER_TLS_VERIFY/\$DOCKER_CERT_PATH)
  ssh://deploy@10.0.0.12

Endpoints that already have the same image id are skipped. Loads run in
parallel unless --sequential is given (useful over slow links).

Prints one line per endpoint; exits non-zero and names every endpoint that
failed if any load failed.
EOF
}

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }

sequential=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --sequential) sequential=1; shift ;;
    --) shift; break ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { usage >&2; exit 2; }

image=$1
shift
endpoints=("$@")

# The id of the image on the source engine; loading is verified against it.
source_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) ||
  die "image $image not found on the source engine (${DOCKER_HOST:-default socket})"

# Which endpoints need the image. A failure to ask counts as "needs it": the
# load attempt then fails with the engine's own error, naming the endpoint.
need=()
for endpoint in "${endpoints[@]}"; do
  have=$(docker -H "$endpoint" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  if [ "$have" = "$source_id" ]; then
    echo "$endpoint: $image already present (${source_id:7:12})"
  else
    need+=("$endpoint")
  fi
done
[ ${#need[@]} -gt 0 ] || exit 0

workdir=$(mktemp -d "${TMPDIR:-/tmp}/swarm-load-image.XXXXXX")
trap 'rm -rf "$workdir"' EXIT

started=$SECONDS
docker save -o "$workdir/image.tar" "$image" || die "docker save $image failed"
size=$(du -h "$workdir/image.tar" | cut -f1)
say "saved $image (${source_id:7:12}, $size) in $((SECONDS - started))s; loading into ${#need[@]} endpoint(s)"

# Loads into one endpoint and checks the id that arrived. Output goes to a
# per-endpoint file so parallel loads do not interleave.
load_one() {
  local endpoint=$1 out=$2 t0=$SECONDS got
  if ! docker -H "$endpoint" load -q -i "$workdir/image.tar" >"$out" 2>&1; then
    return 1
  fi
  got=$(docker -H "$endpoint" image inspect --format '{{.Id}}' "$image" 2>>"$out") || return 1
  if [ "$got" != "$source_id" ]; then
    echo "loaded, but $image there is ${got:7:12}, not ${source_id:7:12}" >>"$out"
    return 1
  fi
  echo "$endpoint: loaded $image (${source_id:7:12}, $size) in $((SECONDS - t0))s"
}

failed=()
if [ "$sequential" -eq 1 ]; then
  for i in "${!need[@]}"; do
    load_one "${need[$i]}" "$workdir/out.$i" || failed+=("$i")
  done
else
  pids=()
  for i in "${!need[@]}"; do
    load_one "${need[$i]}" "$workdir/out.$i" &
    pids[i]=$!
  done
  for i in "${!need[@]}"; do
    wait "${pids[$i]}" || failed+=("$i")
  done
fi

for i in "${failed[@]}"; do
  say "loading $image into ${need[$i]} failed:"
  sed 's/^/    /' "$workdir/out.$i" >&2
done
if [ ${#failed[@]} -gt 0 ]; then
  names=()
  for i in "${failed[@]}"; do names+=("${need[$i]}"); done
  die "failed for ${#failed[@]} of ${#need[@]} endpoint(s): ${names[*]}"
fi
