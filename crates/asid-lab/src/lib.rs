//! The simulated lab: the embedded default "hardware" of asid.
//!
//! [`SimLab`] runs the rapier simulator with hidden true parameters behind the same
//! [`asid_arm::Arm`] trait as the real Franka, and [`LabTracker`] delivers object poses through
//! [`asid_arm::PoseSource`] like the lab's motion tracker. So that identification is never run on
//! the exact model that made the data, the lab adds what a real station has: sensor noise (the
//! scene's sigmas), tracker latency and orientation noise, control-rate jitter (a period one physics
//! step longer or shorter), and optionally imperfect joint tracking (a constant per-joint offset
//! between command and motion; off by default, see [`LabConfig::tracking_offset_sigma_rad`]).
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

mod lab;

pub use lab::{LabConfig, LabTracker, SimLab};
