//! `asid bench identify <scene>`: statistical accuracy of identification, planned vs random exploration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use asid_explore::{Criterion, PlanOptions, SimExperiment, Target};
use asid_sim::{ActionBounds, Simulator};
use asid_sysid::{FitOptions, SolverKind, crb_std_at, dataset, identify};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

/// Arguments of `asid bench identify`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    scene: PathBuf,
    /// Trials per exploration kind.
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// Plan file to use as the planned exploration (default: plan one now).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Parameterisation when planning now: auto, spline, actions or primitive.
    #[arg(long = "param", default_value = "auto")]
    design: String,
    /// Solver.
    #[arg(long, default_value = "lm")]
    solver: String,
    /// Starts of local solvers.
    #[arg(long, default_value_t = 3)]
    starts: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also print every trial: truth, estimate, reported std and CRB std per parameter.
    #[arg(long)]
    per_trial: bool,
}

#[derive(Serialize)]
struct ParamFigures {
    rmse: f64,
    mean_reported_std: f64,
    /// RMSE over the root mean Cramer-Rao variance at the truth (1.0: the physical limit), over
    /// the trials whose episode determines the parameter (finite bound at the truth).
    rmse_over_sqrt_crb: f64,
    /// Trials whose episode does not determine the parameter at the truth (infinite bound).
    undetermined_at_truth: usize,
    /// The same with the Cramer-Rao bound at the estimate (what a lab without the truth sees).
    rmse_over_sqrt_crb_at_estimate: f64,
    /// Share of trials whose truth lies in the reported 95 % (profile-likelihood) interval.
    coverage95: f64,
    /// The same for the Wald interval (estimate +- 1.96 std).
    wald_coverage95: f64,
    /// Trials where the reported interval reached a hard bound (the data left it open).
    open_intervals: usize,
}

/// Per parameter, what every trial gave.
#[derive(Default, Clone)]
struct Tally {
    errs: Vec<f64>,
    stds: Vec<f64>,
    crb_truth: Vec<f64>,
    crb_estimate: Vec<f64>,
    covered: usize,
    wald_covered: usize,
    open: usize,
}

impl Tally {
    fn figures(&self) -> ParamFigures {
        let n = self.errs.len().max(1) as f64;
        let mean_sq = |v: &[f64]| v.iter().map(|e| e * e).sum::<f64>() / n;
        let rmse = mean_sq(&self.errs).sqrt();
        // Efficiency where the bound exists: errors and bounds of the determined trials only.
        let determined: Vec<(f64, f64)> = self
            .errs
            .iter()
            .zip(&self.crb_truth)
            .filter(|(_, c)| c.is_finite())
            .map(|(e, c)| (*e, *c))
            .collect();
        let ratio = if determined.is_empty() {
            f64::NAN
        } else {
            let sum = |f: fn(&(f64, f64)) -> f64| determined.iter().map(f).sum::<f64>();
            (sum(|(e, _)| e * e) / sum(|(_, c)| c * c)).sqrt()
        };
        ParamFigures {
            rmse,
            mean_reported_std: self.stds.iter().sum::<f64>() / n,
            rmse_over_sqrt_crb: ratio,
            undetermined_at_truth: self.errs.len() - determined.len(),
            rmse_over_sqrt_crb_at_estimate: rmse / mean_sq(&self.crb_estimate).sqrt(),
            coverage95: self.covered as f64 / n,
            wald_coverage95: self.wald_covered as f64 / n,
            open_intervals: self.open,
        }
    }
}

#[derive(Serialize)]
struct Figures {
    scene: String,
    exploration: String,
    trials: usize,
    failed: usize,
    wall_s_per_fit: f64,
    params: BTreeMap<String, ParamFigures>,
}

/// Runs the accuracy harness.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Some(solver) = SolverKind::parse(&args.solver) else {
        bail!("--solver `{}`: allowed lm, cem, nm, pso", args.solver)
    };
    let sim = Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let planned = match &args.plan {
        Some(p) => {
            let plan: asid_explore::Plan = serde_json::from_str(&std::fs::read_to_string(p)?)?;
            plan.actions
        }
        None => {
            let exp = SimExperiment::new(&sim);
            let opts = PlanOptions {
                criterion: Criterion::A,
                seed: args.seed,
                ..Default::default()
            };
            asid_explore::plan_best(
                &exp,
                &crate::cmd::explore::design_kinds(&args.design)?,
                Target::first_free_object(scene),
                &opts,
                (&scene.spec.name, "", scene.control_period_s()),
                false,
            )?
            .0
            .actions
        }
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let bounds = ActionBounds::of(scene);
    for kind in ["planned", "random"] {
        let names = scene.space.names();
        let mut tallies = vec![Tally::default(); names.len()];
        let (mut failed, mut wall) = (0, 0.0);
        for _ in 0..args.trials {
            let truth = scene.space.sample(&mut rng);
            let actions = if kind == "planned" {
                planned.clone()
            } else {
                bounds.random(scene.spec.arm.action.horizon_steps(), &mut rng)
            };
            let ep = sim.record_episode(&truth, &actions, Some(&mut rng), 1.0)?;
            let data = dataset(scene, &[("trial".into(), ep)], None)?;
            let opts = FitOptions {
                solver,
                seed: args.seed,
                ..Default::default()
            };
            let fit = match identify(&sim, &data, &opts, &scene.spec.name, &[]) {
                Ok(f) => f,
                Err(_) => {
                    failed += 1;
                    continue;
                }
            };
            let crb_truth = crb_std_at(&sim, &data, &truth)?;
            wall += fit.wall_s;
            if args.per_trial {
                print_trial(kind, &names, &truth, &fit, &crb_truth);
            }
            for (i, n) in names.iter().enumerate() {
                let t = &mut tallies[i];
                let e = fit.estimate[*n] - truth[i];
                let s = std_or_inf(&fit.std, n);
                t.errs.push(e);
                t.stds.push(s);
                t.crb_truth.push(std_or_inf(&crb_truth, n));
                t.crb_estimate.push(std_or_inf(&fit.crb_std, n));
                if e.abs() <= 1.96 * s {
                    t.wald_covered += 1;
                }
                if let Some(iv) = fit.interval95.get(*n) {
                    if (iv.lo..=iv.hi).contains(&truth[i]) {
                        t.covered += 1;
                    }
                    if iv.lo_open || iv.hi_open {
                        t.open += 1;
                    }
                }
            }
        }
        let done = args.trials - failed;
        let params = names
            .iter()
            .zip(&tallies)
            .map(|(n, t)| (n.to_string(), t.figures()))
            .collect();
        let f = Figures {
            scene: scene.spec.name.clone(),
            exploration: kind.into(),
            trials: args.trials,
            failed,
            wall_s_per_fit: wall / done.max(1) as f64,
            params,
        };
        if args.json {
            println!("{}", serde_json::to_string(&f)?);
        } else {
            println!(
                "{} / {} exploration: {} trials ({} failed), {:.2} s per fit",
                f.scene, f.exploration, f.trials, f.failed, f.wall_s_per_fit
            );
            for (n, p) in &f.params {
                println!(
                    "  {n:<28} RMSE {:.3e}  mean std {:.3e}  RMSE/sqrt(CRB) {:.2} ({} undetermined; at the estimates {:.2})  coverage {:.0} % (Wald {:.0} %, {} open)",
                    p.rmse,
                    p.mean_reported_std,
                    p.rmse_over_sqrt_crb,
                    p.undetermined_at_truth,
                    p.rmse_over_sqrt_crb_at_estimate,
                    100.0 * p.coverage95,
                    100.0 * p.wald_coverage95,
                    p.open_intervals
                );
            }
        }
    }
    Ok(())
}

/// One line per trial and parameter: truth, estimate, error in reported std, the reported interval,
/// reported std and CRB std at the truth.
fn print_trial(
    kind: &str,
    names: &[&str],
    truth: &[f64],
    fit: &asid_sysid::Fit,
    crb_truth: &BTreeMap<String, Option<f64>>,
) {
    let cells: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let est = fit.estimate[*n];
            let std = std_or_inf(&fit.std, n);
            let crb = std_or_inf(crb_truth, n);
            let iv = fit
                .interval95
                .get(*n)
                .map_or(String::new(), |iv| format!(" [{:.4}, {:.4}]", iv.lo, iv.hi));
            format!(
                "{n} {:.4} -> {est:.4}{iv} ({:+.2} std, std {std:.2e}, crb {crb:.2e})",
                truth[i],
                (est - truth[i]) / std
            )
        })
        .collect();
    println!("  {kind} trial: {}  cost {:.1}", cells.join("; "), fit.cost);
}

/// A std by name; infinite where it is unbounded or missing.
fn std_or_inf(m: &BTreeMap<String, Option<f64>>, name: &str) -> f64 {
    m.get(name).copied().flatten().unwrap_or(f64::INFINITY)
}
