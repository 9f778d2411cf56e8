//! The payload task (`[task] kind = "carry"`): carry a payload held by the tool along the scene's
//! path with the tool centre point within a tracking-error bound of it at every control step.
//!
//! The arm's controller compensates gravity for the arm and its tool only (as a real arm does
//! until it is told the load), so the payload pulls the tool off the path, and the joint PD lags
//! a moving target. The path itself is fixed (rest to rest through each waypoint, quintic time
//! scaling, peak speed `speed_mps`, after a lead-in held at the start while the load is taken up,
//! which is not judged); what the planner chooses is the command that makes the arm
//! follow it: the tool targets are learned in the identified simulator by iterative learning
//! control (each pass adds the predicted tracking error of the previous pass to the targets).
//! That is the feed-forward of the identified payload: the learned commands lift the tool by the
//! sag the believed mass and centre of mass cause, and lead the lag the arm's dynamics cause. In
//! robust mode each pass adds the error averaged over belief samples; in point mode the
//! estimate's. Judged from the arm's measured joint positions (forward kinematics to the tool
//! centre point), as the arm reports them.
//!
//! The learning is written here by hand: it is a few lines of arithmetic on the simulator's
//! rollouts, and the shared CEM would search the same hundreds of numbers blindly.

use asid_core::scene::ActionSpec;
use asid_core::task_carry::LEAD_IN_STEPS;
use asid_core::{CarrySpec, Scene};
use asid_sim::Simulator;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::planner::{ArmCheck, Mode, TaskPlanOptions, planning_samples, prediction_samples};
use crate::{Belief, TaskError};

/// Format tag of a carry plan file.
pub const CARRY_PLAN_FORMAT: &str = "asid-carry-plan-v1";

/// Learning passes of the planner.
pub const LEARNING_PASSES: usize = 3;

/// How far past the tolerance a distance still counts as on its edge (a tolerance written in
/// decimals is on the edge in floating point too).
pub const ON_EDGE_M: f64 = 1e-12;

/// A carry's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarryOutcome {
    /// Largest tracking error (distance of the tool centre point from the path's point of the same
    /// control step) over the judged steps (after the lead-in).
    pub max_error_m: f64,
    /// Root mean square of the tracking error over the judged steps.
    pub rms_error_m: f64,
    /// The control step of the largest error.
    pub worst_step: usize,
    /// The largest error is within the tolerance.
    pub success: bool,
}

impl CarryOutcome {
    /// The metric in millimetres.
    pub fn max_error_mm(&self) -> f64 {
        1e3 * self.max_error_m
    }
}

/// A planned carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CarryPlan {
    /// [`CARRY_PLAN_FORMAT`].
    pub format: String,
    /// Point or robust.
    pub mode: Mode,
    /// The tool targets commanded at control steps 1..=H (world, m).
    pub targets_m: Vec<[f64; 3]>,
    /// Actions in the scene's action space.
    pub actions: Vec<Vec<f64>>,
    /// Height (m) of the last target above the last waypoint, where the arm rests: the payload's
    /// static feed-forward.
    pub rest_lift_m: f64,
    /// Why the learning stopped before its last pass (a pass whose targets would leave the
    /// workspace or the action box), if it did.
    pub learning_stopped: Option<String>,
    /// Predicted largest error, averaged over the learning samples, before each pass and after the
    /// last (m): the first is the uncompensated carry.
    pub learning_error_m: Vec<f64>,
    /// Predicted success over fresh belief samples (robust) or at the estimate (point).
    pub predicted_success: f64,
    /// Predicted mean of the largest error on the same samples.
    pub predicted_max_error_m: f64,
    /// Simulated carries the planner ran.
    pub rollouts: usize,
}

/// The carry task of a scene: the path sampled at the control steps.
#[derive(Debug, Clone)]
pub struct CarryTask {
    /// The task as the scene declares it.
    pub spec: CarrySpec,
    /// The path point at control steps 0..=H (step 0: the start).
    path: Vec<[f64; 3]>,
    max_step_m: f64,
    workspace: [[f64; 2]; 3],
}

impl CarryTask {
    /// The carry task of `scene`.
    pub fn of_scene(scene: &Scene) -> Result<Self, TaskError> {
        let spec = scene
            .spec
            .task
            .as_ref()
            .and_then(|t| t.carry())
            .cloned()
            .ok_or_else(|| TaskError::NoTask(scene.path.display().to_string()))?;
        let ActionSpec::EeDeltaXyz {
            max_step_m,
            start_xyz_m,
            workspace_m,
            ..
        } = scene.spec.arm.action
        else {
            return Err(TaskError::Config(
                "task.kind: carry needs the arm's action kind ee_delta_xyz".into(),
            ));
        };
        let rate = scene.spec.arm.control_rate_hz;
        // The start, held through the lead-in, then each segment ending exactly on its waypoint.
        let mut path = vec![start_xyz_m; 1 + LEAD_IN_STEPS];
        let mut from = start_xyz_m;
        for (to, n) in spec
            .path_m
            .iter()
            .zip(spec.segment_steps(start_xyz_m, rate))
        {
            for k in 1..n {
                let u = k as f64 / n as f64;
                let s = u * u * u * (10.0 - 15.0 * u + 6.0 * u * u);
                path.push(std::array::from_fn(|i| from[i] + s * (to[i] - from[i])));
            }
            path.push(*to);
            from = *to;
        }
        path.extend(std::iter::repeat_n(from, spec.settle_steps));
        Ok(Self {
            spec,
            path,
            max_step_m,
            workspace: workspace_m,
        })
    }

    /// The path point at control steps 0..=H.
    pub fn path(&self) -> &[[f64; 3]] {
        &self.path
    }

    /// Control steps of the carry.
    pub fn horizon_steps(&self) -> usize {
        self.path.len() - 1
    }

    /// The actions that command the tool targets `targets` (steps 1..=H) from the start; refused
    /// when a step exceeds the action box or a target leaves the workspace.
    pub fn actions(&self, targets: &[[f64; 3]]) -> Result<Vec<Vec<f64>>, TaskError> {
        if targets.len() != self.horizon_steps() {
            return Err(TaskError::Primitive(format!(
                "{} targets for a carry of {} steps",
                targets.len(),
                self.horizon_steps()
            )));
        }
        let mut from = self.path[0];
        targets
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let step: Vec<f64> = (0..3).map(|i| t[i] - from[i]).collect();
                let inside = (0..3).all(|i| {
                    t[i].is_finite()
                        && t[i] >= self.workspace[i][0] - 1e-6
                        && t[i] <= self.workspace[i][1] + 1e-6
                });
                if !inside {
                    return Err(TaskError::Primitive(format!(
                        "target {} ({t:?}) leaves the workspace {:?}",
                        k + 1,
                        self.workspace
                    )));
                }
                if step.iter().any(|d| d.abs() > self.max_step_m) {
                    return Err(TaskError::Primitive(format!(
                        "step {} ({step:?}) exceeds max_step_m {}",
                        k + 1,
                        self.max_step_m
                    )));
                }
                from = *t;
                Ok(step)
            })
            .collect()
    }

    /// The tool centre point at control steps 0..=H when `actions` run at `theta`.
    pub fn simulate(
        &self,
        sim: &Simulator,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<Vec<[f64; 3]>, TaskError> {
        let mut w = sim.world(theta).map_err(TaskError::Sim)?;
        let tcp = |w: &asid_sim::SimWorld| {
            let p = w
                .arm()
                .world_from_tcp(w.joint_positions())
                .translation
                .vector;
            [p.x, p.y, p.z]
        };
        let mut out = Vec::with_capacity(actions.len() + 1);
        out.push(tcp(&w));
        for a in actions {
            w.step_control(a).map_err(TaskError::Sim)?;
            out.push(tcp(&w));
        }
        Ok(out)
    }

    /// The first judged control step: the lead-in (the load taken up at the start) is not judged.
    pub fn judged_from(&self) -> usize {
        LEAD_IN_STEPS
    }

    /// Judges the tool centre points at control steps 0..=H (as many as the path has points) from
    /// [`Self::judged_from`] on.
    pub fn judge(&self, tcp: &[[f64; 3]]) -> Result<CarryOutcome, TaskError> {
        if tcp.len() != self.path.len() {
            return Err(TaskError::Primitive(format!(
                "{} tool positions for a carry of {} points",
                tcp.len(),
                self.path.len()
            )));
        }
        let errors: Vec<f64> = tcp
            .iter()
            .zip(&self.path)
            .map(|(p, q)| (0..3).map(|i| (p[i] - q[i]).powi(2)).sum::<f64>().sqrt())
            .collect();
        if let Some(k) = errors.iter().position(|e| !e.is_finite()) {
            return Err(TaskError::Primitive(format!(
                "the tool position at step {k} is not finite"
            )));
        }
        let from = self.judged_from();
        let errors = &errors[from..];
        let (worst_step, max_error_m) =
            errors
                .iter()
                .copied()
                .enumerate()
                .fold(
                    (from, 0.0),
                    |a, (k, e)| if e > a.1 { (from + k, e) } else { a },
                );
        let rms_error_m = (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt();
        Ok(CarryOutcome {
            max_error_m,
            rms_error_m,
            worst_step,
            success: max_error_m <= self.spec.tolerance_m + ON_EDGE_M,
        })
    }

    /// The tracking error at every step of every sample, averaged over the samples (path minus
    /// tool, steps 1..=H), and the mean of the samples' largest errors.
    fn mean_error(
        &self,
        sim: &Simulator,
        thetas: &[Vec<f64>],
        actions: &[Vec<f64>],
    ) -> Result<(Vec<[f64; 3]>, Vec<CarryOutcome>), TaskError> {
        let runs: Vec<Vec<[f64; 3]>> = thetas
            .par_iter()
            .map(|t| self.simulate(sim, t, actions))
            .collect::<Result<_, _>>()?;
        let n = runs.len() as f64;
        let mean = (1..self.path.len())
            .map(|k| {
                std::array::from_fn(|i| {
                    runs.iter().map(|r| self.path[k][i] - r[k][i]).sum::<f64>() / n
                })
            })
            .collect();
        let outcomes = runs
            .iter()
            .map(|r| self.judge(r))
            .collect::<Result<_, _>>()?;
        Ok((mean, outcomes))
    }
}

fn mean_max(outcomes: &[CarryOutcome]) -> f64 {
    outcomes.iter().map(|o| o.max_error_m).sum::<f64>() / outcomes.len().max(1) as f64
}

/// Plans the carry against `belief`: [`LEARNING_PASSES`] passes of learning in the simulator at
/// the belief's planning samples (the estimate in point mode), each adding the mean predicted
/// error to the targets; the learned plan is then scored on fresh samples (robust) or the estimate
/// (point). The learned actions must pass `check` (the arm's limits).
pub fn plan_carry(
    sim: &Simulator,
    task: &CarryTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    check: ArmCheck<'_>,
) -> Result<CarryPlan, TaskError> {
    let space = &sim.scene().space;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let samples = planning_samples(belief, space, opts, &mut rng);
    let mut targets: Vec<[f64; 3]> = task.path[1..].to_vec();
    let mut learning_error_m = Vec::with_capacity(LEARNING_PASSES + 1);
    let mut rollouts = 0;
    // The targets of the pass with the smallest predicted error (a pass that made it worse is
    // not kept).
    let mut best: Option<(f64, Vec<[f64; 3]>)> = None;
    let mut learning_stopped = None;
    for pass in 0..=LEARNING_PASSES {
        let actions = match task.actions(&targets) {
            Ok(a) => a,
            // The path's own targets are feasible (validated); a learned pass may not be.
            Err(e) if pass > 0 => {
                learning_stopped = Some(format!("pass {pass}: {e}"));
                break;
            }
            Err(e) => return Err(e),
        };
        let (error, outcomes) = task.mean_error(sim, &samples, &actions)?;
        rollouts += samples.len();
        let e = mean_max(&outcomes);
        learning_error_m.push(e);
        if best.as_ref().is_none_or(|(b, _)| e < *b) {
            best = Some((e, targets.clone()));
        }
        if pass == LEARNING_PASSES {
            break;
        }
        for (t, e) in targets.iter_mut().zip(&error) {
            for i in 0..3 {
                t[i] += e[i];
            }
        }
    }
    if let Some((_, b)) = best {
        targets = b;
    }
    let actions = task.actions(&targets)?;
    check(&actions).map_err(|e| {
        TaskError::Plan(format!(
            "the learned carry would be refused by the arm: {e}"
        ))
    })?;
    let fresh = prediction_samples(belief, space, opts, &mut rng);
    let (_, outcomes) = task.mean_error(sim, &fresh, &actions)?;
    rollouts += fresh.len();
    let predicted_success =
        outcomes.iter().filter(|o| o.success).count() as f64 / outcomes.len().max(1) as f64;
    let rest_lift_m = match (targets.last(), task.path.last()) {
        (Some(t), Some(p)) => t[2] - p[2],
        _ => 0.0,
    };
    Ok(CarryPlan {
        format: CARRY_PLAN_FORMAT.into(),
        mode: opts.mode,
        targets_m: targets,
        actions,
        rest_lift_m,
        learning_stopped,
        learning_error_m,
        predicted_success,
        predicted_max_error_m: mean_max(&outcomes),
        rollouts,
    })
}
