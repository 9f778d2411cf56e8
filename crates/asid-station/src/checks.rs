//! The checks every plan gets before an arm moves: the scene's safety limits, a dry run in the
//! simulator and through the safety layer on an ideal arm at the control period, and (for a Franka)
//! the 1 kHz control loop's own interpolation.

use asid_arm::dummy::DummyArm;
use asid_arm::{Arm, ArmCommand, Safe, SafetyLimits, StopSignal};
use asid_core::Scene;
use asid_core::scene::ActionSpec;
use asid_sim::Simulator;

use crate::error::{Context, Result, StationError};

/// The safety limits of a scene's arm: the robot's datasheet limits and the action workspace
/// (with 2 cm of slack) as the tool box.
pub fn limits_for(scene: &Scene, watchdog_ms: u64) -> SafetyLimits {
    let mut l = SafetyLimits::from_robot(&scene.robot);
    l.watchdog_ms = watchdog_ms;
    let slack = 0.02;
    let xy = |ws: &[[f64; 2]]| {
        let mut b = [[-1.5, 1.5], [-1.5, 1.5], [0.0, 1.5]];
        for (axis, [lo, hi]) in ws.iter().enumerate() {
            b[axis] = [lo - slack, hi + slack];
        }
        b
    };
    l.workspace_m = match &scene.spec.arm.action {
        ActionSpec::EeDeltaXy { workspace_xy_m, .. } => Some(xy(workspace_xy_m)),
        ActionSpec::EeDeltaXyz { workspace_m, .. } => Some(xy(workspace_m)),
        // Joint targets: no action workspace, but the tool stays above the table and near the arm.
        ActionSpec::JointPosition { .. } => Some(xy(&[])),
    };
    l
}

/// The joint targets a plan sends, one per action, from the plan's start configuration: what the
/// simulator would command (the same IK from the same seed).
pub fn plan_joint_targets(sim: &Simulator, actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let scene = sim.scene();
    let kin = sim.arm();
    let (mut q, mut tcp) = asid_sim::start_of(scene, kin)?;
    let mut out = Vec::with_capacity(actions.len());
    for (k, a) in actions.iter().enumerate() {
        let (qn, tn) = asid_sim::command_for_action(&scene.spec.arm.action, kin, &q, &tcp, a)
            .with_context(|| format!("plan action {k}"))?;
        out.push(qn.clone());
        (q, tcp) = (qn, tn);
    }
    Ok(out)
}

/// The dry run every plan gets before an arm moves: a rollout in the simulator with the nominal
/// parameters, and every joint target through the safety checks of an ideal arm.
pub fn dry_run(sim: &Simulator, actions: &[Vec<f64>], limits: &SafetyLimits) -> Result<()> {
    let scene = sim.scene();
    sim.rollout(&scene.space.nominal(), actions)
        .context("dry run in the simulator")?;
    limits_check(sim, actions, limits)
}

/// The safety layer's part of the dry run: the plan's joint targets through [`Safe`] on an ideal
/// arm, so every limit is checked with the control period's timing.
pub fn limits_check(sim: &Simulator, actions: &[Vec<f64>], limits: &SafetyLimits) -> Result<()> {
    let mut safe = ideal_arm(sim, limits)?;
    let targets = plan_joint_targets(sim, actions).context("dry run")?;
    let rt = dry_run_clock()?;
    rt.block_on(async {
        for (k, q) in targets.into_iter().enumerate() {
            // A refusal here is the plan's fault, not the arm's: bad input.
            safe.step(&ArmCommand::JointPosition { q_rad: q })
                .await
                .map_err(|e| StationError::input(format!("dry run: plan action {k}: {e}")))?;
        }
        Ok(())
    })
}

/// The clock a dry run's ideal arm runs on (the safety layer times its commands with it).
pub(crate) fn dry_run_clock() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .context("starting the dry run's clock")
}

/// An ideal arm at the scene's start configuration and control period behind the safety layer
/// with `limits`: what a dry run sends its joint targets through.
pub fn ideal_arm(sim: &Simulator, limits: &SafetyLimits) -> Result<Safe<DummyArm>> {
    let scene = sim.scene();
    let kin = sim.arm().clone();
    let q0 = asid_sim::start_of(scene, &kin)?.0;
    let ideal = DummyArm::new(
        q0,
        scene.robot.limits.position_min_rad.clone(),
        scene.robot.limits.position_max_rad.clone(),
        scene.control_period_s(),
    );
    Safe::new(ideal, limits.clone(), Some(kin), StopSignal::new())
        .map_err(|e| StationError::input(format!("safety limits: {e}")))
}

/// The Franka's own check, offline, once its position is known: the approach from `q_now_rad`
/// and the plan's joint targets through the control loop's 1 kHz schedule and interpolation
/// ([`asid_franka::dry_run`]) as the loop runs them: every step after the first served one tick
/// after the previous one was answered, its segment shortened by that tick, and the stop at the
/// end. A target the arm would refuse mid-run (velocity, acceleration or jerk) is found here,
/// before anything moves. Returns the punctual caller's report and the latest caller (in ticks,
/// up to the loop's coast limit) the motion would still tolerate on every step.
pub fn interpolation_dry_run(
    cfg: &asid_franka::RobotConfig,
    q_now_rad: &[f64],
    approach: &[Vec<f64>],
    plan_targets: &[Vec<f64>],
) -> Result<(asid_franka::DryRunReport, u32)> {
    let targets: Vec<Vec<f64>> = approach.iter().chain(plan_targets).cloned().collect();
    let label = |index: usize| {
        if index < approach.len() {
            format!("approach step {index}")
        } else if index < targets.len() {
            format!("plan action {}", index - approach.len())
        } else {
            "the stop after the plan".to_string()
        }
    };
    let report = asid_franka::dry_run(cfg, q_now_rad, &targets, 1).map_err(|e| {
        StationError::input(format!(
            "dry run of the arm's 1 kHz control loop: {} (the step served one tick after the \
             previous one was answered, as the loop does): {}",
            label(e.index),
            e.source
        ))
    })?;
    let tolerated = (2..=cfg.coast_limit_ms)
        .take_while(|&d| asid_franka::dry_run(cfg, q_now_rad, &targets, d).is_ok())
        .last()
        .unwrap_or(1);
    Ok((report, tolerated))
}
