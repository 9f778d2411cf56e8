//! The task planner: CEM over the primitive's parameters in the simulator, for a point estimate or
//! robustly over samples of a belief.

use argmin::core::{CostFunction, Error, Executor};
use asid_core::ParamSpace;
use asid_opt::{CrossEntropy, INFEASIBLE_COST};
use asid_sim::Simulator;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::primitive::{Outcome, SlideTask};
use crate::{Belief, TaskError};

/// How the plan treats uncertainty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Plan for the belief's point estimate alone.
    Point,
    /// Maximise the expected success over samples of the belief.
    Robust,
}

/// Settings of the task planner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskPlanOptions {
    /// Point or robust.
    pub mode: Mode,
    /// Belief samples the robust mode averages over.
    pub samples: usize,
    /// CEM population.
    pub population: usize,
    /// CEM iterations.
    pub iterations: u64,
    /// Seed of the samples and of CEM.
    pub seed: u64,
}

impl Default for TaskPlanOptions {
    fn default() -> Self {
        Self {
            mode: Mode::Robust,
            samples: 6,
            population: 16,
            iterations: 6,
            seed: 0,
        }
    }
}

/// A planned task attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskPlan {
    /// Format tag.
    pub format: String,
    /// Scene name.
    pub scene: String,
    /// The goal zone planned for.
    pub goal: String,
    /// Settings.
    pub options: TaskPlanOptions,
    /// The primitive's parameters `[speed_mps, travel_m]`.
    pub primitive: Vec<f64>,
    /// Actions at the scene's control rate (the push, then holds).
    pub actions: Vec<Vec<f64>>,
    /// Predicted success rate over [`PREDICTION_SAMPLES`] fresh belief samples that the plan was
    /// not chosen on (robust mode); in point mode the estimate's own attempt, 1 or 0 (in-sample).
    pub predicted_success: f64,
    /// Predicted mean distance to the zone over the same samples.
    pub predicted_distance_m: f64,
    /// Simulated attempts the planner ran.
    pub rollouts: usize,
}

/// Fresh belief samples the robust mode's prediction is scored on.
pub const PREDICTION_SAMPLES: usize = 24;

/// The format tag of task plans.
pub const TASK_PLAN_FORMAT: &str = "asid-task-plan/1";

/// The arm's check of an action sequence (the safety layer's limits at the control rate): `Err`
/// with the reason when the arm would refuse it.
pub type ArmCheck<'a> = &'a (dyn Fn(&[Vec<f64>]) -> Result<(), String> + Sync);

struct Problem<'a> {
    task: &'a SlideTask,
    sim: &'a Simulator,
    thetas: &'a [Vec<f64>],
    check: ArmCheck<'a>,
}

impl Problem<'_> {
    /// The planner's cost: the failure rate first; then, worth less than one more success, how far
    /// the end points lie from the zone's centre (in half-sizes), so that CEM aims for the middle
    /// of the zone rather than its edge, and is led towards the zone while no sample succeeds.
    fn cost(&self, x: &[f64]) -> Result<f64, TaskError> {
        let outcomes = self.outcomes(x)?;
        let n = outcomes.len() as f64;
        let success = outcomes.iter().filter(|o| o.success).count() as f64 / n;
        let offset = outcomes
            .iter()
            .map(|o| self.task.goal.offset_in_half_sizes(o.object_xy_m))
            .sum::<f64>()
            / n;
        Ok((1.0 - success) + offset / (1.0 + offset) / (n + 1.0))
    }

    fn outcomes(&self, x: &[f64]) -> Result<Vec<Outcome>, TaskError> {
        let (actions, _) = self.task.actions(x)?;
        (self.check)(&actions).map_err(TaskError::Primitive)?;
        self.thetas
            .iter()
            .map(|t| self.task.simulate(self.sim, t, x))
            .collect()
    }

    /// Success rate and mean distance over the samples.
    fn score(&self, x: &[f64]) -> Result<(f64, f64), TaskError> {
        let outcomes = self.outcomes(x)?;
        let n = outcomes.len() as f64;
        let success = outcomes.iter().filter(|o| o.success).count() as f64 / n;
        let distance = outcomes.iter().map(|o| o.distance_m).sum::<f64>() / n;
        Ok((success, distance))
    }
}

/// The belief samples a plan is chosen on: the point estimate alone ([`Mode::Point`]) or
/// `opts.samples` draws ([`Mode::Robust`], at least one).
pub(crate) fn planning_samples(
    belief: &Belief,
    space: &ParamSpace,
    opts: &TaskPlanOptions,
    rng: &mut StdRng,
) -> Vec<Vec<f64>> {
    draws(belief, space, opts.mode, opts.samples, rng)
}

/// The samples a plan's prediction is scored on: fresh draws that the plan was not chosen on
/// ([`PREDICTION_SAMPLES`] of them, robust mode), or the point estimate again (point mode).
pub(crate) fn prediction_samples(
    belief: &Belief,
    space: &ParamSpace,
    opts: &TaskPlanOptions,
    rng: &mut StdRng,
) -> Vec<Vec<f64>> {
    draws(belief, space, opts.mode, PREDICTION_SAMPLES, rng)
}

fn draws(
    belief: &Belief,
    space: &ParamSpace,
    mode: Mode,
    n: usize,
    rng: &mut StdRng,
) -> Vec<Vec<f64>> {
    match mode {
        Mode::Point => vec![belief.estimate.clone()],
        Mode::Robust => belief.samples(space, n.max(1), rng),
    }
}

/// A task cost as CEM sees it: a candidate the cost refuses as a primitive error (it does not fit
/// the primitive's limits or the arm would refuse it) is a candidate to avoid
/// ([`INFEASIBLE_COST`]), not a failure of the search.
struct CemCost<F>(F);

impl<F> CostFunction for CemCost<F>
where
    F: Fn(&[f64]) -> Result<f64, TaskError> + Send + Sync,
{
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        match (self.0)(x) {
            Ok(c) => Ok(c),
            Err(TaskError::Primitive(_)) => Ok(INFEASIBLE_COST),
            Err(e) => Err(e.into()),
        }
    }
}

/// Runs the shared CEM (population, iterations and seed of `opts`, further settings by `tune`)
/// over the box `bounds` on `cost`; the best candidate it evaluated, or `None` when every
/// candidate was infeasible.
pub(crate) fn cem_best<F>(
    bounds: Vec<[f64; 2]>,
    opts: &TaskPlanOptions,
    tune: impl FnOnce(CrossEntropy) -> Result<CrossEntropy, Error>,
    cost: F,
) -> Result<Option<Vec<f64>>, TaskError>
where
    F: Fn(&[f64]) -> Result<f64, TaskError> + Send + Sync,
{
    let solver = CrossEntropy::new(bounds, opts.population, opts.seed)
        .and_then(tune)
        .map_err(|e| TaskError::Plan(e.to_string()))?;
    let res = Executor::new(CemCost(cost), solver)
        .configure(|s| s.max_iters(opts.iterations))
        .run()
        .map_err(|e| TaskError::Plan(e.to_string()))?;
    Ok(asid_opt::best_of(res.state())
        .filter(|(_, c)| *c < INFEASIBLE_COST)
        .map(|(p, _)| p.clone()))
}

/// Plans one goal of the task against `belief`; every candidate must pass `check`.
pub fn plan_task(
    sim: &Simulator,
    task: &SlideTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    check: ArmCheck<'_>,
) -> Result<TaskPlan, TaskError> {
    let space = &sim.scene().space;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let thetas = planning_samples(belief, space, opts, &mut rng);
    let problem = Problem {
        task,
        sim,
        thetas: &thetas,
        check,
    };
    let best = cem_best(task.bounds(), opts, Ok, |x| problem.cost(x))?.ok_or_else(|| {
        TaskError::Plan(format!(
            "no push in speed_mps {:?} x travel_m {:?} fits task.horizon_steps {} and the \
             arm's limits",
            task.spec.speed_mps, task.spec.travel_m, task.spec.horizon_steps
        ))
    })?;
    // The prediction is scored on fresh belief samples, not on the ones the plan was chosen on.
    let held_out = prediction_samples(belief, space, opts, &mut rng);
    let problem = Problem {
        task,
        sim,
        thetas: &held_out,
        check,
    };
    let (predicted_success, predicted_distance_m) = problem.score(&best)?;
    let (actions, _) = task.actions(&best)?;
    // CEM's candidates on the planning samples, then the plan on the prediction's samples.
    let rollouts = opts.population * opts.iterations as usize * thetas.len() + held_out.len();
    Ok(TaskPlan {
        format: TASK_PLAN_FORMAT.into(),
        scene: sim.scene().spec.name.clone(),
        goal: task.goal.name.clone(),
        options: opts.clone(),
        primitive: best,
        actions,
        predicted_success,
        predicted_distance_m,
        rollouts,
    })
}
