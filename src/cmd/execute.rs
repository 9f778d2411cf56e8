//! `asid execute <plan.json> --arm sim|franka://HOST [--poses udp://ADDR] --out episode.mcap`:
//! run a plan on an arm behind the safety and recording layers.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use asid_arm::{SafetyLimits, StopSignal};
use asid_sim::Simulator;
use asid_station::arms::{
    FrankaSettings, Job, LabSettings, run_in_lab, run_on_franka, run_on_replay,
};
use asid_station::checks::{dry_run, limits_for};
use asid_station::{Event, RunSummary};

/// Arguments of `asid execute`.
#[derive(clap::Args)]
pub struct Args {
    /// Plan file (from `asid explore`).
    plan: PathBuf,
    /// The arm: `sim` (the simulated lab), `franka://HOST` (a Franka, or franky-sim on loopback) or
    /// `replay://EPISODE.mcap` (a recording played back through the same arm interface).
    #[arg(long, default_value = "sim")]
    arm: String,
    /// Object poses: `udp://ADDR` (pose stream v1). Default: the simulated lab's tracker with
    /// `--arm sim`, none otherwise.
    #[arg(long)]
    poses: Option<String>,
    /// Episode file to write (MCAP).
    #[arg(long)]
    out: PathBuf,
    /// Scene (default: the plan's scene file).
    #[arg(long)]
    scene: Option<PathBuf>,
    /// Simulated lab: seed of the hidden true parameters and of the lab's noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated lab: true parameters, `name=value,...` or `@truth.json` (a JSON object of name ->
    /// value); parameters not given are drawn from the prior with --seed.
    #[arg(long)]
    truth: Option<String>,
    /// Simulated lab: sensor noise as a multiple of the scene's sigmas.
    #[arg(long, default_value_t = 1.0)]
    noise: f64,
    /// Simulated lab: `ideal` (exact sensors, overriding --noise; the joints on the command, no
    /// latency, offset or jitter) and/or `name=value,...` over the imperfect default, in order:
    /// noise_scale, pose_latency_ms, pose_rate_hz, pose_jitter_probability,
    /// pose_rotation_sigma_rad, jitter_probability, tracking_lag (on/off), link_inertia_kgm2,
    /// tracking_offset_sigma_rad, joint_sigma_rad, seed (0 turns one off).
    #[arg(long)]
    lab: Option<String>,
    /// Watchdog: no arm state for this long beyond the control period stops the run (1..=10000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    watchdog_ms: u64,
    /// No pose of a tracked object for this long stops the run.
    #[arg(long, default_value_t = 250)]
    stale_ms: u64,
    /// Print the run's summary as one JSON object on stdout (`RunSummary` and `episode`); the
    /// human-readable lines go to stderr.
    #[arg(long)]
    json: bool,
}

/// A plan file, checked against its scene.
pub struct LoadedPlan {
    /// The plan.
    pub plan: asid_explore::Plan,
    /// Its simulator.
    pub sim: Simulator,
}

/// Reads a plan and the scene it was made for.
pub fn load_plan(path: &Path, scene: Option<&Path>) -> anyhow::Result<LoadedPlan> {
    let text =
        asid_core::read_limit::read_limited_string(path, asid_core::read_limit::JSON_MAX_BYTES)
            .with_context(|| format!("reading {}", path.display()))?;
    let plan: asid_explore::Plan = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a plan file", path.display()))?;
    let scene_path = scene.map_or_else(|| PathBuf::from(&plan.scene_file), Path::to_path_buf);
    let sim = Simulator::load(&scene_path)?;
    if plan.scene != sim.scene().spec.name {
        bail!(
            "{}: planned for scene `{}`, not `{}` ({})",
            path.display(),
            plan.scene,
            sim.scene().spec.name,
            scene_path.display()
        );
    }
    crate::cmd::input_check::check_plan(path, &plan, sim.scene())?;
    Ok(LoadedPlan { plan, sim })
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let loaded = load_plan(&args.plan, args.scene.as_deref())?;
    let sim = &loaded.sim;
    let scene = sim.scene();
    let limits = limits_for(scene, args.watchdog_ms);
    dry_run(sim, &loaded.plan.actions, &limits)?;
    let line = format!(
        "plan {}: {} actions of {} s, dry run passed",
        args.plan.display(),
        loaded.plan.actions.len(),
        scene.control_period_s()
    );
    report_line(args.json, &line);
    let signal = StopSignal::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let s = signal.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                s.raise("Ctrl-C");
            }
        });
        execute_on(args, sim, &loaded.plan, limits, signal).await
    })?;
    if args.json {
        let mut v = serde_json::to_value(&summary)?;
        v["episode"] = serde_json::Value::String(args.out.display().to_string());
        println!("{v}");
    } else {
        print_summary(&summary, &args.out);
    }
    if let Some(why) = &summary.stopped_by {
        return Err(asid_station::StationError::arm_fault(format!(
            "the run stopped early: {why} (episode kept: {})",
            args.out.display()
        ))
        .into());
    }
    Ok(())
}

fn print_summary(s: &RunSummary, out: &Path) {
    println!(
        "{} of {} actions in {:.2} s (arm clock), approach {} periods, max tracking error {:.2e} rad",
        s.steps_done, s.steps_planned, s.duration_s, s.approach_steps, s.max_tracking_error_rad
    );
    println!(
        "poses: {} received, {} accepted, {} malformed, {} duplicates, {} reordered; refusals {}",
        s.poses.received,
        s.poses.accepted,
        s.poses.malformed,
        s.poses.duplicates,
        s.poses.reordered,
        s.refusals
    );
    println!("episode: {}", out.display());
}

/// What `asid execute` prints while it runs: progress every tenth of the plan, notes, and the
/// Franka's 1 kHz dry run (on stderr with `json`, where stdout holds only the summary).
pub fn console_observer(json: bool) -> impl FnMut(&Event<'_>) + Send {
    let mut next = 0;
    move |e: &Event<'_>| match e {
        Event::Progress { done, total, .. } => {
            if *done == 1 {
                next = 0;
            }
            if done * 10 >= next * total {
                eprintln!("  {done}/{total} actions");
                next += 1;
            }
        }
        Event::Note(n) => eprintln!("note: {n}"),
        Event::ControlLoopChecked {
            report,
            tolerated_ms,
            joints,
        } => {
            let line = format!(
                "1 kHz dry run passed: peaks {:.0} % of the velocity limit ({}), {:.0} % of the \
             acceleration limit ({}), {:.0} % of the jerk limit ({}); every step may come up to \
             {tolerated_ms} ms late",
                100.0 * report.velocity.ratio(),
                joints[report.velocity.joint],
                100.0 * report.acceleration.ratio(),
                joints[report.acceleration.joint],
                100.0 * report.jerk.ratio(),
                joints[report.jerk.joint],
            );
            report_line(json, &line);
        }
        _ => {}
    }
}

/// A line of the run's report: on stdout, or on stderr when stdout holds the JSON summary.
fn report_line(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

async fn execute_on(
    args: &Args,
    sim: &Simulator,
    plan: &asid_explore::Plan,
    limits: SafetyLimits,
    signal: StopSignal,
) -> anyhow::Result<RunSummary> {
    let job = Job {
        sim,
        work: asid_station::executor::Work::Actions(&plan.actions),
        plan_label: args.plan.display().to_string(),
        out: args.out.clone(),
        what: "plan",
    };
    let mut obs = asid_station::Observers::default()
        .with(console_observer(args.json))
        .with(asid_station::Trace);
    if args.arm == "sim" {
        if args.poses.is_some() {
            bail!(
                "--poses: the simulated lab brings its own tracker; use it with --arm franka://HOST"
            );
        }
        let lab = LabSettings {
            seed: args.seed,
            truth: args.truth.as_deref(),
            noise: args.noise,
            imperfections: args.lab.as_deref(),
        };
        return Ok(run_in_lab(&job, &lab, limits, signal, &mut obs).await?.0);
    }
    if let Some(file) = args.arm.strip_prefix("replay://") {
        if let Some(p) = &args.poses {
            bail!("--poses `{p}`: a replay plays back the poses it recorded; drop --poses");
        }
        return Ok(run_on_replay(Path::new(file), &job, limits, signal, &mut obs).await?);
    }
    let Some(host) = args.arm.strip_prefix("franka://") else {
        bail!(
            "--arm `{}`: allowed `sim`, `franka://HOST` or `replay://EPISODE.mcap`",
            args.arm
        )
    };
    let franka = FrankaSettings {
        host: host.to_string(),
        poses: args.poses.clone(),
        stale_ms: args.stale_ms,
        watchdog_ms: args.watchdog_ms,
    };
    Ok(run_on_franka(&franka, &job, limits, signal, &mut obs).await?)
}
