//! `asid eval <scene> [--trials N] [--methods dr,random,asid,oracle] [--json]`: the whole loop per
//! trial on the simulated lab, as in the paper's Table 1.
//!
//! Each trial draws hidden true parameters; every method then gets the same budget of one
//! exploration episode: `dr` plans the task robustly over the prior (no exploration), `random`
//! explores with random actions and identifies, `asid` runs the planned exploration and identifies,
//! `oracle` plans for the truth (the ceiling). The task plan runs on the lab behind the safety layer
//! and is judged on the tracker's last pose of the object: a slide task by its distance to each
//! goal zone, the balancing task by the rod's tilt on the perch (90 degrees when it fell off).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use asid_core::{SceneTask, TaskSpec};
use asid_explore::{Criterion, NoiseModel, PlanOptions, SimExperiment, Target};
use asid_sim::{ActionBounds, Simulator};
use asid_sysid::FitOptions;
use asid_task::pick_place::BalanceMotion;
use asid_task::{Belief, CarryTask, Mode, OpenTask, SlideTask, TaskPlanOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;

use asid_station::arms::{Job, LabSettings, run_in_lab};
use asid_station::balance::{balance_limits, plan_attempt};
use asid_station::checks::{dry_run, limits_for};
use asid_station::executor::Work;

use super::eval_report::{Judged, Settings, Tally, report};

/// Arguments of `asid eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene (it must declare a `[task]`).
    scene: PathBuf,
    /// Trials (hidden truths) per method.
    #[arg(long, default_value_t = 10)]
    trials: usize,
    /// Methods, comma-separated: dr, random, asid, oracle.
    #[arg(long, default_value = "dr,random,asid,oracle")]
    methods: String,
    /// Goal zones to attempt (comma-separated names; default: every goal of the task).
    #[arg(long)]
    goals: Option<String>,
    /// Exploration plan to use for `asid` (default: plan one now, once for all trials).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Belief samples of the robust task planner.
    #[arg(long, default_value_t = 6)]
    task_samples: usize,
    /// CEM population of the task planner.
    #[arg(long, default_value_t = 16)]
    task_population: usize,
    /// CEM iterations of the task planner.
    #[arg(long, default_value_t = 6)]
    task_iterations: u64,
    /// Seed of the truths, the lab and the planners.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Simulated lab: `ideal`, or imperfections as `name=value,...` (see `asid execute --help`);
    /// default: the imperfect lab.
    #[arg(long)]
    lab: Option<String>,
    /// Tracker latency in the fits of `random` and `asid`: `estimate` (as `asid run` does),
    /// `off`, or a known value in ms (see `asid identify --help`).
    #[arg(long, default_value = "estimate")]
    latency: String,
    /// The lab's hidden truth for every trial, `name=value,...` (e.g. the paper's rod centres of
    /// mass: `rod.com_offset=-0.045`); parameters not named are drawn per trial. Default: all
    /// drawn from the prior per trial.
    #[arg(long)]
    truth: Option<String>,
    /// Directory for the episodes.
    #[arg(long, default_value = "runs/eval")]
    out_dir: PathBuf,
    /// Print one JSON object per method and scene.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Dr,
    Random,
    Asid,
    Oracle,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Self::Dr => "dr",
            Self::Random => "random",
            Self::Asid => "asid",
            Self::Oracle => "oracle",
        }
    }
}

fn methods(list: &str) -> anyhow::Result<Vec<Method>> {
    let mut out = Vec::new();
    for m in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(match m {
            "dr" => Method::Dr,
            "random" => Method::Random,
            "asid" => Method::Asid,
            "oracle" => Method::Oracle,
            other => bail!("--methods: `{other}` (allowed: dr, random, asid, oracle)"),
        });
    }
    if out.is_empty() {
        bail!("--methods: no method given (allowed: dr, random, asid, oracle)");
    }
    Ok(out)
}

/// What a trial attempts: one goal zone of a slide task, or the balancing task.
enum EvalTask {
    Slide(Box<SlideTask>),
    Balance(Box<BalanceMotion>),
    Open(Box<OpenTask>),
    Carry(Box<CarryTask>),
}

impl EvalTask {
    fn goal(&self) -> &str {
        match self {
            Self::Slide(t) => &t.goal.name,
            Self::Balance(m) => &m.spec.perch,
            Self::Open(t) => &t.spec.object,
            Self::Carry(t) => &t.spec.object,
        }
    }
}

/// The tasks of the scene's `[task]` (the goals asked for).
fn eval_tasks(args: &Args, scene: &asid_core::Scene) -> anyhow::Result<Vec<EvalTask>> {
    let task = scene.spec.task.as_ref().with_context(|| {
        format!(
            "{}: the scene declares no [task] (scenes with a task: shuffleboard, sphere, \
             rod_balance, articulation, payload)",
            args.scene.display()
        )
    })?;
    match task {
        SceneTask::SlideToZone(spec) => goal_names(spec, args.goals.as_deref())?
            .iter()
            .map(|g| Ok(EvalTask::Slide(Box::new(SlideTask::new(scene, Some(g))?))))
            .collect(),
        SceneTask::Balance(spec) => {
            if let Some(g) = args.goals.as_deref()
                && g.trim() != spec.perch
            {
                bail!(
                    "--goals: `{g}` (the balancing task's only goal is `{}`)",
                    spec.perch
                );
            }
            Ok(vec![EvalTask::Balance(Box::new(BalanceMotion::of_scene(
                scene,
            )?))])
        }
        SceneTask::Open(spec) => {
            if let Some(g) = args.goals.as_deref()
                && g.trim() != spec.object
            {
                bail!(
                    "--goals: `{g}` (the opening task's only goal is `{}`)",
                    spec.object
                );
            }
            Ok(vec![EvalTask::Open(Box::new(OpenTask::of_scene(scene)?))])
        }
        SceneTask::Carry(spec) => {
            if let Some(g) = args.goals.as_deref()
                && g.trim() != spec.object
            {
                bail!(
                    "--goals: `{g}` (the carry's only goal is `{}`)",
                    spec.object
                );
            }
            Ok(vec![EvalTask::Carry(Box::new(CarryTask::of_scene(scene)?))])
        }
    }
}

/// Runs the evaluation.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.trials == 0 || args.trials > 10_000 {
        bail!("--trials {}: allowed 1..=10000", args.trials);
    }
    let methods = methods(&args.methods)?;
    let latency = asid_station::Latency::parse(&args.latency)?;
    let sim = Simulator::load(&args.scene)?;
    let scene = sim.scene();
    let tasks = eval_tasks(args, scene)?;
    let goals: Vec<String> = tasks.iter().map(|t| t.goal().to_string()).collect();
    if let Some(t) = args.truth.as_deref() {
        asid_station::arms::parse_truth(&scene.space, t, scene.space.nominal())
            .context("--truth")?;
    }
    let dir = args.out_dir.join(&scene.spec.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let limits = limits_for(scene, 100);
    let t_plan = Instant::now();
    let exploration = if methods.contains(&Method::Asid) {
        Some(exploration_plan(args, &sim)?)
    } else {
        None
    };
    let explore_plan_s =
        (exploration.is_some() && args.plan.is_none()).then(|| t_plan.elapsed().as_secs_f64());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut tallies: Vec<Tally> = methods.iter().map(|_| Tally::default()).collect();
    for trial in 0..args.trials {
        let lab_seed = args.seed.wrapping_mul(1_000_003).wrapping_add(trial as u64);
        for (mi, &method) in methods.iter().enumerate() {
            let t0 = Instant::now();
            let ctx = Trial {
                sim: &sim,
                dir: &dir,
                lab_seed,
                limits: &limits,
                method,
                rt: &rt,
                lab: args.lab.as_deref(),
                truth: args.truth.as_deref(),
                latency,
            };
            // A failed exploration, fit, plan or attempt counts as a failed attempt; the run goes on.
            let (belief, id_error) = match ctx.belief(exploration.as_ref()) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("trial {trial} {}: failed: {e:#}", method.name());
                    for task in &tasks {
                        tallies[mi].outcomes.push((task.goal().to_string(), None));
                    }
                    tallies[mi].wall_s.push(t0.elapsed().as_secs_f64());
                    continue;
                }
            };
            let mode = if method == Method::Oracle {
                Mode::Point
            } else {
                Mode::Robust
            };
            for task in &tasks {
                let opts = TaskPlanOptions {
                    mode,
                    samples: args.task_samples,
                    population: args.task_population,
                    iterations: args.task_iterations,
                    seed: lab_seed,
                };
                let goal = task.goal().to_string();
                let judged = match task {
                    EvalTask::Slide(task) => ctx.slide(task, &belief, &opts),
                    EvalTask::Balance(motion) => ctx.balance(motion, &belief, &opts),
                    EvalTask::Open(task) => ctx.open(task, &belief, &opts),
                    EvalTask::Carry(task) => ctx.carry(task, &belief, &opts),
                };
                match judged {
                    Ok((judged, line)) => {
                        if !args.json {
                            println!("trial {trial:>3} {:<7} {goal:<7} {line}", method.name());
                        }
                        tallies[mi].outcomes.push((goal, Some(judged)));
                    }
                    Err(e) => {
                        eprintln!("trial {trial} {} {goal}: failed: {e:#}", method.name());
                        tallies[mi].outcomes.push((goal, None));
                    }
                }
            }
            if let Some(e) = id_error {
                tallies[mi].id_errors.push(e);
            }
            tallies[mi].wall_s.push(t0.elapsed().as_secs_f64());
        }
    }
    let settings = Settings {
        trials: args.trials,
        json: args.json,
        lab: args.lab.as_deref(),
        latency: &args.latency,
        truth: args.truth.as_deref(),
        metric: match tasks.first() {
            Some(EvalTask::Balance(_)) => "the rod's tilt after settling, deg (90: fell off)",
            Some(EvalTask::Open(_)) => {
                "the lid's angle error, deg (a welded lid: 0 when left alone; a hinged lid left \
                 shut: the whole target)"
            }
            Some(EvalTask::Carry(_)) => {
                "the tool's largest tracking error (distance from the path's point of the same \
                 control step), mm"
            }
            _ => "distance to the zone, m",
        },
    };
    let names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    report(&settings, scene, &names, &tallies, &goals, explore_plan_s);
    Ok(())
}

fn goal_names(spec: &TaskSpec, list: Option<&str>) -> anyhow::Result<Vec<String>> {
    let all: Vec<String> = spec.goals.iter().map(|g| g.name.clone()).collect();
    let Some(list) = list else {
        return Ok(all);
    };
    let mut out = Vec::new();
    for g in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !all.iter().any(|a| a == g) {
            bail!("--goals: no goal `{g}` (allowed: {all:?})");
        }
        out.push(g.to_string());
    }
    if out.is_empty() {
        bail!("--goals: no goal given (allowed: {all:?})");
    }
    Ok(out)
}

fn exploration_plan(args: &Args, sim: &Simulator) -> anyhow::Result<asid_explore::Plan> {
    if let Some(path) = &args.plan {
        let loaded = crate::cmd::execute::load_plan(path, Some(&args.scene))?;
        return Ok(loaded.plan);
    }
    let scene = sim.scene();
    let t0 = Instant::now();
    let exp = SimExperiment::new(sim);
    let opts = PlanOptions {
        criterion: Criterion::A,
        noise: NoiseModel::Measurement,
        seed: args.seed,
        ..Default::default()
    };
    let kinds = crate::cmd::explore::design_kinds("auto")?;
    let (plan, _) = asid_explore::plan_best(
        &exp,
        &kinds,
        Target::first_free_object(scene),
        &opts,
        (
            &scene.spec.name,
            &args.scene.display().to_string(),
            scene.control_period_s(),
        ),
        false,
    )?;
    eprintln!(
        "planned the exploration once for every trial (it depends on the prior only): {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(plan)
}

struct Trial<'a> {
    sim: &'a Simulator,
    dir: &'a Path,
    lab_seed: u64,
    limits: &'a asid_arm::SafetyLimits,
    method: Method,
    rt: &'a tokio::runtime::Runtime,
    lab: Option<&'a str>,
    truth: Option<&'a str>,
    latency: asid_station::Latency,
}

impl Trial<'_> {
    fn lab(&self) -> LabSettings<'_> {
        LabSettings {
            seed: self.lab_seed,
            truth: self.truth,
            noise: 1.0,
            imperfections: self.lab,
        }
    }

    /// Runs `work` on the lab (the trial's hidden truth) with `limits`; returns the episode file
    /// and the truth; a run that stopped early is an error.
    fn execute(
        &self,
        work: Work<'_>,
        limits: &asid_arm::SafetyLimits,
        what: &str,
    ) -> anyhow::Result<(PathBuf, Vec<f64>)> {
        let (out, truth, stopped_by) = self.run_on_lab(work, limits, what)?;
        if let Some(why) = stopped_by {
            bail!(
                "{} {what} stopped early: {why} (episode kept: {})",
                self.method.name(),
                out.display()
            );
        }
        Ok((out, truth))
    }

    /// Runs `work` on the lab; returns the episode file, the truth and why the run stopped early
    /// (None: it completed). Actions get their dry run here; a motion has had its own.
    fn run_on_lab(
        &self,
        work: Work<'_>,
        limits: &asid_arm::SafetyLimits,
        what: &str,
    ) -> anyhow::Result<(PathBuf, Vec<f64>, Option<String>)> {
        if let Work::Actions(actions) = work {
            dry_run(self.sim, actions, limits)
                .with_context(|| format!("{} {what}", self.method.name()))?;
        }
        let out = self.dir.join(format!(
            "{}-{}-{what}.mcap",
            self.lab_seed,
            self.method.name()
        ));
        let job = Job {
            sim: self.sim,
            work,
            plan_label: format!("{} {what}", self.method.name()),
            out: out.clone(),
            what,
        };
        let (summary, truth) = self.rt.block_on(run_in_lab(
            &job,
            &self.lab(),
            limits.clone(),
            asid_arm::StopSignal::new(),
            &mut asid_station::Silent,
        ))?;
        Ok((out, truth, summary.stopped_by))
    }

    /// The method's belief after its exploration budget and its identification error.
    fn belief(&self, plan: Option<&asid_explore::Plan>) -> anyhow::Result<(Belief, Option<f64>)> {
        let scene = self.sim.scene();
        let truth = asid_station::arms::lab_truth(scene, self.lab_seed, self.truth)?;
        let actions = match self.method {
            Method::Dr => return Ok((Belief::prior(&scene.space), None)),
            Method::Oracle => return Ok((Belief::point(&scene.space, &truth)?, None)),
            Method::Asid => plan.context("no exploration plan")?.actions.clone(),
            Method::Random => self.random_actions()?,
        };
        let (episode, lab_truth) = self.execute(Work::Actions(&actions), self.limits, "explore")?;
        debug_assert_eq!(lab_truth, truth);
        // As `asid run` does: measured joints drive the replay; the tracker's latency as asked.
        let source = asid_station::identify::read_source(&episode)?;
        let (fit, _notes) = asid_station::identify::fit_sources(
            self.sim,
            &[source],
            None,
            None,
            &FitOptions::default(),
            self.latency,
            &[],
        )?;
        let belief = Belief::from_fit(&scene.space, &fit)?;
        let err2: f64 = scene
            .space
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| ((belief.estimate[i] - truth[i]) / p.prior.std().max(1e-12)).powi(2))
            .sum::<f64>()
            / scene.space.dim().max(1) as f64;
        Ok((belief, Some(err2.sqrt())))
    }

    /// Random exploration of the plan's length that the dry run accepts (redrawn otherwise).
    fn random_actions(&self) -> anyhow::Result<Vec<Vec<f64>>> {
        let scene = self.sim.scene();
        let bounds = ActionBounds::of(scene);
        let mut rng = StdRng::seed_from_u64(self.lab_seed ^ 0x5eed);
        let horizon = scene.spec.arm.action.horizon_steps();
        for _ in 0..100 {
            let actions = bounds.random(horizon, &mut rng);
            if dry_run(self.sim, &actions, self.limits).is_ok() {
                return Ok(actions);
            }
        }
        bail!("no random exploration out of 100 draws passed the dry run")
    }

    /// Plans a push to the task's goal against `belief`, runs it on the lab and judges the
    /// tracker's last poses of the object.
    fn slide(
        &self,
        task: &SlideTask,
        belief: &Belief,
        opts: &TaskPlanOptions,
    ) -> anyhow::Result<(Judged, String)> {
        let checks = asid_station::task::TaskChecks {
            limits: self.limits,
            control_loop: false,
        };
        let plan = asid_station::task::plan(self.sim, task, belief, opts, checks)?;
        let what = format!("task-{}", task.goal.name);
        let (episode, _) = self.execute(Work::Actions(&plan.actions), self.limits, &what)?;
        let o = asid_station::task::judge_episode(self.sim.scene(), task, &episode)?;
        let line = format!(
            "push {:.3?}: predicted {:>3.0} %, ended {:.3},{:.3} distance {:.3} m {}{}",
            plan.primitive,
            100.0 * plan.predicted_success,
            o.object_xy_m[0],
            o.object_xy_m[1],
            o.distance_m,
            if o.success { "IN" } else { "out" },
            if o.at_rest { "" } else { " (still moving)" }
        );
        let judged = Judged {
            success: o.success,
            metric: o.distance_m,
            at_rest: Some(o.at_rest),
        };
        Ok((judged, line))
    }

    /// Plans the opening against `belief` and runs it on the lab, judged from the tracker's last
    /// orientations of the lid; a plan that leaves the lid alone is right when the lab's lid is
    /// welded and misses by the whole target when it is hinged.
    fn open(
        &self,
        task: &OpenTask,
        belief: &Belief,
        opts: &TaskPlanOptions,
    ) -> anyhow::Result<(Judged, String)> {
        let checks = asid_station::task::TaskChecks {
            limits: self.limits,
            control_loop: false,
        };
        let plan = asid_station::task::plan_open(self.sim, task, belief, opts, checks)?;
        let truth = asid_station::arms::lab_truth(self.sim.scene(), self.lab_seed, self.truth)?;
        let hinged = task.hinged(&truth);
        if plan.nothing_to_open {
            let judged = Judged {
                success: !hinged,
                metric: if hinged {
                    task.spec.target_rad.to_degrees()
                } else {
                    0.0
                },
                at_rest: None,
            };
            let line = format!(
                "nothing to open (hinged with probability {:.2}); the lid is {}",
                plan.p_hinged,
                if hinged {
                    "hinged: missed"
                } else {
                    "welded: RIGHT"
                }
            );
            return Ok((judged, line));
        }
        let (episode, _) = self.execute(Work::Actions(&plan.actions), self.limits, "task-open")?;
        let o = asid_station::task::judge_open_episode(self.sim.scene(), task, &episode)?;
        let line = format!(
            "open {:.3?} (p hinged {:.2}): predicted {:>3.0} %, angle {:.3} rad, error {:.2} deg {}{}",
            plan.primitive,
            plan.p_hinged,
            100.0 * plan.predicted_success,
            o.angle_rad,
            o.error_deg(),
            if o.success { "IN" } else { "out" },
            if o.at_rest { "" } else { " (still moving)" }
        );
        let judged = Judged {
            success: o.success,
            metric: o.error_deg(),
            at_rest: Some(o.at_rest),
        };
        Ok((judged, line))
    }

    /// Plans the carry against `belief` (the payload's feed-forward learned in the simulator), runs
    /// it on the lab and judges the arm's measured joint positions against the path.
    fn carry(
        &self,
        task: &CarryTask,
        belief: &Belief,
        opts: &TaskPlanOptions,
    ) -> anyhow::Result<(Judged, String)> {
        let checks = asid_station::task::TaskChecks {
            limits: self.limits,
            control_loop: false,
        };
        let plan = asid_station::task::plan_carry(self.sim, task, belief, opts, checks)?;
        let what = format!("task-{}", task.spec.object);
        let (episode, _) = self.execute(Work::Actions(&plan.actions), self.limits, &what)?;
        let o = asid_station::task::judge_carry_episode(self.sim, task, &episode)?;
        let line = format!(
            "carry (lift at rest {:.2} mm): predicted {:>3.0} %, largest error {:.3} mm at step {} \
             (rms {:.3}) {}",
            1e3 * plan.rest_lift_m,
            100.0 * plan.predicted_success,
            o.max_error_mm(),
            o.worst_step,
            1e3 * o.rms_error_m,
            if o.success { "IN" } else { "out" },
        );
        let judged = Judged {
            success: o.success,
            metric: o.max_error_mm(),
            at_rest: None,
        };
        Ok((judged, line))
    }

    /// Plans the grasp point against `belief`, runs the hand's pick and place on the lab and
    /// judges the rod from the tracker's last poses.
    fn balance(
        &self,
        motion: &BalanceMotion,
        belief: &Belief,
        opts: &TaskPlanOptions,
    ) -> anyhow::Result<(Judged, String)> {
        let limits = balance_limits(self.limits, motion);
        let attempt = plan_attempt(self.sim, motion, belief, opts, &limits)?;
        let what = format!("task-{}", motion.spec.perch);
        // A motion that stopped early (a grasp that missed) is the attempt's own failure: the rod
        // is judged where it ended.
        let (episode, truth, stopped_by) =
            self.run_on_lab(Work::Motion(&attempt.motion.steps), &limits, &what)?;
        let o = asid_station::balance::judge_episode(
            motion,
            &self.sim.arm().world_from_base,
            &episode,
        )?;
        let com = motion.task.com_m(&truth)?;
        let line = format!(
            "grasp {:+.4} m (centre of mass {com:+.4} m): predicted {:>3.0} %, tilt {:.2} deg \
             {}{}",
            attempt.plan.offset_m,
            100.0 * attempt.plan.predicted_success,
            o.metric_deg(),
            if o.success { "UP" } else { "fell" },
            stopped_by.map_or(String::new(), |why| format!(" (the motion stopped: {why})"))
        );
        let judged = Judged {
            success: o.success,
            metric: o.metric_deg(),
            at_rest: None,
        };
        Ok((judged, line))
    }
}
