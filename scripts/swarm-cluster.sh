#!/usr/bin/env bash
# A real 3-node Docker Swarm on this one machine, for tests. Needs root.
#
# Each node is its own dockerd in its own network namespace (kai-sw1..3, on a
# host bridge kaisw0, 10.231.0.11-13) and its own UTS namespace (hostnames
# kai-node1..3), with its own data root, exec root and socket. Node 1 is the
# manager; nodes 2 and 3 are workers. The host's main engine is only read from
# (images are copied out of it); its swarm state is never touched.
#
#   up [IMAGE...]     tear down any leftover cluster, build a new one, load the
#                     images (default: flexy-dev-sandbox:latest
#                     kai-test-busybox:latest) from the main engine into every
#                     node, write and print /var/run/kai-swarm/cluster.env
#   down              remove everything up made; exit 0 when nothing is up
#   status            `docker node ls` from node 1; non-zero if not up
#   stop-engine N     SIGKILL node N's dockerd (a crashed engine), wait for exit
#   start-engine N    start node N's dockerd again, wait until it answers (and,
#                     when it is in the swarm, until the manager sees it Ready)
#
# Recipe and background: /work/shared/reference/swarm-test-cluster.md
set -euo pipefail

PROG=swarm-cluster
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)

NODES=(1 2 3)
BRIDGE=kaisw0
NET=10.231.0
BRIDGE_ADDR=$NET.1
DATA_ROOT=/var/lib/kai-swarm
RUN_ROOT=/var/run/kai-swarm
ENV_FILE=$RUN_ROOT/cluster.env
LOCK_FILE=/var/lock/kai-swarm-cluster.lock
DEFAULT_IMAGES=(flexy-dev-sandbox:latest kai-test-busybox:latest)
# Bridged traffic between the namespaces passes the host's FORWARD chain when
# br_netfilter is loaded, and Docker sets that chain's policy to DROP.
FORWARD_RULE=(FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT)
ENGINE_WAIT=60   # seconds for a dockerd to answer
READY_WAIT=90    # seconds for nodes to show Ready on the manager

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }

# --- per-node names -----------------------------------------------------------
ns_of() { echo "kai-sw$1"; }
host_of() { echo "kai-node$1"; }
addr_of() { echo "$NET.$((10 + $1))"; }
veth_of() { echo "${BRIDGE}h$1"; }          # host side; the namespace side is eth0
sock_of() { echo "$RUN_ROOT/n$1.sock"; }
endpoint_of() { echo "unix://$RUN_ROOT/n$1.sock"; }
pidfile_of() { echo "$RUN_ROOT/n$1.pid"; }
data_of() { echo "$DATA_ROOT/n$1"; }
exec_of() { echo "$RUN_ROOT/n$1-exec"; }    # short: containerd puts sockets under it
log_of() { echo "/var/log/kai-swarm-n$1.log"; }
config_of() { echo "$RUN_ROOT/n$1.json"; }
# Containers of node N go under this cgroup, so `down` can find (and kill)
# containers whose engine is already dead, without touching the main engine's.
cgroup_of() { echo "kai-swarm-n$1"; }

# docker CLI against node N.
dn() {
  local n=$1
  shift
  docker -H "$(endpoint_of "$n")" "$@"
}

# True if the process exists and is not a zombie (PID 1 here reaps late, and
# killed engines and their children are reparented to it).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid of node N's dockerd from its pidfile, if that process is alive and
# really is our dockerd (its command line names our socket). Empty otherwise.
engine_pid() {
  local n=$1 pid
  pid=$(cat "$(pidfile_of "$n")" 2>/dev/null || true)
  [ -n "$pid" ] && alive "$pid" || return 0
  if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- "$(sock_of "$n")"; then
    echo "$pid"
  fi
}

engine_answers() { timeout 10 docker -H "$(endpoint_of "$1")" info >/dev/null 2>&1; }

# Waits until `pid` is gone (or a zombie). Bounded.
wait_gone() {
  local pid=$1 limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  return 1
}

# --- network ------------------------------------------------------------------
setup_network() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for n in "${NODES[@]}"; do
    local ns veth
    ns=$(ns_of "$n")
    veth=$(veth_of "$n")
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$(addr_of "$n")/24" dev eth0
    ip -n "$ns" link set eth0 up
    # Deliberately no default route. The nodes have no way out (the host's
    # FORWARD policy drops it), and with a route every registry lookup a
    # worker makes before starting a task (it always tries to pull) waits
    # ~40s for DNS timeouts; without one it fails at once with "network is
    # unreachable" and the task uses the image loaded into the node.
  done
  iptables -C "${FORWARD_RULE[@]}" 2>/dev/null || iptables -I "${FORWARD_RULE[@]}"
}

# True if a TCP connect from namespace `ns` (or the host, if ns is "-") to
# addr reaches the peer's kernel. Port 9 has no listener, so a reachable peer
# answers with a reset at once; dropped traffic shows up as a timeout.
reaches() {
  local ns=$1 addr=$2 out rc=0
  local probe=(timeout 3 bash -c "exec 3<>/dev/tcp/$addr/9")
  if [ "$ns" = - ]; then
    out=$("${probe[@]}" 2>&1) || rc=$?
  else
    out=$(nsenter --net="/var/run/netns/$ns" "${probe[@]}" 2>&1) || rc=$?
  fi
  [ "$rc" -eq 0 ] || [[ "$out" == *"Connection refused"* ]]
}

check_network() {
  local a b
  for a in "${NODES[@]}"; do
    reaches - "$(addr_of "$a")" || die "host cannot reach $(addr_of "$a") on $BRIDGE"
    for b in "${NODES[@]}"; do
      [ "$a" -lt "$b" ] || continue
      reaches "$(ns_of "$a")" "$(addr_of "$b")" ||
        die "$(ns_of "$a") cannot reach $(addr_of "$b") over $BRIDGE (iptables FORWARD? see: iptables -S FORWARD)"
    done
  done
}

# --- engines ------------------------------------------------------------------
# Starts node N's dockerd and waits until it answers. Used by `up` and
# `start-engine`, so a restarted engine gets exactly the same options.
start_engine() {
  local n=$1 ns pid log
  ns=$(ns_of "$n")
  log=$(log_of "$n")
  [ -e "/var/run/netns/$ns" ] || die "namespace $ns does not exist; run: $0 up"
  if [ -n "$(engine_pid "$n")" ]; then
    say "node $n: dockerd already running (pid $(engine_pid "$n"))"
    wait_engine "$n" ""
    return
  fi
  # Pidfiles left by a killed dockerd and its containerd. A new dockerd
  # refuses to start while the pid in its pidfile exists, and does not start a
  # containerd while the one in containerd.pid exists; a zombie counts (PID 1
  # here reaps late), and so does an unrelated process that reused the pid.
  rm -f "$(pidfile_of "$n")"
  local cpidfile cpid
  cpidfile="$(exec_of "$n")/containerd/containerd.pid"
  cpid=$(cat "$cpidfile" 2>/dev/null || true)
  if [ -n "$cpid" ] && alive "$cpid" && grep -q -a -F "$(exec_of "$n")/" "/proc/$cpid/cmdline" 2>/dev/null; then
    say "node $n: stopping an orphaned containerd (pid $cpid)"
    kill -KILL "$cpid" 2>/dev/null || true
    wait_gone "$cpid" 10 || die "node $n: containerd (pid $cpid) does not exit"
  fi
  rm -f "$cpidfile"
  mkdir -p "$(data_of "$n")" "$(exec_of "$n")" "$RUN_ROOT"
  # A config file of its own, so /etc/docker/daemon.json (the main engine's)
  # does not apply to the nodes. deprecated-key-path (no command-line flag in
  # 20.10): otherwise every node reads /etc/docker/key.json and reports the
  # main engine's ID in `docker info`.
  printf '{ "deprecated-key-path": "%s" }\n' "$(data_of "$n")/key.json" >"$(config_of "$n")"
  echo "==== $(date -Is) starting dockerd for $(host_of "$n") in $ns" >>"$log"
  # nsenter --net, not `ip netns exec`: the latter remounts /sys and dockerd
  # then finds no cgroups. unshare --uts gives the node its own hostname,
  # which is what Swarm reports as the node's hostname. setsid detaches it
  # from this script's session; 9>&- keeps it from inheriting our lock.
  # shellcheck disable=SC2016 # $0 and $@ are for the inner sh
  setsid nsenter --net="/var/run/netns/$ns" \
    unshare --uts \
    sh -c 'hostname "$0" && exec "$@"' "$(host_of "$n")" \
    dockerd \
    --data-root "$(data_of "$n")" \
    --exec-root "$(exec_of "$n")" \
    -H "$(endpoint_of "$n")" \
    --pidfile "$(pidfile_of "$n")" \
    --config-file "$(config_of "$n")" \
    --cgroup-parent "/$(cgroup_of "$n")" \
    >>"$log" 2>&1 </dev/null 9>&- &
  # setsid does not fork here (no job control, so it is not a group leader):
  # $! is dockerd itself.
  pid=$!
  wait_engine "$n" "$pid"
}

# Waits (bounded) until node N's engine answers; fails early, with the log
# tail, if the process we started has exited.
wait_engine() {
  local n=$1 pid=$2 i
  for ((i = 0; i < ENGINE_WAIT * 4; i++)); do
    if engine_answers "$n"; then
      say "node $n: dockerd answers on $(endpoint_of "$n") (pid $(engine_pid "$n"), $(host_of "$n"))"
      return 0
    fi
    if [ -n "$pid" ] && ! alive "$pid"; then
      say "node $n: dockerd exited while starting; last lines of $(log_of "$n"):"
      tail -20 "$(log_of "$n")" >&2 || true
      exit 1
    fi
    sleep 0.25
  done
  say "node $n: dockerd did not answer on $(endpoint_of "$n") within ${ENGINE_WAIT}s; last lines of $(log_of "$n"):"
  tail -20 "$(log_of "$n")" >&2 || true
  exit 1
}

# SIGKILLs node N's dockerd, as if the engine crashed, and waits for it and for
# its containerd (which dies with it) to be gone. Containers and their shims
# are left running, as after a real crash.
stop_engine() {
  local n=$1 pid c
  pid=$(engine_pid "$n")
  if [ -z "$pid" ]; then
    say "node $n: dockerd is not running"
    return 0
  fi
  # Its containerd, looked up first: once dockerd is dead it dies too (it
  # runs with a parent-death signal), and a new dockerd must not find it.
  local containerds
  containerds=$(node_pids_by_cmdline "$n" containerd)
  kill -KILL "$pid"
  wait_gone "$pid" 20 || die "node $n: dockerd (pid $pid) still there 20s after SIGKILL"
  for c in $containerds; do
    wait_gone "$c" 10 || { kill -KILL "$c" 2>/dev/null || true; wait_gone "$c" 5 || true; }
  done
  say "node $n: dockerd (pid $pid) killed"
}

# Pids of processes named exactly `name` (dockerd, containerd, a shim) whose
# command line mentions node N's exec root or socket: that is, node N's own
# processes and never another engine's.
node_pids_by_cmdline() {
  local n=$1 name=$2 f p argv0
  # One grep over all command lines; only the few matches are looked at.
  while read -r f; do
    p=${f#/proc/}
    p=${p%/cmdline}
    IFS= read -r -d '' argv0 2>/dev/null <"$f" || continue
    case "$argv0" in
      "$name" | */"$name") if alive "$p"; then echo "$p"; fi ;;
    esac
  done < <(grep -l -a -F -e "$(exec_of "$n")/" -e "$(sock_of "$n")" /proc/[0-9]*/cmdline 2>/dev/null)
  return 0
}

# Pids of all processes living in namespace `ns` (the node's dockerd,
# containerd, shims, docker-proxy, host-network containers).
netns_pids() {
  local ns=$1 ino l p
  ino=$(stat -L -c %i "/var/run/netns/$ns" 2>/dev/null) || return 0
  while read -r l; do
    p=${l#/proc/}
    p=${p%%/*}
    if alive "$p"; then echo "$p"; fi
  done < <(find /proc/[0-9]*/ns/net -maxdepth 0 -lname "net:\[$ino\]" 2>/dev/null)
  return 0
}

# Kills whatever is left of node N after its dockerd was asked to stop: every
# process in its network namespace or its cgroup, and its shims.
kill_node_leftovers() {
  local n=$1 pids p cg
  cg=$(cgroup_of "$n")
  pids="$(netns_pids "$(ns_of "$n")") $(node_pids_by_cmdline "$n" dockerd)"
  pids="$pids $(node_pids_by_cmdline "$n" containerd) $(node_pids_by_cmdline "$n" containerd-shim-runc-v2)"
  # (cgroup v1: /sys/fs/cgroup/<controller>/$cg/<container>; v2: no <controller>)
  pids="$pids $(find /sys/fs/cgroup -maxdepth 4 -path "*/$cg/*" -name cgroup.procs \
    -exec cat {} + 2>/dev/null | tr '\n' ' ')"
  pids=$(echo "$pids" | tr ' ' '\n' | awk 'NF' | sort -un | tr '\n' ' ')
  if [ -n "${pids// /}" ]; then
    say "node $n: killing leftover processes: $pids"
    # shellcheck disable=SC2086 # word splitting wanted: a list of pids
    kill -KILL $pids 2>/dev/null || true
    for p in $pids; do wait_gone "$p" 10 || say "node $n: pid $p did not exit"; done
  fi
  # Empty cgroups (deepest first) so the hierarchy does not accumulate.
  find /sys/fs/cgroup -maxdepth 3 -depth -type d \( -name "$cg" -o -path "*/$cg/*" \) \
    -exec rmdir {} \; 2>/dev/null || true
}

# --- swarm --------------------------------------------------------------------
form_swarm() {
  local token n
  dn 1 swarm init --advertise-addr "$(addr_of 1)" >/dev/null
  token=$(dn 1 swarm join-token -q worker)
  for n in "${NODES[@]:1}"; do
    # An explicit advertise address: with no default route, Docker could not
    # guess one.
    dn "$n" swarm join --token "$token" --advertise-addr "$(addr_of "$n")" "$(addr_of 1):2377" >/dev/null
  done
  wait_ready "${#NODES[@]}"
}

# Waits until the manager lists `want` nodes as Ready.
wait_ready() {
  local want=$1 i ready
  for ((i = 0; i < READY_WAIT * 2; i++)); do
    ready=$(dn 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$' || true)
    if [ "$ready" -ge "$want" ]; then
      say "swarm: $ready nodes Ready"
      return 0
    fi
    sleep 0.5
  done
  dn 1 node ls >&2 || true
  die "swarm: only ${ready:-0} of $want nodes Ready after ${READY_WAIT}s"
}

# Waits until the manager sees node N Ready (after start-engine).
wait_node_ready() {
  local n=$1 i status
  for ((i = 0; i < READY_WAIT * 2; i++)); do
    status=$(dn 1 node inspect --format '{{.Status.State}}' "$(host_of "$n")" 2>/dev/null || true)
    if [ "$status" = ready ]; then
      say "node $n: Ready on the manager"
      return 0
    fi
    sleep 0.5
  done
  die "node $n: not Ready on the manager after ${READY_WAIT}s (state: ${status:-unknown})"
}

load_images() {
  local endpoints=() n img
  for n in "${NODES[@]}"; do endpoints+=("$(endpoint_of "$n")"); done
  # The images come from the main engine; start it if it is not running.
  if ! docker info >/dev/null 2>&1; then
    bash "$SCRIPT_DIR/ensure-engine.sh" >&2
  fi
  for img in "$@"; do
    bash "$SCRIPT_DIR/swarm-load-image.sh" "$img" "${endpoints[@]}" >&2 ||
      die "could not load $img into the nodes"
  done
}

write_env() {
  local engines="" addrs="" n
  for n in "${NODES[@]}"; do
    engines+="${engines:+,}$(host_of "$n")=$(endpoint_of "$n")"
    addrs+="${addrs:+,}$(host_of "$n")=$(addr_of "$n")"
  done
  cat >"$ENV_FILE" <<EOF
KAI_SWARM_MANAGER=$(endpoint_of 1)
KAI_SWARM_MANAGER_ADDRESS=$(addr_of 1):2377
KAI_SWARM_NODE_ENGINES=$engines
KAI_SWARM_NODE_ADDRESSES=$addrs
EOF
  cat "$ENV_FILE"
}

# --- commands -----------------------------------------------------------------
anything_left() {
  local n
  ip link show "$BRIDGE" >/dev/null 2>&1 && return 0
  [ -e "$DATA_ROOT" ] || [ -e "$RUN_ROOT" ] && return 0
  for n in "${NODES[@]}"; do
    [ -e "/var/run/netns/$(ns_of "$n")" ] && return 0
    ip link show "$(veth_of "$n")" >/dev/null 2>&1 && return 0
  done
  iptables -C "${FORWARD_RULE[@]}" 2>/dev/null && return 0
  return 1
}

cmd_up() {
  local t0=$SECONDS images=("$@")
  [ ${#images[@]} -gt 0 ] || images=("${DEFAULT_IMAGES[@]}")
  if anything_left; then
    say "removing a leftover cluster first"
    cmd_down
  fi
  say "network: bridge $BRIDGE ($BRIDGE_ADDR/24), namespaces $(ns_of 1)..$(ns_of "${#NODES[@]}")"
  setup_network
  check_network
  local n pids=() failed=0
  # The engines start in parallel (each takes a few seconds); each waits for
  # itself and reports its own failure.
  for n in "${NODES[@]}"; do
    (start_engine "$n") &
    pids+=($!)
  done
  for n in "${!pids[@]}"; do wait "${pids[$n]}" || failed=1; done
  [ "$failed" -eq 0 ] || die "an engine did not start (see above); '$0 down' cleans up"
  form_swarm
  say "engines up and swarm formed in $((SECONDS - t0))s; loading images: ${images[*]}"
  load_images "${images[@]}"
  dn 1 node ls >&2
  say "cluster up in $((SECONDS - t0))s; environment in $ENV_FILE:"
  write_env
}

cmd_down() {
  local n pid
  # Best effort, in order: services, containers, swarm membership. Each step
  # is bounded so a hung engine cannot hang `down`.
  if engine_answers 1; then
    local services
    services=$(timeout 20 docker -H "$(endpoint_of 1)" service ls -q 2>/dev/null || true)
    if [ -n "$services" ]; then
      # shellcheck disable=SC2086 # a list of ids
      timeout 30 docker -H "$(endpoint_of 1)" service rm $services >/dev/null 2>&1 || true
    fi
  fi
  for n in "${NODES[@]}"; do
    engine_answers "$n" || continue
    local ids
    ids=$(timeout 20 docker -H "$(endpoint_of "$n")" ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086 # a list of ids
    [ -z "$ids" ] || timeout 60 docker -H "$(endpoint_of "$n")" rm -f $ids >/dev/null 2>&1 || true
  done
  # Workers first, the manager last, so it does not wait for them.
  for n in $(printf '%s\n' "${NODES[@]}" | sort -rn); do
    if engine_answers "$n"; then
      timeout 30 docker -H "$(endpoint_of "$n")" swarm leave --force >/dev/null 2>&1 || true
    fi
  done

  # Stop the engines: SIGTERM by pidfile (a clean shutdown unmounts what it
  # can), then kill whatever is left of each node.
  local engine_pids=()
  for n in "${NODES[@]}"; do
    pid=$(engine_pid "$n")
    engine_pids[n]=$pid
    [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  for n in "${NODES[@]}"; do
    pid=${engine_pids[n]}
    if [ -n "$pid" ] && ! wait_gone "$pid" 30; then
      say "node $n: dockerd (pid $pid) did not stop on SIGTERM in 30s; killing it"
    fi
    kill_node_leftovers "$n"
  done

  # Mounts the engines left behind (netns bind mounts, overlay layers of
  # containers that were still running), deepest first.
  # mountinfo shows resolved paths (/var/run is a symlink to /run here).
  local mounts tries=0 a b
  a=$(readlink -m "$DATA_ROOT")
  b=$(readlink -m "$RUN_ROOT")
  while :; do
    mounts=$(awk -v a="$a" -v b="$b" \
      '$5 == a || index($5, a "/") == 1 || $5 == b || index($5, b "/") == 1 { print $5 }' \
      /proc/self/mountinfo | sort -r)
    [ -n "$mounts" ] || break
    tries=$((tries + 1))
    [ "$tries" -le 5 ] || die "could not unmount: $(echo "$mounts" | tr '\n' ' ')"
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done <<<"$mounts"
  done

  for n in "${NODES[@]}"; do
    ip netns del "$(ns_of "$n")" 2>/dev/null || true
    # The host end goes away with the namespace, but maybe not at once.
    ip link del "$(veth_of "$n")" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  while iptables -C "${FORWARD_RULE[@]}" 2>/dev/null; do iptables -D "${FORWARD_RULE[@]}"; done
  # --one-file-system: never follow into something still mounted. The data
  # roots hold three copies of every image, so they are removed in parallel.
  local d rm_pids=()
  for d in "$DATA_ROOT"/n*; do
    [ -d "$d" ] || continue
    rm -rf --one-file-system "$d" &
    rm_pids+=($!)
  done
  for d in "${rm_pids[@]}"; do wait "$d" || true; done
  rm -rf --one-file-system "$DATA_ROOT" "$RUN_ROOT"
  if anything_left; then die "down: something is left over (see above)"; fi
  say "down: nothing left"
}

cmd_status() {
  engine_answers 1 || die "cluster is not up (no engine on $(endpoint_of 1))"
  dn 1 node ls || die "node 1 answers but is not a swarm manager"
}

check_node() {
  case "${1:-}" in
    1 | 2 | 3) ;;
    *) die "expected a node number 1-3, got '${1:-}'" ;;
  esac
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

main() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  local cmd=${1:-}
  [ $# -eq 0 ] || shift
  case "$cmd" in
    -h | --help | help) usage; return 0 ;;
  esac
  # One command at a time (tests may call up/down concurrently).
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || die "another $PROG command holds $LOCK_FILE"
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    stop-engine)
      check_node "${1:-}"
      stop_engine "$1"
      ;;
    start-engine)
      check_node "${1:-}"
      local n=$1
      start_engine "$n"
      # Back in the swarm: wait until the manager sees it, when it can.
      if [ "$(dn "$n" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ] && engine_answers 1; then
        wait_node_ready "$n"
      fi
      ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
