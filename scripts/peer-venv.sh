#!/usr/bin/env bash
# Makes the Python venv of the test peers, .venv-peer in the repository root (franky-sim: MuJoCo behind
# the Franka protocol; mcap and mcap-ros2-support: read our recordings and their ROS 2 mirrors), unless it is already complete. Called by .ci/run
# and by the tests that need a peer (tests/common, crates/*/tests), under a file lock so that tests
# running in parallel wait for one install instead of racing. Needs python3 with venv and pip; the
# wheels are about 650 MB. Environment: PYTHON (default python3).
# Exit codes: 0 ready; 1 the install failed; 3 installed, but MuJoCo cannot be imported (its wheel
# needs the OpenGL loader libraries even headless: apt-get install libgl1 libegl1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv-peer
python=${PYTHON:-python3}

exec 9>"$venv.lock"
if command -v flock >/dev/null; then
  flock 9
fi

# MuJoCo is pinned too: franky-sim accepts any 4.x, and the cross-engine tests' fits depend on the
# engine's numbers (MuJoCo 4.0.1 moved the rod fit of tests/cross_engine_rod.rs out of its bounds).
mujoco_version=4.0.0
if ! [ -x "$venv/bin/franky-sim" ] || ! "$venv/bin/python" -c "import franky_sim, mcap" 2>/dev/null \
  || ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mujoco') != '$mujoco_version')" 2>/dev/null; then
  echo "peer-venv: making $venv (franky-sim 1.0.4, MuJoCo $mujoco_version, mcap 1.6.0, mcap-ros2-support 0.6.0; about 650 MB)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "franky-sim==1.0.4" \
    "mujoco==$mujoco_version" "mcap==1.6.0" "mcap-ros2-support==0.6.0" >&2
elif ! "$venv/bin/python" -c "import mcap_ros2" 2>/dev/null; then
  # A venv made before the ROS 2 mirrors: only the decoder is missing.
  echo "peer-venv: adding mcap-ros2-support 0.6.0 to $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "mcap-ros2-support==0.6.0" >&2
fi
if ! "$venv/bin/python" -c "import mujoco" 2>/dev/null; then
  echo "peer-venv: $venv is installed but MuJoCo cannot be imported; its wheel needs the OpenGL" \
    "loader libraries even headless (Debian/Ubuntu: apt-get install libgl1 libegl1)" >&2
  exit 3
fi
