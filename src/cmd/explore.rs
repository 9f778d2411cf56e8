//! `asid explore <scene.toml>`: plan the most informative exploration and write a plan file.

use std::path::PathBuf;

use anyhow::{Context, bail};
use asid_explore::{Criterion, DesignKind, NoiseModel, PlanOptions, SimExperiment, Target};
use serde_json::json;

/// Arguments of `asid explore`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene to plan for.
    scene: PathBuf,
    /// Design criterion: a (A-optimal, the paper's), d, e, or t (the public code's trace).
    #[arg(long, default_value = "a")]
    criterion: String,
    /// Parameterisation: auto (plan with spline and primitive, keep the better), spline, actions or
    /// primitive.
    #[arg(long = "param", default_value = "auto")]
    design: String,
    /// Noise model of the Fisher information: measurement or process.
    #[arg(long, default_value = "measurement")]
    noise: String,
    /// Seed (prior samples, optimiser, random baseline).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Prior samples the criterion is averaged over.
    #[arg(long, default_value_t = 4)]
    prior_samples: usize,
    /// CEM population.
    #[arg(long, default_value_t = 16)]
    population: usize,
    /// CEM iterations.
    #[arg(long, default_value_t = 8)]
    iterations: u64,
    /// Random explorations for the comparison.
    #[arg(long, default_value_t = 10)]
    random_draws: usize,
    /// Plan file to write.
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the planner.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Some(criterion) = Criterion::parse(&args.criterion) else {
        bail!("--criterion `{}`: allowed a, d, e, t", args.criterion);
    };
    let kinds = design_kinds(&args.design)?;
    let noise = match args.noise.as_str() {
        "measurement" => NoiseModel::Measurement,
        "process" => NoiseModel::Process,
        other => bail!("--noise `{other}`: allowed measurement, process"),
    };
    if args.prior_samples == 0 || args.population < 2 || args.iterations == 0 {
        bail!("--prior-samples >= 1, --population >= 2 and --iterations >= 1 are required");
    }
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let exp = SimExperiment::new(&sim);
    let target = Target::first_free_object(scene);
    let opts = PlanOptions {
        criterion,
        noise,
        seed: args.seed,
        prior_samples: args.prior_samples,
        population: args.population,
        iterations: args.iterations,
        random_draws: args.random_draws,
    };
    if !args.json {
        eprintln!(
            "planning {} ({} parameters, {:?} design, {:?}-optimal, {:?} noise)",
            scene.spec.name,
            scene.space.dim(),
            kinds,
            criterion,
            noise
        );
    }
    let (plan, tried) = asid_explore::plan_best(
        &exp,
        &kinds,
        target,
        &opts,
        (
            &scene.spec.name,
            &args.scene.display().to_string(),
            scene.control_period_s(),
        ),
        !args.json,
    )?;
    let text = serde_json::to_string_pretty(&plan)?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    if args.json {
        let summary = json!({
            "criterion": format!("{criterion:?}").to_lowercase(),
            "design": plan.design,
            "designs_tried": tried.iter().map(|(k, v)| json!({"design": k, "value": v})).collect::<Vec<_>>(),
            "value": plan.value,
            "random_median": plan.random.median_value,
            "gain": plan.gain,
            "crb_std": plan.crb_std,
            "random_crb_std": plan.random.median_crb_std,
            "fisher_eigenvalues": plan.fisher_eigenvalues,
            "evaluations": plan.evaluations,
            "rejections": plan.rejections,
            "wall_s": plan.wall_s,
            "out": args.out.display().to_string(),
        });
        println!("{summary}");
    } else {
        println!("plan written to {}", args.out.display());
        if tried.len() > 1 {
            let values: Vec<String> = tried
                .iter()
                .map(|(k, v)| format!("{k:?} {v:.4e}"))
                .collect();
            println!(
                "  parameterisations tried: {}; kept {:?}",
                values.join(", "),
                plan.design
            );
        }
        println!(
            "  {:?} criterion {:.4e} (random median {:.4e}): {}",
            criterion,
            plan.value,
            plan.random.median_value,
            versus_random(&plan)
        );
        for (name, std) in &plan.crb_std {
            println!(
                "  {name:<28} Cramer-Rao std {std:.4e} (random {:.4e})",
                plan.random.median_crb_std[name]
            );
        }
        println!(
            "  Fisher eigenvalues (scaled): {:?}",
            plan.fisher_eigenvalues
        );
        println!(
            "  {} candidates, rejected {:?}, {:.1} s",
            plan.evaluations, plan.rejections, plan.wall_s
        );
    }
    Ok(())
}

/// How the plan compares with random exploration, in words: the ratio means little when no random
/// draw was informative (its criterion is then the regulariser's).
pub fn versus_random(plan: &asid_explore::Plan) -> String {
    let r = &plan.random;
    if r.draws == 0 {
        format!("no feasible random exploration in {} draws", r.infeasible)
    } else if r.informative == 0 {
        format!(
            "random exploration of the same length is not informative ({} of {} draws)",
            r.informative, r.draws
        )
    } else {
        format!(
            "{:.1}x better than random ({} of {} random draws informative)",
            plan.gain, r.informative, r.draws
        )
    }
}

/// The parameterisations a `--param` value asks for: `auto` is [`asid_explore::AUTO`].
pub fn design_kinds(param: &str) -> anyhow::Result<Vec<DesignKind>> {
    if param == "auto" {
        return Ok(asid_explore::AUTO.to_vec());
    }
    match DesignKind::parse(param) {
        Some(k) => Ok(vec![k]),
        None => bail!("--param `{param}`: allowed auto, spline, actions, primitive"),
    }
}
