//! What a person at the station sees while the loop runs: one line per step, a spinner with the
//! elapsed time while a step plans or fits, a progress bar while the arm moves, notes, the plan's
//! and the task's outcome lines, and the report at the end. Everything but the final report goes
//! to stderr; bars are drawn only on a terminal.

use std::io::{BufRead, Write};
use std::time::Duration;

use asid_station::Event;
use indicatif::{ProgressBar, ProgressStyle};

/// The console observer of `asid run` and `asid replay`.
pub struct Console {
    bar: Option<ProgressBar>,
    json: bool,
    yes: bool,
}

impl Console {
    /// With `json`, the final report is left to the caller (printed as JSON on stdout); with
    /// `yes`, motions of a real arm are not confirmed.
    pub fn new(json: bool, yes: bool) -> Self {
        Self {
            bar: None,
            json,
            yes,
        }
    }

    /// A line for the person at the station (above any bar).
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn spinner(&mut self, msg: String) {
        self.done();
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("    {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_message(msg);
        b.enable_steady_tick(Duration::from_millis(120));
        self.bar = Some(b);
    }

    fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl asid_station::Observer for Console {
    fn observe(&mut self, event: &Event<'_>) {
        match event {
            Event::Step {
                index,
                total,
                title,
            } => {
                self.done();
                self.say(&format!("{index}/{total} {title} ..."));
                self.spinner((*title).to_string());
            }
            Event::Progress { what, done, total } => {
                let bar = match &self.bar {
                    Some(b) if b.length() == Some(*total as u64) => b.clone(),
                    _ => {
                        self.done();
                        let b = ProgressBar::new(*total as u64);
                        b.set_style(
                            ProgressStyle::with_template("    [{bar:40}] {pos}/{len} {msg}")
                                .unwrap_or_else(|_| ProgressStyle::default_bar()),
                        );
                        b.set_message((*what).to_string());
                        self.bar = Some(b.clone());
                        b
                    }
                };
                bar.set_position(*done as u64);
            }
            Event::Note(n) => self.say(&format!("    note: {n}")),
            Event::ExplorationPlanned(plan) => {
                self.done();
                self.say(&format!(
                    "    {:?} design, {} actions, {:.1} s; Bayesian A criterion {:.3} on held-out \
                     prior samples ({} = uninformative), random median {:.3}",
                    plan.design,
                    plan.actions.len(),
                    plan.wall_s,
                    plan.held_out_value,
                    plan.parameters.len(),
                    plan.random.median_value,
                ));
                self.say(&format!("    {}", crate::cmd::explore::versus_random(plan)));
            }
            Event::DryRunPassed { what } => self.say(&format!("    dry run passed: {what}")),
            Event::ControlLoopChecked {
                report,
                tolerated_ms,
                ..
            } => self.say(&format!(
                "    1 kHz dry run passed: peaks {:.0} % of the velocity, {:.0} % of the \
                 acceleration and {:.0} % of the jerk limit; every step may come {tolerated_ms} \
                 ms late",
                100.0 * report.velocity.ratio(),
                100.0 * report.acceleration.ratio(),
                100.0 * report.jerk.ratio(),
            )),
            Event::EpisodeDone { path, summary } => {
                self.done();
                self.say(&format!(
                    "    {} of {} steps, {:.2} s, {} tracker poses, max tracking error {:.1e} \
                     rad: {}",
                    summary.steps_done,
                    summary.steps_planned,
                    summary.duration_s,
                    summary.poses.accepted,
                    summary.max_tracking_error_rad,
                    path.display()
                ));
            }
            Event::Fit(fit) => {
                self.done();
                self.say(&format!("    {}", fit.identifiability.verdict));
            }
            Event::TaskPlanned { goal, plan } => {
                self.done();
                self.say(&format!(
                    "    goal {goal}: push {:.3?}, predicted success {:.0} % ({})",
                    plan.primitive,
                    100.0 * plan.predicted_success,
                    prediction_basis(plan.options.mode)
                ));
            }
            Event::TaskOutcome { goal, outcome } => {
                self.done();
                self.say(&format!(
                    "    goal {goal}: came to rest at ({:.3}, {:.3}) m, {:.3} m from the zone: {}",
                    outcome.object_xy_m[0],
                    outcome.object_xy_m[1],
                    outcome.distance_m,
                    if outcome.success { "success" } else { "missed" }
                ));
            }
            Event::BalancePlanned { perch, attempt } => {
                self.done();
                let p = &attempt.plan;
                let at = &attempt.predicted_at_estimate;
                self.say(&format!(
                    "    {perch}: grasp {:+.4} m along the rod, predicted success {:.0} % ({}); \
                     the motion ({} periods) at the estimate: {} ({:.2} deg)",
                    p.offset_m,
                    100.0 * p.predicted_success,
                    prediction_basis(p.options.mode),
                    attempt.motion.periods(),
                    if at.success { "stays up" } else { "falls" },
                    at.metric_deg()
                ));
            }
            Event::BalanceOutcome { perch, outcome } => {
                self.done();
                self.say(&format!(
                    "    {perch}: the rod {} ({:.2} deg)",
                    if outcome.success {
                        "stays up: success"
                    } else if outcome.on_perch {
                        "leans on the perch: missed"
                    } else {
                        "fell off the perch: missed"
                    },
                    outcome.metric_deg()
                ));
            }
            Event::Finished(report) => {
                self.done();
                if !self.json {
                    print!("{}", report.human());
                }
            }
            _ => {}
        }
    }

    fn confirm(&mut self, motion: &str) -> bool {
        self.done();
        self.yes || ask(motion)
    }
}

/// Asks the person at the station to confirm a motion; anything but `y`/`yes` declines.
pub fn ask(what: &str) -> bool {
    eprint!("{what}. Clear the workspace; move? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(_) => matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
        Err(_) => false,
    }
}

/// What a task plan's predicted success was scored on.
fn prediction_basis(mode: asid_task::Mode) -> String {
    match mode {
        asid_task::Mode::Robust => format!(
            "over {} fresh belief samples the plan was not chosen on",
            asid_task::PREDICTION_SAMPLES
        ),
        asid_task::Mode::Point => "at the point estimate it was planned for".into(),
    }
}
