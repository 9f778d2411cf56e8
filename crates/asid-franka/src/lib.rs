//! A pure-Rust client of the Franka research interface (FCI, libfranka protocol version 10): the
//! real arm behind [`asid_arm::Arm`] and the Franka Hand behind [`asid_arm::Gripper`].
//!
//! - [`protocol`]: the wire format, encode and decode, typed errors for bad peer bytes;
//! - [`interp`]: plan-rate joint targets to a 1 kHz command stream within the arm's velocity,
//!   acceleration and jerk limits; an unreachable target is refused, never clamped;
//! - [`dry_run`]: a whole motion through the control loop's own schedule and the interpolation,
//!   offline, with the caller as late as the loop lets it be: what the arm would refuse is found
//!   before anything moves;
//! - [`FrankaArm`]: TCP commands, a 1 kHz UDP loop thread, link-loss and reflex detection, state
//!   history and loop statistics ([`LoopStats`], [`FrankaArm::bench`]);
//! - [`FrankaGripper`]: homing, move, grasp, stop, state.
//!
//! Time is the arm's: [`asid_arm::ArmState::stamp_ns`] is the state's message id × 1 ms (the arm
//! numbers its 1 kHz states). `step` sends a target for the end of the next control period and
//! resolves once that many state messages have passed. The tests run against `franky-sim`, a
//! MuJoCo server that speaks the same protocol.
//!
//! ```no_run
//! use asid_arm::{Arm, ArmCommand};
//! use asid_franka::{FrankaArm, RobotConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let spec: asid_core::RobotSpec = asid_core::read_toml("robots/fr3/robot.toml".as_ref())?;
//! // 50 Hz plan; limits from the robot description with libfranka's margins.
//! let config = RobotConfig::from_spec(&spec, 0.02)?;
//! let mut arm = FrankaArm::connect("172.16.0.2", config)?;
//! let start = arm.state().await?;
//! let mut q = start.q_cmd_rad.clone();
//! for k in 1..=100 {
//!     // A slow, smooth excursion of the last joint (starts at rest).
//!     let t = f64::from(k) * 0.02;
//!     q[6] = start.q_cmd_rad[6] + 0.05 * (1.0 - (std::f64::consts::PI * t).cos());
//!     let s = arm.step(&ArmCommand::JointPosition { q_rad: q.clone() }).await?;
//!     println!("{} ns: q7 = {:.4}", s.stamp_ns, s.q_rad[6]);
//! }
//! arm.stop().await?;
//! println!("{:?}", arm.loop_stats());
//! # Ok(())
//! # }
//! ```

pub mod arm;
pub mod config;
mod control;
pub mod dry_run;
pub mod error;
pub mod gripper;
pub mod interp;
mod motion;
mod poly;
pub mod protocol;
pub mod sample;
pub mod stats;
mod tcp;

pub use arm::FrankaArm;
pub use config::{ConfigError, GripperConfig, JointLimits, RobotConfig};
pub use dry_run::{DryRunError, DryRunReport, dry_run};
pub use error::FrankaError;
pub use gripper::FrankaGripper;
pub use interp::Interpolator;
pub use protocol::robot::CollisionBehavior;
pub use sample::StateSample;
pub use stats::{BenchReport, LoopStats};
