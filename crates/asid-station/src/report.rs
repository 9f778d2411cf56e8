//! The run's report (`report.json`) and its short human-readable form: parameters with their
//! standard deviation, interval and Cramer-Rao bound, the identifiability and misfit verdicts, the
//! task's metric and success, and the time each step took.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::executor::RunSummary;

/// Format tag of `report.json`.
pub const REPORT_FORMAT: &str = "asid.report.v1";

/// The steps of `timings_s`, in the loop's order.
pub const STEPS: [&str; 6] = [
    "plan_exploration",
    "execute_exploration",
    "identify",
    "plan_task",
    "execute_task",
    "total",
];

/// Everything a run found, written as `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Format tag ([`REPORT_FORMAT`]).
    pub format: String,
    /// Scene name.
    pub scene: String,
    /// Scene file.
    pub scene_file: String,
    /// Where the motions ran (`sim lab`, `franka://HOST`) or `replay of DIR` for a re-analysis.
    pub arm: String,
    /// Seed of the planners (and of the simulated lab's truth and noise).
    pub seed: u64,
    /// UTC start of the run (RFC 3339).
    pub started_utc: String,
    /// The exploration, when one was planned and run.
    pub exploration: Option<ExplorationReport>,
    /// One entry per unknown parameter, in the scene's order.
    pub parameters: Vec<ParamReport>,
    /// The identifiability verdict.
    pub identifiability: Option<String>,
    /// Reduced chi-square of the fit (1 when the scene's noise explains the residuals).
    pub reduced_chi2: Option<f64>,
    /// The residuals are not explained by the scene's noise.
    pub misfit: Option<bool>,
    /// The tracker latency estimated with the parameters (ms) and its std.
    pub tracker_latency_ms: Option<(f64, Option<f64>)>,
    /// One entry per task goal attempted.
    pub tasks: Vec<TaskReport>,
    /// Wall time per step (s): `plan_exploration`, `execute_exploration`, `identify`, `plan_task`,
    /// `execute_task`, `total`.
    pub timings_s: BTreeMap<String, f64>,
    /// Why the run ended early (None: it completed).
    pub stopped_by: Option<String>,
    /// Files of the run directory, relative to it.
    pub files: Vec<String>,
}

/// The exploration that was planned and run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplorationReport {
    /// Parameterisation of the plan.
    pub design: String,
    /// Actions.
    pub actions: usize,
    /// Bayesian A criterion on held-out prior samples (prior-std units; the number of unknowns is
    /// uninformative).
    pub criterion_held_out: f64,
    /// Median criterion of random exploration of the same length on the same samples.
    pub random_median: f64,
    /// How the episode went.
    pub episode: Option<RunSummary>,
}

/// One parameter's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamReport {
    /// Name.
    pub name: String,
    /// Estimate (None: the fit did not determine it).
    pub estimate: Option<f64>,
    /// Standard deviation (None: unbounded).
    pub std: Option<f64>,
    /// 95 % interval `[lo, hi]`.
    pub interval95: Option<[f64; 2]>,
    /// Which ends of the interval reach a bound (open).
    pub interval_open: Option<[bool; 2]>,
    /// Cramer-Rao std at the estimate.
    pub crb_std: Option<f64>,
    /// Determined by the data alone, interval closed, not confounded.
    pub identifiable: Option<bool>,
    /// The simulated lab's hidden value (None on a real arm).
    pub truth: Option<f64>,
    /// |estimate - truth| / std.
    pub error_in_std: Option<f64>,
}

/// One task attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskReport {
    /// Goal name.
    pub goal: String,
    /// The primitive's parameters.
    pub primitive: Vec<f64>,
    /// Success rate predicted over the belief's samples.
    pub predicted_success: f64,
    /// Where the object came to rest (None: not run).
    pub object_xy_m: Option<[f64; 2]>,
    /// The task metric: distance from the goal zone (0 inside).
    pub distance_m: Option<f64>,
    /// Counted as a success.
    pub success: Option<bool>,
    /// At rest when the episode ended.
    pub at_rest: Option<bool>,
    /// Balancing: the rod's tilt on the perch after settling (90 degrees: it fell off).
    #[serde(default)]
    pub tilt_deg: Option<f64>,
    /// Opening: the lid's final angle (rad).
    #[serde(default)]
    pub angle_rad: Option<f64>,
    /// Opening: the angle's distance from the target (deg).
    #[serde(default)]
    pub angle_error_deg: Option<f64>,
    /// Opening: the belief said the lid is welded, so nothing was run.
    #[serde(default)]
    pub nothing_to_open: bool,
    /// Carry: the tool's largest tracking error (mm): its distance from the path's point of the
    /// same control step.
    #[serde(default)]
    pub max_error_mm: Option<f64>,
    /// Carry: the root mean square of that distance (mm).
    #[serde(default)]
    pub rms_error_mm: Option<f64>,
    /// Carry: the control step of the largest distance.
    #[serde(default)]
    pub worst_step: Option<usize>,
    /// The attempt's episode file.
    pub episode: Option<String>,
}

impl TaskReport {
    /// The entry of a planned attempt, before it runs: the goal, the primitive's parameters and
    /// the predicted success.
    pub fn planned(goal: &str, primitive: Vec<f64>, predicted_success: f64) -> Self {
        Self {
            goal: goal.to_string(),
            primitive,
            predicted_success,
            object_xy_m: None,
            distance_m: None,
            success: None,
            at_rest: None,
            tilt_deg: None,
            angle_rad: None,
            angle_error_deg: None,
            nothing_to_open: false,
            max_error_mm: None,
            rms_error_mm: None,
            worst_step: None,
            episode: None,
        }
    }
}

impl Report {
    /// Reads a report file.
    pub fn read(path: &std::path::Path) -> crate::Result<Self> {
        let text =
            asid_core::read_limit::read_limited_string(path, asid_core::read_limit::JSON_MAX_BYTES)
                .map_err(|e| {
                    crate::StationError::input(format!("reading {}: {e}", path.display()))
                })?;
        let r: Self = serde_json::from_str(&text).map_err(|e| {
            crate::StationError::input(format!("{}: not a run report: {e}", path.display()))
        })?;
        if r.format != REPORT_FORMAT {
            return Err(crate::StationError::input(format!(
                "{}: format `{}`, expected `{REPORT_FORMAT}`",
                path.display(),
                r.format
            )));
        }
        Ok(r)
    }

    /// The short human-readable report printed at the end of a run.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "run of {} on {} (seed {})",
            self.scene, self.arm, self.seed
        );
        if let Some(e) = &self.exploration {
            let _ = writeln!(
                s,
                "  exploration: {} design, {} actions; A criterion {:.3} on held-out prior \
                 samples (random {:.3}, {} = uninformative)",
                e.design,
                e.actions,
                e.criterion_held_out,
                e.random_median,
                self.parameters.len()
            );
        }
        if !self.parameters.is_empty() {
            let _ = writeln!(
                s,
                "  {:<26} {:>11} {:>10} {:>23} {:>10} {:>11} {:>8}",
                "parameter", "estimate", "std", "95 % interval", "CRB std", "truth", "err/std"
            );
        }
        let num = |v: Option<f64>, p: usize| v.map_or("-".to_string(), |x| format!("{x:.p$}"));
        let sci = |v: Option<f64>| v.map_or("unbounded".to_string(), |x| format!("{x:.2e}"));
        for p in &self.parameters {
            let interval = match (p.interval95, p.interval_open) {
                (Some([lo, hi]), Some([lo_open, hi_open])) => format!(
                    "{}{lo:.4}, {hi:.4}{}",
                    if lo_open { "(" } else { "[" },
                    if hi_open { ")" } else { "]" }
                ),
                _ => "-".into(),
            };
            let _ = writeln!(
                s,
                "  {:<26} {:>11} {:>10} {:>23} {:>10} {:>11} {:>8}",
                p.name,
                num(p.estimate, 5),
                sci(p.std),
                interval,
                sci(p.crb_std),
                num(p.truth, 5),
                num(p.error_in_std, 2)
            );
        }
        if let Some(v) = &self.identifiability {
            let _ = writeln!(s, "  {v}");
        }
        if let (Some(chi2), Some(misfit)) = (self.reduced_chi2, self.misfit) {
            let _ = writeln!(
                s,
                "  reduced chi-square {chi2:.3}: {}",
                if misfit {
                    "MISFIT: the residuals are not explained by the scene's noise"
                } else {
                    "the residuals are explained by the scene's noise"
                }
            );
        }
        if let Some((ms, std)) = self.tracker_latency_ms {
            let _ = writeln!(
                s,
                "  tracker latency {ms:.1} ms +- {}",
                std.map_or("unbounded".into(), |v| format!("{v:.1} ms"))
            );
        }
        for t in &self.tasks {
            let _ = match (t.object_xy_m, t.distance_m, t.success) {
                (_, _, Some(ok)) if t.tilt_deg.is_some() => writeln!(
                    s,
                    "  task {:<6} predicted {:.0} %: grasped at {:+.4} m, tilt {:.2} deg: {}",
                    t.goal,
                    100.0 * t.predicted_success,
                    t.primitive.first().copied().unwrap_or(f64::NAN),
                    t.tilt_deg.unwrap_or(f64::NAN),
                    if ok { "SUCCESS" } else { "fell" },
                ),
                (_, _, _) if t.nothing_to_open => writeln!(
                    s,
                    "  task {:<6} nothing to open: the fit holds it welded",
                    t.goal
                ),
                (_, _, Some(ok)) if t.max_error_mm.is_some() => writeln!(
                    s,
                    "  task {:<6} predicted {:.0} %: carried with a largest tracking error of \
                     {:.3} mm: {}",
                    t.goal,
                    100.0 * t.predicted_success,
                    t.max_error_mm.unwrap_or(f64::NAN),
                    if ok { "SUCCESS" } else { "missed" },
                ),
                (_, _, Some(ok)) if t.angle_rad.is_some() => writeln!(
                    s,
                    "  task {:<6} predicted {:.0} %: opened to {:.3} rad, {:.2} deg from the target: {}",
                    t.goal,
                    100.0 * t.predicted_success,
                    t.angle_rad.unwrap_or(f64::NAN),
                    t.angle_error_deg.unwrap_or(f64::NAN),
                    if ok { "SUCCESS" } else { "missed" },
                ),
                (Some([x, y]), Some(d), Some(ok)) => writeln!(
                    s,
                    "  task goal {:<6} predicted {:.0} %: came to rest at ({x:.3}, {y:.3}) m, \
                     {d:.3} m from the zone: {}{}",
                    t.goal,
                    100.0 * t.predicted_success,
                    if ok { "SUCCESS" } else { "missed" },
                    if t.at_rest == Some(false) {
                        " (still moving at the end)"
                    } else {
                        ""
                    }
                ),
                _ => writeln!(
                    s,
                    "  task goal {:<6} predicted {:.0} %: not run",
                    t.goal,
                    100.0 * t.predicted_success
                ),
            };
        }
        if let Some(why) = &self.stopped_by {
            let _ = writeln!(s, "  STOPPED EARLY: {why}");
        }
        let times: Vec<String> = STEPS
            .iter()
            .filter_map(|k| Some(format!("{k} {:.1} s", self.timings_s.get(*k)?)))
            .collect();
        let _ = writeln!(s, "  times: {}", times.join(", "));
        s
    }
}
