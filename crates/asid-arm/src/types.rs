//! What flows through an arm: states (with timestamps on the arm's clock), commands and capabilities.

use serde::{Deserialize, Serialize};

/// What the arm is doing, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmMode {
    /// Holding still, ready for motion.
    Idle,
    /// Executing commands.
    Moving,
    /// Stopped by a reflex or safety function of the arm itself.
    Reflex,
    /// Stopped by the caller (or the safety layer); no further motion in this session.
    Stopped,
}

/// One state sample of the arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmState {
    /// Time of the sample on the arm's clock.
    pub stamp_ns: u64,
    /// Measured joint positions.
    pub q_rad: Vec<f64>,
    /// Measured joint velocities.
    pub dq_rad_s: Vec<f64>,
    /// The joint positions the arm is currently commanded to (its motion generator's output).
    pub q_cmd_rad: Vec<f64>,
    /// Measured joint torques (empty if the arm does not report them).
    #[serde(default)]
    pub tau_nm: Vec<f64>,
    /// Estimated external joint torques (empty if the arm does not report them).
    #[serde(default)]
    pub tau_ext_nm: Vec<f64>,
    /// Estimated external force on the tool, base frame (None if the arm does not report it).
    #[serde(default)]
    pub f_ext_n: Option<[f64; 3]>,
    /// Gripper opening (None without a gripper).
    #[serde(default)]
    pub gripper_width_m: Option<f64>,
    /// What the arm is doing.
    pub mode: ArmMode,
}

/// A target for the next control period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ArmCommand {
    /// Joint positions to reach at the end of the control period.
    JointPosition {
        /// Target joint positions.
        q_rad: Vec<f64>,
    },
    /// Hold the current command (no new target this period).
    Hold,
}

impl ArmCommand {
    /// The joint target, if the command has one, after checking it has one value per joint of a
    /// `dof`-joint arm (what every arm refuses otherwise, before anything moves).
    pub fn checked_joint_target(&self, dof: usize) -> Result<Option<&[f64]>, crate::ArmError> {
        let target = self.joint_target();
        if let Some(q) = target {
            check_dof(q, dof)?;
        }
        Ok(target)
    }

    /// The joint target, if the command has one.
    pub fn joint_target(&self) -> Option<&[f64]> {
        match self {
            Self::JointPosition { q_rad } => Some(q_rad),
            Self::Hold => None,
        }
    }
}

/// Refuses joint values that are not one per joint of a `dof`-joint arm.
pub fn check_dof(q_rad: &[f64], dof: usize) -> Result<(), crate::ArmError> {
    if q_rad.len() == dof {
        return Ok(());
    }
    Err(crate::ArmError::BadCommand(format!(
        "{} joint values, the arm has {dof}",
        q_rad.len()
    )))
}

/// Which implementation is behind the trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The simulated lab.
    Sim,
    /// A Franka arm (or a peer speaking its protocol).
    Franka,
    /// A recorded episode played back.
    Replay,
}

/// What an arm can do, fixed for the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Which implementation.
    pub backend: Backend,
    /// Robot name (`panda`, `fr3`).
    pub robot: String,
    /// Number of joints.
    pub dof: usize,
    /// Control period at which `step` is called.
    pub control_period_s: f64,
    /// The arm reports external torques / force.
    pub reports_external_force: bool,
    /// A gripper is attached.
    pub has_gripper: bool,
}
