//! The rod-balancing task's motion: the hand picks the rod at the planned point of its long axis,
//! lifts it, carries that point over the perch, sets the rod down on it, opens and backs off, then
//! holds still while the rod settles.
//!
//! The motion is a list of [`MotionStep`]s: one joint target per control period (straight tool
//! paths with half-cosine timing, solved by inverse kinematics along the way) and the hand's
//! commands in between. The same list runs in the simulator ([`run_in_world`]) and on any arm
//! with a gripper (the station's executor), so what was checked is what runs.
//!
//! The hand turns about the vertical before it descends so that its fingers (which close along the
//! flange's y axis) close square across the rod, and turns again while carrying so that the rod's
//! long axis crosses the perch's narrow side.

use asid_core::task::BalanceSpec;
use asid_robot::{Arm, IkOptions};
use asid_sim::SimWorld;
use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};
use serde::{Deserialize, Serialize};

use crate::TaskError;
use crate::balance_plan::BalanceTask;

/// Height of the tool centre point above the rod's top while the open hand moves over it.
pub const APPROACH_CLEARANCE_M: f64 = 0.05;

/// Height of the rod's underside above the perch's top when the hand lets go.
pub const RELEASE_GAP_M: f64 = 1e-3;

/// Speed of the fingers.
pub const FINGER_SPEED_MPS: f64 = 0.05;

/// How far the grasp may close beyond (or stop short of) the rod's width and still hold it.
pub const GRASP_EPSILON_M: f64 = 0.005;

/// Largest yaw rate of the hand's turns.
const YAW_RATE_RAD_S: f64 = 0.5;

/// One step of the motion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MotionStep {
    /// One control period towards this joint target.
    Joints {
        /// Joint positions.
        q_rad: Vec<f64>,
    },
    /// Open (or close without force) the hand to `width_m`.
    Open {
        /// Opening.
        width_m: f64,
        /// Finger speed.
        speed_mps: f64,
    },
    /// Close on the rod, expected `width_m` wide, with `force_n`; held when the fingers stop
    /// within [`GRASP_EPSILON_M`] of that width.
    Grasp {
        /// The rod's width across the fingers.
        width_m: f64,
        /// Finger speed.
        speed_mps: f64,
        /// Grasp force.
        force_n: f64,
    },
}

/// The planned pick and place.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PickPlace {
    /// The grasp offset it carries out (m along the rod's long axis from its centre).
    pub offset_m: f64,
    /// Where the hand grasps the rod (tool centre point, world frame).
    pub grasp_m: [f64; 3],
    /// Where the tool centre point is when the hand lets go (world frame).
    pub release_m: [f64; 3],
    /// The steps, in order.
    pub steps: Vec<MotionStep>,
}

impl PickPlace {
    /// Control periods of arm motion (holds included).
    pub fn periods(&self) -> usize {
        self.joint_targets().count()
    }

    /// The joint targets, in order (the hand's commands left out).
    pub fn joint_targets(&self) -> impl Iterator<Item = &[f64]> {
        self.steps.iter().filter_map(|s| match s {
            MotionStep::Joints { q_rad } => Some(q_rad.as_slice()),
            _ => None,
        })
    }
}

/// Rotation about the world z axis that turns horizontal direction `from` onto `to` or onto
/// `-to`, whichever is the smaller turn (a parallel gripper and a rod look the same turned by
/// half a turn).
fn yaw_between(from: &Vector3<f64>, to: &Vector3<f64>) -> f64 {
    let a = from.y.atan2(from.x);
    let b = to.y.atan2(to.x);
    let mut d = b - a;
    while d > std::f64::consts::FRAC_PI_2 {
        d -= std::f64::consts::PI;
    }
    while d <= -std::f64::consts::FRAC_PI_2 {
        d += std::f64::consts::PI;
    }
    d
}

/// Builds the joint targets of straight tool moves, one per control period.
struct Path<'a> {
    arm: &'a Arm,
    period_s: f64,
    speed_mps: f64,
    q: Vec<f64>,
    tcp: Isometry3<f64>,
    steps: Vec<MotionStep>,
}

impl Path<'_> {
    /// Moves the tool centre point in a straight line to `to` while turning to `rotation`, with
    /// half-cosine timing at most at the path's speed (and [`YAW_RATE_RAD_S`]).
    fn line(
        &mut self,
        what: &str,
        to: Vector3<f64>,
        rotation: UnitQuaternion<f64>,
    ) -> Result<(), TaskError> {
        let from = self.tcp;
        let dist = (to - from.translation.vector).norm();
        let angle = from.rotation.angle_to(&rotation);
        // A half-cosine peaks at pi/2 times its mean speed.
        let duration =
            std::f64::consts::FRAC_PI_2 * (dist / self.speed_mps).max(angle / YAW_RATE_RAD_S);
        let n = ((duration / self.period_s).ceil() as usize).max(2);
        let opts = IkOptions::default();
        for k in 1..=n {
            let u = 0.5 * (1.0 - (std::f64::consts::PI * k as f64 / n as f64).cos());
            let target = Isometry3::from_parts(
                Translation3::from(from.translation.vector.lerp(&to, u)),
                from.rotation.slerp(&rotation, u),
            );
            let q = self
                .arm
                .inverse_kinematics(&self.q, &target, &opts)
                .map_err(|e| {
                    TaskError::Primitive(format!(
                        "{what}: no joint solution for the tool at {:.3?}: {e}",
                        target.translation.vector
                    ))
                })?;
            self.steps.push(MotionStep::Joints { q_rad: q.clone() });
            self.q = q;
        }
        self.tcp = Isometry3::from_parts(Translation3::from(to), rotation);
        Ok(())
    }

    /// Holds the last joint target for `periods` control periods.
    fn hold(&mut self, periods: usize) {
        for _ in 0..periods {
            self.steps.push(MotionStep::Joints {
                q_rad: self.q.clone(),
            });
        }
    }
}

/// The rod-balancing task of a scene as the arm carries it out: the planner's task, the scene's
/// motion settings and the hand's stroke ([`BalanceMotion::of_scene`]).
#[derive(Debug, Clone)]
pub struct BalanceMotion {
    /// The task (rod, perch, grasp offsets allowed).
    pub task: BalanceTask,
    /// The scene's `[task]` settings.
    pub spec: BalanceSpec,
    /// The hand's largest opening.
    pub finger_max_m: f64,
}

impl BalanceMotion {
    /// The pick and place for grasp offset `offset_m`, from joint configuration `q_start`, with the
    /// rod at `rod` (its pose as the tracker sees it) and the fingers in any state; one joint
    /// target per `period_s`.
    ///
    /// The hand rises to clear the rod, turns square to it and opens over the grasp point,
    /// descends to the rod's mid-height and grasps; lifts to the task's `carry_z_m`, carries the
    /// grasp point over the perch's centre while turning the rod's axis across the perch's
    /// narrow side, lowers it until the rod's underside is [`RELEASE_GAP_M`] above the perch,
    /// opens, rises back to the carry height and holds for the task's `settle_s`.
    pub fn plan(
        &self,
        arm: &Arm,
        q_start: &[f64],
        rod: &Isometry3<f64>,
        offset_m: f64,
        period_s: f64,
    ) -> Result<PickPlace, TaskError> {
        let (task, spec, finger_max_m) = (&self.task, &self.spec, self.finger_max_m);
        let [lo, hi] = task.bounds()[0];
        if !(lo..=hi).contains(&offset_m) {
            return Err(TaskError::Primitive(format!(
                "grasp offset {offset_m} m outside [{lo:.4}, {hi:.4}] m"
            )));
        }
        let perch = &task.perch;
        let axis_k = perch.long_axis;
        let mut axis_body = Vector3::zeros();
        axis_body[axis_k] = 1.0;
        let axis = rod.rotation * axis_body;
        if axis.z.abs() > 0.05 {
            return Err(TaskError::Primitive(format!(
                "the rod is not lying flat (its axis {axis:.3?} rises {:.1} degrees)",
                axis.z.asin().to_degrees()
            )));
        }
        let h = perch.rod_half_extents_m;
        let cross_k = 1 - axis_k;
        // The rod fits the hand: checked by `BalanceMotion::of_scene`.
        let width_m = 2.0 * h[cross_k];
        let centre = rod.translation.vector;
        let grasp = centre + offset_m * axis;
        let start = arm.world_from_tcp(q_start);
        let mut path = Path {
            arm,
            period_s,
            speed_mps: spec.speed_mps,
            q: q_start.to_vec(),
            tcp: start,
            steps: Vec::new(),
        };
        let clear_z = centre.z + h[2] + APPROACH_CLEARANCE_M;
        // The fingers close along the flange's y axis: turn it across the rod.
        let fingers = start.rotation * Vector3::y();
        let across = Vector3::z().cross(&axis);
        let turn =
            UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw_between(&fingers, &across));
        let grip = turn * start.rotation;
        let above = |p: Vector3<f64>, z: f64| Vector3::new(p.x, p.y, z);
        path.line(
            "rising off the table",
            above(
                start.translation.vector,
                clear_z.max(start.translation.vector.z),
            ),
            start.rotation,
        )?;
        path.line("over the grasp point", above(grasp, clear_z), grip)?;
        path.steps.push(MotionStep::Open {
            width_m: finger_max_m,
            speed_mps: FINGER_SPEED_MPS,
        });
        path.line("down to the rod", grasp, grip)?;
        path.steps.push(MotionStep::Grasp {
            width_m,
            speed_mps: FINGER_SPEED_MPS,
            force_n: spec.grasp_force_n,
        });
        path.line("lifting the rod", above(grasp, spec.carry_z_m), grip)?;
        // Turn the rod's axis onto the perch's long horizontal side's normal: across the narrow side.
        let ph = perch.perch_half_extents_m;
        let narrow = if ph[0] <= ph[1] {
            Vector3::x()
        } else {
            Vector3::y()
        };
        let carry =
            UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw_between(&axis, &narrow));
        let place = carry * grip;
        let top = perch.top_m;
        path.line("carrying over the perch", above(top, spec.carry_z_m), place)?;
        let release = Vector3::new(top.x, top.y, top.z + h[2] + RELEASE_GAP_M);
        path.line("lowering onto the perch", release, place)?;
        path.steps.push(MotionStep::Open {
            width_m: finger_max_m,
            speed_mps: FINGER_SPEED_MPS,
        });
        path.line("backing off", above(top, spec.carry_z_m), place)?;
        path.hold((spec.settle_s / period_s).ceil() as usize);
        Ok(PickPlace {
            offset_m,
            grasp_m: grasp.into(),
            release_m: release.into(),
            steps: path.steps,
        })
    }
}

impl BalanceMotion {
    /// The rod-balancing task of a scene that declares `[task] kind = "balance"`, checked against
    /// its tool (a gripper that opens wider than the rod and grasps as hard as asked).
    pub fn of_scene(scene: &asid_core::Scene) -> Result<Self, TaskError> {
        let spec = scene
            .spec
            .task
            .as_ref()
            .and_then(|t| t.balance())
            .cloned()
            .ok_or_else(|| TaskError::NoTask(scene.path.display().to_string()))?;
        let mut task = BalanceTask::new(scene, &spec.object, &spec.perch)?;
        task.settle_s = spec.settle_s;
        let file = scene.path.display();
        let g = scene.tool.gripper.as_ref().ok_or_else(|| {
            TaskError::Config(format!(
                "{file}: task.kind balance needs a tool with a gripper; tool `{}` has none",
                scene.tool.name
            ))
        })?;
        if spec.grasp_force_n > g.max_force_n {
            return Err(TaskError::Config(format!(
                "{file}: task.grasp_force_n {} N is beyond the hand's {} N",
                spec.grasp_force_n, g.max_force_n
            )));
        }
        let width = 2.0 * task.perch.rod_half_extents_m[1 - task.perch.long_axis];
        if width + GRASP_EPSILON_M > g.max_width_m {
            return Err(TaskError::Config(format!(
                "{file}: the rod is {width} m wide; tool `{}` opens {} m",
                scene.tool.name, g.max_width_m
            )));
        }
        Ok(Self {
            task,
            spec,
            finger_max_m: g.max_width_m,
        })
    }
}

/// What the hand did in [`run_in_world`].
#[derive(Debug, Clone, PartialEq)]
pub struct HandLog {
    /// For each grasp: whether the fingers stopped on the rod within [`GRASP_EPSILON_M`], and the
    /// opening.
    pub grasps: Vec<(bool, f64)>,
}

/// Largest time a finger command may take (s): the full stroke at the slowest speed used here,
/// twice.
const FINGER_TIMEOUT_S: f64 = 4.0;

/// Runs `motion` in a simulator world (the arm tracking its joint targets, the fingers moving as
/// commanded, one control period at a time); stops at the first grasp that misses the rod.
pub fn run_in_world(world: &mut SimWorld, motion: &PickPlace) -> Result<HandLog, TaskError> {
    let substeps = world.scene().substeps();
    let period = world.scene().control_period_s();
    let mut log = HandLog { grasps: Vec::new() };
    for step in &motion.steps {
        match step {
            MotionStep::Joints { q_rad } => world
                .step_joint_command(q_rad, substeps)
                .map_err(TaskError::Sim)?,
            MotionStep::Open { width_m, speed_mps } => {
                world
                    .set_gripper_target(*width_m, *speed_mps, None)
                    .map_err(TaskError::Sim)?;
                fingers_settle(world, substeps, period)?;
            }
            MotionStep::Grasp {
                width_m,
                speed_mps,
                force_n,
            } => {
                world
                    .set_gripper_target(0.0, *speed_mps, Some(*force_n))
                    .map_err(TaskError::Sim)?;
                let w = fingers_settle(world, substeps, period)?;
                let held = (w - width_m).abs() <= GRASP_EPSILON_M
                    && world.gripper().is_some_and(|g| g.held.is_some());
                log.grasps.push((held, w));
                if !held {
                    return Ok(log);
                }
            }
        }
    }
    Ok(log)
}

/// Holds the arm until the fingers stop; their opening.
fn fingers_settle(world: &mut SimWorld, substeps: usize, period: f64) -> Result<f64, TaskError> {
    let mut t = 0.0;
    loop {
        let g = world
            .gripper()
            .ok_or_else(|| TaskError::Config("the tool has no gripper".into()))?;
        if !g.moving {
            return Ok(g.width_m);
        }
        if t > FINGER_TIMEOUT_S {
            return Err(TaskError::Primitive(format!(
                "the fingers did not stop within {FINGER_TIMEOUT_S} s"
            )));
        }
        world.hold(substeps);
        t += period;
    }
}
