#!/usr/bin/env bash
# asid against MuJoCo on the rod scene, interleaved in one command (docs/benchmarks.md, issue 15).
#
#   scripts/bench_versus_mujoco.sh [ROUNDS (3)] [SECONDS per measurement (3)]
#
# Builds asid in release, makes the peer venv if needed (MuJoCo), then per round runs, one after the
# other: `asid bench sim scenes/rod.toml --model kinematic`, MuJoCo's rod alone (a kinematic pusher,
# no arm), `asid bench sim scenes/rod.toml --model dynamic`, MuJoCo's Franka with full dynamics and
# the rod (bench/mujoco_versus.py). Prints every measurement, the load average at every round, and
# per pairing the median over the rounds of the per-round ratio asid / MuJoCo of physics steps/s
# (one thread) and of rollouts/s (all cores, and one thread). Interleaving and per-round ratios keep
# the comparison fair on a machine whose load changes; the figures themselves vary with it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${1:-3}
seconds=${2:-3}
scene=scenes/rod.toml

cargo build --release -p asid >&2
scripts/peer-venv.sh >&2
python=${ASID_PEER_PYTHON:-$root/.venv-peer/bin/python}
asid=${CARGO_TARGET_DIR:-$root/target}/release/asid

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "{\"round\": $r, \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" | tee -a "$log"
  for pair in "kinematic rod" "dynamic franka"; do
    set -- $pair
    "$asid" bench sim "$scene" --model "$1" --seconds "$seconds" --json \
      | sed "s/^{/{\"round\": $r, \"engine\": \"asid\", /" | tee -a "$log"
    "$python" bench/mujoco_versus.py --scene "$scene" --model "$2" --seconds "$seconds" --json 2>/dev/null \
      | sed "s/^{/{\"round\": $r, /" | tee -a "$log"
  done
done
echo "{\"round\": \"end\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" | tee -a "$log"

"$python" - "$log" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
loads = [r["load"] for r in rows if "load" in r]
pairs = [("kinematic", "rod", "kinematic arm vs MuJoCo rod alone"),
         ("dynamic", "franka", "dynamic arm vs MuJoCo Franka + rod")]
print()
print("load average (1, 5, 15 min) at each round and at the end:", " | ".join(loads))
print(f"{'pairing':<36} {'asid steps/s':>12} {'mujoco steps/s':>14} {'ratio':>6}   "
      f"{'rollouts/s ratio':>16} {'1-thread ratio':>14} {'vs Python-loop MuJoCo':>21}")
for arm, model, label in pairs:
    a = {r["round"]: r for r in rows if r.get("engine") == "asid" and r.get("arm_model") == arm}
    m = {r["round"]: r for r in rows if r.get("engine") == "mujoco" and r.get("model") == model}
    rounds = sorted(set(a) & set(m))
    if not rounds:
        continue
    med = lambda f: statistics.median(f(k) for k in rounds)
    print(f"{label:<36} {med(lambda k: a[k]['steps_per_s']):>12.0f} {med(lambda k: m[k]['steps_per_s']):>14.0f} "
          f"{med(lambda k: a[k]['steps_per_s'] / m[k]['steps_per_s']):>6.2f}   "
          f"{med(lambda k: a[k]['rollouts_per_s'] / m[k]['rollouts_per_s']):>16.2f} "
          f"{med(lambda k: a[k]['rollouts_per_s_one_thread'] / m[k]['rollouts_per_s_one_thread']):>14.2f} "
          f"{med(lambda k: a[k]['steps_per_s'] / m[k]['steps_per_s_python_loop']):>21.2f}")
print("(ratios: asid / MuJoCo, the median over rounds of each round's ratio; steps/s on one thread;")
print(" MuJoCo stepped by its C rollout, last column: by one Python mj_step call per physics step)")
EOF
