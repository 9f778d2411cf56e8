//! `asid run <scene>`: the loop against the embedded simulated lab: plan the exploration, execute it
//! on the simulated lab (hidden true parameters drawn from the prior, sensor noise, tracker latency,
//! control-rate jitter, an arm that lags its commands with per-joint offsets) through the same safety and recording layers as a real
//! arm, identify from the MCAP recording, compare with the truth, and (when the scene declares a
//! `[task]`) plan the task in the identified simulator and run it on the same lab.

use std::path::PathBuf;

use anyhow::Context;
use asid_explore::{Criterion, NoiseModel, PlanOptions, SimExperiment, Target};
use asid_sysid::FitOptions;

/// Arguments of `asid run`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene.
    #[arg(default_value = "scenes/rod.toml")]
    scene: PathBuf,
    /// Seed of the hidden truth, the noise and the planner.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parameterisation of the exploration: auto (spline and primitive, keep the better), spline,
    /// actions or primitive.
    #[arg(long = "param", default_value = "auto")]
    design: String,
    /// Directory for plan.json, episode.mcap and fit.json.
    #[arg(long, default_value = "runs")]
    out_dir: PathBuf,
}

/// Runs the loop.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let kinds = crate::cmd::explore::design_kinds(&args.design)?;
    let sim = asid_sim::Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let dir = args.out_dir.join(&scene.spec.name);
    let steps = if scene.spec.task.is_some() { 4 } else { 3 };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    println!(
        "1/{steps} planning the exploration of {} ({} unknown parameters) ...",
        scene.spec.name,
        scene.space.dim()
    );
    let exp = SimExperiment::new(&sim);
    let target = Target::first_free_object(scene);
    let opts = PlanOptions {
        criterion: Criterion::A,
        noise: NoiseModel::Measurement,
        seed: args.seed,
        ..Default::default()
    };
    let (plan, _) = asid_explore::plan_best(
        &exp,
        &kinds,
        target,
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
        "    {:?} design, {:.1} s; Bayesian A-criterion (sum of posterior variances in prior-std \
         units, {} = uninformative) {:.3e} on held-out prior samples, random median {:.3e}",
        plan.design,
        plan.wall_s,
        scene.space.dim(),
        plan.held_out_value,
        plan.random.median_value,
    );
    println!("    {}", crate::cmd::explore::versus_random(&plan));

    println!(
        "2/{steps} executing it on the simulated lab (hidden parameters, sensor noise, tracker latency, \
         jitter, a lagging arm), behind the safety layer ..."
    );
    let limits = crate::cmd::execute::limits_for(scene, 100);
    crate::cmd::execute::dry_run(&sim, &plan.actions, &limits)?;
    let ep_path = dir.join("episode.mcap");
    let job = crate::cmd::execute::Job {
        sim: &sim,
        actions: &plan.actions,
        plan_label: dir.join("plan.json").display().to_string(),
        out: ep_path.clone(),
    };
    let lab = crate::cmd::execute::LabSettings {
        seed: args.seed,
        truth: None,
        noise: 1.0,
        imperfections: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (summary, truth) = rt.block_on(crate::cmd::execute::run_in_lab(
        &job,
        &lab,
        limits,
        asid_arm::StopSignal::new(),
    ))?;
    if let Some(why) = summary.stopped_by {
        anyhow::bail!(
            "the run stopped early: {why} (episode kept: {})",
            ep_path.display()
        );
    }
    println!(
        "    {} actions, {:.2} s, {} tracker poses; recorded to {}",
        summary.steps_done,
        summary.duration_s,
        summary.poses.accepted,
        ep_path.display()
    );
    let source = crate::cmd::identify::read_source(&ep_path)?;

    println!("3/{steps} identifying ...");
    // The arm's measured joint positions drive the replay (the lab's arm lags its commands), and
    // the tracker's latency is estimated with the parameters.
    let (fit, notes) = crate::cmd::identify::fit_sources(
        &sim,
        &[source],
        None,
        None,
        &FitOptions::default(),
        crate::cmd::identify::Latency::Estimate,
        &[],
    )?;
    for note in &notes {
        println!("    note: {note}");
    }
    std::fs::write(dir.join("fit.json"), serde_json::to_string_pretty(&fit)?)?;
    println!(
        "    {:<28} {:>12} {:>12} {:>12} {:>8}",
        "parameter", "truth", "estimate", "std", "|err|/std"
    );
    for (i, p) in scene.space.params.iter().enumerate() {
        let Some(&est) = fit.estimate.get(&p.name) else {
            continue;
        };
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
    if let Some(l) = &fit.pose_latency {
        println!(
            "    tracker latency {:.1} ms +- {} (the lab's: {} ms)",
            1e3 * l.estimate_s,
            l.std_s
                .map_or("unbounded".into(), |s| format!("{:.1} ms", 1e3 * s)),
            crate::cmd::execute::lab_config(args.seed, 1.0, None)?.pose_latency_ms
        );
    }
    println!("    {}", fit.identifiability.verdict);
    if scene.spec.task.is_some() {
        run_task(&sim, &fit, &dir, &lab, &rt, args.seed)?;
    }
    println!("files: {}", dir.display());
    Ok(())
}

/// The loop's last step: the task planned in the identified simulator (robustly over the fit's
/// belief), checked by the dry run and run on the same lab, for every goal of the scene's task.
fn run_task(
    sim: &asid_sim::Simulator,
    fit: &asid_sysid::Fit,
    dir: &std::path::Path,
    lab: &crate::cmd::execute::LabSettings<'_>,
    rt: &tokio::runtime::Runtime,
    seed: u64,
) -> anyhow::Result<()> {
    let scene = sim.scene();
    let Some(spec) = &scene.spec.task else {
        return Ok(());
    };
    println!(
        "4/4 planning the task in the identified simulator (robust over the fit's belief) and \
         running it on the lab ..."
    );
    let belief = asid_task::Belief::from_fit(&scene.space, fit)?;
    let limits = crate::cmd::execute::limits_for(scene, 100);
    for goal in &spec.goals {
        let task = asid_task::SlideTask::new(scene, Some(&goal.name))?;
        let opts = asid_task::TaskPlanOptions {
            seed,
            ..Default::default()
        };
        let plan = crate::cmd::task_run::plan(sim, &task, &belief, &opts, &limits)?;
        let plan_file = dir.join(format!("task-{}.json", goal.name));
        std::fs::write(&plan_file, serde_json::to_string_pretty(&plan)?)?;
        crate::cmd::execute::dry_run(sim, &plan.actions, &limits)?;
        let episode = dir.join(format!("task-{}.mcap", goal.name));
        let job = crate::cmd::execute::Job {
            sim,
            actions: &plan.actions,
            plan_label: plan_file.display().to_string(),
            out: episode.clone(),
        };
        let (summary, _) = rt.block_on(crate::cmd::execute::run_in_lab(
            &job,
            lab,
            limits.clone(),
            asid_arm::StopSignal::new(),
        ))?;
        if let Some(why) = summary.stopped_by {
            anyhow::bail!(
                "the task attempt stopped early: {why} (episode kept: {})",
                episode.display()
            );
        }
        let outcome = crate::cmd::task_run::judge_episode(scene, &task, &episode)?;
        println!(
            "    goal {:<6} push {:.3?} (predicted success {:.0} % over {} belief samples): the \
             {} ended at ({:.3}, {:.3}) m, {:.3} m from the zone: {}{}",
            goal.name,
            plan.primitive,
            100.0 * plan.predicted_success,
            plan.options.samples,
            task.spec.object,
            outcome.object_xy_m[0],
            outcome.object_xy_m[1],
            outcome.distance_m,
            if outcome.success { "success" } else { "missed" },
            if outcome.at_rest {
                ""
            } else {
                " (still moving when the episode ended)"
            }
        );
    }
    Ok(())
}
