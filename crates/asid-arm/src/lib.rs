//! One arm interface for asid.
//!
//! The real arm (Franka), the simulated lab and a recorded episode implement the same async [`Arm`]
//! trait, stepped one control period at a time; time comes from the arm's own clock
//! ([`ArmState::stamp_ns`]), never from the caller. Object poses arrive through [`PoseSource`]; a
//! parallel gripper (the Franka Hand, the lab's simulated one) implements [`Gripper`], its commands
//! checked against [`GripperLimits`], its states recorded as [`GripperRecord`]s and played back by
//! [`ReplayGripper`].
//! Layers wrap any arm: safety limits ([`safety::Safe`]) and recording ([`recorded::Recorded`]);
//! [`replay`] plays a recording back through the same traits; [`conformance`] is the suite every
//! backend must pass, and [`dummy`] an in-memory arm for tests of the layers.

//!
//! ```no_run
//! use asid_arm::{Arm, ArmCommand};
//! async fn hold_still<A: Arm>(arm: &mut A) -> Result<(), asid_arm::ArmError> {
//!     let s = arm.state().await?;
//!     for _ in 0..10 {
//!         arm.step(&ArmCommand::JointPosition { q_rad: s.q_cmd_rad.clone() }).await?;
//!     }
//!     arm.stop().await?;
//!     Ok(())
//! }
//! ```

pub mod conformance;
pub mod dummy;
pub mod error;
pub mod pose;
pub mod record;
pub mod recorded;
pub mod replay;
pub mod safety;
pub mod types;

use std::future::Future;

pub use error::ArmError;
pub use pose::{NoPoses, PoseError, PoseSample, PoseSource, PoseStats};
pub use record::{
    ActionRecord, CommandRecord, EventRecord, GripperRecord, Level, Record, Recorder, Recording,
    RunInfo,
};
pub use recorded::Recorded;
pub use replay::{ReplayArm, ReplayGripper, ReplayPoses};
pub use safety::{GripperLimits, Safe, SafetyLimits, StopSignal};
pub use types::{ArmCommand, ArmMode, ArmState, Backend, Capabilities};

/// An arm stepped at its control period.
///
/// Contract (checked by [`conformance`]):
/// - `state` returns the latest state without commanding motion;
/// - `step` sends a target for the next control period and resolves once that period has passed on
///   the arm's clock, with the state at its end (stamps strictly increase);
/// - a refused command returns an error and sends nothing;
/// - `stop` brings the arm to rest and returns the last state; every later `step` is refused with
///   [`ArmError::Stopped`].
pub trait Arm: Send {
    /// What this arm is and can do.
    fn capabilities(&self) -> &Capabilities;

    /// The latest state.
    fn state(&mut self) -> impl Future<Output = Result<ArmState, ArmError>> + Send;

    /// One control period with `command`.
    fn step(
        &mut self,
        command: &ArmCommand,
    ) -> impl Future<Output = Result<ArmState, ArmError>> + Send;

    /// Stops motion safely; the session accepts no more motion.
    fn stop(&mut self) -> impl Future<Output = Result<ArmState, ArmError>> + Send;
}

/// The Franka Hand's grasp rule: a grasp for an object of `width_m` holds when the fingers ended
/// within `[width_m - epsilon_inner_m, width_m + epsilon_outer_m]`.
pub fn grasp_within(
    end_width_m: f64,
    width_m: f64,
    epsilon_inner_m: f64,
    epsilon_outer_m: f64,
) -> bool {
    end_width_m >= width_m - epsilon_inner_m && end_width_m <= width_m + epsilon_outer_m
}

/// Result of a gripper motion.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GripperState {
    /// Current opening.
    pub width_m: f64,
    /// Opening measured by the last homing.
    pub max_width_m: f64,
    /// An object is held.
    pub is_grasping: bool,
}

/// A parallel gripper (the Franka Hand).
pub trait Gripper: Send {
    /// Calibrates the fingers (opens fully, measures the maximum width).
    fn homing(&mut self) -> impl Future<Output = Result<(), ArmError>> + Send;
    /// Moves the fingers to `width_m` at `speed_m_s`.
    fn move_to(
        &mut self,
        width_m: f64,
        speed_m_s: f64,
    ) -> impl Future<Output = Result<(), ArmError>> + Send;
    /// Closes on an object of `width_m` with `force_n`; true if the object is held within the
    /// tolerances.
    fn grasp(
        &mut self,
        width_m: f64,
        speed_m_s: f64,
        force_n: f64,
        epsilon_inner_m: f64,
        epsilon_outer_m: f64,
    ) -> impl Future<Output = Result<bool, ArmError>> + Send;
    /// Stops the fingers.
    fn stop(&mut self) -> impl Future<Output = Result<(), ArmError>> + Send;
    /// The latest gripper state.
    fn read(&mut self) -> impl Future<Output = Result<GripperState, ArmError>> + Send;
}
