#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then the integration tests against a real PostgreSQL (installed and
# started when missing), real Payara Micro nodes and the real claude program (installed by the tests from
# the npm registry into target/claude-cli), a headless Chromium for the console (Debian's chromium and
# chromium-driver, installed when missing) and Debian's prometheus for the metrics (installed when missing; the
# test starts its own process, never the package's service). Extra arguments go to Maven, e.g. -Dit.test=TwoNodesIT.
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

if [[ ! -x /usr/bin/chromedriver ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "[test] installing chromium and chromium-driver (the console's test drives a headless Chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "[test] /usr/bin/chromedriver is needed by ConsoleIT; install Debian's chromium and chromium-driver" >&2
    exit 1
  fi
fi

if [[ ! -x /usr/bin/prometheus ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "[test] installing prometheus (MetricsIT scrapes a node with Debian's real Prometheus)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "[test] /usr/bin/prometheus is needed by MetricsIT; install Debian's prometheus package" >&2
    exit 1
  fi
fi

exec mvn -B verify "$@"
