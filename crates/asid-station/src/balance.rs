//! The rod-balancing task step of the loop: plan the grasp point against the fit's belief, turn it
//! into the hand's pick-and-place motion, check that motion (the safety layer on an ideal arm, the
//! hand's limits, and the motion itself in the identified simulator), and judge the attempt from
//! the tracker's last poses of the rod.
//!
//! The motion is planned for the rod where the scene puts it: the simulated lab starts every run
//! from the scene's start state. The attempt is judged only on what the tracker saw.

use std::path::Path;

use asid_arm::{Arm, ArmCommand, GripperLimits, SafetyLimits};
use asid_sim::Simulator;
use asid_task::balance::BalanceOutcome;
use asid_task::pick_place::{BalanceMotion, GRASP_EPSILON_M, MotionStep, PickPlace};
use asid_task::{BalancePlan, Belief, TaskPlanOptions, plan_balance};
use nalgebra::{Isometry3, Quaternion, Translation3, UnitQuaternion, Vector3};
use serde::{Deserialize, Serialize};

use crate::error::{Context, Result, StationError};

/// The format tag of a balancing attempt's file (`task-<perch>.json`).
pub const BALANCE_ATTEMPT_FORMAT: &str = "asid-balance-attempt/1";

/// A planned balancing attempt: the grasp point, the motion that carries it out, and what the
/// identified simulator predicts for that motion at the fit's estimate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BalanceAttempt {
    /// Format tag ([`BALANCE_ATTEMPT_FORMAT`]).
    pub format: String,
    /// The grasp point and its predicted success over belief samples.
    pub plan: BalancePlan,
    /// The rod's pose the motion was planned for: position and quaternion `[w, x, y, z]`.
    pub rod_xyz_m: [f64; 3],
    /// Its orientation.
    pub rod_q_wxyz: [f64; 4],
    /// The hand's motion.
    pub motion: PickPlace,
    /// The motion run in the simulator at the fit's estimate: how the rod ends.
    pub predicted_at_estimate: BalanceOutcome,
}

/// The safety limits of the balancing motion: the scene's limits with the tool box grown to hold
/// the motion's path (the perch and the carry height lie outside the exploration's workspace).
pub fn balance_limits(base: &SafetyLimits, motion: &BalanceMotion) -> SafetyLimits {
    let mut l = base.clone();
    if let Some(ws) = l.workspace_m.as_mut() {
        let top = motion.task.perch.top_m;
        let reach = motion.task.half_length_m + 0.05;
        for (k, c) in [top.x, top.y].into_iter().enumerate() {
            ws[k][0] = ws[k][0].min(c - reach);
            ws[k][1] = ws[k][1].max(c + reach);
        }
        ws[2][1] = ws[2][1].max(motion.spec.carry_z_m + 0.05);
    }
    l
}

/// Plans the grasp point of `motion` (the scene's task, [`BalanceMotion::of_scene`]) against
/// `belief` with `opts` (robust over its samples, or for its point
/// estimate), builds the motion from the scene's start configuration for the rod at its scene
/// pose, and checks it: every joint target through the safety layer on an ideal arm at the control
/// period, every hand command through the hand's limits, and the whole motion in the simulator at
/// the belief's estimate (the grasp must hold there).
pub fn plan_attempt(
    sim: &Simulator,
    motion: &BalanceMotion,
    belief: &Belief,
    opts: &TaskPlanOptions,
    limits: &SafetyLimits,
) -> Result<BalanceAttempt> {
    let scene = sim.scene();
    let plan = plan_balance(sim, &motion.task, belief, opts).context("planning the grasp point")?;
    let nominal = sim.world(&scene.space.nominal())?;
    let rod = nominal
        .object_pose(&motion.spec.object)
        .with_context(|| format!("no object `{}`", motion.spec.object))?;
    let (q0, _) = asid_sim::start_of(scene, sim.arm())?;
    let pick = motion
        .plan(
            sim.arm(),
            &q0,
            &rod,
            plan.offset_m,
            scene.control_period_s(),
        )
        .context("the hand's motion")?;
    motion_check(sim, &pick.steps, limits).context("dry run of the hand's motion")?;
    let mut world = sim.world(&belief.estimate)?;
    let log = asid_task::pick_place::run_in_world(&mut world, &pick)?;
    if !log.grasps.iter().all(|g| g.0) {
        return Err(StationError::input(format!(
            "dry run of the hand's motion in the simulator: the grasp missed ({:?})",
            log.grasps
        )));
    }
    let predicted_at_estimate = motion.task.perch.judge(&world)?;
    let q = rod.rotation.into_inner();
    let attempt = BalanceAttempt {
        format: BALANCE_ATTEMPT_FORMAT.into(),
        plan,
        rod_xyz_m: rod.translation.vector.into(),
        rod_q_wxyz: [q.w, q.i, q.j, q.k],
        motion: pick,
        predicted_at_estimate,
    };
    Ok(attempt)
}

/// The safety layer's part of a motion's dry run: its joint targets through [`Safe`] on an ideal
/// arm at the control period (from the scene's start configuration), and its hand commands
/// through the tool's gripper limits.
pub fn motion_check(sim: &Simulator, steps: &[MotionStep], limits: &SafetyLimits) -> Result<()> {
    let scene = sim.scene();
    let hand = scene
        .tool
        .gripper
        .as_ref()
        .map(GripperLimits::from_spec)
        .with_context(|| format!("tool `{}` has no gripper", scene.tool.name))?;
    let mut safe = crate::checks::ideal_arm(sim, limits)?;
    let rt = crate::checks::dry_run_clock()?;
    rt.block_on(async {
        for (k, step) in steps.iter().enumerate() {
            let refused = |e: asid_arm::ArmError| {
                StationError::input(format!("dry run: motion step {k}: {e}"))
            };
            match step {
                MotionStep::Joints { q_rad } => {
                    safe.step(&ArmCommand::JointPosition {
                        q_rad: q_rad.clone(),
                    })
                    .await
                    .map_err(refused)?;
                }
                MotionStep::Open { width_m, speed_mps } => {
                    hand.check_move(*width_m, *speed_mps).map_err(refused)?;
                }
                MotionStep::Grasp {
                    width_m,
                    speed_mps,
                    force_n,
                } => hand
                    .check_grasp(
                        *width_m,
                        *speed_mps,
                        *force_n,
                        GRASP_EPSILON_M,
                        GRASP_EPSILON_M,
                    )
                    .map_err(refused)?,
            }
        }
        Ok(())
    })
}

/// Judges an attempt from its episode: the tracker's poses of the rod over the episode's last
/// 0.2 s, averaged (position, and orientation as the normalised mean of sign-aligned quaternions),
/// taken from the robot's base frame to the world by `world_from_base`, against the perch
/// ([`asid_task::balance::Perch::judge_pose`]).
pub fn judge_episode(
    motion: &BalanceMotion,
    world_from_base: &Isometry3<f64>,
    episode: &Path,
) -> Result<BalanceOutcome> {
    let rec = asid_record::read_recording(episode)?;
    let object = &motion.spec.object;
    let poses: Vec<_> = rec.poses.iter().filter(|p| &p.object == object).collect();
    let last = poses
        .iter()
        .map(|p| p.stamp_ns)
        .max()
        .with_context(|| format!("{}: no tracked pose of `{object}`", episode.display()))?;
    let window: Vec<_> = poses
        .iter()
        .filter(|p| p.stamp_ns + 200_000_000 >= last)
        .collect();
    let n = window.len() as f64;
    let reference = Quaternion::new(
        window[0].q_wxyz[0],
        window[0].q_wxyz[1],
        window[0].q_wxyz[2],
        window[0].q_wxyz[3],
    );
    let (mut p, mut q) = (Vector3::zeros(), Quaternion::new(0.0, 0.0, 0.0, 0.0));
    for s in &window {
        p += Vector3::from(s.p_m) / n;
        let qs = Quaternion::new(s.q_wxyz[0], s.q_wxyz[1], s.q_wxyz[2], s.q_wxyz[3]);
        q += if qs.dot(&reference) < 0.0 { -qs } else { qs };
    }
    if q.norm() < 1e-9 {
        return Err(StationError::input(format!(
            "{}: the tracked orientations of `{object}` over the last 0.2 s cancel out",
            episode.display()
        )));
    }
    let base_from_rod =
        Isometry3::from_parts(Translation3::from(p), UnitQuaternion::from_quaternion(q));
    Ok(motion
        .task
        .perch
        .judge_pose(&(world_from_base * base_from_rod)))
}
