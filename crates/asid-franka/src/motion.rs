//! The control loop's schedule of one motion, without I/O and without a clock: on each arm state
//! (its message id), which request is answered, when a new target starts its segment, and the
//! command sent. The 1 kHz loop thread ([`crate::control`]) and the offline dry run
//! ([`crate::dry_run`]) both drive this same code, the loop with the arm's states, the dry run with
//! message ids it counts itself, so the two cannot disagree on timing.
//!
//! Per state the loop does, in this order: answer the request whose time has come
//! ([`Motion::answered`]), serve the requests that arrived ([`Motion::step`], [`Motion::hold`],
//! [`Motion::brake`]), then advance one tick and send the command ([`Motion::tick`]). A step is
//! answered with the state after its segment's last command, so the caller's next target can
//! only be served one state later, or more: every segment after the first starts at least one
//! tick after the period boundary it belongs to, and the interpolator shortens it by that delay
//! to keep the plan's grid (see [`Interpolator::set_target`]).

use asid_arm::ArmError;

use crate::interp::{Interpolator, TickEvent};

/// One motion's interpolator and the request in progress.
#[derive(Debug, Clone)]
pub(crate) struct Motion {
    interp: Interpolator,
    period_ticks: u32,
    /// The request in progress is answered at the first state whose message id is at least this
    /// (`u64::MAX`: once its segment's last command is out).
    due: Option<u64>,
}

/// How a step's segment started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentStart {
    /// Ticks since the previous segment ended (0 from rest or braking).
    pub(crate) delay_ticks: u32,
    /// Ticks until the target is commanded.
    pub(crate) duration_ticks: u32,
}

impl Motion {
    /// A motion with `interp` (at rest) and targets one `period_ticks` apart.
    pub(crate) fn new(interp: Interpolator, period_ticks: u32) -> Self {
        Self {
            interp,
            period_ticks,
            due: None,
        }
    }

    /// The interpolator (the current command is its [`Interpolator::q_rad`]).
    pub(crate) fn interp(&self) -> &Interpolator {
        &self.interp
    }

    /// Ticks per plan period.
    pub(crate) fn period_ticks(&self) -> u32 {
        self.period_ticks
    }

    /// First thing on each state: true if the request in progress is answered with this state.
    pub(crate) fn answered(&mut self, message_id: u64) -> bool {
        match self.due {
            Some(due) if message_id >= due => {
                self.due = None;
                true
            }
            _ => false,
        }
    }

    /// Forgets the request in progress (it was answered otherwise: a fault or a stop); true if
    /// there was one.
    pub(crate) fn cancel(&mut self) -> bool {
        self.due.take().is_some()
    }

    /// The motion starts: at rest at the arm's desired position `q_d_rad`, the first target one
    /// period ahead.
    pub(crate) fn begin(
        &mut self,
        q_d_rad: &[f64],
        target_rad: &[f64],
    ) -> Result<SegmentStart, ArmError> {
        self.interp.reset(q_d_rad);
        self.step(target_rad)
    }

    /// The next target, one period after the last boundary (or refused; nothing changes then).
    /// Answered once its segment's last command is out (see [`Self::tick`]).
    pub(crate) fn step(&mut self, target_rad: &[f64]) -> Result<SegmentStart, ArmError> {
        let delay_ticks = self.interp.ticks_since_segment();
        let duration_ticks = self.interp.set_target(target_rad, self.period_ticks)?;
        self.due = Some(u64::MAX);
        Ok(SegmentStart {
            delay_ticks,
            duration_ticks,
        })
    }

    /// Come to rest (while moving), answered one period after `message_id`.
    pub(crate) fn hold(&mut self, message_id: u64, moving: bool) {
        if moving {
            self.interp.brake();
        }
        self.due = Some(message_id + u64::from(self.period_ticks));
    }

    /// Brake to rest within the limits (stop).
    pub(crate) fn brake(&mut self) {
        self.interp.brake();
    }

    /// Advances one tick on the state `message_id`; the command to send is then
    /// `self.interp().q_rad()`. A step whose segment ends here is answered with the next state.
    pub(crate) fn tick(&mut self, message_id: u64) -> TickEvent {
        let ev = self.interp.tick();
        if ev.segment_done && self.due.is_some() {
            self.due = Some(message_id + 1);
        }
        ev
    }

    /// At rest with nothing planned.
    pub(crate) fn at_rest(&self) -> bool {
        self.interp.at_rest()
    }
}
