//! The compact per-millisecond record kept of every state (and of the command that answered it),
//! and its conversion to the arm-independent [`ArmState`].

use std::collections::VecDeque;

use asid_arm::{ArmMode, ArmState};

use crate::config::DOF;
use crate::protocol::udp::{RobotMode, RobotState};

/// Nanoseconds per arm tick: the arm sends one state per millisecond and numbers them, so the
/// arm's clock is `message_id × 1 ms` (time since the arm's counter started).
pub const TICK_NS: u64 = 1_000_000;

/// One state as recorded by the loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateSample {
    /// The arm's message id (its 1 kHz cycle count).
    pub message_id: u64,
    /// Measured joint positions.
    pub q_rad: [f64; DOF],
    /// Measured joint velocities.
    pub dq_rad_s: [f64; DOF],
    /// The arm's desired joint positions (its motion generator's output).
    pub q_d_rad: [f64; DOF],
    /// Measured link-side joint torques.
    pub tau_j_nm: [f64; DOF],
    /// Estimated external joint torques (filtered).
    pub tau_ext_nm: [f64; DOF],
    /// Estimated external wrench on the stiffness frame, base frame (`O_F_ext_hat_K`).
    pub f_ext_n: [f64; 6],
    /// What the arm reports doing.
    pub robot_mode: RobotMode,
    /// The joint command sent in answer to this state, if the loop was commanding.
    pub q_cmd_rad: Option<[f64; DOF]>,
}

impl StateSample {
    /// Keeps what a recording needs of a decoded state.
    pub fn from_state(s: &RobotState) -> Self {
        Self {
            message_id: s.message_id,
            q_rad: s.q,
            dq_rad_s: s.dq,
            q_d_rad: s.q_d,
            tau_j_nm: s.tau_j,
            tau_ext_nm: s.tau_ext_hat_filtered,
            f_ext_n: s.o_f_ext_hat_k,
            robot_mode: s.robot_mode,
            q_cmd_rad: None,
        }
    }

    /// Time on the arm's clock.
    pub fn stamp_ns(&self) -> u64 {
        self.message_id * TICK_NS
    }

    /// The arm-independent state; `stopped` marks a session ended by `stop`.
    pub fn to_arm_state(&self, stopped: bool) -> ArmState {
        let mode = match self.robot_mode {
            RobotMode::Reflex | RobotMode::UserStopped => ArmMode::Reflex,
            _ if stopped => ArmMode::Stopped,
            RobotMode::Move => ArmMode::Moving,
            RobotMode::Idle
            | RobotMode::Other
            | RobotMode::Guiding
            | RobotMode::AutomaticErrorRecovery => ArmMode::Idle,
        };
        ArmState {
            stamp_ns: self.stamp_ns(),
            q_rad: self.q_rad.to_vec(),
            dq_rad_s: self.dq_rad_s.to_vec(),
            q_cmd_rad: self.q_d_rad.to_vec(),
            tau_nm: self.tau_j_nm.to_vec(),
            tau_ext_nm: self.tau_ext_nm.to_vec(),
            f_ext_n: Some([self.f_ext_n[0], self.f_ext_n[1], self.f_ext_n[2]]),
            gripper_width_m: None,
            mode,
        }
    }
}

/// The most recent samples, oldest first, up to a capacity.
#[derive(Debug, Clone)]
pub(crate) struct History {
    samples: VecDeque<StateSample>,
    capacity: usize,
    pub(crate) dropped: u64,
}

impl History {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            samples: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, s: StateSample) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
            self.dropped += 1;
        }
        self.samples.push_back(s);
    }

    /// Records the command sent in answer to the newest sample.
    pub(crate) fn set_last_command(&mut self, q: [f64; DOF]) {
        if let Some(s) = self.samples.back_mut() {
            s.q_cmd_rad = Some(q);
        }
    }

    pub(crate) fn to_vec(&self) -> Vec<StateSample> {
        self.samples.iter().copied().collect()
    }

    pub(crate) fn take(&mut self) -> Vec<StateSample> {
        self.samples.drain(..).collect()
    }
}
