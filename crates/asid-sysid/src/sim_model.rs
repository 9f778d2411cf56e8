//! The rapier simulator as a [`ReplayModel`]: replays with the plan's actions (through the
//! simulator's IK) or along the measured joint path, and whole-trajectory finite-difference
//! sensitivities for both (the steps and one-sided schemes near a bound of
//! [`Simulator::trajectory_sensitivity`], with quaternions kept on the nominal's sign).

use asid_core::scene::ChannelKind;
use asid_sim::{SimError, Simulator};
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::model::{ReplayModel, Sensitivities};

/// What moves the arm in one rollout.
#[derive(Clone, Copy)]
enum Input<'a> {
    Actions(&'a [Vec<f64>]),
    Path(&'a [Vec<f64>]),
}

impl Input<'_> {
    fn steps(&self) -> usize {
        match self {
            Self::Actions(a) => a.len(),
            Self::Path(q) => q.len().saturating_sub(1),
        }
    }
}

/// How far a measured joint position may lie outside the robot's limits before the recording is
/// refused (rad): encoder noise, not another robot.
const MEASURED_LIMIT_SLACK_RAD: f64 = 1e-3;

/// A measured joint position inside the robot's limits (clamped onto them within an encoder
/// noise's width); farther out, the recording does not belong to this robot (or its units).
fn inside(sim: &Simulator, step: usize, q: &[f64]) -> Result<Vec<f64>, SimError> {
    let arm = sim.arm();
    q.iter()
        .enumerate()
        .map(|(i, &v)| {
            let (lo, hi) = (arm.q_min_rad[i], arm.q_max_rad[i]);
            if v >= lo - MEASURED_LIMIT_SLACK_RAD && v <= hi + MEASURED_LIMIT_SLACK_RAD {
                Ok(v.clamp(lo, hi))
            } else {
                Err(SimError::Config(format!(
                    "measured joint {i} at control step {step} is {v} rad, outside the \
                     robot's limits [{lo}, {hi}] by more than {MEASURED_LIMIT_SLACK_RAD} rad \
                     (another robot, or another unit?)"
                )))
            }
        })
        .collect()
}

/// Observations of one rollout (`H + 1` rows).
fn rollout(sim: &Simulator, theta: &[f64], input: Input<'_>) -> Result<Vec<Vec<f64>>, SimError> {
    match input {
        Input::Actions(a) => sim.rollout(theta, a).map(|t| t.obs),
        Input::Path(q_path) => {
            let Some((q0, rest)) = q_path.split_first() else {
                return Err(SimError::Config("empty measured joint path".into()));
            };
            let substeps = sim.scene().substeps();
            let mut w = sim.world(theta)?;
            w.set_arm_configuration(&inside(sim, 0, q0)?)?;
            let mut obs = Vec::with_capacity(q_path.len());
            obs.push(w.observe());
            for (h, q) in rest.iter().enumerate() {
                w.step_joint_command(&inside(sim, h + 1, q)?, substeps)?;
                obs.push(w.observe());
            }
            Ok(obs)
        }
    }
}

/// Observations after every physics step of one rollout (`H * substeps + 1` rows): the same joint
/// commands as [`rollout`] (the plan's actions through the simulator's IK, or the measured path),
/// each control period's linear interpolation given one physics step at a time.
fn fine_rollout(
    sim: &Simulator,
    theta: &[f64],
    input: Input<'_>,
) -> Result<Vec<Vec<f64>>, SimError> {
    let n = sim.scene().substeps();
    let mut w = sim.world(theta)?;
    let targets: Vec<Vec<f64>> = match input {
        Input::Actions(actions) => {
            let spec = &sim.scene().spec.arm.action;
            let mut q = w.commanded_joint_positions().to_vec();
            let mut tcp = w.tcp_target();
            let mut out = Vec::with_capacity(actions.len());
            for a in actions {
                let (q_next, tcp_next) =
                    asid_sim::command_for_action(spec, sim.arm(), &q, &tcp, a)?;
                out.push(q_next.clone());
                (q, tcp) = (q_next, tcp_next);
            }
            out
        }
        Input::Path(q_path) => {
            let Some((q0, rest)) = q_path.split_first() else {
                return Err(SimError::Config("empty measured joint path".into()));
            };
            w.set_arm_configuration(&inside(sim, 0, q0)?)?;
            rest.iter()
                .enumerate()
                .map(|(h, q)| inside(sim, h + 1, q))
                .collect::<Result<_, _>>()?
        }
    };
    let mut obs = Vec::with_capacity(targets.len() * n + 1);
    obs.push(w.observe());
    for q_next in &targets {
        let from = w.commanded_joint_positions().to_vec();
        for k in 1..=n {
            let u = k as f64 / n as f64;
            let target: Vec<f64> = from
                .iter()
                .zip(q_next)
                .map(|(a, b)| if k == n { *b } else { a + (b - a) * u })
                .collect();
            w.step_joint_command(&target, 1)?;
            obs.push(w.observe());
        }
    }
    Ok(obs)
}

/// Offsets of the quaternions of `object_pose` channels in the observation vector.
fn quaternion_offsets(sim: &Simulator) -> Vec<usize> {
    let n = sim.scene().n_joints();
    let mut off = 0;
    let mut out = Vec::new();
    for c in &sim.scene().spec.observation.channels {
        if c.kind == ChannelKind::ObjectPose {
            out.push(off + 3);
        }
        off += c.kind.dim(n);
    }
    out
}

/// Perturbed parameter vectors for parameter `i`: (theta+, theta-, step) or `None` for a
/// discrete parameter. Central differences, one-sided with the step actually taken near a bound.
fn perturb(sim: &Simulator, theta: &[f64], i: usize) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let p = &sim.scene().space.params[i];
    if p.prior.is_discrete() || p.fd_step <= 0.0 {
        return None;
    }
    let (lo, hi, h, x) = (p.bounds[0], p.bounds[1], p.fd_step, theta[i]);
    let (mut plus, mut minus) = (theta.to_vec(), theta.to_vec());
    if x + h <= hi && x - h >= lo {
        plus[i] = x + h;
        minus[i] = x - h;
        Some((plus, minus, 2.0 * h))
    } else if x + h > hi {
        minus[i] = (x - h).max(lo);
        Some((plus, minus.clone(), x - minus[i]))
    } else {
        plus[i] = (x + h).min(hi);
        Some((plus.clone(), minus, plus[i] - x))
    }
}

fn sensitivities(
    sim: &Simulator,
    theta: &[f64],
    input: Input<'_>,
) -> Result<Sensitivities, String> {
    let space = &sim.scene().space;
    space.check(theta).map_err(|e| e.to_string())?;
    let p = space.dim();
    let plans: Vec<_> = (0..p).map(|i| perturb(sim, theta, i)).collect();
    let mut jobs = vec![theta.to_vec()];
    for (plus, minus, _) in plans.iter().flatten() {
        jobs.push(plus.clone());
        jobs.push(minus.clone());
    }
    let results = jobs
        .par_iter()
        .map(|t| rollout(sim, t, input))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let nominal = &results[0];
    let quats = quaternion_offsets(sim);
    // Each perturbed quaternion on the nominal's sign, so a flip of the canonical sign between
    // the two rollouts is no derivative.
    let aligned = |obs: &[Vec<f64>], h: usize| -> Vec<f64> {
        let mut row = obs[h].clone();
        for &q in &quats {
            let dot: f64 = (0..4).map(|c| row[q + c] * nominal[h][q + c]).sum();
            if dot < 0.0 {
                row[q..q + 4].iter_mut().for_each(|v| *v = -*v);
            }
        }
        row
    };
    let obs_dim = nominal[0].len();
    let mut jacobians = vec![DMatrix::zeros(obs_dim, p); input.steps()];
    let mut job = 1;
    for (i, plan) in plans.iter().enumerate() {
        let Some((_, _, step)) = plan else { continue };
        let (plus, minus) = (&results[job], &results[job + 1]);
        job += 2;
        for (h, jac) in jacobians.iter_mut().enumerate() {
            let (a, b) = (aligned(plus, h + 1), aligned(minus, h + 1));
            for r in 0..obs_dim {
                jac[(r, i)] = (a[r] - b[r]) / step;
            }
        }
    }
    Ok((results[0].clone(), jacobians))
}

impl ReplayModel for Simulator {
    fn space(&self) -> &asid_core::ParamSpace {
        &self.scene().space
    }

    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        rollout(self, theta, Input::Actions(actions)).map_err(|e| e.to_string())
    }

    fn sensitivities(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Sensitivities, String> {
        sensitivities(self, theta, Input::Actions(actions))
    }

    fn simulate_joint_path(
        &self,
        theta: &[f64],
        q_path: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, String> {
        rollout(self, theta, Input::Path(q_path)).map_err(|e| e.to_string())
    }

    fn joint_path_sensitivities(
        &self,
        theta: &[f64],
        q_path: &[Vec<f64>],
    ) -> Result<Sensitivities, String> {
        sensitivities(self, theta, Input::Path(q_path))
    }

    fn control_period_s(&self) -> Option<f64> {
        Some(self.scene().control_period_s())
    }

    fn simulate_fine(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        q_path: Option<&[Vec<f64>]>,
    ) -> Result<(usize, Vec<Vec<f64>>), String> {
        let input = q_path.map_or(Input::Actions(actions), Input::Path);
        let rows = fine_rollout(self, theta, input).map_err(|e| e.to_string())?;
        Ok((self.scene().substeps(), rows))
    }
}
