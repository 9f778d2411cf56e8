//! Bayesian optimal design: the criterion averaged over prior samples, optimised by CEM, then
//! judged against random exploration on held-out prior samples.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use argmin::core::observers::Observe;
use argmin::core::{
    CostFunction, Error, KV, Problem, SendAlias, Solver, State, SyncAlias, TerminationStatus,
};
use asid_opt::{CemState, CrossEntropy};
use serde::{Deserialize, Serialize};

use crate::ExploreError;
pub use crate::assess::{Assessment, assess, assess_unfiltered};
use crate::assess::{Kept, SmoothCheck, check_smooth, score_with};
use crate::baseline::{prior_samples, random_baseline};
use crate::design::Design;
use crate::discriminate::{continuous_params, discrete_params};
use crate::experiment::{Constraint, Experiment, NoiseModel};
use crate::fisher::{Criterion, crb_std, eigenvalues};
use crate::plan::{ParamSummary, Plan, RandomBaseline};

/// Settings of a planning run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanOptions {
    /// The design criterion.
    pub criterion: Criterion,
    /// Noise model of the Fisher information.
    pub noise: NoiseModel,
    /// Seed of every random choice (planning and held-out prior samples, CEM, random baseline;
    /// each from its own stream, [`crate::Stream`]).
    pub seed: u64,
    /// Prior samples the criterion is averaged over while planning (common to all candidates).
    pub prior_samples: usize,
    /// Held-out prior samples the plan and the random baseline are judged on.
    #[serde(default = "default_held_out_samples")]
    pub held_out_samples: usize,
    /// CEM population.
    pub population: usize,
    /// CEM iterations.
    pub iterations: u64,
    /// Random explorations of the same length for the comparison (median reported).
    pub random_draws: usize,
}

fn default_held_out_samples() -> usize {
    4
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            criterion: Criterion::A,
            noise: NoiseModel::Measurement,
            seed: 0,
            prior_samples: 4,
            held_out_samples: default_held_out_samples(),
            population: 16,
            iterations: 8,
            random_draws: 10,
        }
    }
}

/// Cost assigned to a plan that violates a constraint: CEM's infeasibility threshold, so such a
/// plan never becomes an elite.
pub const INFEASIBLE: f64 = asid_opt::INFEASIBLE_COST;

/// Std floor of the planning CEM, as a fraction of each design variable's range: the search keeps
/// exploring around the elites until the last iteration.
pub const PLAN_STD_FLOOR: f64 = 0.02;

/// The planning CEM stops early when its best criterion has improved by no more than
/// [`PLAN_STALL_TOLERANCE`] (relative) over this many iterations.
pub const PLAN_STALL_ITERATIONS: u64 = 3;

/// Relative improvement of the best criterion at or below which the planning CEM counts as
/// stalled. Zero: only a best that has not moved at all for [`PLAN_STALL_ITERATIONS`] iterations
/// stops the search (measured: stopping at under 1 % over 2 iterations ended the shuffleboard's
/// search at iteration 4 with a plan 5 % worse on the held-out samples).
pub const PLAN_STALL_TOLERANCE: f64 = 0.0;

/// Elites of the planning CEM: the solver's default, a fifth of the population (at least
/// [`asid_opt::MIN_ELITES`]), capped at the population.
fn plan_elites(population: usize) -> usize {
    (population / 5).max(asid_opt::MIN_ELITES).min(population)
}

/// The actions of design `z` as the plan would run them: the design's own, or, when the arm's
/// 1 kHz check refuses those, the same motion with its speed smoothed ([`Design::smoothed`]; a
/// start from rest or a turn at speed asks the interpolation for several times the plan-rate
/// acceleration). Candidates the arm accepts as they are stay unchanged.
fn actions_of<E: Experiment>(exp: &E, design: &Design, z: &[f64]) -> (Vec<Vec<f64>>, bool) {
    design.runnable(exp, design.decode(z))
}

/// The argmin problem: design vector -> expected criterion (or [`INFEASIBLE`]).
pub struct DesignProblem<'a, E: Experiment> {
    exp: &'a E,
    design: &'a Design,
    thetas: Vec<Vec<f64>>,
    criterion: Criterion,
    noise: NoiseModel,
    rejections: Mutex<BTreeMap<Constraint, usize>>,
    /// Elites the CEM keeps per iteration: in a population, only the best candidates up to this
    /// many smooth ones need the smoothness check (see [`CostFunction::bulk_cost`] below).
    elites: usize,
}

impl<E: Experiment> DesignProblem<'_, E> {
    fn reject(&self, c: Constraint) {
        if let Ok(mut r) = self.rejections.lock() {
            *r.entry(c).or_default() += 1;
        }
    }
}

impl<E: Experiment> CostFunction for DesignProblem<'_, E> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, z: &Vec<f64>) -> Result<f64, Error> {
        let (actions, _) = actions_of(self.exp, self.design, z);
        match assess(self.exp, &actions, &self.thetas, self.criterion, self.noise) {
            Ok(a) => Ok(a.value),
            Err(c) => {
                self.reject(c);
                Ok(INFEASIBLE)
            }
        }
    }

    /// A whole CEM population at once, with the smoothness check (half of a candidate's rollouts)
    /// only where it decides something: every candidate is scored and checked against the limits,
    /// then the feasible ones are checked for smoothness in order of their criterion until
    /// `elites` have passed. The CEM only uses the elites and the best candidate, which are
    /// exactly those a check of every candidate would have found (same values, same order), so the
    /// search and the plan are unchanged; a candidate ranked below them keeps its unchecked value
    /// and never becomes an elite or the best. Smoothness rejections then count only the
    /// candidates checked.
    fn bulk_cost<P>(&self, zs: &[P]) -> Result<Vec<f64>, Error>
    where
        P: std::borrow::Borrow<Vec<f64>> + SyncAlias,
        f64: SendAlias,
        Self: SyncAlias,
    {
        use rayon::prelude::*;
        let actions: Vec<Vec<Vec<f64>>> = zs
            .par_iter()
            .map(|z| actions_of(self.exp, self.design, z.borrow()).0)
            .collect();
        let scored: Vec<Result<(f64, Kept), Constraint>> = actions
            .par_iter()
            .map(|a| {
                score_with(
                    self.exp,
                    a,
                    &self.thetas,
                    self.criterion,
                    self.noise,
                    SmoothCheck::Later,
                )
                .map(|(assessment, kept)| (assessment.value, kept))
            })
            .collect();
        let mut costs = vec![INFEASIBLE; zs.len()];
        let mut order = Vec::new();
        for (i, s) in scored.iter().enumerate() {
            match s {
                Ok((v, _)) if v.is_finite() && *v < INFEASIBLE => order.push(i),
                Ok((v, _)) => costs[i] = *v,
                Err(c) => self.reject(*c),
            }
        }
        let value = |i: usize| scored[i].as_ref().map_or(INFEASIBLE, |s| s.0);
        // Stable in the index, as the CEM's own sort of the costs.
        order.sort_by(|&a, &b| value(a).total_cmp(&value(b)));
        let mut passed = 0;
        let mut next = 0;
        while passed < self.elites && next < order.len() {
            let batch = &order[next..(next + self.elites - passed).min(order.len())];
            let checks: Vec<Result<bool, Constraint>> = batch
                .par_iter()
                .map(|&i| match &scored[i] {
                    Ok((_, kept)) => {
                        check_smooth(self.exp, &actions[i], &self.thetas, self.noise, kept)
                    }
                    Err(c) => Err(*c),
                })
                .collect();
            for (&i, check) in batch.iter().zip(checks) {
                match check {
                    Ok(true) => {
                        costs[i] = value(i);
                        passed += 1;
                    }
                    Ok(false) => self.reject(Constraint::Smoothness),
                    Err(c) => self.reject(c),
                }
            }
            next += batch.len();
        }
        for &i in &order[next..] {
            costs[i] = value(i);
        }
        Ok(costs)
    }
}

/// Prints CEM progress to stderr.
pub struct Progress;

impl Observe<CemState> for Progress {
    fn observe_iter(&mut self, state: &CemState, kv: &KV) -> Result<(), Error> {
        let elite = kv
            .get("elite_cost")
            .and_then(|v| v.get_float())
            .unwrap_or(f64::NAN);
        eprintln!(
            "  iteration {:>3}: best {:.6e}, elite mean {elite:.6e}",
            state.get_iter(),
            state.get_best_cost()
        );
        Ok(())
    }
}

/// Whether the best criterion (one entry per iteration) has stalled: a feasible best that improved
/// by less than [`PLAN_STALL_TOLERANCE`] of itself over the last [`PLAN_STALL_ITERATIONS`].
fn stalled(best: &[f64]) -> bool {
    let k = PLAN_STALL_ITERATIONS as usize;
    if best.len() <= k {
        return false;
    }
    let (then, now) = (best[best.len() - 1 - k], best[best.len() - 1]);
    then < INFEASIBLE && now.is_finite() && then - now <= PLAN_STALL_TOLERANCE * now.abs()
}

/// Plans an exploration. `labels` (scene name, scene file, control period) only label the plan file.
pub fn plan<E: Experiment>(
    exp: &E,
    design: &Design,
    opts: &PlanOptions,
    labels: (&str, &str, f64),
    progress: bool,
) -> Result<Plan, ExploreError> {
    plan_with_warm_starts(exp, design, opts, labels, progress, Vec::new())
}

/// As [`plan`], with design vectors added to the first CEM population (e.g. the current plan when
/// replanning): the result is never worse than the best of them on the planning prior samples.
pub fn plan_with_warm_starts<E: Experiment>(
    exp: &E,
    design: &Design,
    opts: &PlanOptions,
    labels: (&str, &str, f64),
    progress: bool,
    warm_starts: Vec<Vec<f64>>,
) -> Result<Plan, ExploreError> {
    plan_with_baseline(exp, design, opts, labels, progress, warm_starts, None)
}

/// As [`plan_with_warm_starts`], with the random baseline already computed for the same
/// experiment and options (it depends on neither the design nor the search: [`crate::plan_best`]
/// computes it once for every parameterisation it tries).
pub(crate) fn plan_with_baseline<E: Experiment>(
    exp: &E,
    design: &Design,
    opts: &PlanOptions,
    labels: (&str, &str, f64),
    progress: bool,
    warm_starts: Vec<Vec<f64>>,
    baseline: Option<&RandomBaseline>,
) -> Result<Plan, ExploreError> {
    let start = Instant::now();
    let space = exp.space();
    if space.dim() == 0 {
        return Err(ExploreError::Unsupported(
            "the scene has no unknown parameter".into(),
        ));
    }
    let steps0 = exp.simulated_steps();
    let samples = prior_samples(space, opts);
    let elites = plan_elites(opts.population);
    let problem = DesignProblem {
        exp,
        design,
        thetas: samples.planning.clone(),
        criterion: opts.criterion,
        noise: opts.noise,
        rejections: Mutex::new(BTreeMap::new()),
        elites,
    };
    let mut solver = CrossEntropy::new(design.box_bounds(), opts.population, opts.seed)?
        .with_elites(elites)?
        .with_std_floor(PLAN_STD_FLOOR)?
        .with_infeasible_at(INFEASIBLE)
        .with_warm_starts(warm_starts);
    // The executor's loop, with one more way to stop: the best criterion stalls.
    let mut problem = Problem::new(problem);
    let (mut state, _) = solver.init(&mut problem, CemState::new())?;
    state.update();
    let mut best_by_iteration: Vec<f64> = Vec::new();
    while state.get_iter() < opts.iterations {
        if let TerminationStatus::Terminated(_) =
            Solver::<DesignProblem<'_, E>, CemState>::terminate(&mut solver, &state)
        {
            break;
        }
        let (next, kv) = solver.next_iter(&mut problem, state)?;
        state = next;
        state.update();
        if progress {
            Progress.observe_iter(&state, &kv.unwrap_or_default())?;
        }
        state.increment_iter();
        best_by_iteration.push(state.get_best_cost());
        if stalled(&best_by_iteration) {
            break;
        }
    }
    let iterations_run = state.get_iter();
    let rejections = problem
        .problem
        .as_ref()
        .and_then(|p| p.rejections.lock().ok().map(|r| r.clone()))
        .unwrap_or_default();
    let best = match state.get_best_param() {
        Some(b) if state.get_best_cost() < INFEASIBLE => b.clone(),
        _ => return Err(ExploreError::NoPlan(rejections)),
    };
    let evaluations = (iterations_run as usize) * opts.population;
    let (actions, smoothed) = actions_of(exp, design, &best);
    let planned = assess(exp, &actions, &samples.planning, opts.criterion, opts.noise)?;

    // Judged on the held-out samples, by the same rules as the random baseline.
    let held_out = assess_unfiltered(exp, &actions, &samples.held_out, opts.criterion, opts.noise);
    let random = match baseline {
        Some(r) => r.clone(),
        None => random_baseline(exp, &samples.held_out, opts),
    };
    let (held_out_value, held_out_violation, held_out_smooth, judged) = match held_out {
        Ok(a) => (a.value, None, a.smooth, a),
        // The plan breaks a limit at a held-out sample: no fair comparison; its figures are then
        // those of the planning samples.
        Err(c) => (f64::NAN, Some(c), false, planned.clone()),
    };
    let gain = opts
        .criterion
        .gain(held_out_value, random.median_value, space.dim());

    let continuous = continuous_params(space);
    let scale: Vec<f64> = continuous.iter().map(|&i| space.scales()[i]).collect();
    let by_name = |v: Vec<f64>| -> BTreeMap<String, f64> {
        continuous
            .iter()
            .map(|&i| space.params[i].name.clone())
            .zip(v)
            .collect()
    };
    let structure = discrete_params(space)
        .iter()
        .map(|(d, _)| space.params[*d].name.clone())
        .zip(judged.structure.iter().copied())
        .collect();
    Ok(Plan {
        format: "asid-plan/1".into(),
        scene: labels.0.into(),
        scene_file: labels.1.into(),
        parameters: space
            .params
            .iter()
            .map(|p| ParamSummary {
                name: p.name.clone(),
                target: p.target_path.clone(),
                prior: p.prior.clone(),
                bounds: p.bounds,
            })
            .collect(),
        options: opts.clone(),
        design: design.kind(),
        control_period_s: labels.2,
        actions,
        design_vector: best,
        smoothed,
        value: planned.value,
        held_out_value,
        held_out_violation,
        held_out_smooth,
        fisher_eigenvalues: eigenvalues(&judged.mean_info),
        crb_std: by_name(crb_std(&judged.mean_info, &scale)),
        prior_std: by_name(scale.clone()),
        posterior_std: by_name(crate::fisher::posterior_std(
            &judged.mean_posterior_cov,
            &scale,
        )),
        structure,
        random,
        gain,
        evaluations,
        rollouts: (exp.simulated_steps() - steps0) as f64 / exp.horizon().max(1) as f64,
        iterations_run,
        criterion_by_iteration: best_by_iteration
            .iter()
            .map(|&c| (c < INFEASIBLE && c.is_finite()).then_some(c))
            .collect(),
        rejections,
        wall_s: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use argmin::core::CostFunction;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::design::DesignKind;
    use crate::experiment::SimExperiment;

    /// The population check that skips the smoothness check below the elites ranks the same
    /// elites, with the same values, in the same order, as checking every candidate.
    #[test]
    fn the_lazy_smoothness_check_finds_the_elites_of_a_full_check() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/rod.toml");
        let sim = asid_sim::Simulator::load(&path).expect("rod scene");
        let exp = SimExperiment::new(&sim);
        let design = Design::new(DesignKind::Spline, exp.action_bounds(), exp.horizon(), None)
            .expect("design");
        let opts = PlanOptions {
            prior_samples: 1,
            ..PlanOptions::default()
        };
        let elites = 3;
        let problem = DesignProblem {
            exp: &exp,
            design: &design,
            thetas: prior_samples(exp.space(), &opts).planning,
            criterion: opts.criterion,
            noise: opts.noise,
            rejections: Mutex::new(BTreeMap::new()),
            elites,
        };
        let mut rng = StdRng::seed_from_u64(3);
        let population: Vec<Vec<f64>> = (0..10)
            .map(|_| {
                design
                    .box_bounds()
                    .iter()
                    .map(|[lo, hi]| rng.random_range(*lo..=*hi))
                    .collect()
            })
            .collect();
        let full: Vec<f64> = population
            .iter()
            .map(|z| problem.cost(z).expect("cost"))
            .collect();
        let lazy = problem.bulk_cost(&population).expect("bulk cost");
        let ranked = |costs: &[f64]| -> Vec<(usize, f64)> {
            let mut order: Vec<usize> = (0..costs.len()).collect();
            order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
            order
                .into_iter()
                .filter(|&i| costs[i] < INFEASIBLE)
                .take(elites)
                .map(|i| (i, costs[i]))
                .collect()
        };
        assert_eq!(ranked(&lazy), ranked(&full), "full {full:?}, lazy {lazy:?}");
        // Never better than the full check (an unchecked value stands for a smooth candidate).
        for (l, f) in lazy.iter().zip(&full) {
            assert!(*f >= INFEASIBLE || l == f, "full {full:?}, lazy {lazy:?}");
        }
    }

    #[test]
    fn the_search_stops_when_the_best_criterion_stalls() {
        assert!(!stalled(&[1.0, 0.5, 0.5]));
        assert!(!stalled(&[1.0, 0.5, 0.5, 0.499]));
        assert!(stalled(&[1.0, 0.5, 0.5, 0.5, 0.5]));
        assert!(!stalled(&[1.0, 0.5, 0.5, 0.5, 0.499]));
        // Still infeasible k iterations ago: not a stall.
        assert!(!stalled(&[INFEASIBLE, INFEASIBLE, INFEASIBLE, 0.5, 0.5]));
    }
}
