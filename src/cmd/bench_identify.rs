//! `asid bench identify <scene>`: statistical accuracy of identification on episodes recorded in
//! the simulated lab (the imperfect default lab, `--lab` to change it), with the measured drive,
//! the commanded drive and the ideal lab side by side.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use asid_explore::{Criterion, PlanOptions, SimExperiment, Target};
use asid_sim::{ActionBounds, Simulator};
use asid_sysid::{Drive, FitOptions, SolverKind, crb_std_at, dataset_driven};

use crate::cmd::bench_verdicts::{Verdicts, hold, parse_holds};
use asid_station::arms::{Job, LabSettings, run_in_lab};
use asid_station::identify::{Latency, fit_sources, input_at, read_source};
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
    /// The lab's imperfections, `name=value,...` over the imperfect default (`ideal` first for
    /// the fitting model's world); sensor noise at the scene's sigmas unless `noise_scale` says.
    #[arg(long, default_value = "")]
    lab: String,
    /// Configurations per trial, comma-separated: `measured` (the lab, measured drive),
    /// `commanded` (the same episode, commanded drive), `ideal` (the ideal lab with the scene's
    /// noise, measured drive).
    #[arg(long, default_value = "measured,commanded,ideal")]
    configs: String,
    /// Exploration kinds: planned, random, or both (comma-separated).
    #[arg(long, default_value = "planned")]
    exploration: String,
    /// Directory for the trial episodes (overwritten trial by trial).
    #[arg(long, default_value = "runs/bench-identify")]
    work_dir: PathBuf,
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
    /// Parameters held in every trial, `name=value,...` (e.g. `lid.hinge.present=0`: only welded
    /// lids); the others are drawn from the prior.
    #[arg(long, default_value = "")]
    hold: String,
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
    config: String,
    lab: String,
    drive: Drive,
    trials: usize,
    failed: usize,
    /// Why each failed trial failed (`trial N: ...`), in trial order.
    failures: Vec<String>,
    wall_s_per_fit: f64,
    latency: LatencyFigures,
    verdicts: Verdicts,
    params: BTreeMap<String, ParamFigures>,
}

/// The tracker latency estimates against the lab's.
#[derive(Serialize, Default)]
struct LatencyFigures {
    true_ms: f64,
    mean_estimate_ms: f64,
    rmse_ms: f64,
    mean_std_ms: f64,
    /// Share of trials with the true latency within 1.96 reported std.
    coverage95: f64,
    #[serde(skip)]
    errors_ms: Vec<f64>,
    #[serde(skip)]
    covered: usize,
    #[serde(skip)]
    stds_ms: Vec<f64>,
}

/// One configuration of the comparison: which lab, which drive.
struct Config {
    name: &'static str,
    lab: String,
    drive: Drive,
    true_latency_ms: f64,
}

fn configs(args: &Args) -> anyhow::Result<Vec<Config>> {
    let mut out = Vec::new();
    for name in args.configs.split(',').map(str::trim) {
        let (name, lab, drive) = match name {
            "measured" => ("measured", args.lab.clone(), Drive::Measured),
            "commanded" => ("commanded", args.lab.clone(), Drive::Commanded),
            "ideal" => ("ideal", "ideal,noise_scale=1".to_string(), Drive::Measured),
            other => bail!("--configs: `{other}`: allowed measured, commanded, ideal"),
        };
        let cfg = asid_station::arms::lab_config(0, 1.0, Some(&lab))?;
        out.push(Config {
            name,
            lab,
            drive,
            true_latency_ms: cfg.pose_latency_ms,
        });
    }
    Ok(out)
}

/// Runs the accuracy harness.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Some(solver) = SolverKind::parse(&args.solver) else {
        bail!("--solver `{}`: allowed lm, cem, nm, pso", args.solver)
    };
    let configs = configs(args)?;
    let kinds: Vec<&str> = match args.exploration.as_str() {
        "planned" => vec!["planned"],
        "random" => vec!["random"],
        "both" => vec!["planned", "random"],
        other => bail!("--exploration `{other}`: allowed planned, random, both"),
    };
    let sim = Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let planned = match &args.plan {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let plan: asid_explore::Plan = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a plan file", p.display()))?;
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
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("creating {}", args.work_dir.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let bounds = ActionBounds::of(scene);
    let names = scene.space.names();
    let holds = parse_holds(&scene.space, &args.hold)?;
    let opts = FitOptions {
        solver,
        starts: args.starts,
        seed: args.seed,
        ..Default::default()
    };
    for (kind_index, kind) in kinds.iter().enumerate() {
        let mut tallies = vec![vec![Tally::default(); names.len()]; configs.len()];
        let mut latencies: Vec<LatencyFigures> = configs
            .iter()
            .map(|c| LatencyFigures {
                true_ms: c.true_latency_ms,
                ..Default::default()
            })
            .collect();
        let mut verdicts = vec![Verdicts::default(); configs.len()];
        let mut failed = vec![0usize; configs.len()];
        let mut failures: Vec<Vec<String>> = vec![Vec::new(); configs.len()];
        let mut wall = vec![0.0; configs.len()];
        for trial in 0..args.trials {
            let mut truth = scene.space.sample(&mut rng);
            hold(&mut truth, &holds);
            let actions = if *kind == "planned" {
                planned.clone()
            } else {
                bounds.random(scene.spec.arm.action.horizon_steps(), &mut rng)
            };
            let truth_text: Vec<String> = names
                .iter()
                .zip(&truth)
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            let truth_text = truth_text.join(",");
            let lab_seed = args.seed * 100_000 + kind_index as u64 * 10_000 + trial as u64;
            // One episode per distinct lab, shared by the configurations on it.
            let mut episodes: BTreeMap<String, Result<asid_station::Source, String>> =
                BTreeMap::new();
            for (c, cfg) in configs.iter().enumerate() {
                if !episodes.contains_key(&cfg.lab) {
                    let out = args.work_dir.join(format!("trial-{c}.mcap"));
                    let job = Job {
                        sim: &sim,
                        work: asid_station::executor::Work::Actions(&actions),
                        plan_label: format!("bench {kind} trial {trial}"),
                        out: out.clone(),
                        what: "plan",
                    };
                    let lab = LabSettings {
                        seed: lab_seed,
                        truth: Some(&truth_text),
                        noise: 1.0,
                        imperfections: Some(&cfg.lab),
                    };
                    let limits = asid_station::checks::limits_for(scene, 100);
                    let signal = asid_arm::StopSignal::new();
                    let (summary, _) = rt.block_on(run_in_lab(
                        &job,
                        &lab,
                        limits,
                        signal,
                        &mut asid_station::Silent,
                    ))?;
                    let src = match &summary.stopped_by {
                        None => Ok(read_source(&out)?),
                        Some(why) => Err(format!("the episode stopped: {why}")),
                    };
                    episodes.insert(cfg.lab.clone(), src);
                }
                let src = match episodes.get(&cfg.lab) {
                    Some(Ok(src)) => src,
                    Some(Err(why)) => {
                        failed[c] += 1;
                        failures[c].push(format!("trial {trial}: {why}"));
                        continue;
                    }
                    None => unreachable!("every configuration's episode is run above"),
                };
                let fitted = fit_sources(
                    &sim,
                    std::slice::from_ref(src),
                    None,
                    Some(cfg.drive),
                    &opts,
                    Latency::Estimate,
                    &[],
                );
                let (fit, _) = match fitted {
                    Ok(f) => f,
                    Err(e) => {
                        failed[c] += 1;
                        failures[c].push(format!("trial {trial}: the fit: {e:#}"));
                        continue;
                    }
                };
                verdicts[c].add(&scene.space, &truth, &fit);
                let shift = fit.pose_latency.as_ref().map_or(0.0, |l| l.estimate_s);
                let input = input_at(src, scene, shift, None)?;
                let (data, _) = dataset_driven(scene, &[input], None, Some(cfg.drive))?;
                let crb_truth = crb_std_at(&sim, &data, &truth)?;
                wall[c] += fit.wall_s;
                if args.per_trial {
                    print_trial(
                        &format!("{kind} {}", cfg.name),
                        &names,
                        &truth,
                        &fit,
                        &crb_truth,
                    );
                }
                if let Some(l) = &fit.pose_latency {
                    let lf = &mut latencies[c];
                    let e = 1e3 * l.estimate_s - lf.true_ms;
                    let s = l.std_s.map_or(f64::INFINITY, |s| 1e3 * s);
                    lf.errors_ms.push(e);
                    lf.stds_ms.push(s);
                    if e.abs() <= 1.96 * s {
                        lf.covered += 1;
                    }
                }
                for (i, n) in names.iter().enumerate() {
                    let t = &mut tallies[c][i];
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
        }
        for (c, cfg) in configs.iter().enumerate() {
            let done = args.trials - failed[c];
            let mut lat = std::mem::take(&mut latencies[c]);
            let k = lat.errors_ms.len().max(1) as f64;
            lat.mean_estimate_ms = lat.true_ms + lat.errors_ms.iter().sum::<f64>() / k;
            lat.rmse_ms = (lat.errors_ms.iter().map(|e| e * e).sum::<f64>() / k).sqrt();
            lat.mean_std_ms = lat.stds_ms.iter().sum::<f64>() / k;
            lat.coverage95 = lat.covered as f64 / k;
            let f = Figures {
                scene: scene.spec.name.clone(),
                exploration: (*kind).into(),
                config: cfg.name.into(),
                lab: if cfg.lab.is_empty() {
                    "default".into()
                } else {
                    cfg.lab.clone()
                },
                drive: cfg.drive,
                trials: args.trials,
                failed: failed[c],
                failures: std::mem::take(&mut failures[c]),
                wall_s_per_fit: wall[c] / done.max(1) as f64,
                latency: lat,
                verdicts: std::mem::take(&mut verdicts[c]),
                params: names
                    .iter()
                    .zip(&tallies[c])
                    .map(|(n, t)| (n.to_string(), t.figures()))
                    .collect(),
            };
            print_figures(&f, args.json)?;
        }
    }
    Ok(())
}

fn print_figures(f: &Figures, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(f)?);
        return Ok(());
    }
    println!(
        "{} / {} exploration / {} (lab {}, {:?} drive): {} trials ({} failed), {:.2} s per fit",
        f.scene, f.exploration, f.config, f.lab, f.drive, f.trials, f.failed, f.wall_s_per_fit
    );
    for why in &f.failures {
        println!("  failed: {why}");
    }
    if f.failed == f.trials {
        // No fit to summarise: the figures below would be empty averages.
        return Ok(());
    }
    let l = &f.latency;
    println!(
        "  tracker latency: true {:.1} ms, mean estimate {:.2} ms, RMSE {:.2} ms, mean std {:.2} ms, coverage {:.0} %",
        l.true_ms,
        l.mean_estimate_ms,
        l.rmse_ms,
        l.mean_std_ms,
        100.0 * l.coverage95
    );
    for line in f.verdicts.lines() {
        println!("{line}");
    }
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
