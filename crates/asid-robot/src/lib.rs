//! Robot models for asid: the URDF kinematic chain of an arm, forward kinematics, tool Jacobians,
//! damped least-squares inverse kinematics with joint limits, and gravity torques.
//!
//! Independent of the physics engine, so the simulator, the planner and the hardware safety layer
//! share one model.
//!
//! ```no_run
//! use std::path::Path;
//! let scene = asid_core::load_scene(Path::new("scenes/rod.toml"))?;
//! let arm = asid_robot::arm_for_scene(&scene)?;
//! let tcp = arm.world_from_tcp(&scene.robot.home_rad);
//! println!("tool at {}", tcp.translation.vector);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chain;
pub mod kin;
pub mod urdf_check;

use std::path::PathBuf;

use nalgebra::{Isometry3, Translation3};

pub use chain::{Chain, ChainJoint, LinkInertial, urdf_pose};
pub use kin::{Arm, IkOptions};
pub use urdf_check::{check_urdf, parse_urdf};

/// Errors of the robot model.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RobotError {
    /// The URDF could not be read or parsed.
    #[error("{file}: malformed URDF: {message}")]
    Urdf {
        /// The URDF file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A link named by the robot file is not in the URDF.
    #[error("{file}: no link `{link}`")]
    MissingLink {
        /// The URDF file.
        file: PathBuf,
        /// The link.
        link: String,
    },
    /// No joint chain joins base and flange.
    #[error("{file}: no joint chain from `{base}` to `{flange}`")]
    NoChain {
        /// The URDF file.
        file: PathBuf,
        /// Base link.
        base: String,
        /// Flange link.
        flange: String,
    },
    /// The robot file's joint list does not match the URDF chain.
    #[error("{file}: the chain's moving joints are {found:?}, the robot file lists {expected:?}")]
    JointMismatch {
        /// The URDF file.
        file: PathBuf,
        /// Joints in the robot file.
        expected: Vec<String>,
        /// Joints in the URDF chain.
        found: Vec<String>,
    },
    /// IK did not reach the target.
    #[error(
        "inverse kinematics did not reach {target_xyz_m:?}: residual {position_error_m:.2e} m, {orientation_error_rad:.2e} rad"
    )]
    IkFailed {
        /// Target position.
        target_xyz_m: [f64; 3],
        /// Remaining position error.
        position_error_m: f64,
        /// Remaining orientation error.
        orientation_error_rad: f64,
    },
}

/// Builds the arm of a scene: chain from the robot's URDF, base pose and the tool centre point.
pub fn arm_for_scene(scene: &asid_core::Scene) -> Result<Arm, RobotError> {
    let r = &scene.robot;
    let chain = Chain::from_urdf(&scene.urdf_path, &r.base_link, &r.flange_link, &r.joints)?;
    let b = &scene.spec.arm.base;
    let tcp = scene.tool.tcp_m;
    Ok(Arm {
        chain,
        world_from_base: urdf_pose(b.xyz_m, b.rpy_rad),
        flange_from_tcp: Isometry3::from_parts(
            Translation3::new(tcp[0], tcp[1], tcp[2]),
            Default::default(),
        ),
        q_min_rad: r.limits.position_min_rad.clone(),
        q_max_rad: r.limits.position_max_rad.clone(),
    })
}

/// Builds a bare arm (base at the origin, tool centre point at the flange) from a robot file.
pub fn arm_from_robot_file(
    robot_file: &std::path::Path,
) -> Result<Arm, Box<dyn std::error::Error + Send + Sync>> {
    let r: asid_core::RobotSpec = asid_core::read_toml(robot_file)?;
    let urdf = robot_file
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(&r.urdf);
    let chain = Chain::from_urdf(&urdf, &r.base_link, &r.flange_link, &r.joints)?;
    Ok(Arm {
        chain,
        world_from_base: Isometry3::identity(),
        flange_from_tcp: Isometry3::identity(),
        q_min_rad: r.limits.position_min_rad.clone(),
        q_max_rad: r.limits.position_max_rad.clone(),
    })
}
