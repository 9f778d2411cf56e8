//! `asid run <scene>`: the loop against the embedded simulated lab: plan the exploration, run it on
//! a simulated arm whose true parameters are hidden (drawn from the prior) with measurement noise,
//! identify, and compare with the truth.

use std::path::PathBuf;

use anyhow::Context;
use asid_explore::{
    Criterion, Design, DesignKind, Experiment, NoiseModel, PlanOptions, SimExperiment, Target,
};
use asid_sysid::{FitOptions, dataset, identify};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Arguments of `asid run`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    #[arg(default_value = "scenes/rod.toml")]
    scene: PathBuf,
    /// Seed of the hidden truth, the noise and the planner.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parameterisation of the exploration: spline, actions or primitive.
    #[arg(long = "param", default_value = "spline")]
    design: String,
    /// Directory for plan.json, episode.json and fit.json.
    #[arg(long, default_value = "runs")]
    out_dir: PathBuf,
}

/// Runs the loop.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let kind = DesignKind::parse(&args.design).with_context(|| {
        format!(
            "--param `{}`: allowed spline, actions, primitive",
            args.design
        )
    })?;
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let dir = args.out_dir.join(&scene.spec.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    println!(
        "1/3 planning the exploration of {} ({} unknown parameters) ...",
        scene.spec.name,
        scene.space.dim()
    );
    let exp = SimExperiment::new(&sim);
    let target = Target::first_free_object(scene);
    let design = Design::new(kind, exp.action_bounds(), exp.horizon(), target)?;
    let opts = PlanOptions {
        criterion: Criterion::A,
        noise: NoiseModel::Measurement,
        seed: args.seed,
        ..Default::default()
    };
    let plan = asid_explore::plan(
        &exp,
        &design,
        &opts,
        (
            &scene.spec.name,
            &args.scene.display().to_string(),
            scene.control_period_s(),
        ),
        false,
    )?;
    std::fs::write(dir.join("plan.json"), serde_json::to_string_pretty(&plan)?)?;
    println!(
        "    A-criterion {:.3e} ({:.1}x random), {:.1} s",
        plan.value, plan.gain, plan.wall_s
    );

    println!("2/3 running it in the simulated lab (hidden parameters, sensor noise) ...");
    let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(1000));
    let truth = scene.space.sample(&mut rng);
    let episode = sim.record_episode(&truth, &plan.actions, Some(&mut rng), 1.0)?;
    let ep_path = dir.join("episode.json");
    episode.write(&ep_path)?;

    println!("3/3 identifying ...");
    let data = dataset(scene, &[(ep_path.display().to_string(), episode)], None)?;
    let fit = identify(&sim, &data, &FitOptions::default(), &scene.spec.name, &[])?;
    std::fs::write(dir.join("fit.json"), serde_json::to_string_pretty(&fit)?)?;
    println!(
        "    {:<28} {:>12} {:>12} {:>12} {:>8}",
        "parameter", "truth", "estimate", "std", "|err|/std"
    );
    for (i, p) in scene.space.params.iter().enumerate() {
        let est = fit.estimate[&p.name];
        let std = fit.std.get(&p.name).copied().flatten();
        let z = std.map_or(f64::NAN, |s| (est - truth[i]).abs() / s);
        println!(
            "    {:<28} {:>12.5} {:>12.5} {:>12} {:>8.2}",
            p.name,
            truth[i],
            est,
            std.map_or("unbounded".into(), |s| format!("{s:.2e}")),
            z
        );
    }
    println!("    {}", fit.identifiability.verdict);
    println!("files: {}", dir.display());
    Ok(())
}
