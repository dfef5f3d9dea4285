#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then the integration tests against a real PostgreSQL (installed and
# started when missing), real Payara Micro nodes and the real claude program (installed by the tests from
# the npm registry into target/claude-cli). Extra arguments go to Maven, e.g. -Dit.test=TwoNodesIT.
set -euo pipefail
cd "$(dirname "$0")/.."

bash db/postgres.sh --test

if ! command -v npm >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "[test] installing npm (the tests install the claude program with it)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "[test] npm is needed to install the claude program; install Node.js and npm" >&2
    exit 1
  fi
fi

exec mvn -B verify "$@"
