//! `asid run <scene>`: the whole loop (plan the exploration, dry run, execute and record, identify,
//! plan the task, dry run, execute it, report) on the embedded simulated lab or a Franka, through
//! the station library; each run writes `<out-dir>/<UTC time>-<scene>/`.

use std::path::{Path, PathBuf};

use anyhow::bail;
use asid_station::arms::{FrankaSettings, LabSettings};
use asid_station::{ArmTarget, LoopOptions, Observers, Station, create_run_dir};
use asid_viz::{Sink, Viz};

use crate::cmd::console::Console;

/// Arguments of `asid run`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    #[arg(default_value = "scenes/rod.toml")]
    scene: PathBuf,
    /// The arm: `sim` (the embedded simulated lab: hidden parameters drawn from the prior with
    /// --seed, sensor noise, tracker latency, a lagging arm) or `franka://HOST` (a Franka, or
    /// franky-sim on loopback; every motion is confirmed first unless --yes).
    #[arg(long, default_value = "sim")]
    arm: String,
    /// Object poses with a Franka: `udp://ADDR:PORT` (pose stream v1).
    #[arg(long)]
    poses: Option<String>,
    /// Do not ask before each motion of a real arm.
    #[arg(long)]
    yes: bool,
    /// Seed of the hidden truth, the noise and the planners.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parameterisation of the exploration: auto (spline and primitive, keep the better), spline,
    /// actions or primitive.
    #[arg(long = "param", default_value = "auto")]
    design: String,
    /// Exploration planner: prior samples the criterion is averaged over (default: the planner's).
    #[arg(long)]
    prior_samples: Option<usize>,
    /// Exploration planner: CEM population.
    #[arg(long)]
    population: Option<usize>,
    /// Exploration planner: CEM iterations.
    #[arg(long)]
    iterations: Option<u64>,
    /// Exploration planner: random explorations for the comparison.
    #[arg(long)]
    random_draws: Option<usize>,
    /// Simulated lab: `ideal` and/or `name=value,...` over the imperfect default (see `asid
    /// execute --help`).
    #[arg(long)]
    lab: Option<String>,
    /// The tracker's latency: `estimate` (a nuisance parameter of the fit), `off` or a value in ms.
    #[arg(long, default_value = "estimate")]
    latency: String,
    /// Stop after identification (do not plan or run the scene's task).
    #[arg(long)]
    no_task: bool,
    /// Where run directories are made.
    #[arg(long, default_value = "runs")]
    out_dir: PathBuf,
    /// The rerun view of the run: save (`run.rrd` in the run directory), spawn (a viewer),
    /// connect (to a running viewer) or off.
    #[arg(long, default_value = "save")]
    rerun: String,
    /// Print the report as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    json: bool,
    /// Watchdog: no arm state for this long beyond the control period stops the run (1..=10000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    watchdog_ms: u64,
    /// With a Franka: no pose of a tracked object for this long stops the run.
    #[arg(long, default_value_t = 250)]
    stale_ms: u64,
}

/// Runs the loop.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let designs = crate::cmd::explore::design_kinds(&args.design)?;
    let latency = asid_station::Latency::parse(&args.latency)?;
    let arm = if args.arm == "sim" {
        if let Some(p) = &args.poses {
            bail!(
                "--poses `{p}`: the simulated lab brings its own tracker; use it with --arm \
                 franka://HOST"
            );
        }
        // A bad --lab is reported before anything is planned.
        asid_station::arms::lab_config(args.seed, 1.0, args.lab.as_deref())?;
        ArmTarget::SimLab(LabSettings {
            seed: args.seed,
            truth: None,
            noise: 1.0,
            imperfections: args.lab.as_deref(),
        })
    } else if let Some(host) = args.arm.strip_prefix("franka://") {
        if args.lab.is_some() {
            bail!("--lab: only with --arm sim");
        }
        ArmTarget::Franka(FrankaSettings {
            host: host.to_string(),
            poses: args.poses.clone(),
            stale_ms: args.stale_ms,
            watchdog_ms: args.watchdog_ms,
        })
    } else {
        bail!("--arm `{}`: allowed `sim` or `franka://HOST`", args.arm)
    };
    let defaults = LoopOptions::default().plan;
    let plan = asid_explore::PlanOptions {
        prior_samples: args.prior_samples.unwrap_or(defaults.prior_samples),
        population: args.population.unwrap_or(defaults.population),
        iterations: args.iterations.unwrap_or(defaults.iterations),
        random_draws: args.random_draws.unwrap_or(defaults.random_draws),
        ..defaults
    };
    if Sink::parse(&args.rerun, Path::new("run.rrd")).is_none() {
        bail!(
            "--rerun `{}`: allowed save, spawn, connect or off",
            args.rerun
        );
    }
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let dir = create_run_dir(&args.out_dir, &sim.scene().spec.name)?;
    let console = Console::new(args.json, args.yes);
    console.say(&format!("run directory: {}", dir.display()));
    let mut observers = Observers::default().with(console).with(asid_station::Trace);
    if let Some(Some(sink)) = Sink::parse(&args.rerun, &dir.join("run.rrd")) {
        // On its own thread: a slow viewer never delays the arm's next target.
        let viz = Viz::new(sim.scene(), Some(sim.clone()), &sink)?;
        observers = observers.with(asid_station::Background::spawn("rerun", viz)?);
    }
    let mut station = Station {
        sim: &sim,
        scene_file: &args.scene,
        dir: &dir,
        arm,
        opts: LoopOptions {
            seed: args.seed,
            designs,
            plan,
            // The fit's settings of `asid replay` with its defaults, so a replay reproduces it.
            fit: crate::cmd::identify::fit_options("lm", 3, args.seed, None)?,
            latency,
            watchdog_ms: args.watchdog_ms,
            task: !args.no_task,
        },
        signal: asid_arm::StopSignal::new(),
    };
    let report = station.run(&mut observers)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
