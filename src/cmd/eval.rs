//! `asid eval <scene> [--trials N] [--methods dr,random,asid,oracle] [--json]`: the whole loop per
//! trial on the simulated lab, as in the paper's Table 1.
//!
//! Each trial draws hidden true parameters; every method then gets the same budget of one
//! exploration episode: `dr` plans the task robustly over the prior (no exploration), `random`
//! explores with random actions and identifies, `asid` runs the planned exploration and identifies,
//! `oracle` plans for the truth (the ceiling). The task plan runs on the lab behind the safety layer
//! and is judged on the tracker's last pose of the object.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use asid_core::{Scene, TaskSpec};
use asid_explore::{Criterion, NoiseModel, PlanOptions, SimExperiment, Target};
use asid_sim::{ActionBounds, Simulator};
use asid_sysid::FitOptions;
use asid_task::{Belief, Mode, Outcome, SlideTask, TaskPlanOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

use asid_station::arms::{Job, LabSettings, run_in_lab};
use asid_station::checks::{dry_run, limits_for};

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

/// One method's figures on one scene (the `--json` record).
#[derive(Debug, Serialize)]
struct MethodFigures {
    scene: String,
    method: String,
    trials: usize,
    /// Attempts (trials x goals).
    attempts: usize,
    success_rate: f64,
    /// Distance to the goal zone (m), mean and std over attempts.
    metric_mean: f64,
    metric_std: f64,
    /// RMS over trials and parameters of (estimate - truth) / prior std (null without a fit).
    id_error: Option<f64>,
    wall_s_per_trial: f64,
    /// Per goal: success rate.
    success_by_goal: Vec<(String, f64)>,
    /// Attempts whose object was still moving when the episode ended.
    not_at_rest: usize,
    /// Attempts that failed before they were judged (exploration, fit, plan or run); they count
    /// as unsuccessful and are left out of the metric.
    failed: usize,
    /// Wall time of planning the exploration, once per run (not in `wall_s_per_trial`).
    explore_plan_s: Option<f64>,
    /// How the fits treated the tracker's latency (`--latency` as given).
    latency: String,
    /// The simulated lab (`--lab` as given; `imperfect` for the default).
    lab: String,
}

#[derive(Default)]
struct Tally {
    /// Per attempt: the goal and its outcome (`None`: the attempt failed before it was judged).
    outcomes: Vec<(String, Option<Outcome>)>,
    id_errors: Vec<f64>,
    wall_s: Vec<f64>,
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
    let spec = scene
        .spec
        .task
        .as_ref()
        .and_then(|t| t.slide())
        .cloned()
        .with_context(|| {
            format!(
                "{}: the scene declares no slide_to_zone [task] (asid eval runs those: \
                 shuffleboard, sphere)",
                args.scene.display()
            )
        })?;
    let goals = goal_names(&spec, args.goals.as_deref())?;
    let tasks: Vec<SlideTask> = goals
        .iter()
        .map(|g| SlideTask::new(scene, Some(g)))
        .collect::<Result<_, _>>()?;
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
                latency,
            };
            // A failed exploration, fit, plan or attempt counts as a failed attempt; the run goes on.
            let (belief, id_error) = match ctx.belief(exploration.as_ref()) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("trial {trial} {}: failed: {e:#}", method.name());
                    for task in &tasks {
                        tallies[mi].outcomes.push((task.goal.name.clone(), None));
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
                let attempt = asid_station::task::plan(
                    &sim,
                    task,
                    &belief,
                    &opts,
                    asid_station::task::TaskChecks {
                        limits: &limits,
                        control_loop: false,
                    },
                )
                .map_err(anyhow::Error::from)
                .and_then(|plan| Ok((ctx.attempt(task, &plan.actions)?, plan)));
                let (outcome, plan) = match attempt {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!(
                            "trial {trial} {} {}: failed: {e:#}",
                            method.name(),
                            task.goal.name
                        );
                        tallies[mi].outcomes.push((task.goal.name.clone(), None));
                        continue;
                    }
                };
                if !args.json {
                    println!(
                        "trial {trial:>3} {:<7} {:<7} push {:.3?}: predicted {:>3.0} %, \
                         ended {:.3},{:.3} distance {:.3} m {}{}",
                        method.name(),
                        task.goal.name,
                        plan.primitive,
                        100.0 * plan.predicted_success,
                        outcome.object_xy_m[0],
                        outcome.object_xy_m[1],
                        outcome.distance_m,
                        if outcome.success { "IN" } else { "out" },
                        if outcome.at_rest {
                            ""
                        } else {
                            " (still moving)"
                        }
                    );
                }
                tallies[mi]
                    .outcomes
                    .push((task.goal.name.clone(), Some(outcome)));
            }
            if let Some(e) = id_error {
                tallies[mi].id_errors.push(e);
            }
            tallies[mi].wall_s.push(t0.elapsed().as_secs_f64());
        }
    }
    report(args, scene, &methods, &tallies, &goals, explore_plan_s);
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
    latency: asid_station::Latency,
}

impl Trial<'_> {
    fn lab(&self) -> LabSettings<'_> {
        LabSettings {
            seed: self.lab_seed,
            truth: None,
            noise: 1.0,
            imperfections: self.lab,
        }
    }

    /// Runs `actions` on the lab (the trial's hidden truth); returns the episode file and the truth.
    fn execute(&self, actions: &[Vec<f64>], what: &str) -> anyhow::Result<(PathBuf, Vec<f64>)> {
        dry_run(self.sim, actions, self.limits)
            .with_context(|| format!("{} {what}", self.method.name()))?;
        let out = self.dir.join(format!(
            "{}-{}-{what}.mcap",
            self.lab_seed,
            self.method.name()
        ));
        let job = Job {
            sim: self.sim,
            work: asid_station::executor::Work::Actions(actions),
            plan_label: format!("{} {what}", self.method.name()),
            out: out.clone(),
            what,
        };
        let (summary, truth) = self.rt.block_on(run_in_lab(
            &job,
            &self.lab(),
            self.limits.clone(),
            asid_arm::StopSignal::new(),
            &mut asid_station::Silent,
        ))?;
        if let Some(why) = summary.stopped_by {
            bail!(
                "{} {what} stopped early: {why} (episode kept: {})",
                self.method.name(),
                out.display()
            );
        }
        Ok((out, truth))
    }

    /// The method's belief after its exploration budget and its identification error.
    fn belief(&self, plan: Option<&asid_explore::Plan>) -> anyhow::Result<(Belief, Option<f64>)> {
        let scene = self.sim.scene();
        let truth = asid_station::arms::lab_truth(scene, self.lab_seed, None)?;
        let actions = match self.method {
            Method::Dr => return Ok((Belief::prior(&scene.space), None)),
            Method::Oracle => return Ok((Belief::point(&scene.space, &truth)?, None)),
            Method::Asid => plan.context("no exploration plan")?.actions.clone(),
            Method::Random => self.random_actions()?,
        };
        let (episode, lab_truth) = self.execute(&actions, "explore")?;
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

    /// Runs a task plan on the lab and judges the tracker's last poses of the object.
    fn attempt(&self, task: &SlideTask, actions: &[Vec<f64>]) -> anyhow::Result<Outcome> {
        let (episode, _) = self.execute(actions, &format!("task-{}", task.goal.name))?;
        Ok(asid_station::task::judge_episode(
            self.sim.scene(),
            task,
            &episode,
        )?)
    }
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

fn report(
    args: &Args,
    scene: &Scene,
    methods: &[Method],
    tallies: &[Tally],
    goals: &[String],
    explore_plan_s: Option<f64>,
) {
    let figures: Vec<MethodFigures> = methods
        .iter()
        .zip(tallies)
        .map(|(m, t)| {
            let judged: Vec<&Outcome> = t.outcomes.iter().filter_map(|(_, o)| o.as_ref()).collect();
            let d: Vec<f64> = judged.iter().map(|o| o.distance_m).collect();
            let (metric_mean, metric_std) = mean_std(&d);
            // Failed attempts count as unsuccessful.
            let rate = |f: &dyn Fn(&String) -> bool| {
                let sel: Vec<&Option<Outcome>> = t
                    .outcomes
                    .iter()
                    .filter(|(g, _)| f(g))
                    .map(|(_, o)| o)
                    .collect();
                sel.iter()
                    .filter(|o| o.as_ref().is_some_and(|o| o.success))
                    .count() as f64
                    / sel.len().max(1) as f64
            };
            MethodFigures {
                scene: scene.spec.name.clone(),
                method: m.name().into(),
                trials: args.trials,
                attempts: t.outcomes.len(),
                success_rate: rate(&|_| true),
                metric_mean,
                metric_std,
                id_error: (!t.id_errors.is_empty()).then(|| {
                    (t.id_errors.iter().map(|e| e * e).sum::<f64>() / t.id_errors.len() as f64)
                        .sqrt()
                }),
                wall_s_per_trial: mean_std(&t.wall_s).0,
                success_by_goal: goals
                    .iter()
                    .map(|g| (g.clone(), rate(&|x| x == g)))
                    .collect(),
                not_at_rest: judged.iter().filter(|o| !o.at_rest).count(),
                failed: t.outcomes.len() - judged.len(),
                explore_plan_s: (*m == Method::Asid).then_some(explore_plan_s).flatten(),
                latency: args.latency.clone(),
                lab: args.lab.clone().unwrap_or_else(|| "imperfect".into()),
            }
        })
        .collect();
    if args.json {
        for f in &figures {
            match serde_json::to_string(f) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("error: the {} record does not serialise: {e}", f.method),
            }
        }
        return;
    }
    println!(
        "\n{} ({} trials, goals {:?}; metric: distance to the zone, m; lab {}, tracker latency \
         in the fits: {})",
        scene.spec.name,
        args.trials,
        goals,
        args.lab.as_deref().unwrap_or("imperfect"),
        args.latency
    );
    println!(
        "{:<8} {:>9} {:>18} {:>10} {:>9}  by goal",
        "method", "success", "metric mean+-std", "id error", "wall s"
    );
    for f in &figures {
        let by: Vec<String> = f
            .success_by_goal
            .iter()
            .map(|(g, r)| format!("{g} {:.0} %", 100.0 * r))
            .collect();
        println!(
            "{:<8} {:>8.0}% {:>9.3} +- {:<6.3} {:>10} {:>9.1}  {}{}",
            f.method,
            100.0 * f.success_rate,
            f.metric_mean,
            f.metric_std,
            f.id_error.map_or("-".into(), |e| format!("{e:.3}")),
            f.wall_s_per_trial,
            by.join(", "),
            if f.not_at_rest > 0 {
                format!(" ({} still moving at the end)", f.not_at_rest)
            } else {
                String::new()
            } + &if f.failed > 0 {
                format!(" ({} failed before judging)", f.failed)
            } else {
                String::new()
            }
        );
    }
    println!("id error: RMS over trials and parameters of (estimate - truth) / prior std");
    if let Some(t) = explore_plan_s {
        println!("the exploration plan (once for every asid trial) took {t:.1} s, not in wall s");
    }
}
