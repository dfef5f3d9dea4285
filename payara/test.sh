#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then the integration tests against a real PostgreSQL (installed and
# started when missing), real Payara Micro nodes and the real claude program (installed by the tests from
# the npm registry into target/claude-cli), a headless Chromium for the console (Debian's chromium and
# chromium-driver, installed when missing) and Debian's prometheus for the metrics (installed when missing; the
# test starts its own process, never the package's service). Extra arguments go to Maven, e.g. -Dit.test=TwoNodesIT.
set -euo pipefail
cd "$(dirname "$0")/.."

bash db/postgres.sh --test

# install_missing PROGRAM WHY PACKAGE…: installs Debian's packages when PROGRAM is missing (as root), else says what to do
install_missing() {
  local program=$1 why=$2
  shift 2
  if command -v "$program" >/dev/null 2>&1; then
    return
  fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "[test] installing $* ($why)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "[test] $program is needed: $why; install Debian's $*" >&2
    exit 1
  fi
}

install_missing npm "the tests install the claude program with it" npm
install_missing /usr/bin/chromedriver "ConsoleIT drives a headless Chromium" chromium chromium-driver
# only the program: MetricsIT starts its own process, never the package's service
install_missing /usr/bin/prometheus "MetricsIT scrapes a node with the real Prometheus" prometheus

exec mvn -B verify "$@"
