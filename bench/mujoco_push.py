#!/usr/bin/env python3
"""Replays pushes in MuJoCo: the second engine of `asid bench push --versus mujoco`.

Reads one JSON object from stdin: {"cases": [case, ...]}, each case
  {"shape": {"kind": "box", "half_extents_m": [..]} | {"kind": "cylinder", "radius_m", "half_height_m"},
   "pose_xyz_m": [x, y, z], "mass_kg", "com_m": [x, y, z], "inertia_kg_m2": [ixx, iyy, izz],
   "mu": pair sliding friction with the table, "torsion_m": null | MuJoCo torsional coefficient,
   "pusher": {"radius_m", "half_length_m", "tip_z_m", "mu"},
   "path_xy_m": [[x, y], ...] (pusher tip at every control step), "control_dt_s", "dt_s", "settle_s"}
and prints {"results": [{"dx_m", "dy_m", "yaw_deg", "poses": [[x, y, z, qw, qx, qy, qz], ...]}, ...]}:
the final displacement and heading change after settling, and the object's pose at every control
step of the path (the first entry before any motion).

MuJoCo conventions that matter here (checked on MuJoCo 4.0, see shared stack notes): a pair's friction
is the max of the two geoms' unless one has a higher priority, so the object gets priority 1 over the
floor (pair = the object's mu) and the pusher priority 2 over the object (pair = the pusher's mu); the
default pyramidal cone is anisotropic, so the elliptic cone is used; condim 3 ignores torsion, so a
torsional coefficient switches the object to condim 4. Contacts are made as stiff as MuJoCo allows
(solref time constant = 2 x timestep): with the default 0.02 s a kinematic pusher at 0.5 m/s sinks
about 1 cm into the object before the contact pushes back.
"""
import json
import math
import sys

import mujoco
import numpy as np


def model_xml(c):
    s = c["shape"]
    if s["kind"] == "box":
        h = s["half_extents_m"]
        geom = f'type="box" size="{h[0]} {h[1]} {h[2]}"'
    elif s["kind"] == "cylinder":
        geom = f'type="cylinder" size="{s["radius_m"]} {s["half_height_m"]}"'
    else:
        raise SystemExit(f"mujoco_push.py: shape kind {s['kind']!r} is not supported (box, cylinder)")
    torsion = c.get("torsion_m")
    condim = 4 if torsion is not None else 3
    tors = torsion if torsion is not None else 0.0
    x, y, z = c["pose_xyz_m"]
    com = c["com_m"]
    ixx, iyy, izz = c["inertia_kg_m2"]
    p = c["pusher"]
    return f"""
<mujoco>
  <option timestep="{c['dt_s']}" cone="elliptic" gravity="0 0 -9.81"/>
  <default><geom solref="{2 * c['dt_s']} 1"/></default>
  <worldbody>
    <geom name="floor" type="plane" size="2 2 0.1" friction="0 0 0" priority="0"/>
    <body name="obj" pos="{x} {y} {z}">
      <freejoint/>
      <inertial pos="{com[0]} {com[1]} {com[2]}" mass="{c['mass_kg']}" diaginertia="{ixx} {iyy} {izz}"/>
      <geom name="obj" {geom} friction="{c['mu']} {tors} 0" condim="{condim}" priority="1"/>
    </body>
    <body name="pusher" mocap="true" pos="{c['path_xy_m'][0][0]} {c['path_xy_m'][0][1]} {p['tip_z_m'] + p['half_length_m']}">
      <geom name="pusher" type="cylinder" size="{p['radius_m']} {p['half_length_m']}" friction="{p['mu']} 0 0" priority="2"/>
    </body>
  </worldbody>
</mujoco>"""


def yaw(quat_wxyz):
    w, x, y, z = quat_wxyz
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def run(c):
    m = mujoco.MjModel.from_xml_string(model_xml(c))
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    x0, y0 = d.qpos[0], d.qpos[1]
    yaw0 = yaw(d.qpos[3:7])
    path = np.asarray(c["path_xy_m"], dtype=float)
    sub = max(1, round(c["control_dt_s"] / c["dt_s"]))
    tip_z = c["pusher"]["tip_z_m"] + c["pusher"]["half_length_m"]
    poses = [d.qpos[0:7].tolist()]
    for k in range(len(path) - 1):
        for j in range(sub):
            a = (j + 1) / sub
            p = path[k] + a * (path[k + 1] - path[k])
            d.mocap_pos[0] = [p[0], p[1], tip_z]
            mujoco.mj_step(m, d)
        poses.append(d.qpos[0:7].tolist())
    for _ in range(round(c["settle_s"] / c["dt_s"])):
        mujoco.mj_step(m, d)
    dyaw = (yaw(d.qpos[3:7]) - yaw0 + math.pi) % (2 * math.pi) - math.pi
    return {"dx_m": d.qpos[0] - x0, "dy_m": d.qpos[1] - y0, "yaw_deg": math.degrees(dyaw), "poses": poses}


def main():
    request = json.load(sys.stdin)
    print(json.dumps({"results": [run(c) for c in request["cases"]]}))


if __name__ == "__main__":
    main()
