//! `asid simulate`: run a plan in the simulator with hidden true parameters and record a noisy episode.
//! With `--json`, what was recorded as one JSON object on stdout.

use std::path::PathBuf;

use anyhow::{Context, bail};
use asid_sim::{ActionBounds, Simulator};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Arguments of `asid simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    scene: PathBuf,
    /// Plan file whose actions to run (default: random exploration).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// True parameters, `name=value,...` (default: drawn from the prior with --seed).
    #[arg(long)]
    truth: Option<String>,
    /// Seed of the true parameters, the random exploration and the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Noise as a multiple of the scene's sigmas (0: noise-free).
    #[arg(long, default_value_t = 1.0)]
    noise: f64,
    /// Episode file to write.
    #[arg(long)]
    out: PathBuf,
    /// Print what was recorded as one JSON object on stdout (episode, scene, steps, times, truth).
    #[arg(long)]
    json: bool,
}

/// Runs the simulated lab.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if !(args.noise.is_finite() && args.noise >= 0.0) {
        bail!("--noise {}: allowed >= 0", args.noise);
    }
    let sim = Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let drawn = scene.space.sample(&mut rng);
    let truth = match &args.truth {
        Some(t) => asid_station::arms::parse_truth(&scene.space, t, drawn)?,
        None => drawn,
    };
    let actions = match &args.plan {
        Some(p) => {
            let text = asid_core::read_limit::read_limited_string(
                p,
                asid_core::read_limit::JSON_MAX_BYTES,
            )
            .with_context(|| format!("reading {}", p.display()))?;
            let plan: asid_explore::Plan = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a plan file", p.display()))?;
            if plan.scene != scene.spec.name {
                bail!(
                    "{}: planned for scene `{}`, not `{}`",
                    p.display(),
                    plan.scene,
                    scene.spec.name
                );
            }
            crate::cmd::input_check::check_plan(p, &plan, scene)?;
            plan.actions
        }
        None => ActionBounds::of(scene).random(scene.spec.arm.action.horizon_steps(), &mut rng),
    };
    let noise_rng = (args.noise > 0.0).then_some(&mut rng);
    let ep = sim.record_episode(&truth, &actions, noise_rng, args.noise)?;
    ep.write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if args.json {
        let summary = serde_json::json!({
            "episode": args.out.display().to_string(),
            "scene": scene.spec.name,
            "scene_file": args.scene.display().to_string(),
            "plan": args.plan.as_ref().map(|p| p.display().to_string()),
            "seed": args.seed,
            "noise_scale": args.noise,
            "steps": ep.actions.len(),
            "control_period_s": ep.control_period_s,
            "duration_s": ep.actions.len() as f64 * ep.control_period_s,
            "observations": ep.obs.len(),
            "observation_dim": ep.obs_dim(),
            "true_parameters": ep.meta.get("true_parameters"),
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "episode written to {} ({} steps, true parameters {:?})",
            args.out.display(),
            ep.actions.len(),
            ep.meta.get("true_parameters")
        );
    }
    Ok(())
}
