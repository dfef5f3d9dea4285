#!/usr/bin/env bash
# Runs the engine's benchmarks and prints one line per figure (docs/BENCHMARKS.md records them, with dates).
# Not part of the test suite: it takes some 15 minutes and wants a quiet machine. It starts its own Payara Micro
# nodes, throw-away databases on the local PostgreSQL (db/postgres.sh) and, for some figures, PostgreSQL servers
# of its own under target/pg. The naive queue cycle it compares with is db/bench/naive-cycle.sql under pgbench.
#
#   payara/benchmark.sh                     every figure
#   payara/benchmark.sh dispatchThroughput  one of: dispatchThroughput idleCost scaleOnPaper outputOfBusyAgents
#                                                   claimsAfterAMillionTasks pickUpLatency tasksPageWith100000Tasks
#                                                   claimsBesideAKeyBacklog
#                                                   subscriptionWindow (the real claude program, installed by npm
#                                                   into target/claude-cli on first use)
set -euo pipefail
cd "$(dirname "$0")/.."

bash db/postgres.sh --test >/dev/null
command -v pgbench >/dev/null || { echo "[benchmark] pgbench is missing (Debian package postgresql-client)" >&2; exit 1; }

mkdir -p target
log=target/benchmark.log
echo "[benchmark] $(date -u +%FT%TZ) on $(nproc) cores; full output in $log" >&2
mvn -B verify -Dagentturbo.node.fullJit=true -Dit.test="EngineBenchmark${1:+#$1}" -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dfailsafe.failIfNoSpecifiedTests=false >"$log" 2>&1 || { tail -n 60 "$log" >&2; exit 1; }
grep '^BENCH ' "$log" | sed 's/^BENCH //'
