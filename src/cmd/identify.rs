//! `asid identify <scene> <episode>...`: fit the parameters and report the uncertainty.

use std::path::PathBuf;

use anyhow::{Context, bail};
use asid_core::Episode;
use asid_core::scene::ChannelKind;
use asid_sysid::{FitOptions, Loss, SolverKind, dataset, identify};
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

/// Runs the identification.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Some(solver) = SolverKind::parse(&args.solver) else {
        bail!("--solver `{}`: allowed lm, cem, nm, pso", args.solver)
    };
    let loss = match args.huber {
        None => Loss::Squared,
        Some(d) if d.is_finite() && d > 0.0 => Loss::Huber(d),
        Some(d) => bail!("--huber {d}: allowed > 0"),
    };
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
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let mut episodes = Vec::new();
    for p in &args.episodes {
        episodes.push((p.display().to_string(), read_episode(p, scene)?));
    }
    let data = dataset(scene, &episodes, channels.as_deref())?;
    let mut names = Vec::new();
    let mut off = 0;
    for c in &scene.spec.observation.channels {
        let label =
            c.of.as_ref()
                .map_or(format!("{:?}", c.kind), |o| format!("{:?}({o})", c.kind));
        names.push((off, label));
        off += c.kind.dim(scene.n_joints());
    }
    let opts = FitOptions {
        solver,
        starts: args.starts,
        seed: args.seed,
        loss,
        ..Default::default()
    };
    let fit = identify(&sim, &data, &opts, &scene.spec.name, &names)?;
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
                "skipped": fit.skipped, "hypotheses": fit.hypotheses,
            })
        );
    } else {
        println!(
            "{} from {} episode(s), {:?}: cost {:.4e}, {} residuals ({} skipped), {} rollouts, {:.2} s",
            scene.spec.name,
            episodes.len(),
            solver,
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
    }
    Ok(())
}

/// Reads an episode: an MCAP recording (converted on the scene's observation channels; rows the
/// recording cannot fill are missing, never zero) or an `asid-episode/1` JSON file.
pub fn read_episode(path: &std::path::Path, scene: &asid_core::Scene) -> anyhow::Result<Episode> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mcap"))
    {
        let c = asid_record::episode_from_mcap(path, scene)?;
        for (channel, rows) in &c.missing_rows {
            eprintln!("{}: {channel}: {rows} rows missing", path.display());
        }
        for u in &c.unavailable {
            eprintln!(
                "{}: {u}: not in the recording (left missing)",
                path.display()
            );
        }
        return Ok(c.episode);
    }
    Ok(Episode::read(path)?)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("unbounded".into(), |x| format!("{x:.3e}"))
}
