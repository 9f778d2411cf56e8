//! `asid bench ...`: benchmarks that print figures (never asserted: machines are noisy).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use asid_core::scene::{ArmModel, Attach, ChannelKind};
use asid_sim::{ActionBounds, RolloutJob, Simulator};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

/// Benchmarks.
#[derive(clap::Subcommand)]
pub enum Bench {
    /// Simulator speed: physics steps/s (one thread) per arm model, rollouts/s (all cores), one sensitivity matrix.
    Sim(SimArgs),
    /// Identification accuracy: fits on noisy episodes of planned and random exploration against the truth and the Cramer-Rao bound.
    Identify(crate::cmd::bench_identify::Args),
    /// The 1 kHz control loop against a Franka or franky-sim: command rate, cycle jitter, missed cycles.
    Control(crate::cmd::bench_control::Args),
    /// Planar sliding: straight pushes of the rod and the puck in the simulator (each support model),
    /// the quasi-static pusher-slider reference and, with `--versus mujoco`, MuJoCo.
    Push(crate::cmd::bench_push::Args),
}

/// Arguments of `asid bench sim`.
#[derive(clap::Args)]
pub struct SimArgs {
    /// Scenes (default: every scene in ./scenes).
    scenes: Vec<PathBuf>,
    /// Print one JSON object per scene and arm model.
    #[arg(long)]
    json: bool,
    /// Seconds spent measuring single-threaded stepping per scene and model.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Only this arm model (kinematic or dynamic); default: both where the scene allows.
    #[arg(long, value_parser = ["kinematic", "dynamic"])]
    model: Option<String>,
    /// Rollouts per batch for the parallel measurement.
    #[arg(long, default_value_t = 32)]
    batch: usize,
}

/// One result line of `asid bench sim`.
#[derive(Serialize)]
struct SimFigures {
    scene: String,
    arm_model: String,
    steps_per_s: f64,
    rollouts_per_s: f64,
    rollouts_per_s_one_thread: f64,
    parallel_speedup: f64,
    threads: usize,
    jacobian_ms: f64,
    params: usize,
    horizon: usize,
}

/// Runs a benchmark.
pub fn run(b: &Bench) -> anyhow::Result<()> {
    match b {
        Bench::Sim(args) => sim(args),
        Bench::Identify(args) => crate::cmd::bench_identify::run(args),
        Bench::Control(args) => crate::cmd::bench_control::run(args),
        Bench::Push(args) => crate::cmd::bench_push::run(args),
    }
}

fn scene_files(given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let dir = Path::new("scenes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "listing {} (run from the repository root or name scenes)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn sim(args: &SimArgs) -> anyhow::Result<()> {
    if !args.json {
        println!(
            "{:<16} {:<10} {:>12} {:>12} {:>12} {:>8} {:>12}",
            "scene", "arm", "steps/s(1t)", "rollouts/s", "rollouts/s1t", "speedup", "jacobian ms"
        );
    }
    for path in scene_files(&args.scenes)? {
        let scene = asid_core::load_scene(&path)?;
        for model in [ArmModel::Kinematic, ArmModel::Dynamic] {
            let needs_dynamic = scene
                .spec
                .objects
                .iter()
                .any(|o| o.attach == Some(Attach::Tool))
                || scene
                    .spec
                    .observation
                    .channels
                    .iter()
                    .any(|c| c.kind == ChannelKind::JointTorque);
            if model == ArmModel::Kinematic && needs_dynamic {
                continue;
            }
            let name = format!("{model:?}").to_lowercase();
            if args.model.as_ref().is_some_and(|m| *m != name) {
                continue;
            }
            let mut variant = scene.clone();
            variant.spec.arm.model = model;
            let sim = Simulator::new(variant).with_context(|| format!("{}", path.display()))?;
            let f = measure(&sim, args)?;
            if args.json {
                println!("{}", serde_json::to_string(&f)?);
            } else {
                println!(
                    "{:<16} {:<10} {:>12.0} {:>12.1} {:>12.1} {:>8.2} {:>12.1}",
                    f.scene,
                    f.arm_model,
                    f.steps_per_s,
                    f.rollouts_per_s,
                    f.rollouts_per_s_one_thread,
                    f.parallel_speedup,
                    f.jacobian_ms
                );
            }
        }
    }
    Ok(())
}

fn measure(sim: &Simulator, args: &SimArgs) -> anyhow::Result<SimFigures> {
    let scene = sim.scene();
    let bounds = ActionBounds::of(scene);
    let horizon = scene.spec.arm.action.horizon_steps();
    let mut rng = StdRng::seed_from_u64(7);
    let substeps = scene.substeps();

    // Single-threaded stepping: only step_control is timed; best of three windows (noise only slows).
    let mut steps_per_s: f64 = 0.0;
    for _ in 0..3 {
        let mut steps = 0usize;
        let mut busy_s = 0.0;
        while busy_s < args.seconds / 3.0 {
            let theta = scene.space.sample(&mut rng);
            let actions = bounds.random(horizon, &mut rng);
            let mut w = sim.world(&theta)?;
            let t0 = Instant::now();
            for a in &actions {
                w.step_control(a)?;
            }
            busy_s += t0.elapsed().as_secs_f64();
            steps += actions.len() * substeps;
        }
        steps_per_s = steps_per_s.max(steps as f64 / busy_s);
    }

    let jobs: Vec<RolloutJob> = (0..args.batch)
        .map(|_| RolloutJob {
            theta: scene.space.sample(&mut rng),
            actions: bounds.random(horizon, &mut rng),
        })
        .collect();
    let time_batch = |pool: &rayon::ThreadPool| -> anyhow::Result<f64> {
        let t0 = Instant::now();
        let results = pool.install(|| sim.rollouts(&jobs));
        let dt = t0.elapsed().as_secs_f64();
        for r in results {
            r?;
        }
        Ok(jobs.len() as f64 / dt)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let all = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let rollouts_one = time_batch(&one)?;
    let rollouts_all = time_batch(&all)?;

    let theta = scene.space.center();
    let actions = bounds.random(horizon, &mut rng);
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        all.install(|| sim.trajectory_sensitivity(&theta, &actions))?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);

    Ok(SimFigures {
        scene: scene.spec.name.clone(),
        arm_model: format!("{:?}", scene.spec.arm.model).to_lowercase(),
        steps_per_s,
        rollouts_per_s: rollouts_all,
        rollouts_per_s_one_thread: rollouts_one,
        parallel_speedup: rollouts_all / rollouts_one,
        threads,
        jacobian_ms: times[1],
        params: scene.space.dim(),
        horizon,
    })
}
