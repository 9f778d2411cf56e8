//! The loop: plan the exploration -> dry run -> execute and record -> identify -> plan the task ->
//! dry run -> execute the task -> report, on the simulated lab or a Franka, emitting every event to
//! the observers; and the re-analysis of a recorded run ([`reanalyse`]) through the same steps
//! without an arm.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use asid_arm::{SafetyLimits, StopSignal};
use asid_explore::{Criterion, DesignKind, NoiseModel, PlanOptions, SimExperiment, Target};
use asid_sim::Simulator;
use asid_sysid::{Fit, FitOptions};
use asid_task::{Belief, SlideTask, TaskPlanOptions};

use crate::arms::{FrankaSettings, Job, LabSettings, run_in_lab, run_on_franka};
use crate::checks::{dry_run, limits_for};
use crate::error::{Context, Result, StationError};
use crate::event::{Event, Observer};
use crate::executor::{RunSummary, Work};
use crate::identify::{Latency, Source, fit_sources, read_source};
use crate::report::{ExplorationReport, ParamReport, REPORT_FORMAT, Report, TaskReport};

/// Where the loop's motions run.
pub enum ArmTarget<'a> {
    /// The embedded simulated lab (hidden parameters drawn from the prior with the seed).
    SimLab(LabSettings<'a>),
    /// A Franka (or franky-sim) with the lab's pose stream.
    Franka(FrankaSettings),
}

impl ArmTarget<'_> {
    /// How the report names it.
    pub fn label(&self) -> String {
        match self {
            Self::SimLab(l) => match l.imperfections {
                Some(i) => format!("sim lab ({i})"),
                None => "sim lab (imperfect default)".into(),
            },
            Self::Franka(f) => format!("franka://{}", f.host),
        }
    }

    /// A real arm: every motion is confirmed at the station first.
    pub fn is_real(&self) -> bool {
        matches!(self, Self::Franka(_))
    }
}

/// Settings of the loop.
#[derive(Debug, Clone)]
pub struct LoopOptions {
    /// Seed of the planners (and of the simulated lab).
    pub seed: u64,
    /// Parameterisations of the exploration to try (the better one is kept).
    pub designs: Vec<DesignKind>,
    /// The exploration planner's settings (its seed is replaced by `seed`).
    pub plan: PlanOptions,
    /// Identification settings.
    pub fit: FitOptions,
    /// The tracker's latency: estimated or known.
    pub latency: Latency,
    /// No arm state for this long beyond the control period stops the run.
    pub watchdog_ms: u64,
    /// Plan and run the scene's task after identification (when it declares one).
    pub task: bool,
}

impl Default for LoopOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            designs: vec![DesignKind::Spline, DesignKind::Primitive],
            plan: PlanOptions {
                criterion: Criterion::A,
                noise: NoiseModel::Measurement,
                ..Default::default()
            },
            fit: FitOptions::default(),
            latency: Latency::Estimate,
            watchdog_ms: 100,
            task: true,
        }
    }
}

/// One run of the loop.
pub struct Station<'a> {
    /// The scene's simulator.
    pub sim: &'a Simulator,
    /// The scene file (recorded in the plans and the report).
    pub scene_file: &'a Path,
    /// The run directory (exists, empty): plans, episodes, `fit.json`, `report.json`.
    pub dir: &'a Path,
    /// Where the motions run.
    pub arm: ArmTarget<'a>,
    /// Settings.
    pub opts: LoopOptions,
    /// Raised (e.g. on Ctrl-C) to stop the arm safely.
    pub signal: StopSignal,
}

/// The run directory `<out_dir>/<UTC time>-<scene>/`, created (a second run in the same second
/// gets `-2`, `-3`, ...).
pub fn create_run_dir(out_dir: &Path, scene: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(['-', ':'], "");
    for k in 1..1000 {
        let name = if k == 1 {
            format!("{stamp}-{scene}")
        } else {
            format!("{stamp}-{scene}-{k}")
        };
        let dir = out_dir.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    Err(StationError::other(format!(
        "{}: 999 runs of `{scene}` in one second",
        out_dir.display()
    )))
}

pub(crate) fn write_json(dir: &Path, name: &str, value: &impl serde::Serialize) -> Result<()> {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

pub(crate) fn elapsed(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

impl Station<'_> {
    /// Runs the loop; the report is written to `report.json` also when a step fails (it then says
    /// why in `stopped_by`), and every episode keeps what was recorded.
    pub fn run(&mut self, obs: &mut dyn Observer) -> Result<Report> {
        let scene = self.sim.scene();
        let mut report = empty_report(scene, self.scene_file, self.arm.label(), self.opts.seed);
        let t0 = Instant::now();
        let result = self.steps(&mut report, obs);
        report.timings_s.insert("total".into(), elapsed(t0));
        if let Err(e) = &result {
            report.stopped_by = Some(e.to_string());
        }
        report.files = list_files(self.dir);
        report.files.push("report.json".into());
        write_json(self.dir, "report.json", &report)?;
        obs.observe(&Event::Finished(&report));
        result.map(|()| report)
    }

    fn steps(&mut self, report: &mut Report, obs: &mut dyn Observer) -> Result<()> {
        let sim = self.sim;
        let scene = sim.scene();
        let task = self.opts.task && scene.spec.task.is_some();
        let total = if task { 4 } else { 3 };
        if task && scene.spec.task.as_ref().and_then(|t| t.balance()).is_some() {
            // Refused before anything moves: the task's tool, and the arm that would run it.
            asid_task::pick_place::BalanceMotion::of_scene(scene)?;
            if matches!(self.arm, ArmTarget::Franka(_)) {
                return Err(StationError::input(format!(
                    "{}: the balancing task's hand motion runs on the simulated lab only (asid \
                     does not drive the Franka Hand in a run yet); use --no-task to run the \
                     exploration and identification on this arm",
                    self.scene_file.display()
                )));
            }
        }
        if task
            && scene.spec.task.as_ref().and_then(|t| t.carry()).is_some()
            && matches!(self.arm, ArmTarget::Franka(_))
        {
            return Err(StationError::input(format!(
                "{}: the carry's commands are learned against the simulator's joint PD, not the \
                 Franka's own controller (on a Franka the payload is fed forward by setting its \
                 load, which asid does not do yet); use --no-task to run the exploration and \
                 identification on this arm",
                self.scene_file.display()
            )));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the arm's runtime")?;
        let moving = Arc::new(AtomicBool::new(false));
        let (signal, flag) = (self.signal.clone(), moving.clone());
        // Ctrl-C while the arm moves stops it safely (the episode keeps every sample); while the
        // station plans or fits, it ends the process as usual.
        rt.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if flag.load(Ordering::SeqCst) {
                    signal.raise("Ctrl-C");
                } else {
                    std::process::exit(130);
                }
            }
        });
        let limits = limits_for(scene, self.opts.watchdog_ms);
        let arm = Motion {
            rt: &rt,
            moving: &moving,
            limits: &limits,
        };

        let title = format!(
            "planning the exploration of {} ({} unknown parameters)",
            scene.spec.name,
            scene.space.dim()
        );
        obs.observe(&Event::Step {
            index: 1,
            total,
            title: &title,
        });
        let t = Instant::now();
        let exp = SimExperiment::new(sim);
        let plan_opts = PlanOptions {
            seed: self.opts.seed,
            ..self.opts.plan.clone()
        };
        let (plan, _) = asid_explore::plan_best(
            &exp,
            &self.opts.designs,
            Target::first_free_object(scene),
            &plan_opts,
            (
                &scene.spec.name,
                &self.scene_file.display().to_string(),
                scene.control_period_s(),
            ),
            false,
        )?;
        write_json(self.dir, "plan.json", &plan)?;
        report
            .timings_s
            .insert("plan_exploration".into(), elapsed(t));
        report.exploration = Some(ExplorationReport {
            design: format!("{:?}", plan.design).to_lowercase(),
            actions: plan.actions.len(),
            criterion_held_out: plan.held_out_value,
            random_median: plan.random.median_value,
            episode: None,
        });
        obs.observe(&Event::ExplorationPlanned(&plan));

        let title = format!("executing the exploration on {}", self.arm.label());
        obs.observe(&Event::Step {
            index: 2,
            total,
            title: &title,
        });
        let t = Instant::now();
        dry_run(sim, &plan.actions, &limits)?;
        obs.observe(&Event::DryRunPassed { what: "plan.json" });
        let episode = self.dir.join("episode.mcap");
        let (summary, truth) = self.execute(
            &arm,
            Work::Actions(&plan.actions),
            "plan",
            "plan.json",
            &episode,
            obs,
        )?;
        report
            .timings_s
            .insert("execute_exploration".into(), elapsed(t));
        if let Some(e) = report.exploration.as_mut() {
            e.episode = Some(summary);
        }

        obs.observe(&Event::Step {
            index: 3,
            total,
            title: "identifying",
        });
        let t = Instant::now();
        let source = read_source(&episode)?;
        let fit = identify_step(sim, &[source], &self.opts, self.dir, obs)?;
        report.timings_s.insert("identify".into(), elapsed(t));
        fill_fit(report, scene, &fit, truth.as_deref());

        if task {
            obs.observe(&Event::Step {
                index: 4,
                total,
                title: "planning the task in the identified simulator (robust over the fit's \
                        belief) and running it",
            });
            let belief = Belief::from_fit(&scene.space, &fit)?;
            self.task_step(&arm, &belief, report, obs)?;
        }
        Ok(())
    }

    /// Confirms (on a real arm), runs and records one motion; a run that stops early is an error
    /// of its kind (the episode keeps every sample).
    pub(crate) fn execute(
        &mut self,
        arm: &Motion<'_>,
        work: Work<'_>,
        what: &str,
        plan_label: &str,
        episode: &Path,
        obs: &mut dyn Observer,
    ) -> Result<(RunSummary, Option<Vec<f64>>)> {
        let limits = arm.limits;
        if self.arm.is_real() {
            let ask = format!(
                "about to run {plan_label} ({} steps of {} s) on {}",
                work.len(),
                self.sim.scene().control_period_s(),
                self.arm.label()
            );
            if !obs.confirm(&ask) {
                return Err(StationError::input(format!(
                    "{plan_label}: not confirmed at the station; nothing moved"
                )));
            }
        }
        let job = Job {
            sim: self.sim,
            work,
            plan_label: self.dir.join(plan_label).display().to_string(),
            out: episode.to_path_buf(),
            what,
        };
        let signal = self.signal.clone();
        arm.moving.store(true, Ordering::SeqCst);
        let result = match &self.arm {
            ArmTarget::SimLab(lab) => arm
                .rt
                .block_on(run_in_lab(&job, lab, limits.clone(), signal, obs))
                .map(|(s, t)| (s, Some(t))),
            ArmTarget::Franka(f) => arm
                .rt
                .block_on(run_on_franka(f, &job, limits.clone(), signal, obs))
                .map(|s| (s, None)),
        };
        arm.moving.store(false, Ordering::SeqCst);
        let (summary, truth) = result?;
        if let Some(why) = &summary.stopped_by {
            return Err(StationError::arm_fault(format!(
                "{plan_label}: the run stopped early: {why} (episode kept: {})",
                episode.display()
            )));
        }
        Ok((summary, truth))
    }
}

/// What a motion runs on: the arm's runtime, whether the arm is moving (for Ctrl-C) and the
/// safety limits.
pub(crate) struct Motion<'a> {
    pub(crate) rt: &'a tokio::runtime::Runtime,
    pub(crate) moving: &'a AtomicBool,
    pub(crate) limits: &'a SafetyLimits,
}

/// The identification step: fits `sources`, writes `fit.json` and tells the observers.
pub fn identify_step(
    sim: &Simulator,
    sources: &[Source],
    opts: &LoopOptions,
    dir: &Path,
    obs: &mut dyn Observer,
) -> Result<Fit> {
    let (fit, notes) = fit_sources(sim, sources, None, None, &opts.fit, opts.latency, &[])?;
    for n in &notes {
        obs.observe(&Event::Note(n));
    }
    write_json(dir, "fit.json", &fit)?;
    obs.observe(&Event::Fit(&fit));
    Ok(fit)
}

/// The task planning step for one goal: robust over `belief`, every candidate through `checks`,
/// the plan through the dry run; writes `task-<goal>.json`.
pub fn plan_task_step(
    sim: &Simulator,
    goal: &str,
    belief: &Belief,
    checks: crate::task::TaskChecks<'_>,
    opts: &LoopOptions,
    dir: &Path,
    obs: &mut dyn Observer,
) -> Result<(SlideTask, asid_task::TaskPlan)> {
    let task = SlideTask::new(sim.scene(), Some(goal))?;
    let task_opts = TaskPlanOptions {
        seed: opts.seed,
        ..Default::default()
    };
    let plan = crate::task::plan(sim, &task, belief, &task_opts, checks)
        .with_context(|| format!("planning the task's goal `{goal}`"))?;
    let file = format!("task-{goal}.json");
    write_json(dir, &file, &plan)?;
    obs.observe(&Event::TaskPlanned { goal, plan: &plan });
    dry_run(sim, &plan.actions, checks.limits).with_context(|| file.clone())?;
    obs.observe(&Event::DryRunPassed { what: &file });
    Ok((task, plan))
}

/// What a re-analysis reads and where it writes.
pub struct Reanalysis<'a> {
    /// The scene's simulator.
    pub sim: &'a Simulator,
    /// The scene file.
    pub scene_file: &'a Path,
    /// The recorded episodes.
    pub episodes: &'a [PathBuf],
    /// The hidden values of a simulated lab's run, for the error column.
    pub truth: Option<&'a [f64]>,
    /// The result directory (exists).
    pub dir: &'a Path,
    /// How the report names the source (`replay of DIR`).
    pub label: String,
}

/// Re-identifies from recorded episodes with other settings and re-plans the task against the new
/// fit, without an arm; writes `fit.json`, the task plans and `report.json` into the directory.
pub fn reanalyse(r: &Reanalysis<'_>, opts: &LoopOptions, obs: &mut dyn Observer) -> Result<Report> {
    let (sim, dir, truth) = (r.sim, r.dir, r.truth);
    let scene = sim.scene();
    let mut report = empty_report(scene, r.scene_file, r.label.clone(), opts.seed);
    let t0 = Instant::now();
    let total = if opts.task && scene.spec.task.is_some() {
        2
    } else {
        1
    };
    obs.observe(&Event::Step {
        index: 1,
        total,
        title: "identifying from the recorded episodes",
    });
    let sources = r
        .episodes
        .iter()
        .map(|p| read_source(p))
        .collect::<Result<Vec<_>>>()?;
    let fit = identify_step(sim, &sources, opts, dir, obs)?;
    report.timings_s.insert("identify".into(), elapsed(t0));
    fill_fit(&mut report, scene, &fit, truth);
    if total == 2 {
        obs.observe(&Event::Step {
            index: 2,
            total,
            title: "re-planning the task against the new fit (not run)",
        });
        let t = Instant::now();
        let belief = Belief::from_fit(&scene.space, &fit)?;
        let limits = limits_for(scene, opts.watchdog_ms);
        if let Some(entry) =
            crate::task_step::replan_balance(sim, &belief, opts.seed, &limits, dir, obs)?
        {
            report.tasks.push(entry);
        }
        if scene.spec.task.as_ref().and_then(|t| t.open()).is_some() {
            let checks = crate::task::TaskChecks {
                limits: &limits,
                control_loop: false,
            };
            let (_, _, entry) =
                crate::task_step::plan_opening(sim, &belief, opts.seed, checks, dir, obs)?;
            report.tasks.push(entry);
        }
        if scene.spec.task.as_ref().and_then(|t| t.carry()).is_some() {
            let checks = crate::task::TaskChecks {
                limits: &limits,
                control_loop: false,
            };
            let (_, _, entry) =
                crate::task_step::plan_carrying(sim, &belief, opts.seed, checks, dir, obs)?;
            report.tasks.push(entry);
        }
        for goal in slide_goals(scene) {
            // Re-planned for the simulated lab: a plan for a Franka needs the run's arm.
            let checks = crate::task::TaskChecks {
                limits: &limits,
                control_loop: false,
            };
            let (_, plan) = plan_task_step(sim, &goal, &belief, checks, opts, dir, obs)?;
            report.tasks.push(task_entry(&goal, &plan));
        }
        report.timings_s.insert("plan_task".into(), elapsed(t));
    }
    report.timings_s.insert("total".into(), elapsed(t0));
    report.files = list_files(dir);
    report.files.push("report.json".into());
    write_json(dir, "report.json", &report)?;
    obs.observe(&Event::Finished(&report));
    Ok(report)
}

/// The goal zones of a slide task (none for other kinds).
pub(crate) fn slide_goals(scene: &asid_core::Scene) -> Vec<String> {
    scene
        .spec
        .task
        .as_ref()
        .and_then(|t| t.slide())
        .map(|t| t.goals.iter().map(|g| g.name.clone()).collect())
        .unwrap_or_default()
}

pub(crate) fn task_entry(goal: &str, plan: &asid_task::TaskPlan) -> TaskReport {
    TaskReport::planned(goal, plan.primitive.clone(), plan.predicted_success)
}

fn empty_report(scene: &asid_core::Scene, scene_file: &Path, arm: String, seed: u64) -> Report {
    Report {
        format: REPORT_FORMAT.into(),
        scene: scene.spec.name.clone(),
        scene_file: scene_file.display().to_string(),
        arm,
        seed,
        started_utc: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        exploration: None,
        parameters: Vec::new(),
        identifiability: None,
        reduced_chi2: None,
        misfit: None,
        tracker_latency_ms: None,
        tasks: Vec::new(),
        timings_s: Default::default(),
        stopped_by: None,
        files: Vec::new(),
    }
}

/// The fit's per-parameter results (and, for the simulated lab, the truth) into the report.
fn fill_fit(report: &mut Report, scene: &asid_core::Scene, fit: &Fit, truth: Option<&[f64]>) {
    report.parameters = scene
        .space
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let estimate = fit.estimate.get(&p.name).copied();
            let std = fit.std.get(&p.name).copied().flatten();
            let interval = fit.interval95.get(&p.name);
            let truth = truth.and_then(|t| t.get(i).copied());
            ParamReport {
                name: p.name.clone(),
                estimate,
                std,
                interval95: interval.map(|v| [v.lo, v.hi]),
                interval_open: interval.map(|v| [v.lo_open, v.hi_open]),
                crb_std: fit.crb_std.get(&p.name).copied().flatten(),
                identifiable: fit.identifiable.get(&p.name).copied(),
                truth,
                error_in_std: match (estimate, std, truth) {
                    (Some(e), Some(s), Some(t)) if s > 0.0 => Some((e - t).abs() / s),
                    _ => None,
                },
            }
        })
        .collect();
    report.identifiability = Some(fit.identifiability.verdict.clone());
    report.reduced_chi2 = Some(fit.reduced_chi2);
    report.misfit = Some(fit.misfit);
    report.tracker_latency_ms = fit
        .pose_latency
        .as_ref()
        .map(|l| (1e3 * l.estimate_s, l.std_s.map(|s| 1e3 * s)));
}

fn list_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "report.json")
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
