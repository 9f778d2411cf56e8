//! `asid view <run dir | episode.mcap>`: renders a recorded run (or one episode) to rerun the way
//! `asid run` logs it live: the robot from its URDF with its joints on the timeline, the scene, the
//! objects at their tracker poses, planned / executed / identified paths, joint plots and the fit.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use asid_station::Event;
use asid_viz::{Sink, Viz};

/// Arguments of `asid view`.
#[derive(clap::Args)]
pub struct Args {
    /// A run directory of `asid run`, or an MCAP episode (then --scene is needed).
    input: PathBuf,
    /// Scene (default: the run's).
    #[arg(long)]
    scene: Option<PathBuf>,
    /// Where the view goes: save (to --out), spawn (a viewer) or connect (to a running viewer).
    #[arg(long, default_value = "save")]
    rerun: String,
    /// The .rrd file (default: `view.rrd` in the run directory, beside the run's own `run.rrd`,
    /// or the episode's name with .rrd).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Renders the run.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let recorded = super::recorded::Recorded::resolve(&args.input, args.scene.as_deref())?;
    let run_dir = recorded.report.is_some();
    let report = recorded.report.as_ref();
    let rrd = args.out.clone().unwrap_or_else(|| {
        if run_dir {
            args.input.join("view.rrd")
        } else {
            args.input.with_extension("rrd")
        }
    });
    let Some(Some(sink)) = Sink::parse(&args.rerun, &rrd) else {
        bail!("--rerun `{}`: allowed save, spawn or connect", args.rerun)
    };
    let sim = recorded.simulator(&args.input)?;
    let mut viz = Viz::new(sim.scene(), Some(sim.clone()), &sink)?;
    if run_dir {
        let dir = &args.input;
        let exploration: Option<asid_explore::Plan> = read_json(&dir.join("plan.json"))?;
        if let Some(plan) = &exploration {
            viz.log_event(&Event::ExplorationPlanned(plan))?;
        }
        let ran = report.is_some_and(|r| r.exploration.is_some());
        episode(&mut viz, &dir.join("episode.mcap"), ran)?;
        if let Some(fit) = read_json::<asid_sysid::Fit>(&dir.join("fit.json"))? {
            viz.log_event(&Event::Fit(&fit))?;
        }
        let balancing = sim
            .scene()
            .spec
            .task
            .as_ref()
            .is_some_and(|t| t.balance().is_some());
        for t in report.iter().flat_map(|r| &r.tasks) {
            let file = dir.join(format!("task-{}.json", t.goal));
            if balancing {
                let attempt: Option<asid_station::balance::BalanceAttempt> = read_json(&file)?;
                if let Some(attempt) = &attempt {
                    viz.log_event(&Event::BalancePlanned {
                        perch: &t.goal,
                        attempt,
                    })?;
                }
            } else if let Some(plan) = read_json::<asid_task::TaskPlan>(&file)? {
                viz.log_event(&Event::TaskPlanned {
                    goal: &t.goal,
                    plan: &plan,
                })?;
            }
            episode(
                &mut viz,
                &dir.join(format!("task-{}.mcap", t.goal)),
                t.episode.is_some(),
            )?;
            if let (true, Some(tilt_deg), Some(success)) = (balancing, t.tilt_deg, t.success) {
                // The report keeps the metric: 90 degrees for a rod that fell off the perch.
                let outcome = asid_task::balance::BalanceOutcome {
                    tilt_deg,
                    on_perch: tilt_deg < 90.0,
                    success,
                };
                viz.log_event(&Event::BalanceOutcome {
                    perch: &t.goal,
                    outcome: &outcome,
                })?;
            }
            if let (Some(object_xy_m), Some(distance_m), Some(success), Some(at_rest)) =
                (t.object_xy_m, t.distance_m, t.success, t.at_rest)
            {
                let outcome = asid_task::Outcome {
                    object_xy_m,
                    distance_m,
                    success,
                    at_rest,
                };
                viz.log_event(&Event::TaskOutcome {
                    goal: &t.goal,
                    outcome: &outcome,
                })?;
            }
        }
    } else {
        episode(&mut viz, &args.input, true)?;
    }
    viz.flush()?;
    if let Sink::Save(p) = &sink {
        println!("{}", p.display());
    }
    Ok(())
}

/// Logs one episode; a missing file is an error when the run says it recorded one.
fn episode(viz: &mut Viz, path: &Path, required: bool) -> anyhow::Result<()> {
    if !path.is_file() {
        if required {
            bail!(
                "{}: the run's report lists this episode, but the file is missing",
                path.display()
            );
        }
        return Ok(());
    }
    let rec = asid_record::read_recording(path)?;
    viz.replay_recording(&rec)
        .with_context(|| format!("viewing {}", path.display()))
}

/// A JSON file of the run, if it exists.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Option<T>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text =
        asid_core::read_limit::read_limited_string(path, asid_core::read_limit::JSON_MAX_BYTES)
            .with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{}: not readable", path.display())
    })?))
}
