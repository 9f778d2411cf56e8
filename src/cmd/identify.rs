//! `asid identify <scene> <episode>...`: fit the parameters and report the uncertainty.

use std::path::PathBuf;

use anyhow::{Context, bail};
use asid_core::scene::ChannelKind;
use asid_station::identify::{Latency, Source, fit_sources, read_source};
use asid_sysid::{Drive, FitOptions, Loss, SolverKind};
use serde_json::json;

/// Arguments of `asid identify`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    scene: PathBuf,
    /// Episodes: MCAP recordings from `asid execute` / `asid run`, or JSON from `asid simulate`.
    #[arg(required = true)]
    episodes: Vec<PathBuf>,
    /// Solver: lm, cem, nm or pso.
    #[arg(long, default_value = "lm")]
    solver: String,
    /// Starts of local solvers.
    #[arg(long, default_value_t = 3)]
    starts: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Huber loss threshold in sigmas (default: squared loss).
    #[arg(long)]
    huber: Option<f64>,
    /// What moves the simulated arm: `measured` (the recorded joint positions, MCAP only) or
    /// `commanded` (the plan's actions); default measured when every episode has them.
    #[arg(long)]
    drive: Option<String>,
    /// Tracker latency: `estimate` (a nuisance parameter of the fit, searched over 0-80 ms;
    /// MCAP recordings with tracked objects), `off`, or a known value in ms that the object
    /// observations are shifted back by.
    #[arg(long, default_value = "estimate")]
    latency: String,
    /// Channels to fit, comma-separated (e.g. object_pose,ee_position; default: all).
    #[arg(long)]
    channels: Option<String>,
    /// Result file to write.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

/// The fit's settings from `--solver`, `--starts`, `--seed` and `--huber`.
pub fn fit_options(
    solver: &str,
    starts: usize,
    seed: u64,
    huber: Option<f64>,
) -> anyhow::Result<FitOptions> {
    let Some(solver) = SolverKind::parse(solver) else {
        bail!("--solver `{solver}`: allowed lm, cem, nm, pso")
    };
    let loss = match huber {
        None => Loss::Squared,
        Some(d) if d.is_finite() && d > 0.0 => Loss::Huber(d),
        Some(d) => bail!("--huber {d}: allowed > 0"),
    };
    Ok(FitOptions {
        solver,
        starts,
        seed,
        loss,
        ..Default::default()
    })
}

/// Runs the identification.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let opts = fit_options(&args.solver, args.starts, args.seed, args.huber)?;
    let channels: Option<Vec<ChannelKind>> = match &args.channels {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|c| {
                    serde_json::from_value(json!(c.trim()))
                        .with_context(|| format!("--channels: unknown channel `{c}`"))
                })
                .collect::<anyhow::Result<_>>()?,
        ),
    };
    let drive = match args.drive.as_deref() {
        None => None,
        Some(d) => Some(
            Drive::parse(d)
                .with_context(|| format!("--drive `{d}`: allowed measured, commanded"))?,
        ),
    };
    let latency = Latency::parse(&args.latency)?;
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let mut sources = Vec::new();
    for p in &args.episodes {
        let source = read_source(p)?;
        if let Source::Json(input) = &source {
            crate::cmd::input_check::check_episode(p, &input.episode, scene)?;
        }
        sources.push(source);
    }
    let mut names = Vec::new();
    let mut off = 0;
    for c in &scene.spec.observation.channels {
        let label =
            c.of.as_ref()
                .map_or(format!("{:?}", c.kind), |o| format!("{:?}({o})", c.kind));
        names.push((off, label));
        off += c.kind.dim(scene.n_joints());
    }
    let (fit, notes) = fit_sources(
        &sim,
        &sources,
        channels.as_deref(),
        drive,
        &opts,
        latency,
        &names,
    )?;
    let episodes = &sources;
    for n in &notes {
        eprintln!("note: {n}");
    }
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&fit)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if args.json {
        println!(
            "{}",
            json!({
                "estimate": fit.estimate, "std": fit.std, "interval95": fit.interval95, "crb_std": fit.crb_std, "identifiable": fit.identifiable,
                "verdict": fit.identifiability.verdict, "cost": fit.cost, "evaluations": fit.evaluations, "wall_s": fit.wall_s,
                "skipped": fit.skipped, "hypotheses": fit.hypotheses, "drive": fit.drive, "notes": notes,
                "reduced_chi2": fit.reduced_chi2, "misfit": fit.misfit, "misfit_test": fit.misfit_tests.test,
                "runs_z": fit.misfit_tests.runs_z, "chi2_p": fit.misfit_tests.chi2_p,
                "std_nominal": fit.std_nominal, "std_sandwich": fit.std_sandwich,
                "covariance_method": fit.covariance_method, "confounded": fit.confounded,
                "pose_latency": fit.pose_latency,
            })
        );
    } else {
        println!(
            "{} from {} episode(s), {:?}, {:?} drive: cost {:.4e}, {} residuals ({} skipped), {} rollouts, {:.2} s",
            scene.spec.name,
            episodes.len(),
            opts.solver,
            fit.drive,
            fit.cost,
            fit.residuals,
            fit.skipped,
            fit.evaluations,
            fit.wall_s
        );
        for (n, v) in &fit.estimate {
            let std = fit.std.get(n).copied().flatten();
            let crb = fit.crb_std.get(n).copied().flatten();
            let interval = fit.interval95.get(n).map_or(String::new(), |i| {
                let end =
                    |v: f64, open: bool| format!("{v:.6}{}", if open { " (bound)" } else { "" });
                format!(" 95 % [{}, {}]", end(i.lo, i.lo_open), end(i.hi, i.hi_open))
            });
            println!(
                "  {n:<28} {v:>12.6} +- {:<12}{interval} (CRB {:<12}) identifiable: {}",
                fmt(std),
                fmt(crb),
                fit.identifiable.get(n).copied().unwrap_or(false)
            );
        }
        println!(
            "  reduced chi-square {:.3}, runs z {:.2} over {} series: {}",
            fit.reduced_chi2,
            fit.misfit_tests.runs_z,
            fit.misfit_tests.runs_series,
            if fit.misfit {
                "MISFIT (the residuals are not the scene's noise)"
            } else {
                "consistent with the scene's noise"
            }
        );
        println!("  test: {}", fit.misfit_tests.test);
        println!("  covariance: {}", fit.covariance_method);
        for c in &fit.confounded {
            println!("  determined only in combination: {}", c.combination);
        }
        println!("  {}", fit.identifiability.verdict);
        for h in &fit.hypotheses {
            println!(
                "  hypothesis {:?}: chi2 {:.3e}, BIC {:.3e}{}",
                h.structure,
                h.chi2,
                h.bic,
                if h.chosen { " (chosen)" } else { "" }
            );
        }
        println!("  residual RMS: {:?}", fit.residual_rms);
        if let Some(l) = &fit.pose_latency {
            println!(
                "  tracker latency {:.1} ms +- {} (searched {:.0}-{:.0} ms{}); object observations shifted back by it",
                1e3 * l.estimate_s,
                l.std_s
                    .map_or("unbounded".into(), |s| format!("{:.1} ms", 1e3 * s)),
                1e3 * l.searched_s[0],
                1e3 * l.searched_s[1],
                if l.at_edge {
                    ", AT THE EDGE of the range"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("unbounded".into(), |x| format!("{x:.3e}"))
}
