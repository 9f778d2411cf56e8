#!/usr/bin/env bash
# Benchmark (not a test): do the plans `asid explore` writes for an FR3 scene run to the end on a
# Franka arm? Plans N seeds (default 10) for the scene with the README's command, then executes
# each on a fresh franky-sim (MuJoCo FR3 behind the Franka protocol) and prints how many ran to the
# end. Needs the release binary and the peer venv:
#   cargo build --release && scripts/bench_fr3_plans.sh [SEEDS] [SCENE]
# Environment: ASID_BIN (default target/release/asid), ASID_FRANKY_SIM (default .venv-peer/bin/franky-sim), ASID_BENCH_HOST (127.0.0.40),
# ASID_EXPLORE_ARGS (extra `asid explore` options, e.g. a smaller budget).
set -uo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-10}
scene=${2:-scenes/shuffleboard_fr3.toml}
asid=${ASID_BIN:-target/release/asid}
peer_bin=${ASID_FRANKY_SIM:-.venv-peer/bin/franky-sim}
host=${ASID_BENCH_HOST:-127.0.0.40}
work=$(mktemp -d)
peer_pid=""

stop_peer() {
  if [ -n "$peer_pid" ]; then
    kill "$peer_pid" 2>/dev/null
    wait "$peer_pid" 2>/dev/null
    peer_pid=""
  fi
}
trap 'stop_peer; rm -rf "$work"' EXIT

[ -x "$asid" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x "$peer_bin" ] || { echo "no franky-sim at $peer_bin (see .ci/run)" >&2; exit 2; }

planned=0
ran=0
for seed in $(seq 0 $((seeds - 1))); do
  plan="$work/plan-$seed.json"
  # shellcheck disable=SC2086
  if ! "$asid" explore "$scene" --seed "$seed" --out "$plan" ${ASID_EXPLORE_ARGS:-} \
      >"$work/explore-$seed.log" 2>&1; then
    echo "seed $seed: no plan written: $(grep -m1 '^error' "$work/explore-$seed.log")"
    continue
  fi
  planned=$((planned + 1))
  "$peer_bin" --simulator mujoco --hostname "$host" >"$work/peer-$seed.log" 2>&1 &
  peer_pid=$!
  for _ in $(seq 1 600); do
    grep -q "Connect to the server" "$work/peer-$seed.log" && break
    sleep 0.2
  done
  "$asid" execute "$plan" --arm "franka://$host" --out "$work/ep-$seed.mcap" \
    --watchdog-ms 3000 >"$work/execute-$seed.log" 2>&1
  status=$?
  stop_peer
  done_line=$(grep -m1 " actions in " "$work/execute-$seed.log")
  dry=$(grep -m1 "1 kHz dry run" "$work/execute-$seed.log")
  if [ "$status" -eq 0 ] && grep -qE '^([0-9]+) of \1 actions' "$work/execute-$seed.log"; then
    ran=$((ran + 1))
    echo "seed $seed: ran to the end: $done_line | $dry"
  else
    echo "seed $seed: FAILED (exit $status): $(grep -m1 '^error' "$work/execute-$seed.log") $done_line"
  fi
done
echo "plans written: $planned of $seeds; ran to the end on franky-sim: $ran of $planned"
