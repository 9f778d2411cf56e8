#!/usr/bin/env python3
"""Screenshot rerun's web viewer showing an `asid run` recording (run.rrd).

Called by scripts/render-run-picture.sh, which provides the venv
(rerun-sdk==0.36.3 + playwright) and finds Chromium. Steps:

1. Writes a blueprint (.rbl, application id "asid"): the 3D scene of `world`
   on the left, time series of `plots/params` and `plots/joints` on the right,
   side panels collapsed, top bar hidden (it would only show a "Software
   rasterizer" warning), time cursor following the end of the recording.
2. Runs `rerun --serve-web` on loopback (127.0.0.1, free ports) serving the
   .rrd plus the blueprint.
3. Opens the web viewer in headless Chromium (WebGL via SwiftShader), waits
   until the picture stops changing, saves a PNG screenshot.
4. Stops the server and the browser, whatever happens.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import rerun as rr
import rerun.blueprint as rrb

APP_ID = "asid"  # must match the application id the asid SDK logs with

# Flags that let headless Chromium give the viewer a WebGL2 context without a GPU.
CHROMIUM_ARGS = [
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--no-sandbox",  # we run as root in CI / dev containers
    "--disable-dev-shm-usage",
]


def entity_paths(rrd: Path) -> list[str]:
    from rerun.experimental import RrdReader

    return sorted({chunk.entity_path for chunk in RrdReader(rrd).stream()})


def blueprint(paths: list[str]) -> rrb.Blueprint:
    # Fixed camera framing the Panda at the origin and the table (centre x=0.4 m)
    # of the tabletop scenes; z is up.
    scene = rrb.Spatial3DView(
        origin="world",
        name="Scene",
        eye_controls=rrb.EyeControls3D(
            position=[1.3, -0.85, 0.95],
            look_target=[0.5, 0.05, 0.2],
            eye_up=[0.0, 0.0, 1.0],
        ),
        # Planned / executed TCP paths and identified object paths lie flat on
        # the table: draw them thicker than the default hairline.
        overrides={
            p: rr.LineStrips3D.from_fields(radii=0.006).visualizer()
            for p in paths
            if p.startswith("/world/episode_")
        },
    )
    # Show the whole run on the time axis of both plots (start to time cursor,
    # which follows the end of the recording).
    whole_run = rrb.TimeAxis(
        view_range=rr.datatypes.TimeRange(
            start=rrb.TimeRangeBoundary.absolute(seconds=0.0),
            end=rrb.TimeRangeBoundary.cursor_relative(),
        )
    )
    # Parameter estimates and their bounds are logged once per identification,
    # so draw them as markers rather than (invisible one-point) lines.
    params = rrb.TimeSeriesView(
        origin="plots/params",
        name="Identified parameters",
        axis_x=whole_run,
        plot_legend=rrb.PlotLegend(corner="RightTop"),
        overrides={
            p: rr.SeriesPoints(marker_sizes=4.0).visualizer()
            for p in paths
            if p.startswith("/plots/params/")
        },
    )
    joints = rrb.TimeSeriesView(
        origin="plots/joints",
        name="Joint positions [rad]",
        axis_x=whole_run,
        plot_legend=rrb.PlotLegend(corner="RightTop"),
    )
    return rrb.Blueprint(
        rrb.Horizontal(
            scene,
            rrb.Vertical(params, joints),
            column_shares=[3, 2],
        ),
        rrb.TopPanel(state="hidden"),
        rrb.BlueprintPanel(state="collapsed"),
        rrb.SelectionPanel(state="collapsed"),
        rrb.TimePanel(state="collapsed", timeline="time", play_state="following"),
    )


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it if still there after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            server.poll()
            try:
                os.killpg(server.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rerun exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"rerun did not listen on 127.0.0.1:{port} within {timeout}s")


def screenshot(url: str, out: Path, chromium: str, width: int, height: int,
               min_wait: float, max_wait: float, verbose: bool,
               frames_dir: Path | None = None) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            if verbose:
                page.on("console", lambda m: m.type in ("error", "warning") and print("console:", m.type, m.text[:300], file=sys.stderr))
            page.on("pageerror", lambda e: print("page error:", e, file=sys.stderr))
            # Only the local server: no analytics, no examples manifest, nothing off-host.
            page.route("**/*", lambda route: route.continue_()
                       if urllib.parse.urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost")
                       else route.abort())
            page.goto(url)
            start = time.monotonic()
            time.sleep(min_wait)
            # The first screenshot usually shows the viewer still loading. Then
            # wait until the picture differs from it and stays identical over
            # three screenshots a few seconds apart: the recording is fully
            # ingested and the software renderer has settled.
            first, previous, same = None, None, 0
            while True:
                png = page.screenshot(timeout=180_000)  # SwiftShader frames can be slow
                digest = hashlib.sha256(png).hexdigest()
                elapsed = time.monotonic() - start
                if verbose:
                    print(f"screenshot at {elapsed:.0f}s: {digest[:12]}", file=sys.stderr)
                    if frames_dir:
                        (frames_dir / f"{int(elapsed):04d}s.png").write_bytes(png)
                first = first or digest
                same = same + 1 if digest == previous and digest != first else 0
                if same >= 2:
                    break
                if elapsed > max_wait:
                    print(f"warning: picture not stable after {max_wait:.0f}s, keeping the last one",
                          file=sys.stderr)
                    break
                previous = digest
                time.sleep(5)
            out.write_bytes(png)
        finally:
            browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rrd", type=Path, help="recording written by `asid run` (run.rrd)")
    ap.add_argument("out", type=Path, help="PNG to write")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--min-wait", type=float, default=20.0, help="seconds before the first screenshot")
    ap.add_argument("--max-wait", type=float, default=300.0, help="give up waiting for a stable picture")
    ap.add_argument("--verbose", action="store_true", help="print browser warnings and screenshot progress")
    ap.add_argument("--frames", type=Path, help="with --verbose: keep every intermediate screenshot here")
    args = ap.parse_args()

    rrd = args.rrd.resolve()
    if not rrd.is_file():
        ap.error(f"no such file: {rrd}")
    # The CLI that came with this venv's rerun-sdk, so viewer and SDK versions match.
    rerun_bin = str(Path(sys.executable).with_name("rerun"))
    if not os.access(rerun_bin, os.X_OK):
        rerun_bin = shutil.which("rerun") or ap.error("rerun CLI not found (pip install rerun-sdk)")

    with tempfile.TemporaryDirectory(prefix="render-run-picture-") as tmp:
        rbl = Path(tmp) / "asid.rbl"
        blueprint(entity_paths(rrd)).save(APP_ID, rbl)

        grpc_port, web_port = free_port(), free_port()
        log = open(Path(tmp) / "rerun.log", "w+")
        cmd = [
            rerun_bin, "--serve-web", "--bind", "127.0.0.1",
            "--port", str(grpc_port), "--web-viewer-port", str(web_port),
            str(rrd), str(rbl),
        ]
        env = dict(os.environ, BROWSER="true")  # never try to open a desktop browser
        # Own process group: the venv's `rerun` is a wrapper that starts the real
        # binary as a child, so stopping must signal the whole group.
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp,
                                  start_new_session=True)
        try:
            wait_for_port(web_port, server, 30)
            wait_for_port(grpc_port, server, 30)
            proxy = f"rerun+http://127.0.0.1:{grpc_port}/proxy"
            url = f"http://127.0.0.1:{web_port}/?url={urllib.parse.quote(proxy, safe='')}"
            if args.verbose:
                print("viewer:", url, file=sys.stderr)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            screenshot(url, args.out, args.chromium, args.width, args.height,
                       args.min_wait, args.max_wait, args.verbose, args.frames)
        except BaseException:
            log.seek(0)
            sys.stderr.write("--- rerun server log ---\n" + log.read()[-4000:])
            raise
        finally:
            stop(server)
            log.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
