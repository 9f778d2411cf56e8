//! `asid eval`'s figures: per method, the success rate, the task metric, the identification error
//! and the wall time, as a table or one JSON record per method.

use asid_core::Scene;
use serde::Serialize;

/// How one attempt was judged, whatever the task: success, the task's metric (distance to the
/// zone in m, or the rod's tilt in degrees) and whether the object was at rest (None: the task's
/// rule does not judge it).
#[derive(Debug, Clone, Copy)]
pub struct Judged {
    pub success: bool,
    pub metric: f64,
    pub at_rest: Option<bool>,
}

/// One method's attempts.
#[derive(Default)]
pub struct Tally {
    /// Per attempt: the goal and its outcome (`None`: the attempt failed before it was judged).
    pub outcomes: Vec<(String, Option<Judged>)>,
    pub id_errors: Vec<f64>,
    pub wall_s: Vec<f64>,
}

/// What the report says about the run as a whole.
pub struct Settings<'a> {
    pub trials: usize,
    pub json: bool,
    /// `--lab` as given.
    pub lab: Option<&'a str>,
    /// `--latency` as given.
    pub latency: &'a str,
    /// `--truth` as given (None: drawn from the prior per trial).
    pub truth: Option<&'a str>,
    /// What the metric is, with its unit.
    pub metric: &'a str,
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
    /// What the metric is (distance to the goal zone in m, or the rod's tilt in degrees).
    metric: String,
    /// The metric's mean and std over judged attempts.
    metric_mean: f64,
    metric_std: f64,
    /// RMS over trials and parameters of (estimate - truth) / prior std (null without a fit).
    id_error: Option<f64>,
    wall_s_per_trial: f64,
    /// Per goal: success rate.
    success_by_goal: Vec<(String, f64)>,
    /// Attempts whose object was still moving when the episode ended (slide tasks; the balancing
    /// rule does not judge rest).
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
    /// The hidden truth (`--truth` as given; null: drawn from the prior per trial).
    truth: Option<String>,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// Prints the figures of `methods` (their names, in order, with their tallies).
pub fn report(
    set: &Settings<'_>,
    scene: &Scene,
    methods: &[&str],
    tallies: &[Tally],
    goals: &[String],
    explore_plan_s: Option<f64>,
) {
    let figures: Vec<MethodFigures> = methods
        .iter()
        .zip(tallies)
        .map(|(m, t)| {
            let judged: Vec<&Judged> = t.outcomes.iter().filter_map(|(_, o)| o.as_ref()).collect();
            let d: Vec<f64> = judged.iter().map(|o| o.metric).collect();
            let (metric_mean, metric_std) = mean_std(&d);
            // Failed attempts count as unsuccessful.
            let rate = |f: &dyn Fn(&String) -> bool| {
                let sel: Vec<&Option<Judged>> = t
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
                method: (*m).into(),
                trials: set.trials,
                attempts: t.outcomes.len(),
                success_rate: rate(&|_| true),
                metric: set.metric.into(),
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
                not_at_rest: judged.iter().filter(|o| o.at_rest == Some(false)).count(),
                failed: t.outcomes.len() - judged.len(),
                explore_plan_s: (*m == "asid").then_some(explore_plan_s).flatten(),
                latency: set.latency.into(),
                lab: set.lab.unwrap_or("imperfect").into(),
                truth: set.truth.map(Into::into),
            }
        })
        .collect();
    if set.json {
        for f in &figures {
            match serde_json::to_string(f) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("error: the {} record does not serialise: {e}", f.method),
            }
        }
        return;
    }
    println!(
        "\n{} ({} trials, goals {:?}; metric: {}; lab {}, tracker latency in the fits: {}; truth \
         {})",
        scene.spec.name,
        set.trials,
        goals,
        set.metric,
        set.lab.unwrap_or("imperfect"),
        set.latency,
        set.truth.unwrap_or("drawn from the prior per trial")
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
