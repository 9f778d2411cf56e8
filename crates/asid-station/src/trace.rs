//! [`Trace`]: the loop's events as `tracing` events, for a log of the run (`asid -v run`).
//!
//! Levels: steps, plans, dry runs, episodes, fits and task outcomes at `info`; progress and the
//! arm's actions, commands and events at `debug`; every state and pose at `trace`. The target is
//! `asid::station`, so a subscriber can filter it from other crates' output.

use asid_arm::Record;
use tracing::{debug, info, trace};

use crate::event::{Event, Observer};

/// Forwards every event to `tracing`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Trace;

impl Observer for Trace {
    fn observe(&mut self, event: &Event<'_>) {
        match event {
            Event::Step {
                index,
                total,
                title,
            } => info!(target: "asid::station", step = index, of = total, "{title}"),
            Event::Progress { what, done, total } => {
                debug!(target: "asid::station", done, total, "{what}");
            }
            Event::Note(n) => info!(target: "asid::station", "note: {n}"),
            Event::ExplorationPlanned(p) => info!(
                target: "asid::station",
                design = ?p.design,
                actions = p.actions.len(),
                criterion = p.value,
                held_out = p.held_out_value,
                "exploration planned"
            ),
            Event::DryRunPassed { what } => {
                info!(target: "asid::station", "dry run passed: {what}")
            }
            Event::ControlLoopChecked {
                tolerated_ms,
                report,
                ..
            } => info!(
                target: "asid::station",
                tolerated_ms,
                "1 kHz control loop checked: {report:?}"
            ),
            Event::Record(r) => record(r),
            Event::EpisodeDone { path, summary } => info!(
                target: "asid::station",
                file = %path.display(),
                steps_done = summary.steps_done,
                steps_planned = summary.steps_planned,
                duration_s = summary.duration_s,
                max_tracking_error_rad = summary.max_tracking_error_rad,
                refusals = summary.refusals,
                stopped_by = summary.stopped_by.as_deref().unwrap_or("-"),
                "episode done"
            ),
            Event::Fit(fit) => {
                for (name, est) in &fit.estimate {
                    let std = fit.std.get(name).copied().flatten();
                    info!(target: "asid::station", parameter = %name, estimate = est, std = ?std, "fit");
                }
                info!(target: "asid::station", "identifiability: {}", fit.identifiability.verdict);
            }
            Event::TaskPlanned { goal, plan } => info!(
                target: "asid::station",
                goal,
                primitive = ?plan.primitive,
                predicted_success = plan.predicted_success,
                "task planned"
            ),
            Event::TaskOutcome { goal, outcome } => info!(
                target: "asid::station",
                goal,
                distance_m = outcome.distance_m,
                success = outcome.success,
                at_rest = outcome.at_rest,
                "task outcome"
            ),
            Event::BalancePlanned { perch, attempt } => info!(
                target: "asid::station",
                perch,
                offset_m = attempt.plan.offset_m,
                predicted_success = attempt.plan.predicted_success,
                motion_periods = attempt.motion.periods(),
                "balancing planned"
            ),
            Event::BalanceOutcome { perch, outcome } => info!(
                target: "asid::station",
                perch,
                tilt_deg = outcome.tilt_deg,
                on_perch = outcome.on_perch,
                success = outcome.success,
                "balancing outcome"
            ),
            Event::OpenPlanned(p) => info!(
                target: "asid::station",
                p_hinged = p.p_hinged,
                nothing_to_open = p.nothing_to_open,
                primitive = ?p.primitive,
                predicted_success = p.predicted_success,
                "opening planned"
            ),
            Event::OpenOutcome(o) => info!(
                target: "asid::station",
                angle_rad = o.angle_rad,
                error_deg = o.error_deg(),
                success = o.success,
                at_rest = o.at_rest,
                "opening outcome"
            ),
            Event::CarryPlanned(p) => info!(
                target: "asid::station",
                rest_lift_m = p.rest_lift_m,
                learning_error_m = ?p.learning_error_m,
                predicted_success = p.predicted_success,
                predicted_max_error_m = p.predicted_max_error_m,
                "carry planned"
            ),
            Event::CarryOutcome(o) => info!(
                target: "asid::station",
                max_error_m = o.max_error_m,
                rms_error_m = o.rms_error_m,
                worst_step = o.worst_step,
                success = o.success,
                "carry outcome"
            ),
            Event::Finished(r) => info!(
                target: "asid::station",
                scene = %r.scene,
                arm = %r.arm,
                timings_s = ?r.timings_s,
                "finished"
            ),
        }
    }
}

fn record(r: &Record) {
    match r {
        Record::Action(a) => debug!(target: "asid::station", "action {a:?}"),
        Record::Command(c) => debug!(target: "asid::station", "command {c:?}"),
        Record::Event(e) => debug!(target: "asid::station", "arm event {e:?}"),
        Record::Gripper(g) => debug!(target: "asid::station", "gripper {g:?}"),
        Record::State(s) => trace!(target: "asid::station", "state {s:?}"),
        Record::Pose(p) => trace!(target: "asid::station", "pose {p:?}"),
    }
}
