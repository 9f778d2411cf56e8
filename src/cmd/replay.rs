//! `asid replay <run dir | episode.mcap>`: re-identify from recorded episodes with other settings
//! and re-plan the task against the new fit, without an arm; the result goes to a new directory
//! (`<run dir>/<UTC time>-replay/`, or `<out-dir>/<UTC time>-<scene>-replay/` for an episode).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use asid_station::{LoopOptions, Reanalysis, create_run_dir, reanalyse};

use crate::cmd::console::Console;

/// Arguments of `asid replay`.
#[derive(clap::Args)]
pub struct Args {
    /// A run directory of `asid run` (its `report.json` names the scene and the seed) or an MCAP
    /// episode.
    input: PathBuf,
    /// Scene (default: the run's, or `scenes/<scene>.toml` of the scene an episode names).
    #[arg(long)]
    scene: Option<PathBuf>,
    /// The tracker's latency: `estimate`, `off` or a value in ms.
    #[arg(long, default_value = "estimate")]
    latency: String,
    /// Solver: lm, cem, nm or pso.
    #[arg(long, default_value = "lm")]
    solver: String,
    /// Starts of local solvers.
    #[arg(long, default_value_t = 3)]
    starts: usize,
    /// Huber loss threshold in sigmas (default: squared loss).
    #[arg(long)]
    huber: Option<f64>,
    /// Seed of the fit and the task planner (default: the run's).
    #[arg(long)]
    seed: Option<u64>,
    /// Do not re-plan the task.
    #[arg(long)]
    no_task: bool,
    /// Where the result directory of an episode goes.
    #[arg(long, default_value = "runs")]
    out_dir: PathBuf,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs the re-analysis.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let latency = asid_station::Latency::parse(&args.latency)?;
    let recorded = super::recorded::Recorded::resolve(&args.input, args.scene.as_deref())?;
    let (episode, parent) = if recorded.report.is_some() {
        let episode = args.input.join("episode.mcap");
        if !episode.is_file() {
            bail!(
                "{}: no episode.mcap in the run directory (the run stopped before exploring?)",
                args.input.display()
            );
        }
        (episode, args.input.clone())
    } else {
        (args.input.clone(), args.out_dir.clone())
    };
    let sim = &recorded.sim;
    let scene = sim.scene();
    let run = recorded.report.as_ref();
    let seed = args.seed.or(run.map(|r| r.seed)).unwrap_or(1);
    // The simulated lab's hidden values, when the run recorded them, for the error column.
    let truth: Option<Vec<f64>> = run.and_then(|r| {
        scene
            .space
            .params
            .iter()
            .map(|p| {
                r.parameters
                    .iter()
                    .find(|q| q.name == p.name)
                    .and_then(|q| q.truth)
            })
            .collect()
    });
    let dir = match &run {
        Some(_) => create_run_dir(&parent, "replay")?,
        None => create_run_dir(&parent, &format!("{}-replay", scene.spec.name))?,
    };
    let opts = LoopOptions {
        seed,
        fit: crate::cmd::identify::fit_options(&args.solver, args.starts, seed, args.huber)?,
        latency,
        task: !args.no_task,
        ..LoopOptions::default()
    };
    let console = Console::new(args.json, false);
    console.say(&format!("result directory: {}", dir.display()));
    let mut observers = asid_station::Observers::default()
        .with(console)
        .with(asid_station::Trace);
    let label = format!("replay of {}", display(&args.input));
    let episodes = [episode];
    let job = Reanalysis {
        sim,
        scene_file: &recorded.scene_file,
        episodes: &episodes,
        truth: truth.as_deref(),
        dir: &dir,
        label,
    };
    let report = reanalyse(&job, &opts, &mut observers)
        .with_context(|| format!("replaying {}", args.input.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
