//! `asid view <run dir | episode.mcap>`: renders a recorded run (or one episode) to rerun the way
//! `asid run` logs it live: the robot from its URDF with its joints on the timeline, the scene, the
//! objects at their tracker poses, planned / executed / identified paths, joint plots and the fit.
//! With `--json`, what was rendered as one JSON object on stdout.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use asid_arm::Recording;
use asid_station::Event;
use asid_viz::{Sink, Viz};
use serde::Serialize;

/// Arguments of `asid view`.
#[derive(clap::Args)]
pub struct Args {
    /// A run directory of `asid run`, or an MCAP episode.
    input: PathBuf,
    /// Scene (default: the run's, or `scenes/<scene>.toml` of the scene an episode names).
    #[arg(long)]
    scene: Option<PathBuf>,
    /// Where the view goes: save (to --out), spawn (a viewer) or connect (to a running viewer).
    #[arg(long, default_value = "save")]
    rerun: String,
    /// The .rrd file (default: `view.rrd` in the run directory, beside the run's own `run.rrd`,
    /// or the episode's name with .rrd).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print what was rendered as one JSON object on stdout (instead of the .rrd path).
    #[arg(long)]
    json: bool,
}

/// What `asid view --json` prints.
#[derive(Serialize)]
struct ViewSummary {
    /// The argument: a run directory or an episode file.
    input: String,
    /// `run` or `episode`.
    kind: &'static str,
    /// The scene's name and file.
    scene: String,
    scene_file: String,
    /// `save`, `spawn` or `connect`.
    sink: &'static str,
    /// The .rrd file written (`save` only).
    rrd: Option<String>,
    /// The run's exploration plan was drawn.
    exploration_plan: bool,
    /// The run's fit was logged.
    fit: bool,
    /// The task goals (or perches) of the run's report.
    tasks: Vec<String>,
    /// The episodes rendered, in order.
    episodes: Vec<EpisodeSummary>,
}

/// One rendered episode.
#[derive(Serialize)]
struct EpisodeSummary {
    file: String,
    states: usize,
    poses: usize,
    actions: usize,
    commands: usize,
    /// From the first to the last arm state (arm clock).
    duration_s: f64,
}

impl EpisodeSummary {
    fn of(file: &Path, rec: &Recording) -> Self {
        let first = rec.states.iter().map(|s| s.stamp_ns).min();
        let last = rec.states.iter().map(|s| s.stamp_ns).max();
        Self {
            file: file.display().to_string(),
            states: rec.states.len(),
            poses: rec.poses.len(),
            actions: rec.actions.len(),
            commands: rec.commands.len(),
            duration_s: match (first, last) {
                (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
                _ => 0.0,
            },
        }
    }
}

/// Renders the run.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let recorded = super::recorded::Recorded::resolve(&args.input, args.scene.as_deref())?;
    if recorded.report.is_none() && recorded.episode.is_none() {
        bail!(
            "{}: asid view renders MCAP recordings (a run directory or episode.mcap); this is a \
             JSON episode",
            args.input.display()
        );
    }
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
    let sim = &recorded.sim;
    let mut summary = ViewSummary {
        input: args.input.display().to_string(),
        kind: if run_dir { "run" } else { "episode" },
        scene: sim.scene().spec.name.clone(),
        scene_file: recorded.scene_file.display().to_string(),
        sink: sink.name(),
        rrd: None,
        exploration_plan: false,
        fit: false,
        tasks: Vec::new(),
        episodes: Vec::new(),
    };
    let mut viz = Viz::new(sim.scene(), Some(sim.clone()), &sink)?;
    if run_dir {
        let dir = &args.input;
        let exploration: Option<asid_explore::Plan> = read_json(&dir.join("plan.json"))?;
        if let Some(plan) = &exploration {
            viz.log_event(&Event::ExplorationPlanned(plan))?;
            summary.exploration_plan = true;
        }
        let ran = report.is_some_and(|r| r.exploration.is_some());
        let path = dir.join("episode.mcap");
        summary
            .episodes
            .extend(episode(&mut viz, &path, ran, None)?);
        if let Some(fit) = read_json::<asid_sysid::Fit>(&dir.join("fit.json"))? {
            viz.log_event(&Event::Fit(&fit))?;
            summary.fit = true;
        }
        let balancing = sim
            .scene()
            .spec
            .task
            .as_ref()
            .is_some_and(|t| t.balance().is_some());
        let opening = sim
            .scene()
            .spec
            .task
            .as_ref()
            .is_some_and(|t| t.open().is_some());
        let carrying = sim
            .scene()
            .spec
            .task
            .as_ref()
            .is_some_and(|t| t.carry().is_some());
        for t in report.iter().flat_map(|r| &r.tasks) {
            summary.tasks.push(t.goal.clone());
            let file = dir.join(format!("task-{}.json", t.goal));
            if carrying {
                if let Some(plan) = read_json::<asid_task::CarryPlan>(&file)? {
                    viz.log_event(&Event::CarryPlanned(&plan))?;
                }
            } else if opening {
                if let Some(plan) = read_json::<asid_task::OpenPlan>(&file)? {
                    viz.log_event(&Event::OpenPlanned(&plan))?;
                }
            } else if balancing {
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
            let path = dir.join(format!("task-{}.mcap", t.goal));
            summary
                .episodes
                .extend(episode(&mut viz, &path, t.episode.is_some(), None)?);
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
            if let (Some(angle_rad), Some(error_deg), Some(success), Some(at_rest)) =
                (t.angle_rad, t.angle_error_deg, t.success, t.at_rest)
            {
                let outcome = asid_task::OpenOutcome {
                    angle_rad,
                    error_rad: error_deg.to_radians(),
                    success,
                    at_rest,
                };
                viz.log_event(&Event::OpenOutcome(&outcome))?;
            }
            if let (Some(max_mm), Some(rms_mm), Some(worst_step), Some(success)) =
                (t.max_error_mm, t.rms_error_mm, t.worst_step, t.success)
            {
                let outcome = asid_task::CarryOutcome {
                    max_error_m: 1e-3 * max_mm,
                    rms_error_m: 1e-3 * rms_mm,
                    worst_step,
                    success,
                };
                viz.log_event(&Event::CarryOutcome(&outcome))?;
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
        let read = recorded.episode.as_ref();
        summary
            .episodes
            .extend(episode(&mut viz, &args.input, true, read)?);
    }
    viz.flush()?;
    if let Sink::Save(p) = &sink {
        summary.rrd = Some(p.display().to_string());
        if !args.json {
            println!("{}", p.display());
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}

/// Logs one episode (`read`: the file already read); a missing file is an error when the run says
/// it recorded one.
fn episode(
    viz: &mut Viz,
    path: &Path,
    required: bool,
    read: Option<&Recording>,
) -> anyhow::Result<Option<EpisodeSummary>> {
    let owned;
    let rec = match read {
        Some(rec) => rec,
        None => {
            if !path.is_file() {
                if required {
                    bail!(
                        "{}: the run's report lists this episode, but the file is missing",
                        path.display()
                    );
                }
                return Ok(None);
            }
            owned = asid_record::read_recording(path)?;
            &owned
        }
    };
    viz.replay_recording(rec)
        .with_context(|| format!("viewing {}", path.display()))?;
    Ok(Some(EpisodeSummary::of(path, rec)))
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
