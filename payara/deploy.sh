#!/usr/bin/env bash
# Rolling deploy of a new agent-turbo-micro.jar (the release file `mvn package` leaves in target/) to the nodes of
# a fleet, one node at a time, so the fleet never stops taking work:
#
#   1. drain the node over the API (it claims nothing more; /health/ready says DOWN, so load balancers leave it)
#   2. wait until its running agents are done, or DRAIN_SECONDS pass (and at least SETTLE_SECONDS, for the load
#      balancer to notice)
#   3. stop it (SIGTERM: whatever still runs gets the node's drain grace, then goes back to the queue)
#   4. replace the jar, keeping the one it replaces as agent-turbo-micro.jar.previous (for a rollback)
#   5. start it and wait until /health/ready answers UP (database reached, slots running, taking work)
#   6. next node. It stops at the first node that fails; the nodes after it keep the jar they run.
#
#   payara/deploy.sh target/agent-turbo-micro.jar node-1 node-2 deploy@node-3         hosts, over ssh
#   payara/deploy.sh target/agent-turbo-micro.jar /srv/at/node-1:8081 /srv/at/node-2:8082   nodes on this machine
#
# A node is given as one of:
#   [user@]host      a host of the fleet, reached with ssh and scp; the node runs under its service manager as
#                    payara/agent-turbo.service (systemd) or payara/dev.agentturbo.node.plist (launchd) set it up,
#                    and answers on http://host:PORT. The ssh user may run sudo without a password.
#   FOLDER:PORT      a node on this machine (several nodes on one machine; the rolling-deploy test runs so), run by
#                    this script from FOLDER on port PORT. The folder holds:
#                      agent-turbo-micro.jar (+ .previous)  the release file, put there by this script
#                      env            optional: KEY=value lines given to the node (DB_URL, AGENTTURBO_WORKER_ID, ...);
#                                     JAVA_OPTS there sets the JVM options (default -Xmx1g)
#                      pre-boot.asadmin, post-boot.asadmin   optional: asadmin commands run before/after boot
#                      node.pid, node.log, tmp/              written by this script
#                    A folder without a running node gets one started: the same command starts a fleet on a machine.
#
# Settings (environment):
#   AGENTTURBO_TOKEN  (required)                         an operator's API token of the fleet (POST /api/tokens)
#   PORT          8080                                   the hosts' HTTP port (ssh hosts)
#   SERVICE       systemd                                systemd or launchd: how ssh hosts stop and start the node
#   INSTALL_DIR   /opt/agent-turbo                       where the jar goes on ssh hosts
#   STOP, START   by SERVICE                             the commands run over ssh to stop and start the node, e.g.
#                 systemd: sudo systemctl stop|start agent-turbo
#                 launchd: sudo launchctl bootout system/dev.agentturbo.node /
#                          sudo launchctl bootstrap system /Library/LaunchDaemons/dev.agentturbo.node.plist
#   DRAIN_SECONDS 600                                    how long to wait for the node's running agents after the drain
#   SETTLE_SECONDS 5                                     least time between the drain and the stop, so that a load
#                                                        balancer checking /health/ready sends it nothing more
#   STOP_SECONDS  120                                    how long a local node may take to exit after SIGTERM
#   READY_SECONDS 300                                    how long a node may take to start and answer ready
#   SSH_OPTIONS   -o BatchMode=yes                       extra options for ssh and scp
set -euo pipefail

token=${AGENTTURBO_TOKEN:-}
port=${PORT:-8080}
service=${SERVICE:-systemd}
install_dir=${INSTALL_DIR:-/opt/agent-turbo}
drain_seconds=${DRAIN_SECONDS:-600}
settle_seconds=${SETTLE_SECONDS:-5}
stop_seconds=${STOP_SECONDS:-120}
ready_seconds=${READY_SECONDS:-300}
read -r -a ssh_options <<<"${SSH_OPTIONS:--o BatchMode=yes}"
jar_name=agent-turbo-micro.jar

case $service in
  systemd)
    stop_command=${STOP:-sudo systemctl stop agent-turbo}
    start_command=${START:-sudo systemctl start agent-turbo} ;;
  launchd)
    stop_command=${STOP:-sudo launchctl bootout system/dev.agentturbo.node}
    start_command=${START:-sudo launchctl bootstrap system /Library/LaunchDaemons/dev.agentturbo.node.plist} ;;
  *) echo "[deploy] SERVICE must be systemd or launchd, not '$service'" >&2; exit 2 ;;
esac

usage() {
  echo "usage: $0 JAR NODE [NODE ...]   NODE: [user@]host (over ssh) or FOLDER:PORT (on this machine)" >&2
  echo "  e.g. $0 target/$jar_name node-1 deploy@node-2      $0 target/$jar_name /srv/at/node-1:8081" >&2
  exit 2
}
log() { printf '[deploy] %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $# -ge 2 ]] || usage
jar=$1
shift
[[ -f "$jar" && -s "$jar" ]] || die "no release file at '$jar' (mvn package leaves target/$jar_name)"
unzip -l "$jar" MICRO-INF/deploy/agent-turbo.war >/dev/null 2>&1 \
  || die "'$jar' is not an Agent Turbo release file (no MICRO-INF/deploy/agent-turbo.war in it)"
[[ -n "$token" ]] || die "set AGENTTURBO_TOKEN to an operator's token of the fleet (POST /api/tokens with role operator)"
for tool in curl jq unzip; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done
for node in "$@"; do
  if [[ $node == */* ]]; then
    [[ $node =~ ^(.+):([0-9]+)$ ]] || die "'$node': a node on this machine is FOLDER:PORT, e.g. /srv/at/node-1:8081"
    [[ -d ${BASH_REMATCH[1]} ]] || die "'$node': no folder ${BASH_REMATCH[1]}"
  else
    for tool in ssh scp; do command -v "$tool" >/dev/null || die "$tool is needed for '$node'"; done
  fi
done

# --- the node's HTTP side -------------------------------------------------------------------------------------

# The node's /health as JSON (it answers 503 with the same body while not ready); empty when it does not answer.
health() {
  curl -sS --max-time 5 "$1/health" 2>/dev/null | jq -c . 2>/dev/null || true
}

# The node's worker id, from its readiness check "taking-work"; empty when it does not answer.
worker_id() {
  health "$1" | jq -r 'first(.checks[]? | select(.name == "taking-work") | .data.worker) // empty' 2>/dev/null || true
}

# How many of the node's slots run an agent now; empty when it does not answer.
busy_slots() {
  health "$1" | jq -r 'first(.checks[]? | select(.name == "slots") | .data.busy) // empty' 2>/dev/null || true
}

ready() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1/health/ready" 2>/dev/null) == 200 ]]
}

# POST /api/workers/ID/drain; dies unless the node accepts it.
drain() {
  local url=$1 id=$2 status
  status=$(curl -sS -o /tmp/agent-turbo-deploy-$$.out -w '%{http_code}' --max-time 10 -X POST \
             -H "Authorization: Bearer $token" "$url/api/workers/$id/drain" 2>/dev/null) || status=000
  if [[ $status != 202 ]]; then
    local body
    body=$(cat /tmp/agent-turbo-deploy-$$.out 2>/dev/null || true)
    rm -f /tmp/agent-turbo-deploy-$$.out
    die "$id: the drain was refused ($status): ${body:-no answer}. Nothing changed on this node."
  fi
  rm -f /tmp/agent-turbo-deploy-$$.out
}

# "version V, N slots" of the node as /api/workers/ID says.
describe() {
  curl -fsS --max-time 5 -H "Authorization: Bearer $token" "$1/api/workers/$2" 2>/dev/null \
    | jq -er 'select(.version != null) | "version \(.version), \(.slots) slots"' 2>/dev/null || echo "version unknown"
}

# Drains the node at $1 and waits until its agents are done (or DRAIN_SECONDS pass), at least SETTLE_SECONDS.
drain_and_wait() {
  local url=$1 label=$2 id busy since
  id=$(worker_id "$url")
  if [[ -z $id ]]; then
    log "$label: no node answers at $url; nothing to drain"
    return 0
  fi
  log "$label: draining node $id ($(describe "$url" "$id"))"
  drain "$url" "$id"
  since=$SECONDS
  local deadline=$((SECONDS + drain_seconds))
  while :; do
    busy=$(busy_slots "$url")
    if [[ -z $busy ]]; then
      log "$label: node $id stopped answering while draining"
      break
    fi
    if [[ $busy == 0 ]] && (( SECONDS - since >= settle_seconds )); then
      log "$label: node $id has no agent running (drained in $((SECONDS - since)) s)"
      break
    fi
    if (( SECONDS >= deadline )); then
      log "$label: node $id still runs $busy agent(s) after ${drain_seconds} s; stopping it gives them the node's" \
          "drain grace, then the queue takes them back"
      break
    fi
    sleep 1
  done
}

await_ready() {
  local url=$1 label=$2 rollback=$3 started=$SECONDS id
  local deadline=$((SECONDS + ready_seconds))
  until ready "$url"; do
    (( SECONDS < deadline )) || die "$label: not ready within ${ready_seconds} s; stopping here (the nodes after" \
      "it keep their jar). The previous jar: $rollback"
    sleep 2
  done
  id=$(worker_id "$url")
  log "$label: node ${id:-?} ready after $((SECONDS - started)) s ($(describe "$url" "$id"))"
}

# --- a node on this machine: FOLDER:PORT ----------------------------------------------------------------------

# The pid of the node running from this folder, if it runs.
local_pid() {
  local dir=$1 pid
  [[ -f $dir/node.pid ]] || return 1
  pid=$(cat "$dir/node.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # the pid file may be stale and its number reused: it must be a java running this folder's jar
  ps -p "$pid" -o command= 2>/dev/null | grep -qF -- "$dir/$jar_name" || return 1
  echo "$pid"
}

local_stop() {
  local dir=$1 label=$2 pid deadline
  pid=$(local_pid "$dir") || { log "$label: no node running from $dir"; return 0; }
  log "$label: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid"
  deadline=$((SECONDS + stop_seconds))
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || die "$label: pid $pid did not exit within ${stop_seconds} s after SIGTERM;" \
      "stopping here. The jar was not replaced."
    sleep 1
  done
  rm -f "$dir/node.pid"
}

local_start() {
  local dir=$1 port=$2 label=$3 java_opts=-Xmx1g line key value
  local -a env_vars=() args=()
  if [[ -f $dir/env ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
      [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || die "$label: $dir/env: not a KEY=value line: $line"
      key=${BASH_REMATCH[1]}
      value=${BASH_REMATCH[2]}
      if [[ $key == JAVA_OPTS ]]; then java_opts=$value; else env_vars+=("$key=$value"); fi
    done <"$dir/env"
  fi
  [[ -f $dir/pre-boot.asadmin ]] && args+=(--prebootcommandfile "$dir/pre-boot.asadmin")
  [[ -f $dir/post-boot.asadmin ]] && args+=(--postbootcommandfile "$dir/post-boot.asadmin")
  mkdir -p "$dir/tmp"
  read -r -a java_options <<<"$java_opts"
  # its own session: the node outlives this script and a Ctrl-C in its terminal
  local -a detach=(nohup)
  command -v setsid >/dev/null && detach=(setsid)      # Linux; macOS has no setsid
  # (the ${a[@]+...} form: bash 3.2, macOS's, calls an empty array unbound)
  (cd "$dir" && exec env ${env_vars[@]+"${env_vars[@]}"} "${detach[@]}" "${JAVA:-java}" "${java_options[@]}" \
     -Djava.io.tmpdir="$dir/tmp" -jar "$dir/$jar_name" --port "$port" ${args[@]+"${args[@]}"} \
     >>"$dir/node.log" 2>&1 </dev/null) &
  echo $! >"$dir/node.pid"
  log "$label: started pid $! (log: $dir/node.log)"
}

deploy_local() {
  local node=$1 dir port url
  [[ $node =~ ^(.+):([0-9]+)$ ]]
  dir=$(cd "${BASH_REMATCH[1]}" && pwd)
  port=${BASH_REMATCH[2]}
  url="http://127.0.0.1:$port"
  local label="$dir:$port" begun=$SECONDS
  staged="$dir/$jar_name.new"                           # removed on exit unless it was moved into place
  cp "$jar" "$staged"                                   # before the drain: the node is away for less time
  drain_and_wait "$url" "$label"
  local_stop "$dir" "$label"
  [[ -f $dir/$jar_name ]] && mv -f "$dir/$jar_name" "$dir/$jar_name.previous"
  mv -f "$staged" "$dir/$jar_name"
  staged=
  local_start "$dir" "$port" "$label"
  await_ready "$url" "$label" "$dir/$jar_name.previous"
  log "$label: done in $((SECONDS - begun)) s"
}

# --- a host over ssh ------------------------------------------------------------------------------------------

deploy_ssh() {
  local target=$1 host=${1#*@} begun=$SECONDS
  local url="http://$host:$port" current="$install_dir/$jar_name" remote_staged="/tmp/agent-turbo-micro-$$.jar"
  log "$host: copying $jar"
  scp -q "${ssh_options[@]}" "$jar" "$target:$remote_staged" || die "$host: copy failed; nothing changed on it"
  ssh -n "${ssh_options[@]}" "$target" "$(printf 'set -e; sudo install -m 0644 %q %q.new; rm -f %q' \
      "$remote_staged" "$current" "$remote_staged")" || die "$host: could not stage the jar in $install_dir; nothing changed on it"
  drain_and_wait "$url" "$host"
  log "$host: stopping the node ($stop_command), replacing the jar, starting it ($start_command)"
  ssh -n "${ssh_options[@]}" "$target" "$(printf 'set -e; %s; if [ -f %q ]; then sudo mv -f %q %q.previous; fi; sudo mv -f %q.new %q; %s' \
      "$stop_command" "$current" "$current" "$current" "$current" "$current" "$start_command")" \
    || die "$host: stop, replace or start failed; stopping here. The previous jar: $host:$current.previous"
  await_ready "$url" "$host" "$host:$current.previous"
  log "$host: done in $((SECONDS - begun)) s"
}

staged=
trap '[[ -z $staged ]] || rm -f "$staged"' EXIT
started=$SECONDS
for node in "$@"; do
  if [[ $node == */* ]]; then deploy_local "$node"; else deploy_ssh "$node"; fi
done
log "done: $# node(s) run $(basename "$jar") (in $((SECONDS - started)) s)"
