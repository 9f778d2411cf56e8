//! The rod-balancing task and its planner: choose the point of the rod's long axis to grasp it at
//! (and so to set it over the perch at), in the simulator, for a belief's point estimate or
//! robustly over belief samples. The same CEM, belief samples and options as the slide planner
//! ([`crate::plan_task`]).
//!
//! The primitive has one number, the grasp offset `x` (m along the rod's long axis from its
//! geometric centre, towards +axis); the attempt sets the rod level on the perch with that point
//! over the perch's centre and lets it settle ([`Perch::place_and_settle`]). It stays up when its
//! centre of mass lies over the perch, so the task is to know where the centre of mass is: a plan
//! for the wrong centre of mass drops the rod.

use asid_core::param::ParamTarget;
use asid_opt::{CrossEntropy, MIN_ELITES};
use asid_sim::Simulator;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::balance::{BalanceOutcome, Perch};
use crate::planner::{cem_best, planning_samples, prediction_samples};
use crate::{Belief, TaskError, TaskPlanOptions};

/// How long a placed rod is left to settle before it is judged (s). A rod whose centre of mass
/// lies beyond the perch's edge has tipped onto the table well before that (the slowest fall the
/// rod scene's tests see, just beyond the edge, is over within a second); one over the perch sits
/// still from the start.
pub const BALANCE_SETTLE_S: f64 = 2.0;

/// Half the length of a Franka Hand finger pad along the rod (m): the grasp keeps the whole pad on
/// the rod.
pub const FINGER_PAD_HALF_M: f64 = 0.01;

/// Smoothing of the planner's CEM updates (new = a * old + (1 - a) * elite fit); with a quarter of
/// the population as elites. The search is one number against a 9 mm success window: with the
/// shared default (a fifth as elites, at least two, no smoothing) the two best of a first
/// population far from the centre of mass could collapse the search there (8 of 48 oracle plans,
/// population 12 x 5 and 16 x 6 iterations, 8 seeds, three centres of mass, ended up to 33 mm
/// off); with these settings none failed and the worst ended 0.8 mm off.
pub const CEM_SMOOTHING: f64 = 0.3;

/// The format tag of balance plans.
pub const BALANCE_PLAN_FORMAT: &str = "asid-balance-plan/1";

/// The rod-balancing task of a scene: the rod, the perch, and the grasp offsets allowed.
#[derive(Debug, Clone)]
pub struct BalanceTask {
    /// The success rule (rod and perch geometry).
    pub perch: Perch,
    /// The perch's name in the scene.
    pub perch_name: String,
    /// Half the rod's length along its long axis.
    pub half_length_m: f64,
    /// Half the perch's width along the rod's axis (the support the rod's centre of mass must
    /// stay over).
    pub perch_half_width_m: f64,
    /// Settle time of an attempt (s).
    pub settle_s: f64,
    /// Centre of mass along the long axis when no parameter sets it (the scene's value).
    nominal_com_m: f64,
    /// Parameters (scene order) that set the rod's centre of mass along its long axis.
    com_params: Vec<usize>,
}

impl BalanceTask {
    /// The task of placing `object` (a rod: a box with one long axis in the table plane) on the
    /// static box `perch` of `scene`, settling for [`BALANCE_SETTLE_S`].
    pub fn new(scene: &asid_core::Scene, object: &str, perch: &str) -> Result<Self, TaskError> {
        let rule = Perch::of_scene(scene, object, perch)?;
        let (index, axis) = (rule.object_index, rule.long_axis);
        let (h, ph) = (rule.rod_half_extents_m, rule.perch_half_extents_m);
        let nominal_com_m = scene.spec.objects[index].com_m[axis];
        let com_params = scene
            .space
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                matches!(p.target, ParamTarget::Com { object: i, axis: a } if i == index && a == axis)
            })
            .map(|(k, _)| k)
            .collect();
        let task = Self {
            perch_name: perch.to_string(),
            half_length_m: h[axis],
            perch_half_width_m: ph[axis],
            settle_s: BALANCE_SETTLE_S,
            nominal_com_m,
            com_params,
            perch: rule,
        };
        if task.reach_m() <= 0.0 {
            return Err(TaskError::Config(format!(
                "object `{object}`: half length {} m leaves no grasp offset with a margin of {} m",
                task.half_length_m,
                task.margin_m()
            )));
        }
        Ok(task)
    }

    /// The margin kept from either end of the rod: the perch's half width plus a finger pad's
    /// half length ([`FINGER_PAD_HALF_M`]), so that wherever the grasp is, the whole perch lies
    /// under the rod and the whole pad on it.
    pub fn margin_m(&self) -> f64 {
        self.perch_half_width_m + FINGER_PAD_HALF_M
    }

    /// Largest grasp offset from the rod's centre (either way).
    fn reach_m(&self) -> f64 {
        self.half_length_m - self.margin_m()
    }

    /// The primitive's parameter box: `[offset_m]` in +-(half length - [`Self::margin_m`]).
    pub fn bounds(&self) -> Vec<[f64; 2]> {
        vec![[-self.reach_m(), self.reach_m()]]
    }

    /// The rod's centre of mass along its long axis (m from its geometric centre) at `theta`: the
    /// scene's value, or the parameter that sets it.
    pub fn com_m(&self, theta: &[f64]) -> Result<f64, TaskError> {
        self.com_params
            .iter()
            .try_fold(self.nominal_com_m, |_, &k| {
                theta.get(k).copied().ok_or_else(|| {
                    TaskError::Config(format!(
                        "parameter vector of length {} has no entry {k}",
                        theta.len()
                    ))
                })
            })
    }

    /// One attempt in the simulator at `theta`: the rod set on the perch with the point `x[0]` of
    /// its axis over the perch's centre, released and left to settle for [`Self::settle_s`].
    pub fn simulate(
        &self,
        sim: &Simulator,
        theta: &[f64],
        x: &[f64],
    ) -> Result<BalanceOutcome, TaskError> {
        let offset_m = self.offset_of(x)?;
        let mut world = sim.world(theta).map_err(TaskError::Sim)?;
        self.perch
            .place_and_settle(&mut world, offset_m, self.settle_s)
    }

    /// The grasp offset of primitive parameters `x`, refused outside [`Self::bounds`].
    fn offset_of(&self, x: &[f64]) -> Result<f64, TaskError> {
        let r = self.reach_m();
        match x {
            [v] if (-r..=r).contains(v) => Ok(*v),
            _ => Err(TaskError::Primitive(format!(
                "grasp offset {x:?} outside the box [[{:.4}, {:.4}]] (offset_m)",
                -r, r
            ))),
        }
    }

    /// How far the centre of mass at `theta` lies from the grasp point `offset_m`, in perch half
    /// widths (below 1: over the perch).
    fn miss(&self, theta: &[f64], offset_m: f64) -> Result<f64, TaskError> {
        Ok((self.com_m(theta)? - offset_m).abs() / self.perch_half_width_m)
    }
}

/// A planned rod placement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BalancePlan {
    /// Format tag ([`BALANCE_PLAN_FORMAT`]).
    pub format: String,
    /// Scene name.
    pub scene: String,
    /// The rod.
    pub object: String,
    /// The perch.
    pub perch: String,
    /// Settings.
    pub options: TaskPlanOptions,
    /// The grasp offset along the rod's long axis (from its geometric centre, towards +axis): the
    /// point set over the perch.
    pub offset_m: f64,
    /// Predicted success rate over [`crate::PREDICTION_SAMPLES`] fresh belief samples
    /// that the plan was not chosen on (robust mode); in point mode the estimate's own attempt,
    /// 1 or 0 (in-sample).
    pub predicted_success: f64,
    /// Predicted mean task metric over the same samples: the tilt after settling, 90 degrees for
    /// a rod that fell off ([`BalanceOutcome::metric_deg`]).
    pub predicted_tilt_deg: f64,
    /// Simulated attempts the planner ran (the search and the prediction).
    pub rollouts: usize,
}

/// Plans the grasp offset of the rod against `belief` with the shared CEM.
///
/// The cost of an offset over the planning samples is the failure rate in the simulator; then,
/// worth less than one more success, the mean miss `m / (1 + m)`, where `m` is the distance from
/// the sample's centre of mass to the grasp point in perch half widths: the rod's static stability
/// margin. The miss term aims the grasp at the middle of the perch's tolerance rather than its
/// edge (where a small error drops the rod), and leads CEM towards the centre of mass while no
/// sample succeeds: a fallen rod's tilt says little about how far off it was placed (it lies
/// flat on the table, leans on the perch at ~20 degrees, or slides off the table alike). CEM keeps
/// a quarter of the population as elites and smooths its updates ([`CEM_SMOOTHING`]).
///
/// The miss term reads each sample's centre of mass from its parameters, so for a point belief
/// its minimum is that centre of mass exactly: the simulator alone narrows the grasp to the
/// success window (about +-4.5 mm on the rod scene's perch), the term picks its middle.
pub fn plan_balance(
    sim: &Simulator,
    task: &BalanceTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
) -> Result<BalancePlan, TaskError> {
    let space = &sim.scene().space;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let thetas = planning_samples(belief, space, opts, &mut rng);
    let n = thetas.len() as f64;
    let cost = |x: &[f64]| -> Result<f64, TaskError> {
        let offset_m = task.offset_of(x)?;
        let mut failures = 0.0;
        let mut miss = 0.0;
        for theta in &thetas {
            if !task.simulate(sim, theta, x)?.success {
                failures += 1.0;
            }
            let m = task.miss(theta, offset_m)?;
            miss += m / (1.0 + m);
        }
        Ok(failures / n + miss / n / (n + 1.0))
    };
    let tune = |c: CrossEntropy| {
        c.with_elites((opts.population / 4).clamp(MIN_ELITES, opts.population.max(MIN_ELITES)))?
            .with_smoothing(CEM_SMOOTHING)
    };
    let best = cem_best(task.bounds(), opts, tune, cost)?.ok_or_else(|| {
        TaskError::Plan(format!(
            "no grasp offset in {:?} could be simulated",
            task.bounds()
        ))
    })?;
    // The prediction is scored on fresh belief samples, not on the ones the plan was chosen on
    // (robust mode; point mode has the estimate alone).
    let held_out = prediction_samples(belief, space, opts, &mut rng);
    let outcomes = held_out
        .iter()
        .map(|theta| task.simulate(sim, theta, &best))
        .collect::<Result<Vec<_>, _>>()?;
    let m = outcomes.len() as f64;
    let predicted_success = outcomes.iter().filter(|o| o.success).count() as f64 / m;
    let predicted_tilt_deg = outcomes.iter().map(BalanceOutcome::metric_deg).sum::<f64>() / m;
    let searched = opts.population * opts.iterations as usize * thetas.len();
    Ok(BalancePlan {
        format: BALANCE_PLAN_FORMAT.into(),
        scene: sim.scene().spec.name.clone(),
        object: task.perch.object.clone(),
        perch: task.perch_name.clone(),
        options: opts.clone(),
        offset_m: best[0],
        predicted_success,
        predicted_tilt_deg,
        rollouts: searched + outcomes.len(),
    })
}
