//! Bayesian optimal design: the criterion averaged over prior samples, optimised by CEM.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Error, Executor, KV, State};
use asid_opt::{CemState, CrossEntropy};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::ExploreError;
use crate::design::{Design, DesignKind};
use crate::experiment::{Constraint, Experiment, NoiseModel};
use crate::fisher::{Criterion, crb_std, eigenvalues, fisher_information};

/// Settings of a planning run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanOptions {
    /// The design criterion.
    pub criterion: Criterion,
    /// Noise model of the Fisher information.
    pub noise: NoiseModel,
    /// Seed of every random choice (prior samples, CEM, random baseline).
    pub seed: u64,
    /// Prior samples the criterion is averaged over (common to all candidates).
    pub prior_samples: usize,
    /// CEM population.
    pub population: usize,
    /// CEM iterations.
    pub iterations: u64,
    /// Random explorations of the same length for the comparison (median reported).
    pub random_draws: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            criterion: Criterion::A,
            noise: NoiseModel::Measurement,
            seed: 0,
            prior_samples: 4,
            population: 16,
            iterations: 8,
            random_draws: 10,
        }
    }
}

/// Cost assigned to a plan that violates a constraint (CEM sorts it last).
pub const INFEASIBLE: f64 = 1e30;

/// How one action sequence scores.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// Criterion averaged over the prior samples.
    pub value: f64,
    /// Scaled Fisher information averaged over the prior samples.
    pub mean_info: DMatrix<f64>,
}

/// Scores an action sequence: the criterion of the Fisher information at each prior sample, averaged.
pub fn assess<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
) -> Result<Assessment, Constraint> {
    let space = exp.space();
    let scale: Vec<f64> = space.scales();
    let sigmas = exp.obs_sigmas();
    let p = space.dim();
    let mut mean_info = DMatrix::zeros(p, p);
    let mut value = 0.0;
    for theta in thetas {
        let (jacs, nominal) = exp.sensitivities(theta, actions, noise)?;
        if let Some(c) = nominal
            .as_ref()
            .and_then(|n| exp.violations(n).first().copied())
        {
            return Err(c);
        }
        let info = fisher_information(&jacs, &sigmas, &scale);
        value += criterion.value(&info);
        mean_info += info;
    }
    let k = thetas.len().max(1) as f64;
    Ok(Assessment {
        value: value / k,
        mean_info: mean_info / k,
    })
}

/// The argmin problem: design vector -> expected criterion (or [`INFEASIBLE`]).
pub struct DesignProblem<'a, E: Experiment> {
    exp: &'a E,
    design: &'a Design,
    thetas: Vec<Vec<f64>>,
    criterion: Criterion,
    noise: NoiseModel,
    rejections: Mutex<BTreeMap<Constraint, usize>>,
}

impl<E: Experiment> CostFunction for DesignProblem<'_, E> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, z: &Vec<f64>) -> Result<f64, Error> {
        let actions = self.design.decode(z);
        match assess(self.exp, &actions, &self.thetas, self.criterion, self.noise) {
            Ok(a) => Ok(a.value),
            Err(c) => {
                if let Ok(mut r) = self.rejections.lock() {
                    *r.entry(c).or_default() += 1;
                }
                Ok(INFEASIBLE)
            }
        }
    }
}

/// Summary of one parameter in a plan file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamSummary {
    /// Name.
    pub name: String,
    /// Target.
    pub target: String,
    /// Prior.
    pub prior: asid_core::Prior,
    /// Hard bounds.
    pub bounds: [f64; 2],
}

/// Figures of the random-exploration baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomBaseline {
    /// Feasible random explorations assessed.
    pub draws: usize,
    /// Infeasible random explorations skipped.
    pub infeasible: usize,
    /// Feasible random explorations that are informative at all: the smallest eigenvalue of their
    /// scaled Fisher information is at least 1 (every direction's Cramer-Rao std below its prior std).
    pub informative: usize,
    /// Median criterion value.
    #[serde(deserialize_with = "null_as_nan")]
    pub median_value: f64,
    /// Median Cramer-Rao std per parameter.
    #[serde(deserialize_with = "nulls_as_nan")]
    pub median_crb_std: BTreeMap<String, f64>,
}

/// A plan file: everything needed to run, reproduce and judge the exploration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Format tag.
    pub format: String,
    /// Scene name.
    pub scene: String,
    /// Scene file the plan was made for.
    pub scene_file: String,
    /// The unknown parameters and their prior.
    pub parameters: Vec<ParamSummary>,
    /// Settings of the run.
    pub options: PlanOptions,
    /// Parameterisation.
    pub design: DesignKind,
    /// Control period of the actions.
    pub control_period_s: f64,
    /// The action sequence, one action per control step.
    pub actions: Vec<Vec<f64>>,
    /// The design vector the actions came from.
    pub design_vector: Vec<f64>,
    /// Criterion value (averaged over the prior samples; lower is better).
    pub value: f64,
    /// Eigenvalues of the expected Fisher information (parameters scaled by their prior std), ascending.
    pub fisher_eigenvalues: Vec<f64>,
    /// Predicted Cramer-Rao std per parameter (one episode), from the expected information.
    pub crb_std: BTreeMap<String, f64>,
    /// Random exploration of the same length.
    pub random: RandomBaseline,
    /// How many times better than the random median (> 1: better).
    #[serde(deserialize_with = "null_as_nan")]
    pub gain: f64,
    /// Candidate plans evaluated.
    pub evaluations: usize,
    /// Candidates rejected, per constraint.
    pub rejections: BTreeMap<Constraint, usize>,
    /// Wall time.
    pub wall_s: f64,
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
/// replanning): the result is never worse than the best of them on the same prior samples.
pub fn plan_with_warm_starts<E: Experiment>(
    exp: &E,
    design: &Design,
    opts: &PlanOptions,
    labels: (&str, &str, f64),
    progress: bool,
    warm_starts: Vec<Vec<f64>>,
) -> Result<Plan, ExploreError> {
    let start = Instant::now();
    let space = exp.space();
    if space.dim() == 0 {
        return Err(ExploreError::Unsupported(
            "the scene has no unknown parameter".into(),
        ));
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let thetas: Vec<Vec<f64>> = (0..opts.prior_samples.max(1))
        .map(|_| space.sample(&mut rng))
        .collect();
    let problem = DesignProblem {
        exp,
        design,
        thetas: thetas.clone(),
        criterion: opts.criterion,
        noise: opts.noise,
        rejections: Mutex::new(BTreeMap::new()),
    };
    let solver = CrossEntropy::new(design.box_bounds(), opts.population, opts.seed)?
        .with_warm_starts(warm_starts);
    let mut exec = Executor::new(problem, solver).configure(|s| s.max_iters(opts.iterations));
    if progress {
        exec = exec.add_observer(Progress, ObserverMode::Always);
    }
    let result = exec.run()?;
    let state = result.state();
    let rejections = result
        .problem
        .problem
        .as_ref()
        .and_then(|p| p.rejections.lock().ok().map(|r| r.clone()))
        .unwrap_or_default();
    let best = match state.get_best_param() {
        Some(b) if state.get_best_cost() < INFEASIBLE => b.clone(),
        _ => return Err(ExploreError::NoPlan(rejections)),
    };
    let evaluations = (state.get_iter() as usize) * opts.population;
    let actions = design.decode(&best);
    let best_assessment = assess(exp, &actions, &thetas, opts.criterion, opts.noise)?;
    let scale: Vec<f64> = space.scales();
    let names: Vec<String> = space.params.iter().map(|p| p.name.clone()).collect();
    let crb = crb_std(&best_assessment.mean_info, &scale);

    // Random exploration of the same length, same prior samples.
    let bounds = exp.action_bounds();
    let mut values = Vec::new();
    let mut crbs: Vec<Vec<f64>> = Vec::new();
    let mut infeasible = 0;
    let mut informative = 0;
    let mut tries = 0;
    while values.len() < opts.random_draws && tries < 10 * opts.random_draws.max(1) {
        tries += 1;
        let random = bounds.random(exp.horizon(), &mut rng);
        match assess(exp, &random, &thetas, opts.criterion, opts.noise) {
            Ok(a) => {
                if eigenvalues(&a.mean_info).first().is_some_and(|e| *e >= 1.0) {
                    informative += 1;
                }
                values.push(a.value);
                crbs.push(crb_std(&a.mean_info, &scale));
            }
            Err(_) => infeasible += 1,
        }
    }
    let median_value = median(&values);
    let median_crb: BTreeMap<String, f64> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n.clone(),
                median(&crbs.iter().map(|c| c[i]).collect::<Vec<_>>()),
            )
        })
        .collect();
    let gain = opts
        .criterion
        .gain(best_assessment.value, median_value, space.dim());

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
        value: best_assessment.value,
        fisher_eigenvalues: eigenvalues(&best_assessment.mean_info),
        crb_std: names.iter().cloned().zip(crb).collect(),
        random: RandomBaseline {
            draws: values.len(),
            infeasible,
            informative,
            median_value,
            median_crb_std: median_crb,
        },
        gain,
        evaluations,
        rejections,
        wall_s: start.elapsed().as_secs_f64(),
    })
}

/// JSON has no NaN: serde writes it as `null`; read `null` back as NaN (no feasible random draw).
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// [`null_as_nan`] for every value of a map.
fn nulls_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let m = BTreeMap::<String, Option<f64>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
        .collect())
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}
