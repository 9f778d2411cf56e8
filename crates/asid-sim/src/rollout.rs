//! Rollouts (single and batched in parallel) and finite-difference sensitivities.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use asid_core::Scene;
use asid_robot::Arm;
use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::untouched::Untouched;
use crate::world::SimWorld;

/// The observations of one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// Time of each observation.
    pub t_s: Vec<f64>,
    /// Observation before the first action (index 0) and after each action.
    pub obs: Vec<Vec<f64>>,
    /// Joint positions at the same instants.
    pub q_rad: Vec<Vec<f64>>,
    /// Positions of the free objects (scene order, fixed and held objects left out) at the same instants.
    pub objects_m: Vec<Vec<[f64; 3]>>,
}

impl Trajectory {
    pub(crate) fn start(w: &SimWorld, capacity: usize) -> Self {
        let mut t = Self {
            t_s: Vec::with_capacity(capacity),
            obs: Vec::with_capacity(capacity),
            q_rad: Vec::with_capacity(capacity),
            objects_m: Vec::with_capacity(capacity),
        };
        t.record(w);
        t
    }

    pub(crate) fn record(&mut self, w: &SimWorld) {
        self.t_s.push(w.time_s());
        self.obs.push(w.observe());
        self.q_rad.push(w.joint_positions().to_vec());
        self.objects_m.push(w.free_object_positions());
    }

    /// The first `n` records.
    pub(crate) fn prefix(&self, n: usize) -> Self {
        let n = n.min(self.obs.len());
        Self {
            t_s: self.t_s[..n].to_vec(),
            obs: self.obs[..n].to_vec(),
            q_rad: self.q_rad[..n].to_vec(),
            objects_m: self.objects_m[..n].to_vec(),
        }
    }
}

/// A nominal rollout as a later sensitivity reuses it: its trajectory and, when the perturbed
/// rollouts may share its untouched start ([`crate::untouched`]), its world at the last untouched
/// control step.
#[derive(Debug, Clone)]
pub struct Nominal {
    /// The rollout's observations.
    pub trajectory: Trajectory,
    /// Its world at the last untouched control step, if any.
    pub untouched: Option<Untouched>,
}

/// One rollout to run: parameters and an action sequence.
#[derive(Debug, Clone)]
pub struct RolloutJob {
    /// Parameter vector (scene order).
    pub theta: Vec<f64>,
    /// Actions, one per control step.
    pub actions: Vec<Vec<f64>>,
}

/// d obs / d theta at each control step, by finite differences.
#[derive(Debug, Clone)]
pub struct Sensitivity {
    /// The unperturbed rollout.
    pub nominal: Trajectory,
    /// One `obs_dim x n_params` matrix per action (row h is the observation after action h).
    pub jacobians: Vec<DMatrix<f64>>,
    /// The step actually used per parameter (negative: backward difference; 0: discrete parameter).
    pub steps: Vec<f64>,
    /// Which scheme each parameter used.
    pub schemes: Vec<FdScheme>,
    /// The nominal rollout's world at its last untouched control step, which the perturbed
    /// rollouts started from (None: they ran from the beginning).
    pub untouched: Option<Untouched>,
}

impl Sensitivity {
    /// The nominal rollout as a later sensitivity reuses it
    /// ([`Simulator::trajectory_sensitivity_around`]).
    pub fn nominal_rollout(&self) -> Nominal {
        Nominal {
            trajectory: self.nominal.clone(),
            untouched: self.untouched.clone(),
        }
    }

    fn new(
        nominal: Nominal,
        jacobians: Vec<DMatrix<f64>>,
        plans: &[(FdScheme, Vec<f64>, Vec<f64>, f64)],
    ) -> Self {
        Self {
            nominal: nominal.trajectory,
            untouched: nominal.untouched,
            jacobians,
            steps: plans
                .iter()
                .map(|p| if p.0 == FdScheme::Backward { -p.3 } else { p.3 })
                .collect(),
            schemes: plans.iter().map(|p| p.0).collect(),
        }
    }
}

/// Finite-difference scheme of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FdScheme {
    /// (f(x+h) - f(x-h)) / 2h.
    Central,
    /// (f(x+h') - f(x)) / h', near the lower bound.
    Forward,
    /// (f(x) - f(x-h')) / h', near the upper bound.
    Backward,
    /// Discrete parameter: no derivative (zero column).
    None,
}

/// A scene ready to simulate: builds worlds from a template and runs rollouts.
#[derive(Clone)]
pub struct Simulator {
    scene: Arc<Scene>,
    arm: Arc<Arm>,
    template: SimWorld,
    /// Control steps simulated by this simulator and its clones (rollouts, sensitivities): what
    /// planning and fitting cost, counted rather than timed.
    control_steps: Arc<AtomicU64>,
}

impl Simulator {
    /// Prepares a simulator for a validated scene.
    pub fn new(scene: Scene) -> Result<Self, SimError> {
        let arm = asid_robot::arm_for_scene(&scene).map_err(|e| SimError::Urdf(e.to_string()))?;
        let scene = Arc::new(scene);
        let arm = Arc::new(arm);
        let template = SimWorld::build(Arc::clone(&scene), Arc::clone(&arm))?;
        Ok(Self {
            scene,
            arm,
            template,
            control_steps: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Control steps simulated so far by this simulator and its clones (every rollout and every
    /// step of a sensitivity); divided by the horizon, the number of whole-episode rollouts.
    pub fn control_steps(&self) -> u64 {
        self.control_steps.load(Ordering::Relaxed)
    }

    pub(crate) fn count(&self, steps: usize) {
        self.control_steps
            .fetch_add(steps as u64, Ordering::Relaxed);
    }

    /// Loads and validates a scene file, then prepares a simulator.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        let scene = asid_core::load_scene(path).map_err(|e| SimError::Config(e.to_string()))?;
        Self::new(scene)
    }

    /// The scene.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The arm's kinematic model.
    pub fn arm(&self) -> &Arm {
        &self.arm
    }

    /// The world every episode starts from.
    pub(crate) fn template(&self) -> &SimWorld {
        &self.template
    }

    /// The world every episode starts from, to change the initial state (e.g. give an object a
    /// velocity, or let objects settle) before rollouts. Parameters are applied on top of it.
    pub fn start_mut(&mut self) -> &mut SimWorld {
        &mut self.template
    }

    /// A fresh world at the start of an episode, with parameters `theta`.
    pub fn world(&self, theta: &[f64]) -> Result<SimWorld, SimError> {
        let mut w = self.template.clone();
        w.stop_watching();
        w.set_params(theta)?;
        Ok(w)
    }

    /// Runs `actions` from the start with parameters `theta`.
    pub fn rollout(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Trajectory, SimError> {
        let mut w = self.world(theta)?;
        self.count(actions.len());
        run(&mut w, actions)
    }

    /// Runs many rollouts in parallel (rayon); results are in input order.
    pub fn rollouts(&self, jobs: &[RolloutJob]) -> Vec<Result<Trajectory, SimError>> {
        jobs.par_iter()
            .map(|j| self.rollout(&j.theta, &j.actions))
            .collect()
    }

    /// Perturbed parameter vectors for parameter `i`: (scheme, theta+, theta-, step used).
    fn perturb(
        &self,
        theta: &[f64],
        i: usize,
        step_scale: f64,
    ) -> (FdScheme, Vec<f64>, Vec<f64>, f64) {
        let p = &self.scene.space.params[i];
        if p.prior.is_discrete() || p.fd_step <= 0.0 {
            return (FdScheme::None, theta.to_vec(), theta.to_vec(), 0.0);
        }
        let (lo, hi, h, x) = (p.bounds[0], p.bounds[1], p.fd_step * step_scale, theta[i]);
        let mut plus = theta.to_vec();
        let mut minus = theta.to_vec();
        if x + h <= hi && x - h >= lo {
            plus[i] = x + h;
            minus[i] = x - h;
            (FdScheme::Central, plus, minus, 2.0 * h)
        } else if x + h > hi {
            // Near the upper bound: backward difference with the step actually taken.
            let xm = (x - h).max(lo);
            minus[i] = xm;
            (FdScheme::Backward, plus, minus, x - xm)
        } else {
            let xp = (x + h).min(hi);
            plus[i] = xp;
            (FdScheme::Forward, plus, minus, xp - x)
        }
    }

    /// Whole-trajectory sensitivities d obs_h / d theta (measurement-noise model): the effect of a
    /// parameter propagates through time. A perturbed rollout starts from the nominal's world at
    /// its last untouched control step when the scene's parameters wait for a touch
    /// ([`crate::untouched`]), otherwise from the beginning.
    pub fn trajectory_sensitivity(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<Sensitivity, SimError> {
        self.trajectory_sensitivity_scaled(theta, actions, 1.0)
    }

    /// As [`Simulator::trajectory_sensitivity`], with every finite-difference step multiplied by
    /// `step_scale` (comparing two scales tells smooth dynamics from contact events).
    pub fn trajectory_sensitivity_scaled(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        step_scale: f64,
    ) -> Result<Sensitivity, SimError> {
        self.trajectory_sensitivity_around(theta, actions, step_scale, None)
    }

    /// As [`Simulator::trajectory_sensitivity_scaled`], reusing `nominal` (the rollout of `actions`
    /// at `theta` and its untouched world, e.g. from an earlier sensitivity at another step)
    /// instead of running it again. One rollout per side that differs from the nominal: a central
    /// difference costs two, a one-sided difference near a bound one (its other side is the
    /// nominal), a discrete parameter none. The result is bit-identical to computing the nominal
    /// here (rollouts are deterministic).
    pub fn trajectory_sensitivity_around(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        step_scale: f64,
        nominal: Option<&Nominal>,
    ) -> Result<Sensitivity, SimError> {
        self.scene.space.check(theta)?;
        let n = self.scene.space.dim();
        let plans: Vec<_> = (0..n).map(|i| self.perturb(theta, i, step_scale)).collect();
        // The perturbed parameter vectors; each parameter's (plus, minus) index among them, None:
        // the nominal.
        let mut thetas: Vec<&Vec<f64>> = Vec::with_capacity(2 * n);
        let mut sides = Vec::with_capacity(n);
        for (scheme, plus, minus, _) in &plans {
            let mut side = |needed: bool, th| {
                needed.then(|| {
                    thetas.push(th);
                    thetas.len() - 1
                })
            };
            sides.push(match scheme {
                FdScheme::Central => (side(true, plus), side(true, minus)),
                FdScheme::Forward => (side(true, plus), None),
                FdScheme::Backward => (None, side(true, minus)),
                FdScheme::None => (None, None),
            });
        }
        let (nominal, results) = match nominal {
            Some(nominal) => (nominal.clone(), self.perturbed(nominal, &thetas, actions)?),
            // The perturbed rollouts wait for the nominal's untouched start.
            None if self.params_wait_for_touch() => {
                let (trajectory, untouched) = self.rollout_watched(theta, actions)?;
                let nominal = Nominal {
                    trajectory,
                    untouched,
                };
                let results = self.perturbed(&nominal, &thetas, actions)?;
                (nominal, results)
            }
            // Nothing to share: the nominal runs beside the perturbed rollouts.
            None => {
                let jobs: Vec<RolloutJob> = std::iter::once(theta)
                    .chain(thetas.iter().map(|t| t.as_slice()))
                    .map(|th| RolloutJob {
                        theta: th.to_vec(),
                        actions: actions.to_vec(),
                    })
                    .collect();
                let mut results = self
                    .rollouts(&jobs)
                    .into_iter()
                    .collect::<Result<Vec<_>, _>>()?;
                let trajectory = results.remove(0);
                let nominal = Nominal {
                    trajectory,
                    untouched: None,
                };
                (nominal, results)
            }
        };
        let obs_dim = self.scene.obs_dim();
        let mut jacobians = vec![DMatrix::zeros(obs_dim, n); actions.len()];
        for (i, (scheme, _, _, step)) in plans.iter().enumerate() {
            if *scheme == FdScheme::None {
                continue;
            }
            let pick = |k: Option<usize>| k.map_or(&nominal.trajectory, |k| &results[k]);
            let (p, m) = (pick(sides[i].0), pick(sides[i].1));
            for (h, jac) in jacobians.iter_mut().enumerate() {
                for r in 0..obs_dim {
                    jac[(r, i)] = (p.obs[h + 1][r] - m.obs[h + 1][r]) / step;
                }
            }
        }
        Ok(Sensitivity::new(nominal, jacobians, &plans))
    }

    /// The rollouts at `thetas` (in parallel, in order): from the nominal's untouched world when
    /// it has one, otherwise from the beginning.
    fn perturbed(
        &self,
        nominal: &Nominal,
        thetas: &[&Vec<f64>],
        actions: &[Vec<f64>],
    ) -> Result<Vec<Trajectory>, SimError> {
        thetas
            .par_iter()
            .map(|th| match &nominal.untouched {
                Some(u) => self.rollout_from(u, &nominal.trajectory, th, actions),
                None => self.rollout(th, actions),
            })
            .collect()
    }

    /// Per-step sensitivities d f(s_h, a_h) / d theta (process-noise model, as in the paper): from a
    /// snapshot of the nominal state before each action, one control step with perturbed parameters
    /// (none for a step through which every object rested untouched, when the scene's parameters
    /// wait for a touch: its sensitivity is zero, [`crate::untouched`]).
    pub fn step_sensitivity(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<Sensitivity, SimError> {
        let mut w = self.world(theta)?;
        let n = self.scene.space.dim();
        let mut snapshots = Vec::with_capacity(actions.len());
        let mut nominal = Trajectory::start(&w, actions.len() + 1);
        self.count(actions.len());
        // A step through which every object rested untouched depends on no parameter that waits
        // for a touch (as for the trajectory sensitivities).
        if self.params_wait_for_touch() {
            w.watch_untouched();
        }
        let mut untouched = Vec::with_capacity(actions.len());
        for a in actions {
            let mut snap = w.snapshot();
            snap.0.stop_watching();
            snapshots.push(snap);
            w.step_control(a)?;
            nominal.record(&w);
            untouched.push(w.untouched());
        }
        let plans: Vec<_> = (0..n).map(|i| self.perturb(theta, i, 1.0)).collect();
        let jacobians = snapshots
            .par_iter()
            .zip(actions.par_iter())
            .enumerate()
            .map(|(h, (snap, a))| -> Result<DMatrix<f64>, SimError> {
                let mut jac = DMatrix::zeros(self.scene.obs_dim(), n);
                if untouched[h] {
                    return Ok(jac);
                }
                for (i, (scheme, plus, minus, step)) in plans.iter().enumerate() {
                    if *scheme == FdScheme::None {
                        continue;
                    }
                    let eval = |th: &[f64]| -> Result<Vec<f64>, SimError> {
                        self.count(1);
                        let mut s = SimWorld::clone(&snap.0);
                        s.set_params(th)?;
                        s.step_control(a)?;
                        Ok(s.observe())
                    };
                    let (op, om) = match scheme {
                        FdScheme::Central => (eval(plus)?, eval(minus)?),
                        FdScheme::Forward => (eval(plus)?, nominal.obs[h + 1].clone()),
                        FdScheme::Backward => (nominal.obs[h + 1].clone(), eval(minus)?),
                        FdScheme::None => continue,
                    };
                    for r in 0..op.len() {
                        jac[(r, i)] = (op[r] - om[r]) / step;
                    }
                }
                Ok(jac)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let nominal = Nominal {
            trajectory: nominal,
            untouched: None,
        };
        Ok(Sensitivity::new(nominal, jacobians, &plans))
    }
}

/// Runs `actions` on a world, recording observations.
pub fn run(w: &mut SimWorld, actions: &[Vec<f64>]) -> Result<Trajectory, SimError> {
    let mut t = Trajectory::start(w, actions.len() + 1);
    for a in actions {
        w.step_control(a)?;
        t.record(w);
    }
    Ok(t)
}
