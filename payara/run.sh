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

if [[ ! -f target/agent-turbo.war || ! -f target/payara-micro.jar || ! -f target/agent-turbo-logging.jar ]] \
   || [[ -n "$(find pom.xml src batch-jobs db -newer target/agent-turbo.war -print -quit)" ]]; then
  echo "[run] building target/agent-turbo.war, target/agent-turbo-logging.jar and target/payara-micro.jar"
  mvn -B -q package -DskipTests
fi

# The claude program the agents run: AGENTTURBO_CLAUDE_COMMAND, else one on the PATH, else the pinned version
# installed from the npm registry into .tools/claude-cli (ignored by git), as the tests do.
claude_version=2.1.197
if [[ -z "${AGENTTURBO_CLAUDE_COMMAND:-}" ]]; then
  if command -v claude >/dev/null 2>&1; then
    AGENTTURBO_CLAUDE_COMMAND=claude
  else
    tools="$PWD/.tools/claude-cli"
    if [[ ! -x "$tools/node_modules/.bin/claude" ]]; then
      if ! command -v npm >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "[run] installing npm (to install the claude program)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
      fi
      if command -v npm >/dev/null 2>&1; then
        echo "[run] installing the claude program $claude_version into $tools"
        npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$claude_version" >/dev/null
      fi
    fi
    if [[ -x "$tools/node_modules/.bin/claude" ]]; then
      AGENTTURBO_CLAUDE_COMMAND="$tools/node_modules/.bin/claude"
    else
      echo "[run] note: no claude program: claude-cli tasks fail until there is one (install Node.js and npm, or"
      echo "[run]       npm install -g @anthropic-ai/claude-code, or set AGENTTURBO_CLAUDE_COMMAND)."
      AGENTTURBO_CLAUDE_COMMAND=claude
    fi
  fi
fi
export AGENTTURBO_CLAUDE_COMMAND
if [[ -z "${CLAUDE_CODE_OAUTH_TOKEN:-}" && -z "${ANTHROPIC_API_KEY:-}" && ! -f "$HOME/.claude/.credentials.json" ]]; then
  echo "[run] the agents have no Claude credentials: run 'claude setup-token' and start again with"
  echo "[run] CLAUDE_CODE_OAUTH_TOKEN=<the token> (a subscription), or with ANTHROPIC_API_KEY=<a key> (the API)."
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

# The node's log (payara/logging.properties): this terminal shows Agent Turbo's own lines and the warnings that
# matter, short; every line of the node, the app server's included, goes to the log file as JSON (or text).
mkdir -p target/run
export AGENTTURBO_LOG_FILE=${AGENTTURBO_LOG_FILE:-$PWD/target/run/agent-turbo.log}
export AGENTTURBO_LOG_CONSOLE=${AGENTTURBO_LOG_CONSOLE:-brief}
echo "[run] starting a node on port $port; its full log: $AGENTTURBO_LOG_FILE"
command -v curl >/dev/null || sleep 30  # no curl to ask whether the node is up: give it time
# shellcheck disable=SC2086
java ${JAVA_OPTS:--Xmx1g} -Djava.io.tmpdir="$PWD/target/run" -Xbootclasspath/a:target/agent-turbo-logging.jar \
  -jar target/payara-micro.jar --logproperties payara/logging.properties \
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
    Full log: $AGENTTURBO_LOG_FILE   (tail -F it; this terminal shows Agent Turbo's lines)
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
