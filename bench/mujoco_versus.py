#!/usr/bin/env python3
"""MuJoCo side of the speed comparison (`scripts/bench_versus_mujoco.sh`): the rod scene in MuJoCo.

Usage: mujoco_versus.py --model rod|franka [--scene scenes/rod.toml] [--seconds 3] [--batch 32] [--json]

Builds the scene from the same files asid reads (the scene TOML, the robot's URDF and robot.toml, the
tool TOML) and measures what `asid bench sim` measures:
  steps_per_s                physics steps per second on one thread (best of three windows)
  rollouts_per_s             episodes per second on all cores (a batch of `--batch`)
  rollouts_per_s_one_thread  the same batch on one thread
A rollout is one episode of the scene (rod: 20 control steps x 50 physics steps of 2 ms) from a reset
state; it is run by MuJoCo's own C rollout (`mujoco.rollout`, no Python per step), which is the
fastest way MuJoCo offers to step a batch. `steps_per_s_python_loop` is the same stepping with one
Python `mj_step` call per physics step (the way most scripts drive MuJoCo), for reference.

Models:
  rod     the rod alone on the table, pushed by the tool's cylinder moved kinematically (a mocap body
          following the tool path), no arm.
  franka  the Panda from robots/panda/panda.urdf with full dynamics: joint armature and damping from
          robot.toml, position actuators with the robot file's kp and kd, force-limited at the joint
          torque limits, gravity compensation of the arm and tool (MuJoCo's gravcomp), the pusher on
          the flange; it pushes the rod on the table. Joint targets come from damped least-squares IK
          of the tool path (computed once per action sequence, outside the timed part), interpolated
          linearly over the physics steps of each control period.

Contact settings, as in bench/mujoco_push.py: elliptic friction cone, pair frictions by geom priority
(rod over table: the rod's coefficient; the tool over the rod: the tool's), contacts as stiff as
MuJoCo allows (solref 2 x timestep), the default Newton solver. The table is a box as in asid.
Action sequences are asid's random exploration (`ActionBounds::random`): a random walk of the step
in a quarter of the action box, the step changing by at most 0.6 m/s^2 x period^2 per control step,
braking to rest, the tool target kept in the workspace.
"""
import argparse
import json
import math
import os
import sys
import time
import tomllib

import mujoco
import numpy as np
from mujoco import rollout

PLAN_TOOL_ACCELERATION_M_S2 = 0.6
# Names of the attached arm's elements (joints, site) carry this prefix in the compiled model.
ARM_PREFIX = "arm-"


def load_toml(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


class Scene:
    def __init__(self, scene_path):
        self.path = scene_path
        self.spec = load_toml(scene_path)
        root = os.path.dirname(os.path.dirname(os.path.abspath(scene_path)))
        arm = self.spec["arm"]
        self.robot_dir = os.path.join(root, "robots", arm["robot"])
        self.robot = load_toml(os.path.join(self.robot_dir, "robot.toml"))
        self.tool = load_toml(os.path.join(root, "robots", "tools", arm["tool"] + ".toml"))
        phys = self.spec.get("physics", {})
        self.dt = phys.get("dt_s", 0.002)
        self.control_dt = 1.0 / arm["control_rate_hz"]
        self.substeps = max(1, round(self.control_dt / self.dt))
        act = arm["action"]
        if act["kind"] != "ee_delta_xy":
            raise SystemExit(f"mujoco_versus.py: action kind {act['kind']!r} not supported (ee_delta_xy)")
        self.action = act
        self.horizon = act["horizon_steps"]
        self.obj = self.spec["object"][0]

    def random_actions(self, rng):
        """asid's ActionBounds::random for ee_delta_xy: random walk, projected (acceleration, workspace)."""
        m = self.action["max_step_m"]
        lo, hi = -m, m
        d = 0.25 * (hi - lo)
        change = PLAN_TOOL_ACCELERATION_M_S2 * self.control_dt**2
        ws = self.action["workspace_xy_m"]
        cur = np.zeros(2)
        pos = np.array(self.action["start_xyz_m"][:2], dtype=float)
        last = np.zeros(2)
        out = []
        for k in range(self.horizon):
            cur = np.clip(cur + rng.uniform(-d, d, 2), lo, hi)
            brake = (self.horizon - k) * change
            step = np.clip(np.clip(cur, last - change, last + change), -brake, brake)
            step = np.clip(step, lo, hi)
            nxt = np.array([np.clip(pos[i] + step[i], ws[i][0], ws[i][1]) for i in range(2)])
            step = nxt - pos
            pos = nxt
            last = step
            out.append(step.copy())
        return out

    def tool_path(self, actions):
        """Tool tip x, y at every control step (the first entry is the start)."""
        p = np.array(self.action["start_xyz_m"][:2], dtype=float)
        path = [p.copy()]
        for a in actions:
            p = p + a
            path.append(p.copy())
        return np.array(path)


def object_xml(sc):
    o = sc.obj
    s = o["shape"]
    if s["kind"] != "box":
        raise SystemExit("mujoco_versus.py: only the rod scene's box object is supported")
    h = s["half_extents_m"]
    mass = o["mass_kg"]
    ballast = o.get("ballast_kg", 0.0)
    com = np.array(o.get("com_m", [0.0, 0.0, 0.0]))
    # Uniform box plus a point ballast placed so that the centre of mass is com_m (asid's model).
    total = mass + ballast
    ballast_pos = com * total / ballast if ballast > 0 else np.zeros(3)
    ix = mass / 3.0 * (h[1] ** 2 + h[2] ** 2)
    iy = mass / 3.0 * (h[0] ** 2 + h[2] ** 2)
    iz = mass / 3.0 * (h[0] ** 2 + h[1] ** 2)
    # Parallel axis about the combined centre of mass (the ballast sits on the long axis here).
    r_box = -com
    r_b = ballast_pos - com
    inert = np.array([ix, iy, iz])
    for mm, r in ((mass, r_box), (ballast, r_b)):
        inert = inert + mm * (np.dot(r, r) - r**2)
    x, y, z = o["pose"]["xyz_m"]
    return f"""
    <body name="rod" pos="{x} {y} {z}">
      <freejoint/>
      <inertial pos="{com[0]} {com[1]} {com[2]}" mass="{total}" diaginertia="{inert[0]} {inert[1]} {inert[2]}"/>
      <geom name="rod" type="box" size="{h[0]} {h[1]} {h[2]}" friction="{o['friction']} 0 0"
            priority="1" contype="1" conaffinity="3"/>
    </body>"""


def table_xml(sc):
    t = sc.spec["table"]
    sx, sy, sz = t["size_m"]
    cx, cy = t["center_xy_m"]
    return f"""
    <geom name="table" type="box" size="{sx / 2} {sy / 2} {sz / 2}" pos="{cx} {cy} {-sz / 2}"
          friction="{t['friction']} 0 0" contype="1" conaffinity="3"/>"""


def pusher_shape(sc):
    shape = sc.tool["shape"][0]
    g = shape["geometry"]
    if g["kind"] != "cylinder":
        raise SystemExit("mujoco_versus.py: only a cylinder tool is supported")
    return g["radius_m"], g["half_height_m"], shape["pose"]["xyz_m"], shape["friction"]


def option_xml(sc, integrator):
    g = sc.spec.get("physics", {}).get("gravity_m_s2", [0.0, 0.0, -9.81])
    return f"""
  <option timestep="{sc.dt}" cone="elliptic" gravity="{g[0]} {g[1]} {g[2]}" integrator="{integrator}"/>
  <default><geom solref="{2 * sc.dt} 1"/></default>"""


def rod_model(sc):
    r, hh, _, mu = pusher_shape(sc)
    tip_z = sc.action["z_m"]
    sx, sy = sc.action["start_xyz_m"][:2]
    xml = f"""
<mujoco>{option_xml(sc, "Euler")}
  <worldbody>{table_xml(sc)}{object_xml(sc)}
    <body name="pusher" mocap="true" pos="{sx} {sy} {tip_z + hh}">
      <geom name="pusher" type="cylinder" size="{r} {hh}" friction="{mu} 0 0" priority="2"
            contype="2" conaffinity="0"/>
    </body>
  </worldbody>
</mujoco>"""
    return mujoco.MjModel.from_xml_string(xml)


def franka_model(sc):
    urdf = os.path.join(sc.robot_dir, sc.robot["urdf"])
    arm = mujoco.MjSpec.from_file(urdf)
    arm.compiler.fusestatic = False
    ctrl = sc.robot["controller"]
    lim = sc.robot["limits"]
    names = sc.robot["joints"]
    for i, n in enumerate(names):
        j = arm.joint(n)
        j.armature = ctrl["armature_kgm2"][i]
        j.damping = [ctrl["joint_damping_nms_per_rad"][i], 0.0, 0.0]
    for b in arm.bodies:
        b.gravcomp = 1.0
    for g in arm.geoms:
        # Arm links touch the table and the rod, not each other (rapier: no self-contacts in a multibody).
        g.contype = 2
        g.conaffinity = 0
        g.solref = [2 * sc.dt, 1]
    flange = arm.body(sc.robot["flange_link"])
    r, hh, xyz, mu = pusher_shape(sc)
    pusher = flange.add_geom()
    pusher.name = "pusher"
    pusher.type = mujoco.mjtGeom.mjGEOM_CYLINDER
    pusher.size = [r, hh, 0]
    pusher.pos = xyz
    pusher.friction = [mu, 0, 0]
    pusher.priority = 2
    pusher.contype = 2
    pusher.conaffinity = 0
    pusher.solref = [2 * sc.dt, 1]
    pusher.mass = sc.tool["mass_kg"]
    site = flange.add_site()
    site.name = "tcp"
    site.pos = sc.tool["tcp_m"]
    for i, n in enumerate(names):
        a = arm.add_actuator()
        a.name = n
        a.target = n
        a.trntype = mujoco.mjtTrn.mjTRN_JOINT
        kp, kd = ctrl["kp_nm_per_rad"][i], ctrl["kd_nms_per_rad"][i]
        a.gaintype = mujoco.mjtGain.mjGAIN_FIXED
        a.gainprm[0] = kp
        a.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        a.biasprm[0:3] = [0, -kp, -kd]
        a.forcelimited = True
        a.forcerange = [-lim["torque_nm"][i], lim["torque_nm"][i]]
    # The world: options, table and rod from MJCF, the arm attached at the base.
    world = mujoco.MjSpec.from_string(f"""
<mujoco>{option_xml(sc, "implicitfast")}
  <worldbody>{table_xml(sc)}{object_xml(sc)}
    <frame name="base"/>
  </worldbody>
</mujoco>""")
    world.attach(arm, frame=world.frame("base"), prefix=ARM_PREFIX)
    return world.compile()


def ik(m, d, arm, q0, target_pos, target_rot, site, iters=50):
    """Damped least squares on position and orientation of the tcp site (kinematics only)."""
    qadr, dadr, jids = arm
    q = q0.copy()
    jacp = np.zeros((3, m.nv))
    jacr = np.zeros((3, m.nv))
    lo, hi = m.jnt_range[jids, 0], m.jnt_range[jids, 1]
    for _ in range(iters):
        d.qpos[qadr] = q
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        ep = target_pos - d.site_xpos[site]
        r = d.site_xmat[site].reshape(3, 3)
        rerr = target_rot @ r.T
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, rerr.flatten())
        er = np.zeros(3)
        mujoco.mju_quat2Vel(er, quat, 1.0)
        e = np.concatenate([ep, er])
        if np.linalg.norm(e) < 1e-9:
            break
        mujoco.mj_jacSite(m, d, jacp, jacr, site)
        j = np.vstack([jacp[:, dadr], jacr[:, dadr]])
        dq = j.T @ np.linalg.solve(j @ j.T + 1e-6 * np.eye(6), e)
        q = np.clip(q + dq, lo, hi)
    return q


class Franka:
    def __init__(self, sc):
        self.sc = sc
        self.m = franka_model(sc)
        self.d = mujoco.MjData(self.m)
        self.site = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_SITE, ARM_PREFIX + "tcp")
        jids = [mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_JOINT, ARM_PREFIX + n)
                for n in sc.robot["joints"]]
        self.arm = (self.m.jnt_qposadr[jids], self.m.jnt_dofadr[jids], jids)
        home = np.array(sc.robot["home_rad"])
        self.d.qpos[self.arm[0]] = home
        mujoco.mj_kinematics(self.m, self.d)
        self.rot = self.d.site_xmat[self.site].reshape(3, 3).copy()
        self.z = sc.action["z_m"]
        sx, sy, sz = sc.action["start_xyz_m"]
        self.q0 = ik(self.m, self.d, self.arm, home, np.array([sx, sy, sz]), self.rot, self.site, iters=200)
        mujoco.mj_resetData(self.m, self.d)
        self.d.qpos[self.arm[0]] = self.q0
        self.d.ctrl[:] = self.q0
        mujoco.mj_forward(self.m, self.d)

    def initial_state(self):
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        s = np.zeros(mujoco.mj_stateSize(self.m, spec))
        mujoco.mj_getState(self.m, self.d, s, spec)
        return s

    def controls(self, path):
        scratch = mujoco.MjData(self.m)
        q = self.q0.copy()
        ctrl = []
        for k in range(1, len(path)):
            target = np.array([path[k][0], path[k][1], self.z])
            qn = ik(self.m, scratch, self.arm, q, target, self.rot, self.site)
            for j in range(self.sc.substeps):
                a = (j + 1) / self.sc.substeps
                ctrl.append(q + a * (qn - q))
            q = qn
        return np.array(ctrl)


def build(args, sc):
    """Model, initial state, per-rollout controls for `batch` random action sequences, control spec."""
    rng = np.random.default_rng(7)
    paths = [sc.tool_path(sc.random_actions(rng)) for _ in range(args.batch)]
    if args.model == "rod":
        m = rod_model(sc)
        d = mujoco.MjData(m)
        mujoco.mj_forward(m, d)
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        s0 = np.zeros(mujoco.mj_stateSize(m, spec))
        mujoco.mj_getState(m, d, s0, spec)
        _, hh, _, _ = pusher_shape(sc)
        z = sc.action["z_m"] + hh
        controls = []
        for path in paths:
            c = []
            for k in range(1, len(path)):
                for j in range(sc.substeps):
                    a = (j + 1) / sc.substeps
                    p = path[k - 1] + a * (path[k] - path[k - 1])
                    c.append([p[0], p[1], z])
            controls.append(c)
        return m, s0, np.array(controls), int(mujoco.mjtState.mjSTATE_MOCAP_POS)
    f = Franka(sc)
    controls = np.array([f.controls(p) for p in paths])
    return f.m, f.initial_state(), controls, int(mujoco.mjtState.mjSTATE_CTRL)


def time_batch(m, datas, s0, controls, spec, chunk=None):
    nb, nstep = controls.shape[0], controls.shape[1]
    state = np.empty((nb, nstep, s0.shape[0]))
    t0 = time.perf_counter()
    rollout.rollout([m] * nb, datas, np.tile(s0, (nb, 1)), controls, control_spec=spec, state=state,
                    chunk_size=chunk)
    return time.perf_counter() - t0, state


def python_loop_steps_per_s(m, s0, controls, spec, seconds):
    """Steps/s when Python calls mj_step once per physics step (how a script usually drives MuJoCo)."""
    d = mujoco.MjData(m)
    mocap = spec == int(mujoco.mjtState.mjSTATE_MOCAP_POS)
    busy, steps = 0.0, 0
    while busy < seconds:
        for control in controls:
            mujoco.mj_setState(m, d, s0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
            t0 = time.perf_counter()
            for c in control:
                if mocap:
                    d.mocap_pos[0] = c
                else:
                    d.ctrl[:] = c
                mujoco.mj_step(m, d)
            busy += time.perf_counter() - t0
            steps += len(control)
            if busy >= seconds:
                break
    return steps / busy


def mean_contacts(m, s0, control, spec):
    d = mujoco.MjData(m)
    mujoco.mj_setState(m, d, s0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    n = 0
    for c in control:
        if spec == int(mujoco.mjtState.mjSTATE_MOCAP_POS):
            d.mocap_pos[0] = c
        else:
            d.ctrl[:] = c
        mujoco.mj_step(m, d)
        n += d.ncon
    return n / len(control)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["rod", "franka"], required=True)
    ap.add_argument("--scene", default="scenes/rod.toml")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sc = Scene(args.scene)
    m, s0, controls, spec = build(args, sc)
    nstep = controls.shape[1]
    one = [mujoco.MjData(m)]
    threads = os.cpu_count() or 1
    alld = [mujoco.MjData(m) for _ in range(threads)]
    time_batch(m, one, s0, controls[:1], spec)  # warm-up

    # Single-threaded stepping, best of three windows (noise only slows), as asid bench sim.
    steps_per_s = 0.0
    for _ in range(3):
        busy, steps = 0.0, 0
        while busy < args.seconds / 3.0:
            dt, _ = time_batch(m, one, s0, controls, spec)
            busy += dt
            steps += controls.shape[0] * nstep
        steps_per_s = max(steps_per_s, steps / busy)
    dt1, _ = time_batch(m, one, s0, controls, spec)
    dta, state = time_batch(m, alld, s0, controls, spec, chunk=1)
    out = {
        "engine": "mujoco",
        "mujoco": mujoco.__version__,
        "scene": sc.spec["name"],
        "model": args.model,
        "steps_per_s": steps_per_s,
        "rollouts_per_s": controls.shape[0] / dta,
        "rollouts_per_s_one_thread": controls.shape[0] / dt1,
        "parallel_speedup": dt1 / dta,
        "steps_per_s_python_loop": python_loop_steps_per_s(m, s0, controls, spec, args.seconds / 3.0),
        "threads": threads,
        "horizon": sc.horizon,
        "physics_steps_per_rollout": nstep,
        "mean_contacts": mean_contacts(m, s0, controls[0], spec),
        "nv": m.nv,
        "ngeom": m.ngeom,
        # The rod's free joint comes first in both models: state = [time, qpos...]; mean x-y travel.
        "object_moved_m": float(np.linalg.norm(state[:, -1, 1:3] - s0[1:3], axis=1).mean()),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>28}: {v}")


if __name__ == "__main__":
    sys.exit(main())
