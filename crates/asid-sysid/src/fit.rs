//! Fitting: solvers behind one interface, multi-start, structure hypotheses, the result file.

use std::collections::BTreeMap;
use std::time::Instant;

use argmin::core::CostFunction as _;
use argmin::core::observers::ObserverMode;
use argmin::core::{Executor, State};
use argmin::solver::neldermead::NelderMead;
use argmin::solver::particleswarm::ParticleSwarm;
use asid_opt::CrossEntropy;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SysIdError;
use crate::data::Dataset;
use crate::lm::LevenbergMarquardt;
use crate::misfit::{misfit_tests, sandwich};
use crate::model::ReplayModel;
use crate::problem::{Loss, OUT_OF_BOUNDS, SysIdProblem};
use crate::profile::{Interval, Optimum, profile_intervals};
use crate::report::Fit;
use crate::structure::{acting, choose, hypotheses};
use crate::trail::{FitIteration, Steps, Trail};
use crate::uncertainty::{diagonal_std, identifiability, scaled_psd_inverse};
use crate::verdict::{confounded, verdict};

/// Prior samples screened per extra start.
const SCREEN: usize = 8;

/// Which optimiser fits the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SolverKind {
    /// Cross-Entropy Method (the paper's real-robot choice).
    Cem,
    /// argmin's Nelder-Mead, from each start.
    Nm,
    /// argmin's particle swarm.
    Pso,
    /// Bounded Levenberg-Marquardt with the finite-difference Jacobian, from each start.
    Lm,
}

impl SolverKind {
    /// Parses `cem`, `nm`, `pso`, `lm`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cem" => Some(Self::Cem),
            "nm" => Some(Self::Nm),
            "pso" => Some(Self::Pso),
            "lm" => Some(Self::Lm),
            _ => None,
        }
    }
}

/// Settings of a fit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitOptions {
    /// Optimiser.
    pub solver: SolverKind,
    /// Starts for local solvers (the prior centre, then prior samples).
    pub starts: usize,
    /// Seed of the starts and of the stochastic solvers.
    pub seed: u64,
    /// Loss on whitened residuals.
    pub loss: Loss,
    /// Iteration cap.
    pub max_iters: u64,
    /// Population of CEM / particles of PSO.
    pub population: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            solver: SolverKind::Lm,
            starts: 3,
            seed: 0,
            loss: Loss::Squared,
            max_iters: 40,
            population: 24,
        }
    }
}

/// A local fit's result: the scaled parameters, their cost and the path that led there.
type LocalFit = (Vec<f64>, f64, Steps);

pub(crate) fn optimise<M: ReplayModel>(
    problem: &SysIdProblem<'_, M>,
    opts: &FitOptions,
    starts: &[Vec<f64>],
) -> Result<LocalFit, SysIdError> {
    let bounds = problem.scaled_bounds();
    let mut best: Option<LocalFit> = None;
    let trail = Trail::default();
    // A local fit replaces the best so far only when strictly cheaper (the earlier start wins a
    // tie); a fit that is not kept drops its path.
    let mut consider = |u: Vec<f64>, c: f64, steps: Steps| {
        if best.as_ref().is_none_or(|b| c < b.1) {
            best = Some((u, c, steps));
        }
    };
    let vector = |p: &Vec<f64>| p.clone();
    match opts.solver {
        SolverKind::Lm => {
            // The starts are independent local fits: run side by side, each with its own path,
            // then considered in start order, so the choice is that of running them in turn (a
            // start's line search is one rollout at a time and left a core idle).
            let runs: Vec<Result<Option<LocalFit>, SysIdError>> = starts
                .par_iter()
                .map(|s| {
                    let own = Trail::default();
                    let solver = LevenbergMarquardt::new(bounds.clone());
                    let res = Executor::new(problem_ref(problem), solver)
                        .configure(|st| st.param(s.clone()).max_iters(opts.max_iters))
                        .add_observer(own.observer(vector), ObserverMode::Always)
                        .run()?;
                    match res.state().get_best_param().cloned() {
                        Some(u) => {
                            let c = argmin::core::CostFunction::cost(problem, &u)?;
                            Ok(Some((u, c, own.take())))
                        }
                        None => Ok(None),
                    }
                })
                .collect();
            for run in runs {
                if let Some((u, c, steps)) = run? {
                    consider(u, c, steps);
                }
            }
        }
        SolverKind::Nm => {
            for s in starts {
                drop(trail.take());
                let mut simplex = vec![s.clone()];
                for i in 0..s.len() {
                    let mut v = s.clone();
                    let [lo, hi] = bounds[i];
                    v[i] = if v[i] + 0.5 <= hi {
                        v[i] + 0.5
                    } else {
                        (v[i] - 0.5).max(lo)
                    };
                    simplex.push(v);
                }
                let solver = NelderMead::new(simplex).with_sd_tolerance(1e-12)?;
                let res = Executor::new(problem_ref(problem), solver)
                    .configure(|st| st.max_iters(opts.max_iters * 10))
                    .add_observer(trail.observer(vector), ObserverMode::Always)
                    .run()?;
                if let Some(u) = res.state().get_best_param().cloned() {
                    let c = res.state().get_best_cost();
                    consider(u, c, trail.take());
                }
            }
        }
        SolverKind::Cem => {
            let solver = CrossEntropy::new(bounds.clone(), opts.population, opts.seed)?
                .with_initial(
                    starts[0].clone(),
                    bounds.iter().map(|[lo, hi]| 0.3 * (hi - lo)).collect(),
                )?
                .with_warm_starts(starts.to_vec())
                .with_std_tolerance(1e-6);
            let res = Executor::new(problem_ref(problem), solver)
                .configure(|st| st.max_iters(opts.max_iters))
                .add_observer(trail.observer(vector), ObserverMode::Always)
                .run()?;
            if let Some(u) = res.state().get_best_param().cloned() {
                consider(u, res.state().get_best_cost(), trail.take());
            }
        }
        SolverKind::Pso => {
            let lower: Vec<f64> = bounds.iter().map(|b| b[0]).collect();
            let upper: Vec<f64> = bounds.iter().map(|b| b[1]).collect();
            let solver = ParticleSwarm::new((lower, upper), opts.population)
                .with_rng_generator(StdRng::seed_from_u64(opts.seed));
            let position =
                |p: &argmin::solver::particleswarm::Particle<Vec<f64>, f64>| p.position.clone();
            let res = Executor::new(problem_ref(problem), solver)
                .configure(|st| st.max_iters(opts.max_iters))
                .add_observer(trail.observer(position), ObserverMode::Always)
                .run()?;
            if let Some(p) = res.state().get_best_param() {
                consider(
                    p.position.clone(),
                    res.state().get_best_cost(),
                    trail.take(),
                );
            }
        }
    }
    let (u, c, steps) = best.ok_or(SysIdError::NoFit)?;
    if c >= OUT_OF_BOUNDS {
        return Err(SysIdError::NoFit);
    }
    Ok((u, c, steps))
}

/// argmin takes the problem by value; a reference wrapper keeps ours.
fn problem_ref<'p, 'a, M: ReplayModel>(p: &'p SysIdProblem<'a, M>) -> ProblemRef<'p, 'a, M> {
    ProblemRef(p)
}

/// A borrowed [`SysIdProblem`] that argmin can own.
pub struct ProblemRef<'p, 'a, M: ReplayModel>(&'p SysIdProblem<'a, M>);

impl<M: ReplayModel> argmin::core::CostFunction for ProblemRef<'_, '_, M> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        self.0.cost(u)
    }
}

impl<M: ReplayModel> argmin::core::Operator for ProblemRef<'_, '_, M> {
    type Param = Vec<f64>;
    type Output = Vec<f64>;
    fn apply(&self, u: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        self.0.apply(u)
    }
}

impl<M: ReplayModel> argmin::core::Jacobian for ProblemRef<'_, '_, M> {
    type Param = Vec<f64>;
    type Jacobian = DMatrix<f64>;
    fn jacobian(&self, u: &Vec<f64>) -> Result<DMatrix<f64>, argmin::core::Error> {
        self.0.jacobian(u)
    }
}

/// Per structure hypothesis: the fitted parameters, the chi-square, the fitted names and how many
/// of them the data determine ([`effective_parameters`]).
type StructureFits = Vec<crate::structure::StructureFit>;

/// MacKay's effective number of well-determined parameters, `sum lambda / (1 + lambda)` over the
/// eigenvalues of `J^T J` (the Fisher information of the whitened residuals in prior-std units):
/// about 1 per parameter the data pin down better than the prior, about 0 per parameter they do
/// not touch (a hinge's damping when the tool never reached the lid).
pub(crate) fn effective_parameters(j: &DMatrix<f64>) -> f64 {
    let info = j.transpose() * j;
    info.symmetric_eigenvalues()
        .iter()
        .map(|l| l.max(0.0) / (1.0 + l.max(0.0)))
        .sum()
}

/// Fits every structure hypothesis (multi-start over the continuous parameters that act under
/// it; `warm`: full parameter vectors tried as extra starts); also returns, per hypothesis, the
/// winning start's iterations, and the rollouts spent.
fn fit_structures<M: ReplayModel>(
    model: &M,
    data: &Dataset,
    opts: &FitOptions,
    warm: &[Vec<f64>],
) -> Result<(StructureFits, Vec<Vec<FitIteration>>, usize), SysIdError> {
    let space = model.space();
    let p = space.dim();
    if p == 0 {
        return Err(SysIdError::Data(
            "the scene has no unknown parameter".into(),
        ));
    }
    let names: Vec<String> = space.params.iter().map(|q| q.name.clone()).collect();
    let free: Vec<usize> = (0..p)
        .filter(|&i| !space.params[i].prior.is_discrete())
        .collect();
    let center: Vec<f64> = free
        .iter()
        .map(|&i| space.params[i].prior.center())
        .collect();
    let scales = space.scales();
    let scale: Vec<f64> = free.iter().map(|&i| scales[i]).collect();
    // Every combination of discrete values is a hypothesis, fitted over the continuous
    // parameters that act under it.
    let combos = hypotheses(space, &space.nominal());
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut evaluations = 0usize;
    let mut results: StructureFits = Vec::new();
    let mut paths = Vec::with_capacity(combos.len());
    for fixed in &combos {
        let acts = acting(space, fixed);
        let here: Vec<usize> = (0..free.len()).filter(|&k| acts[free[k]]).collect();
        let problem = SysIdProblem {
            model,
            data,
            fixed: fixed.clone(),
            free: here.iter().map(|&k| free[k]).collect(),
            center: here.iter().map(|&k| center[k]).collect(),
            scale: here.iter().map(|&k| scale[k]).collect(),
            loss: opts.loss,
            counter: Default::default(),
        };
        // Screened multi-start: the prior centre, then the best of SCREEN x (starts - 1) prior samples
        // by cost (one replay each, in parallel), so local solvers start in the right basins.
        let mut starts = vec![vec![0.0; problem.free.len()]];
        if opts.starts > 1 && !problem.free.is_empty() {
            let candidates: Vec<Vec<f64>> = (0..SCREEN * (opts.starts - 1))
                .map(|_| problem.scaled(&space.sample(&mut rng)))
                .collect();
            let costs: Vec<f64> = candidates
                .par_iter()
                .map(|u| problem.cost(u).unwrap_or(OUT_OF_BOUNDS))
                .collect();
            let mut order: Vec<usize> = (0..candidates.len()).collect();
            order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
            starts.extend(
                order
                    .into_iter()
                    .take(opts.starts - 1)
                    .map(|i| candidates[i].clone()),
            );
        }
        if !problem.free.is_empty() {
            starts.extend(
                warm.iter()
                    .filter(|w| w.len() == p)
                    .map(|w| problem.scaled(w)),
            );
        }
        let (u, _, steps) = if problem.free.is_empty() {
            (Vec::new(), 0.0, Vec::new())
        } else {
            optimise(&problem, opts, &starts)?
        };
        paths.push(
            steps
                .into_iter()
                .map(|(iteration, cost, u)| FitIteration {
                    iteration,
                    cost,
                    estimate: names.iter().cloned().zip(problem.theta(&u)).collect(),
                })
                .collect(),
        );
        let theta = problem.theta(&u);
        let r = problem.residuals_at(&theta).map_err(SysIdError::Model)?;
        evaluations += problem.counter.load(std::sync::atomic::Ordering::Relaxed);
        let names_here: Vec<String> = problem.free.iter().map(|&i| names[i].clone()).collect();
        // Only where structures compete: what the data determine sets each one's penalty. A
        // failed Jacobian counts every acting parameter (the plain BIC), as before.
        let effective = if combos.len() > 1 && !problem.free.is_empty() {
            use argmin::core::Jacobian as _;
            problem
                .jacobian(&problem.scaled(&theta))
                .map_or(names_here.len() as f64, |j| effective_parameters(&j))
        } else {
            names_here.len() as f64
        };
        results.push(crate::structure::StructureFit {
            theta,
            chi2: r.iter().map(|v| v * v).sum(),
            parameters: names_here,
            effective_parameters: effective,
        });
    }
    Ok((results, paths, evaluations))
}

/// The parameters that fit `data` best (the structure the BIC chooses), without their
/// uncertainty; `warm`: full parameter vectors tried as extra starts.
pub(crate) fn point_estimate<M: ReplayModel>(
    model: &M,
    data: &Dataset,
    opts: &FitOptions,
    warm: &[Vec<f64>],
) -> Result<Vec<f64>, SysIdError> {
    point_estimate_counted(model, data, opts, warm).map(|(theta, _)| theta)
}

/// [`point_estimate`], with the model evaluations it took. The estimate is the one [`identify`]
/// reports for the same data and starts (it then adds the uncertainty).
pub(crate) fn point_estimate_counted<M: ReplayModel>(
    model: &M,
    data: &Dataset,
    opts: &FitOptions,
    warm: &[Vec<f64>],
) -> Result<(Vec<f64>, usize), SysIdError> {
    let (results, _, evaluations) = fit_structures(model, data, opts, warm)?;
    let (chosen, _, _) = choose(model.space(), &results, data.total - data.skipped);
    Ok((results[chosen].theta.clone(), evaluations))
}

/// Identifies the parameters of `model` from `data`.
pub fn identify<M: ReplayModel>(
    model: &M,
    data: &Dataset,
    opts: &FitOptions,
    scene_name: &str,
    channel_names: &[(usize, String)],
) -> Result<Fit, SysIdError> {
    identify_from(model, data, opts, scene_name, channel_names, &[])
}

/// [`identify`] with full parameter vectors `warm` tried as extra starts.
pub(crate) fn identify_from<M: ReplayModel>(
    model: &M,
    data: &Dataset,
    opts: &FitOptions,
    scene_name: &str,
    channel_names: &[(usize, String)],
    warm: &[Vec<f64>],
) -> Result<Fit, SysIdError> {
    let start = Instant::now();
    let space = model.space();
    let p = space.dim();
    let names: Vec<String> = space.params.iter().map(|q| q.name.clone()).collect();
    let discrete: Vec<usize> = (0..p)
        .filter(|&i| space.params[i].prior.is_discrete())
        .collect();
    let free: Vec<usize> = (0..p).filter(|i| !discrete.contains(i)).collect();
    let center: Vec<f64> = free
        .iter()
        .map(|&i| space.params[i].prior.center())
        .collect();
    let scales = space.scales();
    let scale: Vec<f64> = free.iter().map(|&i| scales[i]).collect();
    let (results, mut paths, mut evaluations) = fit_structures(model, data, opts, warm)?;
    let n_res = data.total - data.skipped;
    let (chosen, hypotheses, structure) = choose(space, &results, n_res);
    let iterations = std::mem::take(&mut paths[chosen]);
    let theta = results[chosen].theta.clone();

    // Uncertainty at the estimate (squared loss, all continuous parameters).
    let problem = SysIdProblem {
        model,
        data,
        fixed: theta.clone(),
        free: free.clone(),
        center,
        scale: scale.clone(),
        loss: Loss::Squared,
        counter: Default::default(),
    };
    let (r, jf) = problem
        .free_jacobian_at(&theta)
        .map_err(SysIdError::Model)?;
    evaluations += problem.counter.load(std::sync::atomic::Ordering::Relaxed);
    let jtj = jf.transpose() * &jf;
    let chi2: f64 = r.iter().map(|v| v * v).sum();
    let dof = n_res.saturating_sub(free.len()).max(1) as f64;
    let s2 = chi2 / dof;
    let crb = scaled_psd_inverse(&jtj, &scale);
    let cov_nominal = &crb * s2;
    let free_names: Vec<String> = free.iter().map(|&i| names[i].clone()).collect();
    let mut ident = identifiability(&jtj, &free_names, &scale, s2);
    // Is the model right? When it is not, the covariance that holds is the sandwich.
    let tests = misfit_tests(data, &r, free.len());
    let (cov_sandwich, lag) = sandwich(data, &jf, &r, &scale);
    let std_nominal = diagonal_std(&free_names, &cov_nominal);
    let std_sandwich = diagonal_std(&free_names, &cov_sandwich);
    let (cov, covariance_method) = if tests.misfit {
        (
            widened(&cov_nominal, &cov_sandwich),
            format!(
                "misfit: Newey-West sandwich over control steps (Bartlett, lag {lag}), each std \
                 the larger of it and s^2 (J^T J)^-1"
            ),
        )
    } else {
        (cov_nominal.clone(), "s^2 (J^T J)^-1".to_string())
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    let std = diagonal_std(&free_names, &cov);
    let crb_std = diagonal_std(&free_names, &crb);
    let wald_interval95: BTreeMap<String, Option<[f64; 2]>> = free_names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            (
                n.clone(),
                std[n].map(|s| [theta[free[k]] - 1.96 * s, theta[free[k]] + 1.96 * s]),
            )
        })
        .collect();
    let u_hat = problem.scaled(&theta);
    let js = DMatrix::from_fn(jf.nrows(), free.len(), |row, k| jf[(row, k)] * scale[k]);
    let (profiles, spent) = profile_intervals(
        &problem,
        &Optimum {
            u: &u_hat,
            chi2,
            s2,
            jacobian: &js,
        },
    );
    evaluations += spent;
    // The reported interval is, on each side, the wider of the profile and Wald ends (within the
    // bounds): the profile catches a cost that goes flat on one side, the Wald end guards against
    // roughness of the cost (contact events) below the finite-difference step, and carries the
    // sandwich's width under misfit.
    let interval95: BTreeMap<String, Interval> = free_names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let [lo_b, hi_b] = space.params[free[k]].bounds;
            let p = profiles[k];
            let (lo, hi) = match wald_interval95[n] {
                Some([wl, wh]) => (p.lo.min(wl).max(lo_b), p.hi.max(wh).min(hi_b)),
                None => (lo_b, hi_b),
            };
            let interval = Interval {
                lo,
                hi,
                lo_open: p.lo_open || lo <= lo_b,
                hi_open: p.hi_open || hi >= hi_b,
            };
            (n.clone(), interval)
        })
        .collect();
    let profile_interval95 = free_names.iter().cloned().zip(profiles).collect();
    let correlation = (0..free.len())
        .map(|a| {
            (0..free.len())
                .map(|b| finite(cov[(a, b)] / (cov[(a, a)] * cov[(b, b)]).sqrt()))
                .collect()
        })
        .collect();
    let covariance = (0..free.len())
        .map(|a| (0..free.len()).map(|b| finite(cov[(a, b)])).collect())
        .collect();
    let free_values: Vec<f64> = free.iter().map(|&i| theta[i]).collect();
    let pairs = confounded(&free_names, &free_values, &cov);
    let (mut identifiable, mut reasons) = verdict(&ident.identifiable, &interval95, &pairs);
    let acts = acting(space, &theta);
    for &i in free.iter().filter(|&&i| !acts[i]) {
        identifiable.insert(names[i].clone(), false);
        reasons.push(format!(
            "{} does not act under the chosen structure (held at {})",
            names[i], theta[i]
        ));
    }
    let mut said = if reasons.is_empty() {
        vec!["every parameter is identifiable from these episodes".to_string()]
    } else {
        reasons
    };
    if ident.directions.iter().any(|d| !d.identifiable) {
        said.push(ident.verdict.clone());
    }
    if tests.misfit {
        said.push(format!(
            "the model does not explain the residuals (reduced chi-square {:.2}, runs z {:.2}): \
             intervals from the sandwich covariance",
            tests.reduced_chi2, tests.runs_z
        ));
    }
    if let Some(v) = &structure {
        said.insert(0, v.verdict.clone());
    }
    ident.verdict = said.join("; ");
    ident.identifiable.clone_from(&identifiable);
    if let Some(v) = &structure {
        for &d in &discrete {
            identifiable.insert(names[d].clone(), v.identified);
        }
    }
    let mut rms: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (k, (_, _, slot)) in data.index().into_iter().enumerate() {
        let e = data.slot_entry(slot);
        let mut name = channel_names
            .iter()
            .rev()
            .find(|(off, _)| *off <= e)
            .map_or("?".to_string(), |(_, n)| n.clone());
        let sigma = match slot.checked_sub(data.entries.len()) {
            None => data.sigmas[slot],
            Some(t) => {
                name.push_str(".rotation_rad");
                data.rotations[t / 3].sigma_rad
            }
        };
        let acc = rms.entry(name).or_default();
        acc.0 += (r[k] * sigma).powi(2);
        acc.1 += 1;
    }
    Ok(Fit {
        format: "asid-fit/1".into(),
        scene: scene_name.into(),
        episodes: data.replays.iter().map(|r| r.source.clone()).collect(),
        options: opts.clone(),
        estimate: names.iter().cloned().zip(theta.iter().copied()).collect(),
        drive: data.drive,
        std,
        std_nominal,
        std_sandwich,
        covariance_method,
        interval95,
        profile_interval95,
        wald_interval95,
        covariance,
        correlation,
        names: free_names,
        crb_std,
        identifiable,
        confounded: pairs,
        identifiability: ident,
        hypotheses,
        structure,
        cost: 0.5 * chi2,
        residual_sigma_ratio: s2.sqrt(),
        reduced_chi2: tests.reduced_chi2,
        misfit: tests.misfit,
        misfit_tests: tests,
        residual_rms: rms
            .into_iter()
            .map(|(n, (s, c))| (n, (s / c.max(1) as f64).sqrt()))
            .collect(),
        residuals: n_res,
        skipped: data.skipped,
        evaluations,
        wall_s: start.elapsed().as_secs_f64(),
        pose_latency: None,
        iterations,
    })
}

/// The sandwich covariance with each std raised to at least the nominal one (its correlations
/// kept); infinite where either is.
fn widened(nominal: &DMatrix<f64>, sandwich: &DMatrix<f64>) -> DMatrix<f64> {
    let p = nominal.nrows();
    let sd: Vec<f64> = (0..p)
        .map(|i| nominal[(i, i)].max(sandwich[(i, i)]).max(0.0).sqrt())
        .collect();
    DMatrix::from_fn(p, p, |a, b| {
        if !(sd[a].is_finite() && sd[b].is_finite()) {
            return f64::INFINITY;
        }
        let rho = sandwich[(a, b)] / (sandwich[(a, a)] * sandwich[(b, b)]).sqrt();
        let rho = if a == b || !rho.is_finite() {
            f64::from(u8::from(a == b))
        } else {
            rho
        };
        rho * sd[a] * sd[b]
    })
}
