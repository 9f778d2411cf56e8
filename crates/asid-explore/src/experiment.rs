//! What the planner needs from a model of the experiment, and its implementation for the simulator.

use asid_core::ParamSpace;
use asid_sim::{ActionBounds, Nominal, Simulator, Trajectory};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::ExploreError;
use crate::arm_check::ArmCheck;

/// Where the noise enters (which sensitivities make the Fisher information).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseModel {
    /// Gaussian process noise on each transition: per-step sensitivities from the nominal state (the paper).
    Process,
    /// Gaussian measurement noise on each observation: sensitivities of the whole open-loop trajectory
    /// (what identification by open-loop replay sees).
    Measurement,
}

/// A named constraint of exploration plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    /// The tool target stays inside the scene's workspace box (enforced when decoding plans).
    Workspace,
    /// Joint positions stay inside the limits (IK fails otherwise).
    JointPosition,
    /// Joint speeds implied by consecutive commands stay under the robot's limits.
    JointVelocity,
    /// Joint accelerations implied by consecutive commands (starting from rest) stay under a
    /// fraction of the robot's limits (`asid_sim::actions::PLAN_JOINT_ACCELERATION_FRACTION`), so
    /// the safety layer's plan-rate check accepts the plan.
    JointAcceleration,
    /// The arm's 1 kHz interpolation of the joint targets, as its control loop runs them (every
    /// segment after the first starting one or more ticks late), stays within a fraction of the
    /// robot's velocity, acceleration and jerk limits ([`crate::arm_check`]).
    ArmInterpolation,
    /// Objects stay on the table.
    ObjectOnTable,
    /// No arm link or the tool goes below the table top.
    ArmTableClearance,
    /// The simulator refused the plan for another reason.
    Simulation,
    /// The observations do not depend smoothly on the parameters along this plan (finite
    /// differences at two step sizes disagree): a contact event the identification could not fit.
    Smoothness,
}

/// A model the planner can query: parameters, noise, action space and sensitivities.
pub trait Experiment: Sync {
    /// The unknown parameters.
    fn space(&self) -> &ParamSpace;
    /// Noise sigma of each observation entry.
    fn obs_sigmas(&self) -> Vec<f64>;
    /// The action space.
    fn action_bounds(&self) -> ActionBounds;
    /// Steps per episode.
    fn horizon(&self) -> usize;
    /// The checks that need no simulation, run once per candidate before any rollout (default:
    /// none): a Franka scene's 1 kHz check of the arm's interpolation ([`crate::arm_check`]) and
    /// the action box it decodes. [`Experiment::sensitivities`] does not repeat them; the scoring
    /// ([`crate::assess`]) runs this first.
    fn check_actions(&self, _actions: &[Vec<f64>]) -> Result<(), Constraint> {
        Ok(())
    }
    /// d obs / d theta per step under `noise`, and the nominal rollout (its trajectory, and what a
    /// later sensitivity around it may reuse), or the constraint the plan violates (after
    /// [`Experiment::check_actions`] accepted `actions`).
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        noise: NoiseModel,
    ) -> Result<(Vec<DMatrix<f64>>, Option<Nominal>), Constraint>;
    /// Whether the arm's own check (a Franka's 1 kHz interpolation) accepts `actions`: anything
    /// [`Experiment::check_actions`] says but [`Constraint::ArmInterpolation`] (an action without
    /// a joint target is left to the scoring).
    fn arm_accepts(&self, actions: &[Vec<f64>]) -> bool {
        self.check_actions(actions) != Err(Constraint::ArmInterpolation)
    }
    /// Whether the observations depend smoothly on the parameters along `actions` at `theta`, given
    /// the `jacobians` [`Experiment::sensitivities`] returned (default: always). The planner rejects
    /// non-smooth candidates; the random baseline is scored regardless and only counts them.
    fn is_smooth(
        &self,
        _theta: &[f64],
        _actions: &[Vec<f64>],
        _noise: NoiseModel,
        _jacobians: &[DMatrix<f64>],
    ) -> Result<bool, Constraint> {
        Ok(true)
    }
    /// As [`Experiment::is_smooth`], given the nominal rollout [`Experiment::sensitivities`]
    /// returned with the `jacobians`, so a model can reuse it instead of simulating it again
    /// (default: [`Experiment::is_smooth`]).
    fn is_smooth_around(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        noise: NoiseModel,
        jacobians: &[DMatrix<f64>],
        _nominal: Option<&Nominal>,
    ) -> Result<bool, Constraint> {
        self.is_smooth(theta, actions, noise, jacobians)
    }
    /// Control steps the model has simulated so far (0 for a model that does not count): the
    /// planner reports the difference as its cost in rollouts.
    fn simulated_steps(&self) -> u64 {
        0
    }
    /// Constraints a nominal trajectory violates (empty: feasible).
    fn violations(&self, _nominal: &Trajectory) -> Vec<Constraint> {
        Vec::new()
    }
    /// Observations (`H + 1` rows) of the open-loop rollout of `actions` at `theta`: what the
    /// discrimination between structures compares (default: the nominal trajectory of
    /// [`Experiment::sensitivities`]; a model that returns none cannot discriminate).
    fn observations(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, Constraint> {
        match self.sensitivities(theta, actions, NoiseModel::Measurement)? {
            (_, Some(n)) => Ok(n.trajectory.obs),
            (_, None) => Err(Constraint::Simulation),
        }
    }
    /// Offsets of unit quaternions in the observation vector (compared up to their sign).
    fn quaternion_offsets(&self) -> Vec<usize> {
        Vec::new()
    }
}

/// The simulator as an experiment, with the checks a lab would insist on.
pub struct SimExperiment<'a> {
    sim: std::borrow::Cow<'a, Simulator>,
    sigmas: Vec<f64>,
    horizon: usize,
    bounds: ActionBounds,
    smoothness: Option<f64>,
    /// Joint speeds when the episode starts (zero from the scene's start; the current ones when
    /// replanning mid-motion).
    start_speed_rad_s: Vec<f64>,
    /// The arm's 1 kHz check of plans from the scene's start (`None`: a robot no Franka loop
    /// runs, or a replan from mid-motion, whose 1 kHz state the planner does not know; the
    /// executor's dry run and the loop still check those).
    arm_check: Option<ArmCheck>,
}

/// Default tolerance of the smoothness check: relative Frobenius difference of the Fisher
/// information from finite differences at the scene's step and at twice that step.
pub const SMOOTHNESS_TOLERANCE: f64 = 0.5;

/// Disagreements below this fraction of the prior's information (the identity in prior-std
/// units) pass the smoothness check whatever their relative size: a plan that tells the
/// parameters nothing is not rough for its rounding noise (1e-40 against 1e-11 is a relative
/// difference of 1).
pub const SMOOTHNESS_FLOOR: f64 = 0.05;

/// Whether Fisher informations `a` and `b` (prior-std units) from two finite-difference steps
/// agree: `|a - b| <= tol max(|a|, |b|) + SMOOTHNESS_FLOOR |I|` (Frobenius norms).
pub fn fisher_agrees(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) -> bool {
    let prior = (a.nrows() as f64).sqrt();
    (a - b).norm() <= tol * a.norm().max(b.norm()) + SMOOTHNESS_FLOOR * prior
}

impl<'a> SimExperiment<'a> {
    /// Wraps a simulator: episodes from the scene's start, over the scene's horizon.
    pub fn new(sim: &'a Simulator) -> Self {
        Self {
            sigmas: sim.scene().obs_sigmas(),
            horizon: sim.scene().spec.arm.action.horizon_steps(),
            bounds: ActionBounds::of(sim.scene()),
            start_speed_rad_s: vec![0.0; sim.scene().n_joints()],
            arm_check: ArmCheck::for_scene(sim.scene(), sim.arm()),
            sim: std::borrow::Cow::Borrowed(sim),
            smoothness: Some(SMOOTHNESS_TOLERANCE),
        }
    }

    /// Sets (or with `None` switches off) the smoothness check of measurement-noise sensitivities.
    pub fn with_smoothness_check(mut self, tolerance: Option<f64>) -> Self {
        self.smoothness = tolerance;
        self
    }

    /// An experiment that starts from `state` (e.g. the latest observed state of a run) and lasts
    /// `remaining` control steps: what receding-horizon exploration replans.
    pub fn from_state(
        sim: &Simulator,
        state: asid_sim::SimWorld,
        remaining: usize,
    ) -> SimExperiment<'static> {
        let mut bounds = ActionBounds::of(sim.scene());
        let period = sim.scene().control_period_s();
        let qd = state.joint_velocities().to_vec();
        if bounds.is_delta() {
            let p = state.tcp_target().translation.vector;
            bounds.start = p.iter().take(bounds.workspace.len()).copied().collect();
            // The tool's current step: its velocity over one control period.
            let j = state.arm().tcp_jacobian(state.joint_positions());
            let v = &j * nalgebra::DVector::from_column_slice(&qd);
            bounds.start_step = (0..bounds.workspace.len()).map(|i| v[i] * period).collect();
        } else {
            bounds.start = state.commanded_joint_positions().to_vec();
            bounds.start_step = qd.iter().map(|v| v * period).collect();
        }
        let mut owned = sim.clone();
        *owned.start_mut() = state;
        SimExperiment {
            sigmas: sim.scene().obs_sigmas(),
            horizon: remaining,
            bounds,
            sim: std::borrow::Cow::Owned(owned),
            smoothness: Some(SMOOTHNESS_TOLERANCE),
            start_speed_rad_s: qd,
            arm_check: None,
        }
    }

    /// The simulator.
    pub fn sim(&self) -> &Simulator {
        &self.sim
    }

    /// The arm's 1 kHz check of this experiment's plans, if it has one.
    pub fn arm_check(&self) -> Option<&ArmCheck> {
        self.arm_check.as_ref()
    }
}

/// Lowest height (m) any arm link origin may reach; the tool centre point may go down to the table top.
const LINK_CLEARANCE_M: f64 = 0.03;

impl Experiment for SimExperiment<'_> {
    fn space(&self) -> &ParamSpace {
        &self.sim.scene().space
    }

    fn obs_sigmas(&self) -> Vec<f64> {
        self.sigmas.clone()
    }

    fn action_bounds(&self) -> ActionBounds {
        self.bounds.clone()
    }

    fn horizon(&self) -> usize {
        self.horizon
    }

    fn check_actions(&self, actions: &[Vec<f64>]) -> Result<(), Constraint> {
        // Cheap beside a rollout, and it refuses what the arm would not run.
        let Some(check) = &self.arm_check else {
            return Ok(());
        };
        let spec = &self.sim.scene().spec.arm.action;
        match check.check(spec, self.sim.arm(), actions) {
            Ok(_) => Ok(()),
            Err(crate::arm_check::ArmCheckError::Action { source, .. }) => {
                Err(constraint_of(source))
            }
            Err(crate::arm_check::ArmCheckError::Refused { .. }) => {
                Err(Constraint::ArmInterpolation)
            }
        }
    }

    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        noise: NoiseModel,
    ) -> Result<(Vec<DMatrix<f64>>, Option<Nominal>), Constraint> {
        let result = match noise {
            NoiseModel::Measurement => self.sim.trajectory_sensitivity(theta, actions),
            NoiseModel::Process => self.sim.step_sensitivity(theta, actions),
        };
        result
            .map(|s| {
                let nominal = Nominal {
                    trajectory: s.nominal,
                    untouched: s.untouched,
                };
                (s.jacobians, Some(nominal))
            })
            .map_err(constraint_of)
    }

    fn is_smooth(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        noise: NoiseModel,
        jacobians: &[DMatrix<f64>],
    ) -> Result<bool, Constraint> {
        self.is_smooth_around(theta, actions, noise, jacobians, None)
    }

    fn is_smooth_around(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        noise: NoiseModel,
        jacobians: &[DMatrix<f64>],
        nominal: Option<&Nominal>,
    ) -> Result<bool, Constraint> {
        let (NoiseModel::Measurement, Some(tol)) = (noise, self.smoothness) else {
            return Ok(true);
        };
        // The nominal rollout is shared with the sensitivities at the scene's step.
        let wide = self
            .sim
            .trajectory_sensitivity_around(theta, actions, 2.0, nominal)
            .map_err(constraint_of)?;
        let scale: Vec<f64> = self.space().scales();
        let a = crate::fisher::fisher_information(jacobians, &self.sigmas, &scale);
        let b = crate::fisher::fisher_information(&wide.jacobians, &self.sigmas, &scale);
        Ok(fisher_agrees(&a, &b, tol))
    }

    fn simulated_steps(&self) -> u64 {
        self.sim.control_steps()
    }

    fn observations(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, Constraint> {
        let t = self.sim.rollout(theta, actions).map_err(constraint_of)?;
        match self.violations(&t).first() {
            Some(c) => Err(*c),
            None => Ok(t.obs),
        }
    }

    fn quaternion_offsets(&self) -> Vec<usize> {
        let scene = self.sim.scene();
        let n = scene.n_joints();
        let mut off = 0;
        let mut out = Vec::new();
        for c in &scene.spec.observation.channels {
            if c.kind == asid_core::scene::ChannelKind::ObjectPose {
                out.push(off + 3);
            }
            off += c.kind.dim(n);
        }
        out
    }

    fn violations(&self, nominal: &Trajectory) -> Vec<Constraint> {
        let scene = self.sim.scene();
        let arm = self.sim.arm();
        let mut out = Vec::new();
        let period = scene.control_period_s();
        let vmax = &scene.robot.limits.velocity_rad_s;
        let too_fast = nominal.q_rad.windows(2).any(|w| {
            w[0].iter()
                .zip(&w[1])
                .zip(vmax)
                .any(|((a, b), v)| (b - a).abs() / period > *v)
        });
        if too_fast {
            out.push(Constraint::JointVelocity);
        }
        let amax = &scene.robot.limits.acceleration_rad_s2;
        let speeds: Vec<Vec<f64>> = std::iter::once(self.start_speed_rad_s.clone())
            .chain(nominal.q_rad.windows(2).map(|w| {
                w[0].iter()
                    .zip(&w[1])
                    .map(|(a, b)| (b - a) / period)
                    .collect()
            }))
            .collect();
        let too_sudden = speeds.windows(2).any(|w| {
            w[0].iter().zip(&w[1]).zip(amax).any(|((a, b), m)| {
                (b - a).abs() / period > asid_sim::actions::PLAN_JOINT_ACCELERATION_FRACTION * m
            })
        });
        if too_sudden {
            out.push(Constraint::JointAcceleration);
        }
        let t = &scene.spec.table;
        let on_table = |p: &[f64; 3]| {
            (p[0] - t.center_xy_m[0]).abs() <= 0.5 * t.size_m[0]
                && (p[1] - t.center_xy_m[1]).abs() <= 0.5 * t.size_m[1]
                && p[2] > -0.01
        };
        if nominal
            .objects_m
            .last()
            .is_some_and(|objs| !objs.iter().all(on_table))
        {
            out.push(Constraint::ObjectOnTable);
        }
        let low = nominal.q_rad.iter().any(|q| {
            let frames = arm.frames(q);
            // Links 1-2 sit on the base; from link 3 on, every origin keeps clear of the table.
            frames
                .iter()
                .skip(2)
                .any(|f| f.0.translation.vector.z < LINK_CLEARANCE_M)
                || arm.world_from_tcp(q).translation.vector.z < -1e-3
        });
        if low {
            out.push(Constraint::ArmTableClearance);
        }
        out
    }
}

/// The constraint a simulator refusal stands for.
fn constraint_of(e: asid_sim::SimError) -> Constraint {
    match e {
        asid_sim::SimError::Ik(_) => Constraint::JointPosition,
        asid_sim::SimError::Workspace { .. } => Constraint::Workspace,
        _ => Constraint::Simulation,
    }
}

impl From<Constraint> for ExploreError {
    fn from(c: Constraint) -> Self {
        ExploreError::Infeasible(c)
    }
}

#[cfg(test)]
mod smoothness_tests {
    use super::*;

    #[test]
    fn fisher_agreement_is_relative_above_a_floor_of_the_prior() {
        let i2 = DMatrix::<f64>::identity(2, 2);
        // Rounding noise of a plan that tells nothing agrees.
        assert!(fisher_agrees(&(&i2 * 1e-40), &(&i2 * 1e-11), 0.5));
        // A contact that one step triggers and the other misses (nothing against the prior's
        // information) does not.
        assert!(!fisher_agrees(&(&i2 * 0.0), &i2, 0.5));
        // Large information: relative, as before.
        assert!(fisher_agrees(&(&i2 * 100.0), &(&i2 * 110.0), 0.5));
        assert!(!fisher_agrees(&(&i2 * 100.0), &(&i2 * 250.0), 0.5));
    }
}
