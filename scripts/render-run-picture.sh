#!/usr/bin/env bash
# Render a picture of an `asid run` recording with rerun's own web viewer.
#
# Usage: scripts/render-run-picture.sh RUN.rrd [OUT.png] [--verbose]
#   RUN.rrd  recording written by `asid run SCENE.toml` (runs/<stamp>-<scene>/run.rrd)
#   OUT.png  picture to write (default: docs/run.png of this repo), 1280x800
#
# What it does:
#   1. makes (once) a scratch Python venv outside the repo, in
#      ${ASID_PICTURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asid/render-run-picture}/venv,
#      with rerun-sdk==0.36.3 (must equal the rerun crate version asid logs with)
#      and playwright (the Python package only: it drives the system Chromium);
#   2. runs scripts/render_run_picture.py, which writes a blueprint (3D scene of
#      `world`, time series of `plots/params` and `plots/joints`), serves the
#      recording with `rerun --serve-web` on 127.0.0.1 (free ports), opens the
#      web viewer in headless Chromium (WebGL through SwiftShader), waits until
#      the picture is stable, screenshots it and shuts the server down;
#   3. shrinks the PNG losslessly with optipng when it is installed.
#
# Needs: python3 (3.9+) with venv, network access to PyPI on first use,
# Chromium (Debian: `apt-get install -y chromium`; or set CHROMIUM=/path/to/chrome),
# optionally optipng (`apt-get install -y optipng`). No GPU: it takes 1-3 minutes.
set -euo pipefail

RERUN_VERSION=0.36.3

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 1 && $1 != -h && $1 != --help ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rrd=$1; shift
out=$(dirname "$here")/docs/run.png
if [[ $# -ge 1 && $1 != --* ]]; then out=$1; shift; fi
[[ -f $rrd ]] || { echo "no such recording: $rrd" >&2; exit 1; }

# Chromium: the real binary, not Debian's /usr/bin/chromium wrapper script.
if [[ -z ${CHROMIUM:-} ]]; then
  for c in /usr/lib/chromium/chromium /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
    if [[ -x $c ]]; then CHROMIUM=$c; break; fi
  done
fi
[[ -n ${CHROMIUM:-} && -x $CHROMIUM ]] || {
  echo "Chromium not found: apt-get install -y chromium, or set CHROMIUM=/path/to/chrome" >&2; exit 1; }
export CHROMIUM

cache=${ASID_PICTURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asid/render-run-picture}
venv=$cache/venv
if ! "$venv/bin/python" -c "import rerun, playwright, sys; sys.exit(rerun.__version__ != '$RERUN_VERSION')" 2>/dev/null; then
  echo "setting up $venv (rerun-sdk==$RERUN_VERSION, playwright)" >&2
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "rerun-sdk==$RERUN_VERSION" playwright
  "$venv/bin/rerun" analytics disable >/dev/null 2>&1 || true
fi

PATH=$venv/bin:$PATH "$venv/bin/python" "$here/render_run_picture.py" "$rrd" "$out" "$@"

if command -v optipng >/dev/null; then
  optipng -quiet -o2 "$out"
fi
echo "wrote $out ($(du -k "$out" | cut -f1) KiB)" >&2
