#!/usr/bin/env bash
# Rolling deploy of a new agent-turbo.war to the nodes of a fleet, one host at a time: copy the WAR, restart the
# node with SIGTERM (it stops claiming, lets running agents finish within the drain grace and gives the rest back
# to the queue, where the other nodes take it), wait until /api/workers shows the node active again, next host.
# It stops at the first host that does not come back; the hosts after it keep the old WAR.
#
#   payara/deploy.sh target/agent-turbo.war host-a host-b [user@]host-c ...
#
# Each host runs the node as payara/agent-turbo.service sets it up; the ssh user may run sudo without a password.
# A node is recognised in /api/workers by its "host" field (the host's `hostname`) and a new "startedAt".
# Settings (environment):
#   INSTALL_DIR   /opt/agent-turbo                       where the WAR goes; the one it replaces is kept as .previous
#   PORT          8080                                   the nodes' HTTP port
#   RESTART       sudo systemctl restart agent-turbo     on macOS: sudo launchctl kill SIGTERM system/dev.agentturbo.node
#   WAIT_SECONDS  300                                    how long a node may take to drain, start and register
#   SSH_OPTIONS   -o BatchMode=yes                       extra options for ssh and scp
#   AGENTTURBO_TOKEN  (required)                         a token of the fleet (any role) to read /api/workers
set -euo pipefail

install_dir=${INSTALL_DIR:-/opt/agent-turbo}
port=${PORT:-8080}
restart=${RESTART:-sudo systemctl restart agent-turbo}
wait_seconds=${WAIT_SECONDS:-300}
read -r -a ssh_options <<<"${SSH_OPTIONS:--o BatchMode=yes}"
token=${AGENTTURBO_TOKEN:-}

usage() {
  echo "usage: $0 WAR HOST [HOST ...]   e.g. $0 target/agent-turbo.war node-1 node-2 deploy@node-3" >&2
  exit 2
}
log() { printf '[deploy] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $# -ge 2 ]] || usage
war=$1
shift
[[ -f "$war" && -s "$war" ]] || die "no WAR at '$war'"
[[ -n "$token" ]] || die "set AGENTTURBO_TOKEN to a token of the fleet (POST /api/tokens, any role)"
for tool in ssh scp curl jq; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done

# The startedAt values of the nodes of this host, as a JSON array ([] when the fleet does not answer).
started_at() {
  curl -fsS --max-time 5 -H "Authorization: Bearer $token" "http://$1:$port/api/workers" 2>/dev/null \
    | jq -c --arg h "$2" '[.workers[] | select(.host == $h) | .startedAt]' 2>/dev/null || echo '[]'
}

# Prints the node of this host that is active and started after $3 (a JSON array of earlier startedAt values).
back() {
  local workers
  workers=$(curl -fsS --max-time 5 -H "Authorization: Bearer $token" "http://$1:$port/api/workers" 2>/dev/null) || return 1
  jq -er --arg h "$2" --argjson before "$3" '
    first(.workers[] | select(.host == $h and .state == "active" and (.startedAt as $s | $before | any(. == $s) | not)))
    | "\(.id) active, \(.slots) slots, version \(.version)"' <<<"$workers" 2>/dev/null
}

for target in "$@"; do
  host=${target#*@}
  log "$host: copying $war"
  name=$(ssh -n "${ssh_options[@]}" "$target" hostname) || die "$host: ssh failed"
  before=$(started_at "$host" "$name")
  [[ "$before" != "[]" ]] || log "$host: no node of host '$name' listed now; deploying anyway"
  staged="/tmp/agent-turbo-$$.war"
  scp -q "${ssh_options[@]}" "$war" "$target:$staged" || die "$host: copy failed"
  # rename into place: the running node keeps reading the file it started with
  remote=$(printf 'set -e; sudo install -m 0644 %q %q.new; rm -f %q; ' \
             "$staged" "$install_dir/agent-turbo.war" "$staged")
  remote+=$(printf 'if [ -f %q ]; then sudo cp -p %q %q; fi; sudo mv -f %q.new %q; ' \
             "$install_dir/agent-turbo.war" "$install_dir/agent-turbo.war" "$install_dir/agent-turbo.war.previous" \
             "$install_dir/agent-turbo.war" "$install_dir/agent-turbo.war")
  remote+=$restart
  log "$host: restarting (the node drains first: running agents get the drain grace)"
  ssh -n "${ssh_options[@]}" "$target" "$remote" || die "$host: install or restart failed"

  deadline=$((SECONDS + wait_seconds))
  until node=$(back "$host" "$name" "$before"); do
    (( SECONDS < deadline )) || die "$host: not active again within ${wait_seconds} s; stopping here." \
      "The previous WAR is $install_dir/agent-turbo.war.previous on $host."
    sleep 3
  done
  log "$host: $node"
done
log "done: $# host(s) run $(basename "$war")"
