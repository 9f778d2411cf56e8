#!/usr/bin/env bash
# Benchmark (not a test): identification of the FR3 shuffleboard puck on a lab this project did not
# write, for several pucks. For each puck (MuJoCo sliding coefficient and torsional coefficient per
# contact): its truths as a lab would measure them (`bench/franky_puck.py spin`: slide-down and
# spin-down in the same engine settings), then franky-sim with the puck on its floor and the puck's
# pose streamed as pose stream v1 (`bench/franky_puck.py serve`), `asid execute --arm franka://...
# --poses udp://...` of one plan, `asid identify`; prints one line per puck: truth, estimate, 95 %
# interval, verdict, and whether each truth is inside its interval.
#   cargo build --release && scripts/bench_cross_engine_puck.sh [PUCKS]
# PUCKS: "mu:torsion mu:torsion ..." (default "0.15:0.005 0.3:0 0.45:0.01").
# Environment: ASID_BIN (default target/release/asid), ASID_PLAN (a plan file; default: plan seed 0
# with `asid explore` and ASID_EXPLORE_ARGS, e.g. a smaller budget), ASID_BENCH_HOST (127.0.0.50),
# ASID_IDENTIFY_ARGS (extra `asid identify` options), ASID_KEEP (a directory to keep the files in).
set -uo pipefail
cd "$(dirname "$0")/.."

pucks=${1:-"0.15:0.005 0.3:0 0.45:0.01"}
asid=${ASID_BIN:-target/release/asid}
host=${ASID_BENCH_HOST:-127.0.0.50}
scene=scenes/shuffleboard_fr3.toml
scripts/peer-venv.sh || exit 2
py=.venv-peer/bin/python
work=${ASID_KEEP:-$(mktemp -d)}
mkdir -p "$work"
peer_pid=""

stop_peer() {
  if [ -n "$peer_pid" ]; then
    kill "$peer_pid" 2>/dev/null
    wait "$peer_pid" 2>/dev/null
    peer_pid=""
  fi
}
trap 'stop_peer; [ -n "${ASID_KEEP:-}" ] || rm -rf "$work"' EXIT

[ -x "$asid" ] || { echo "build first: cargo build --release" >&2; exit 2; }

plan=${ASID_PLAN:-}
if [ -z "$plan" ]; then
  plan="$work/plan.json"
  # shellcheck disable=SC2086
  "$asid" explore "$scene" --seed 0 --out "$plan" ${ASID_EXPLORE_ARGS:-} >"$work/explore.log" 2>&1 \
    || { echo "no plan: $(grep -m1 '^error' "$work/explore.log")"; exit 1; }
fi
echo "plan: $plan ($(python3 -c "import json,sys; p=json.load(open(sys.argv[1])); o=p['options']; print(f\"seed {o['seed']}, {o['prior_samples']} prior samples, {o['population']} x {o['iterations']} candidates, design {p['design']}\")" "$plan"))"

port=7750
for puck in $pucks; do
  mu=${puck%%:*}
  torsion=${puck##*:}
  tag="mu$mu-c$torsion"
  truth=$("$py" bench/franky_puck.py spin --mu "$mu" --torsion "$torsion")
  "$py" bench/franky_puck.py serve --hostname "$host" --poses "127.0.0.1:$port" --mu "$mu" \
    --torsion "$torsion" --report "$work/moved-$tag.json" >"$work/peer-$tag.log" 2>&1 &
  peer_pid=$!
  for _ in $(seq 1 900); do
    grep -q "Connect to the server" "$work/peer-$tag.log" && break
    sleep 0.2
  done
  "$asid" execute "$plan" --arm "franka://$host" --poses "udp://127.0.0.1:$port" \
    --out "$work/ep-$tag.mcap" --watchdog-ms 3000 --stale-ms 500 >"$work/execute-$tag.log" 2>&1
  status=$?
  stop_peer
  if [ "$status" -ne 0 ]; then
    echo "puck mu $mu torsion $torsion: execute FAILED (exit $status): $(grep -m1 '^error' "$work/execute-$tag.log")"
    continue
  fi
  # shellcheck disable=SC2086
  "$asid" identify "$scene" "$work/ep-$tag.mcap" --json ${ASID_IDENTIFY_ARGS:-} \
    >"$work/fit-$tag.json" 2>"$work/identify-$tag.log" \
    || { echo "puck mu $mu torsion $torsion: identify FAILED: $(tail -1 "$work/identify-$tag.log")"; continue; }
  python3 - "$mu" "$torsion" "$truth" "$work/moved-$tag.json" "$work/fit-$tag.json" <<'EOF'
import json, sys
mu, torsion, truth, moved, fit = sys.argv[1:]
truth = json.loads(truth)
moved = json.load(open(moved))
fit = json.load(open(fit))
t = {"puck.friction": truth["sliding"], "puck.torsional_friction": truth["torsional_m"]}
print(f"puck mu {mu} torsion {torsion}: moved {100 * (moved['dx_m']**2 + moved['dy_m']**2) ** 0.5:.1f} cm, "
      f"turned {moved['dyaw_rad'] * 57.29578:.1f} deg; reduced chi2 {fit['reduced_chi2']:.2f}, "
      f"misfit {fit['misfit']}, drive {fit['drive']}")
for name, v in t.items():
    i = fit["interval95"][name]
    inside = i["lo"] <= v <= i["hi"]
    ends = f"[{i['lo']:.4g}{' (open)' if i['lo_open'] else ''}, {i['hi']:.4g}{' (open)' if i['hi_open'] else ''}]"
    verdict = "identifiable" if fit["identifiable"][name] else "not determined"
    print(f"  {name}: truth {v:.4g} estimate {fit['estimate'][name]:.4g} std {fit['std'][name]:.3g} "
          f"interval95 {ends} {verdict}; truth {'inside' if inside else 'OUTSIDE'}")
for c in fit["confounded"]:
    a, b = (t[p] for p in c["params"])
    at = a - c["k"] * b
    z = (at - c["value"]) / c["std"]
    print(f"  combination {c['combination']}: {at:.4g} at the truth ({z:+.1f} std)")
EOF
  port=$((port + 1))
done
