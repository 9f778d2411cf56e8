//! Bayesian optimal design: the criterion averaged over prior samples, optimised by CEM, then
//! judged against random exploration on held-out prior samples.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Error, Executor, KV, State};
use asid_opt::{CemState, CrossEntropy};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::ExploreError;
use crate::baseline::{prior_samples, random_baseline};
use crate::design::Design;
use crate::discriminate::{Discrimination, continuous_params, discrete_params, discriminate};
use crate::experiment::{Constraint, Experiment, NoiseModel};
use crate::fisher::{Criterion, crb_std, eigenvalues, fisher_information, posterior_covariance};
use crate::plan::{ParamSummary, Plan};

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

/// How one action sequence scores.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// Criterion averaged over the prior samples (continuous parameters and structure terms).
    pub value: f64,
    /// Scaled Fisher information of the continuous parameters (in the order of
    /// [`crate::discriminate::continuous_params`]) averaged over the prior samples.
    pub mean_info: DMatrix<f64>,
    /// Posterior covariance `(Sigma0^-1 + I)^-1` of the continuous parameters in prior-std units,
    /// averaged over the samples.
    pub mean_posterior_cov: DMatrix<f64>,
    /// Per discrete parameter (in the order of [`crate::discriminate::discrete_params`]): how far
    /// apart its hypotheses predict the observations, averaged over the samples.
    pub structure: Vec<Discrimination>,
    /// Whether the observations were smooth in the parameters at every sample (always true for
    /// [`assess`], which rejects the rest).
    pub smooth: bool,
}

/// Scores an action sequence as the planner does: the criterion of the Fisher information at each
/// prior sample, averaged; a sequence that breaks a limit or is not smooth at a sample is rejected.
pub fn assess<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
) -> Result<Assessment, Constraint> {
    score(exp, actions, thetas, criterion, noise, true)
}

/// As [`assess`], but a sequence whose observations are not smooth is scored all the same
/// (`smooth` says so): how the random baseline and the held-out check judge.
pub fn assess_unfiltered<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
) -> Result<Assessment, Constraint> {
    score(exp, actions, thetas, criterion, noise, false)
}

fn score<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
    filter: bool,
) -> Result<Assessment, Constraint> {
    let space = exp.space();
    let scale: Vec<f64> = space.scales();
    let sigmas = exp.obs_sigmas();
    let continuous = continuous_params(space);
    let discrete = discrete_params(space);
    let pc = continuous.len();
    let mut mean_info = DMatrix::zeros(pc, pc);
    let mut mean_posterior_cov = DMatrix::zeros(pc, pc);
    let mut structure = vec![Discrimination::default(); discrete.len()];
    let mut value = 0.0;
    let mut smooth = true;
    for theta in thetas {
        let (jacs, nominal) = exp.sensitivities(theta, actions, noise)?;
        if let Some(c) = nominal
            .as_ref()
            .and_then(|n| exp.violations(n).first().copied())
        {
            return Err(c);
        }
        let smooth_here = if filter {
            exp.is_smooth(theta, actions, noise, &jacs)?
        } else {
            // The check itself failing (the wider step refused) counts as not smooth, not as a limit.
            exp.is_smooth(theta, actions, noise, &jacs).unwrap_or(false)
        };
        if !smooth_here {
            if filter {
                return Err(Constraint::Smoothness);
            }
            smooth = false;
        }
        // Discrete parameters have no derivative: out of the Fisher matrix, judged by how far apart
        // their hypotheses predict the observations.
        let full = fisher_information(&jacs, &sigmas, &scale);
        let info = full.select_rows(&continuous).select_columns(&continuous);
        let here = if discrete.is_empty() {
            Vec::new()
        } else {
            let obs = match nominal {
                Some(t) => t.obs,
                None => exp.observations(theta, actions)?,
            };
            discriminate(exp, theta, actions, &obs, &discrete)?
        };
        value += criterion.with_structure(criterion.value(&info), &here);
        for (acc, d) in structure.iter_mut().zip(&here) {
            acc.chi2_difference += d.chi2_difference;
            acc.posterior_variance_bound += d.posterior_variance_bound;
        }
        mean_posterior_cov += posterior_covariance(&info);
        mean_info += info;
    }
    let k = thetas.len().max(1) as f64;
    for d in &mut structure {
        d.chi2_difference /= k;
        d.posterior_variance_bound /= k;
    }
    Ok(Assessment {
        value: value / k,
        mean_info: mean_info / k,
        mean_posterior_cov: mean_posterior_cov / k,
        structure,
        smooth,
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
/// replanning): the result is never worse than the best of them on the planning prior samples.
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
    let samples = prior_samples(space, opts);
    let problem = DesignProblem {
        exp,
        design,
        thetas: samples.planning.clone(),
        criterion: opts.criterion,
        noise: opts.noise,
        rejections: Mutex::new(BTreeMap::new()),
    };
    let solver = CrossEntropy::new(design.box_bounds(), opts.population, opts.seed)?
        .with_std_floor(PLAN_STD_FLOOR)?
        .with_infeasible_at(INFEASIBLE)
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
    let planned = assess(exp, &actions, &samples.planning, opts.criterion, opts.noise)?;

    // Judged on the held-out samples, by the same rules as the random baseline.
    let held_out = assess_unfiltered(exp, &actions, &samples.held_out, opts.criterion, opts.noise);
    let random = random_baseline(exp, &samples.held_out, opts);
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
        rejections,
        wall_s: start.elapsed().as_secs_f64(),
    })
}
