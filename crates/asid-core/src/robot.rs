//! Robot files (`robots/<name>/robot.toml`) and tool files (`robots/tools/<name>.toml`): what the URDF cannot carry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::geometry::{PoseSpec, Shape};

/// A robot file: URDF location, joint names, controller gains and safety limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotSpec {
    /// Robot name.
    pub name: String,
    /// URDF path relative to the robot file.
    pub urdf: String,
    /// Root link of the arm.
    pub base_link: String,
    /// Flange link (tools mount here).
    pub flange_link: String,
    /// Actuated joints from base to flange.
    pub joints: Vec<String>,
    /// Home configuration.
    pub home_rad: Vec<f64>,
    /// Control modes the arm offers.
    pub control_modes: Vec<String>,
    /// Rate of the arm's own control loop.
    pub control_rate_hz: f64,
    /// Joint controller.
    pub controller: ControllerSpec,
    /// Safety and hardware limits.
    pub limits: LimitsSpec,
    /// Flange poses computed from the published kinematics, for tests.
    #[serde(default)]
    pub published_flange_poses: BTreeMap<String, PublishedPose>,
}

/// Joint PD controller and drive properties.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerSpec {
    /// Stiffness per joint.
    pub kp_nm_per_rad: Vec<f64>,
    /// Damping per joint.
    pub kd_nms_per_rad: Vec<f64>,
    /// Reflected rotor inertia per joint.
    pub armature_kgm2: Vec<f64>,
    /// Viscous joint friction per joint.
    pub joint_damping_nms_per_rad: Vec<f64>,
}

/// Hardware limits (Franka datasheet style).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Lower joint limits.
    pub position_min_rad: Vec<f64>,
    /// Upper joint limits.
    pub position_max_rad: Vec<f64>,
    /// Joint speed limits.
    pub velocity_rad_s: Vec<f64>,
    /// Joint acceleration limits.
    pub acceleration_rad_s2: Vec<f64>,
    /// Joint jerk limits.
    pub jerk_rad_s3: Vec<f64>,
    /// Joint torque limits.
    pub torque_nm: Vec<f64>,
    /// Joint torque-rate limits.
    pub torque_rate_nm_s: Vec<f64>,
    /// Cartesian translational speed limit of the flange.
    pub tool_speed_m_s: f64,
    /// Cartesian translational acceleration limit.
    pub tool_acceleration_m_s2: f64,
    /// Cartesian translational jerk limit.
    pub tool_jerk_m_s3: f64,
    /// Cartesian rotational speed limit.
    pub tool_rotation_speed_rad_s: f64,
    /// External force above which the safety layer stops the arm.
    pub collision_force_n: f64,
}

/// A flange position at a named configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedPose {
    /// Joint configuration.
    pub q_rad: Vec<f64>,
    /// Flange position in the base frame.
    pub xyz_m: [f64; 3],
}

/// A tool file: rigid shapes fixed to the flange, the tool centre point, optional fingers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// Tool name.
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Mass of the tool body.
    pub mass_kg: f64,
    /// Centre of mass in the flange frame.
    #[serde(default)]
    pub com_m: [f64; 3],
    /// Tool centre point in the flange frame (the point end-effector actions move).
    pub tcp_m: [f64; 3],
    /// Rigid shapes in the flange frame.
    #[serde(rename = "shape")]
    pub shapes: Vec<ToolShape>,
    /// Parallel fingers, for grippers.
    #[serde(default)]
    pub gripper: Option<GripperSpec>,
}

/// One rigid shape of a tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolShape {
    /// Geometry.
    pub geometry: Shape,
    /// Pose in the flange frame.
    pub pose: PoseSpec,
    /// Friction coefficient.
    #[serde(default = "one")]
    pub friction: f64,
}

fn one() -> f64 {
    1.0
}

/// A parallel two-finger gripper; fingers slide along the flange y axis.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GripperSpec {
    /// Largest opening.
    pub max_width_m: f64,
    /// Largest grasp force.
    pub max_force_n: f64,
    /// Finger geometry (each finger).
    pub finger: Shape,
    /// Height of the finger centres along the flange z axis.
    pub finger_z_m: f64,
    /// Friction of the finger pads.
    #[serde(default = "one")]
    pub friction: f64,
}
