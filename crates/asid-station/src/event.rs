//! What the loop tells its observers. Every step, every record the arm layer writes (action,
//! command, state, pose, event), every plan, fit and task outcome is an [`Event`]; observers (the
//! progress printer, the report, a rerun logger) receive them side by side, and the MCAP recorder
//! sees the same records, so a real, a simulated and a replayed run share one path.

use std::path::Path;

use asid_arm::Record;

use crate::executor::RunSummary;
use crate::report::Report;

/// One thing that happened in the loop.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A step of the loop starts (`index` counts from 1).
    Step {
        /// Its number.
        index: usize,
        /// How many steps the loop has.
        total: usize,
        /// What it does.
        title: &'a str,
    },
    /// Progress of a long operation inside a step.
    Progress {
        /// What progresses (`plan actions`, `task actions`).
        what: &'a str,
        /// Done so far.
        done: usize,
        /// Of.
        total: usize,
    },
    /// A remark for the person at the station (a conversion gap, a recovered reflex).
    Note(&'a str),
    /// The exploration was planned.
    ExplorationPlanned(&'a asid_explore::Plan),
    /// A plan passed its dry run (`what` names the plan).
    DryRunPassed {
        /// The plan.
        what: &'a str,
    },
    /// The Franka's 1 kHz control loop would run the motion: its peaks and how late a step may be.
    ControlLoopChecked {
        /// The punctual caller's peaks.
        report: &'a asid_franka::DryRunReport,
        /// The latest caller (ms) every step tolerates.
        tolerated_ms: u32,
        /// Joint names, in the report's order.
        joints: &'a [String],
    },
    /// A record the arm layer wrote to the episode (the same one the MCAP file receives).
    Record(&'a Record),
    /// An episode ended (completed or stopped); the file keeps every sample.
    EpisodeDone {
        /// The MCAP file.
        path: &'a Path,
        /// How it went.
        summary: &'a RunSummary,
    },
    /// The parameters were identified.
    Fit(&'a asid_sysid::Fit),
    /// A task goal was planned.
    TaskPlanned {
        /// The goal.
        goal: &'a str,
        /// The plan.
        plan: &'a asid_task::TaskPlan,
    },
    /// A task attempt was judged.
    TaskOutcome {
        /// The goal.
        goal: &'a str,
        /// Where the object came to rest and whether it counts.
        outcome: &'a asid_task::Outcome,
    },
    /// A balancing attempt was planned (grasp point, motion, prediction at the estimate).
    BalancePlanned {
        /// The perch.
        perch: &'a str,
        /// The attempt.
        attempt: &'a crate::balance::BalanceAttempt,
    },
    /// A balancing attempt was judged from the tracker's last poses.
    BalanceOutcome {
        /// The perch.
        perch: &'a str,
        /// The rod's tilt and whether it stayed up.
        outcome: &'a asid_task::balance::BalanceOutcome,
    },
    /// An opening attempt was planned (or the belief says the lid is welded: nothing to open).
    OpenPlanned(&'a asid_task::OpenPlan),
    /// An opening attempt was judged from the tracker's last poses of the lid.
    OpenOutcome(&'a asid_task::OpenOutcome),
    /// A carry of the payload was planned (its commands learned in the identified simulator).
    CarryPlanned(&'a asid_task::CarryPlan),
    /// A carry was judged from the arm's measured joint positions.
    CarryOutcome(&'a asid_task::CarryOutcome),
    /// The loop finished; the report is complete.
    Finished(&'a Report),
}

/// Receives the loop's events.
pub trait Observer: Send {
    /// Called for every event, in order.
    fn observe(&mut self, event: &Event<'_>);

    /// Asked before each motion of a real arm, with what is about to move; `false` stops the run
    /// before anything moves. The default approves: a console observer asks the person at the
    /// station.
    fn confirm(&mut self, _motion: &str) -> bool {
        true
    }
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {
    fn observe(&mut self, _: &Event<'_>) {}
}

/// Several observers, each receiving every event in the order they were added.
#[derive(Default)]
pub struct Observers(pub Vec<Box<dyn Observer>>);

impl Observers {
    /// Adds one.
    #[must_use]
    pub fn with(mut self, o: impl Observer + 'static) -> Self {
        self.0.push(Box::new(o));
        self
    }
}

impl Observer for Observers {
    fn observe(&mut self, event: &Event<'_>) {
        for o in &mut self.0 {
            o.observe(event);
        }
    }

    /// Every observer must approve (the first refusal ends the asking).
    fn confirm(&mut self, motion: &str) -> bool {
        self.0.iter_mut().all(|o| o.confirm(motion))
    }
}

impl<F: FnMut(&Event<'_>) + Send> Observer for F {
    fn observe(&mut self, event: &Event<'_>) {
        self(event);
    }
}
