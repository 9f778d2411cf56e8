//! `asid bench identify <scene>`: statistical accuracy of identification, planned vs random exploration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use asid_explore::{Criterion, Design, DesignKind, Experiment, PlanOptions, SimExperiment};
use asid_sim::{ActionBounds, Simulator};
use asid_sysid::{FitOptions, SolverKind, dataset, identify};
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
}

#[derive(Serialize)]
struct ParamFigures {
    rmse: f64,
    mean_reported_std: f64,
    rmse_over_sqrt_crb: f64,
    coverage95: f64,
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
            let design = Design::new(DesignKind::Spline, exp.action_bounds(), exp.horizon(), None)?;
            let opts = PlanOptions {
                criterion: Criterion::A,
                seed: args.seed,
                ..Default::default()
            };
            asid_explore::plan(
                &exp,
                &design,
                &opts,
                (&scene.spec.name, "", scene.control_period_s()),
                false,
            )?
            .actions
        }
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let bounds = ActionBounds::of(scene);
    for kind in ["planned", "random"] {
        let names = scene.space.names();
        let mut errs: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut stds: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut crbs: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut covered = vec![0usize; names.len()];
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
            wall += fit.wall_s;
            for (i, n) in names.iter().enumerate() {
                let e = fit.estimate[*n] - truth[i];
                let s = fit.std.get(*n).copied().flatten().unwrap_or(f64::INFINITY);
                let c = fit
                    .crb_std
                    .get(*n)
                    .copied()
                    .flatten()
                    .unwrap_or(f64::INFINITY);
                errs[i].push(e);
                stds[i].push(s);
                crbs[i].push(c);
                if e.abs() <= 1.96 * s {
                    covered[i] += 1;
                }
            }
        }
        let done = args.trials - failed;
        let params = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let rmse = (errs[i].iter().map(|e| e * e).sum::<f64>() / done.max(1) as f64).sqrt();
                let mean_std = stds[i].iter().sum::<f64>() / done.max(1) as f64;
                let crb_var = crbs[i].iter().map(|c| c * c).sum::<f64>() / done.max(1) as f64;
                (
                    n.to_string(),
                    ParamFigures {
                        rmse,
                        mean_reported_std: mean_std,
                        rmse_over_sqrt_crb: rmse / crb_var.sqrt(),
                        coverage95: covered[i] as f64 / done.max(1) as f64,
                    },
                )
            })
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
                    "  {n:<28} RMSE {:.3e}  mean std {:.3e}  RMSE/sqrt(CRB) {:.2}  coverage {:.0} %",
                    p.rmse,
                    p.mean_reported_std,
                    p.rmse_over_sqrt_crb,
                    100.0 * p.coverage95
                );
            }
        }
    }
    Ok(())
}
