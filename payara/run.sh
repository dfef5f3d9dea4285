#!/usr/bin/env bash
# Runs Agent Turbo on this machine: makes sure a local PostgreSQL is there (installs and starts it when
# missing), builds the WAR when it is missing or older than the sources, and starts one node on
# http://localhost:8080 (PORT overrides). Every setting is an environment variable; see the README.
# Stop it with Ctrl-C or SIGTERM: the node stops claiming, lets running agents finish within the drain
# grace, gives back what is left and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PORT:-8080}
bash db/postgres.sh

if [[ ! -f target/agent-turbo.war || ! -f target/payara-micro.jar ]] \
   || [[ -n "$(find pom.xml src batch-jobs db -newer target/agent-turbo.war -print -quit)" ]]; then
  echo "[run] building target/agent-turbo.war and target/payara-micro.jar"
  mvn -B -q package -DskipTests
fi

claude=${AGENTTURBO_CLAUDE_COMMAND:-claude}
if ! command -v "${claude%% *}" >/dev/null 2>&1; then
  echo "[run] note: the claude program ('$claude') is not on the PATH: claude-cli tasks will fail until it is"
  echo "[run]       (npm install -g @anthropic-ai/claude-code, or set AGENTTURBO_CLAUDE_COMMAND)."
fi

# Who may use it: an operator token for the API and the console's first operator. Unless given in the
# environment, they are made once and kept (readable by this user only) for the next runs.
credentials=${AGENTTURBO_CREDENTIALS:-$HOME/.agent-turbo/run-credentials}
if [[ -z "${AGENTTURBO_BOOTSTRAP_TOKEN:-}" || -z "${AGENTTURBO_ADMIN_PASSWORD:-}" ]]; then
  if [[ ! -f "$credentials" ]]; then
    mkdir -p "$(dirname "$credentials")"
    umask 077
    random() { head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
    printf 'AGENTTURBO_BOOTSTRAP_TOKEN=%s\nAGENTTURBO_ADMIN_PASSWORD=%s\n' "$(random 40)" "$(random 20)" > "$credentials"
  fi
  # shellcheck disable=SC1090
  source "$credentials"
fi
export AGENTTURBO_BOOTSTRAP_TOKEN AGENTTURBO_ADMIN_PASSWORD
export AGENTTURBO_ADMIN_USER=${AGENTTURBO_ADMIN_USER:-admin}

mkdir -p target/run
command -v curl >/dev/null || sleep 30  # no curl to ask whether the node is up: give it time
# shellcheck disable=SC2086
java ${JAVA_OPTS:--Xmx512m} -Djava.io.tmpdir="$PWD/target/run" -jar target/payara-micro.jar \
  --deploy target/agent-turbo.war --port "$port" --nocluster &
node=$!
trap 'kill -TERM "$node" 2>/dev/null; wait "$node"; exit 0' INT TERM

for _ in $(seq 1 300); do
  if ! command -v curl >/dev/null || curl -fsS -H "Authorization: Bearer $AGENTTURBO_BOOTSTRAP_TOKEN" \
       "http://localhost:$port/api/workers" >/dev/null 2>&1; then
    cat <<TXT

  Agent Turbo is running.
    API:      http://localhost:$port/api/tasks     (Authorization: Bearer <token>)
    Console:  http://localhost:$port/console/     user '$AGENTTURBO_ADMIN_USER', password '$AGENTTURBO_ADMIN_PASSWORD'
    Operator token: $AGENTTURBO_BOOTSTRAP_TOKEN
    (kept in $credentials unless set in the environment; with a database from before, the console
     keeps the password it was first given)
  Try:  curl -X POST localhost:$port/api/tasks -H "Authorization: Bearer $AGENTTURBO_BOOTSTRAP_TOKEN" \\
          -H 'Content-Type: application/json' \\
          -d '{"prompt": "hello", "executor": "simulated", "options": {"durationMs": 2000}}'
  Stop: Ctrl-C

TXT
    break
  fi
  kill -0 "$node" 2>/dev/null || { wait "$node"; exit $?; }
  sleep 1
done
wait "$node"
