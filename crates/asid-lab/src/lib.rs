//! The simulated lab: the embedded default "hardware" of asid.
//!
//! [`SimLab`] runs the rapier simulator with hidden true parameters behind the same
//! [`asid_arm::Arm`] trait as the real Franka, and [`LabTracker`] delivers object poses through
//! [`asid_arm::PoseSource`] like the lab's motion tracker. The default lab ([`LabConfig::default`])
//! is not the fitting model, so that `asid run` never identifies the model that made its data:
//!
//! - the arm's joints follow the command through a joint PD at the robot file's gains
//!   (`[controller]` kp, kd, armature and damping, plus a link inertia), with the command's
//!   velocity fed forward: they trail every change of speed, and a constant per-joint offset
//!   (sigma 2e-4 rad) sits between command and motion. The measured joint positions carry both;
//!   identification replays them (`--drive measured`);
//! - the tracker takes frames at its own rate (100 Hz, a frame one physics step early or late
//!   with probability 0.1), with position noise (the scene's sigmas), orientation noise and a
//!   latency (12 ms) that its stamps do not show: identification estimates it;
//! - control periods jitter (one physics step longer or shorter with probability 0.05) and the
//!   measured joint positions are noisy.
//!
//! A scene whose tool is a gripper also has a [`LabGripper`] ([`SimLab::gripper`]) behind
//! [`asid_arm::Gripper`]: its fingers move in the same world at the commanded speed while the arm
//! holds, a grasp holds the object both fingers stop on, and commands outside the hand's limits
//! ([`asid_arm::GripperLimits`]) are refused before anything moves.
//!
//! [`LabConfig::ideal`] (`--lab ideal`) turns all of it off: exact sensors, the joints on the
//! command, no latency or jitter. `name=value` items ([`LabConfig::apply`]) change one setting;
//! [`LabConfig::validate`] names the setting and its range when one is out of it.
//!
//! ```no_run
//! use std::path::Path;
//! use asid_arm::{Arm, ArmCommand};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = asid_sim::Simulator::load(Path::new("scenes/shuffleboard.toml"))?;
//! let truth = sim.scene().space.nominal();
//! let (mut arm, _tracker) = asid_lab::SimLab::new(&sim, &truth, asid_lab::LabConfig::default())?;
//! let s = arm.state().await?;
//! arm.step(&ArmCommand::JointPosition { q_rad: s.q_cmd_rad.clone() }).await?;
//! # Ok(()) }
//! ```

mod config;
mod gripper;
mod lab;
mod tracking;

pub use config::{LabConfig, LabConfigError};
pub use gripper::LabGripper;
pub use lab::{LabTracker, SimLab};
