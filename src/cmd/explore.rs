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
    /// Prior samples the criterion is averaged over while planning.
    #[arg(long, default_value_t = 4)]
    prior_samples: usize,
    /// Held-out prior samples (another random stream) the plan and random exploration are judged on.
    #[arg(long, default_value_t = 4)]
    held_out_samples: usize,
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
    if args.prior_samples == 0
        || args.held_out_samples == 0
        || args.population < 2
        || args.iterations == 0
    {
        bail!(
            "--prior-samples >= 1, --held-out-samples >= 1, --population >= 2 and \
             --iterations >= 1 are required"
        );
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
        held_out_samples: args.held_out_samples,
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
            "held_out_value": plan.held_out_value,
            "held_out_violation": plan.held_out_violation,
            "held_out_smooth": plan.held_out_smooth,
            "uninformative_value": criterion.uninformative(scene.space.dim()),
            "random_median": plan.random.median_value,
            "random_draws": plan.random.draws,
            "random_infeasible": plan.random.infeasible,
            "random_informative": plan.random.informative,
            "random_rejected_by_smoothness": plan.random.rejected_by_smoothness,
            "gain": plan.gain,
            "prior_std": plan.prior_std,
            "posterior_std": plan.posterior_std,
            "random_posterior_std": plan.random.median_posterior_std,
            "crb_std": plan.crb_std,
            "random_crb_std": plan.random.median_crb_std,
            "fisher_eigenvalues": plan.fisher_eigenvalues,
            "structure": plan.structure,
            "random_structure_chi2_difference": plan.random.median_structure_chi2_difference,
            "evaluations": plan.evaluations,
            "rollouts": plan.rollouts,
            "iterations_run": plan.iterations_run,
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
            "  {:?} criterion {:.4e} on the {} planning samples; on {} held-out samples {:.4e}, \
             random median {:.4e} (uninformative: {:.4e})",
            criterion,
            plan.value,
            plan.options.prior_samples,
            plan.options.held_out_samples,
            plan.held_out_value,
            plan.random.median_value,
            criterion.uninformative(scene.space.dim()),
        );
        println!("  {}", versus_random(&plan));
        println!(
            "  {:<28} {:>11} {:>11} {:>11} {:>11}",
            "parameter", "prior std", "posterior", "random", "Cramer-Rao"
        );
        for (name, prior) in &plan.prior_std {
            let get = |m: &std::collections::BTreeMap<String, f64>| {
                m.get(name).copied().unwrap_or(f64::NAN)
            };
            println!(
                "  {name:<28} {prior:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e}",
                get(&plan.posterior_std),
                get(&plan.random.median_posterior_std),
                get(&plan.crb_std),
            );
        }
        println!(
            "  (posterior: predicted std after this plan; random: median over random explorations; \
             Cramer-Rao: without the prior)"
        );
        for (name, d) in &plan.structure {
            println!(
                "  structure {name}: expected chi-square difference between its hypotheses {:.3e} \
                 (random median {:.3e}); bound on its posterior variance {:.3e} of the prior's",
                d.chi2_difference,
                plan.random
                    .median_structure_chi2_difference
                    .get(name)
                    .copied()
                    .unwrap_or(f64::NAN),
                d.posterior_variance_bound
            );
        }
        println!(
            "  Fisher eigenvalues (scaled, held-out samples): {:?}",
            plan.fisher_eigenvalues
        );
        println!(
            "  {} candidates ({} CEM iterations), rejected {:?}, {:.1} s; {:.0} rollouts (all \
             parameterisations tried, with the held-out check and the random baseline)",
            plan.evaluations, plan.iterations_run, plan.rejections, plan.wall_s, plan.rollouts
        );
    }
    Ok(())
}

/// How the plan compares with random exploration of the same length, in words: both judged on
/// held-out prior samples, the random draws without the smoothness filter.
pub fn versus_random(plan: &asid_explore::Plan) -> String {
    let r = &plan.random;
    if let Some(c) = plan.held_out_violation {
        return format!(
            "the plan breaks the {c:?} limit at a held-out prior sample: no comparison with random"
        );
    }
    if r.draws == 0 {
        return format!("no feasible random exploration in {} draws", r.infeasible);
    }
    format!(
        "{:.2}x better than the random median on held-out prior samples ({} random draws, {} \
         informative, {} that the smoothness filter would have rejected, {} infeasible skipped{})",
        plan.gain,
        r.draws,
        r.informative,
        r.rejected_by_smoothness,
        r.infeasible,
        if plan.held_out_smooth {
            ""
        } else {
            "; the plan itself is not smooth at a held-out sample"
        }
    )
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
