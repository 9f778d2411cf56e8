#!/usr/bin/env python3
"""A foreign lab for the FR3 shuffleboard: franky-sim (MuJoCo behind the Franka protocol) with a puck
of known frictions on its floor, and a tracker that streams the puck's pose from MuJoCo's state as
pose stream v1 (docs/pose-stream.md). Used by `tests/cross_engine_puck.rs` and
`scripts/bench_cross_engine_puck.sh`.

  franky_puck.py serve --hostname 127.0.0.61 --poses 127.0.0.1:7711 --mu 0.3 --torsion 0.004
      serves the robot on HOSTNAME:1337 and sends the puck's pose every 10 ms of simulated time
      (`t` = MuJoCo's time: a steady clock that follows the simulation when it runs below real
      time); prints "Connect to the server" when ready; with --report FILE keeps the puck's
      displacement since the start there (dx_m, dy_m, dyaw_rad; rewritten every 0.1 s).
  franky_puck.py spin --mu 0.3 --torsion 0.004
      prints what a lab would measure on this puck in the same MuJoCo settings, the quantities asid's
      parameters name: {"sliding": deceleration / g of a slide from 0.3 m/s, "torsional_m": the
      whole contact's friction torque per unit normal force in a spin-down from 2 rad/s,
      "torsional_footprint_m": the same for Coulomb friction on the footprint, for comparison}.

MuJoCo settings that make the frictions what they say (checked on MuJoCo 4.0, see the stack notes):
the puck has priority 1 over the floor (the pair's friction is the puck's, not max() with the
floor's 1.0) and condim 4 (torsion is ignored below 4); the cone is elliptic (the default pyramidal
cone is anisotropic). The pusher is the scene's tool (robots/tools/pusher.toml: a rod of radius
1 cm, 13 cm out from the flange, friction 1.0) on the hand body, with priority 2 so that the
pusher-puck pair uses the pusher's coefficient, and a contact as stiff as MuJoCo allows (time
constant 2 x timestep, as in bench/mujoco_push.py); the puck-floor contacts keep MuJoCo's default
stiffness (with the stiff one the puck chattered on its feet and slid at 0.265 g for mu 0.3).
Collision bits keep the Franka Hand off the puck (only the pusher and the floor touch it).
"""
import argparse
import json
import math
import os
import socket
import sys
import xml.etree.ElementTree as ET

import mujoco

# scenes/shuffleboard_fr3.toml
PUCK_RADIUS_M = 0.04
PUCK_HALF_HEIGHT_M = 0.01
PUCK_MASS_KG = 0.15
PUCK_XYZ_M = (0.5, 0.0, 0.01)
# robots/tools/pusher.toml
PUSHER_RADIUS_M = 0.01
PUSHER_HALF_LENGTH_M = 0.065
PUSHER_MU = 1.0
DT_S = 0.001
SOLREF = f"{2 * DT_S} 1"


# The puck rests on a footprint of small spheres (FEET_RINGS equal-area rings of FEET_PER_RING),
# not on its cylinder: MuJoCo rests a cylinder on a plane on one to three rim contacts and rocks on
# them, and its spin-down torque then ranged over 0.004-0.014 m (mu 0.3, torsion 0-0.01) with the
# spin rate and contact stiffness. On a flat footprint the loads are equal and the whole contact's
# spin torque per unit normal force is the mean of sqrt((mu rho_i)^2 + c^2) over the feet (the
# elliptic cone couples each foot's slide and spin), which `spin` checks against a spin-down.
FEET_RINGS = 4
FEET_PER_RING = 8
FOOT_RADIUS_M = 0.002


def feet_radii():
    """Ring radii that keep each equal-area annulus's first moment (a uniform disc's spin torque)."""
    out = []
    for k in range(FEET_RINGS):
        a = PUCK_RADIUS_M * math.sqrt(k / FEET_RINGS)
        b = PUCK_RADIUS_M * math.sqrt((k + 1) / FEET_RINGS)
        out.append(2.0 / 3.0 * (b**3 - a**3) / (b**2 - a**2))
    return out


def spin_torque_per_n(mu, torsion):
    """asid's `puck.torsional_friction` for this puck: the footprint's spin torque per unit load."""
    return sum(math.sqrt((mu * r) ** 2 + torsion**2) for r in feet_radii()) / FEET_RINGS


def add_puck(worldbody, mu, torsion):
    body = ET.SubElement(worldbody, "body", name="puck", pos=" ".join(map(str, PUCK_XYZ_M)))
    ET.SubElement(body, "freejoint", name="puck_joint")
    # The cylinder carries the mass and meets the pusher (collision bit 4), never the floor.
    ET.SubElement(
        body,
        "geom",
        name="puck",
        type="cylinder",
        size=f"{PUCK_RADIUS_M} {PUCK_HALF_HEIGHT_M}",
        mass=str(PUCK_MASS_KG),
        contype="4",
        conaffinity="4",
        rgba="0.9 0.2 0.1 1",
    )
    z = -PUCK_HALF_HEIGHT_M + FOOT_RADIUS_M
    for k, r in enumerate(feet_radii()):
        for j in range(FEET_PER_RING):
            a = 2 * math.pi * (j + 0.5 * (k % 2)) / FEET_PER_RING
            ET.SubElement(
                body,
                "geom",
                name=f"puck_foot_{k}_{j}",
                type="sphere",
                size=str(FOOT_RADIUS_M),
                pos=f"{r * math.cos(a)} {r * math.sin(a)} {z}",
                mass="0",
                friction=f"{mu} {torsion} 0",
                condim="4",
                priority="1",
                contype="2",
                conaffinity="2",
            )


def yaw(q):
    w, x, y, z = q
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def serve(args):
    from franky_sim.mujoco_simulator import MujocoSimulator

    with MujocoSimulator() as sim:
        build_and_serve(sim, args)


def build_and_serve(sim, args):
    import franky_sim

    scene = sim.scene
    option = scene.find("option")
    if option is None:
        option = ET.SubElement(scene, "option")
    option.set("cone", "elliptic")
    robot = sim.add_robot()
    # The floor also collides with the puck's and the pusher's collision bit (2).
    ground = next(g for g in sim.worldbody.iter("geom") if g.get("name") == "ground")
    ground.set("conaffinity", "3")
    add_puck(sim.worldbody, args.mu, args.torsion)
    hand = next(b for b in sim.worldbody.iter("body") if b.get("name") == "robot0_hand")
    # The hand body's frame is the flange's turned about z: a rod along z is the same in both.
    ET.SubElement(
        hand,
        "geom",
        name="pusher",
        type="cylinder",
        size=f"{PUSHER_RADIUS_M} {PUSHER_HALF_LENGTH_M}",
        pos=f"0 0 {PUSHER_HALF_LENGTH_M}",
        mass="0.15",
        friction=f"{PUSHER_MU} 0 0",
        priority="2",
        solref=SOLREF,
        contype="4",
        conaffinity="4",
    )

    host, port = args.poses.rsplit(":", 1)
    target = (host, int(port))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    every = max(1, round(1.0 / (args.pose_hz * DT_S)))
    state = {"steps": 0, "body": None, "start": None}
    report_every = max(1, round(0.1 / DT_S))

    def publish(s):
        m, d = s.model, s.data
        if state["body"] is None:
            state["body"] = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "puck")
        state["steps"] += 1
        if state["steps"] % every:
            return
        b = state["body"]
        p = [float(v) for v in d.xpos[b]]
        q = [float(v) for v in d.xquat[b]]
        if state["start"] is None:
            state["start"] = (p, yaw(q))
        if args.report and state["steps"] % report_every == 0:
            (p0, yaw0) = state["start"]
            turn = (yaw(q) - yaw0 + math.pi) % (2 * math.pi) - math.pi
            moved = {"t_s": float(d.time), "dx_m": p[0] - p0[0], "dy_m": p[1] - p0[1], "dyaw_rad": turn}
            with open(args.report + ".tmp", "w") as f:
                json.dump(moved, f)
            os.replace(args.report + ".tmp", args.report)
        msg = {"t": float(d.time), "frame": "base", "poses": {"puck": {"p": p, "q": q}}}
        try:
            sock.sendto(json.dumps(msg, allow_nan=False).encode(), target)
        except OSError:
            pass  # the receiver is not up yet: a tracker keeps sending

    sim.register_post_step_callback(publish)
    kwargs = {"hostname_candidates": [args.hostname]}
    with franky_sim.SimulationServer(sim, **kwargs) as server:
        print(f"Connect to the server using '{robot.hostname}' as the robot IP address", flush=True)
        try:
            server.run_forever()
        except KeyboardInterrupt:
            pass


def settled_puck(mu, torsion):
    """The puck alone on the floor, with the contact settings of `serve`, settled."""
    root = ET.Element("mujoco")
    ET.SubElement(root, "option", timestep=str(DT_S), cone="elliptic", gravity="0 0 -9.81")
    wb = ET.SubElement(root, "worldbody")
    ET.SubElement(wb, "geom", name="ground", type="plane", size="2 2 0.1", conaffinity="3")
    add_puck(wb, mu, torsion)
    m = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
    d = mujoco.MjData(m)
    for _ in range(300):
        mujoco.mj_step(m, d)
    return m, d


def slow_down(mu, torsion, dof, v0):
    """Mean deceleration of one velocity component of the free joint from v0 to 0.3 v0."""
    m, d = settled_puck(mu, torsion)
    d.qvel[:] = 0.0
    d.qvel[dof] = v0
    mujoco.mj_step(m, d)
    t0, w0 = d.time, d.qvel[dof]
    while d.qvel[dof] > 0.3 * v0 and d.time < t0 + 10.0:
        mujoco.mj_step(m, d)
    return m, (w0 - d.qvel[dof]) / (d.time - t0)


def spin(args):
    """What a lab would measure on this puck: a slide-down and a spin-down (rates like a push's)."""
    _, a = slow_down(args.mu, args.torsion, 0, 0.3)
    m, alpha = slow_down(args.mu, args.torsion, 5, 2.0)
    izz = m.body_inertia[1][2]
    print(
        json.dumps(
            {
                "sliding": a / 9.81,
                "torsional_m": izz * alpha / (PUCK_MASS_KG * 9.81),
                "torsional_footprint_m": spin_torque_per_n(args.mu, args.torsion),
            }
        )
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--hostname", required=True)
    s.add_argument("--poses", required=True, help="HOST:PORT of asid's pose receiver")
    s.add_argument("--pose-hz", type=float, default=100.0)
    s.add_argument("--report", help="file to keep the puck's displacement since the start in (JSON)")
    s.add_argument("--mu", type=float, required=True)
    s.add_argument("--torsion", type=float, required=True, help="MuJoCo's torsional coefficient (m)")
    p = sub.add_parser("spin")
    p.add_argument("--mu", type=float, required=True)
    p.add_argument("--torsion", type=float, required=True)
    args = ap.parse_args()
    {"serve": serve, "spin": spin}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
