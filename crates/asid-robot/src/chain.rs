//! A serial kinematic chain read from a URDF: the actuated joints between the base and the flange.

use std::path::{Path, PathBuf};

use nalgebra::{Isometry3, Matrix3, Point3, Translation3, Unit, UnitQuaternion, Vector3};

use crate::RobotError;

/// Rigid transform from URDF `xyz` and `rpy` (fixed-axis roll, pitch, yaw).
pub fn urdf_pose(xyz: [f64; 3], rpy: [f64; 3]) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(xyz[0], xyz[1], xyz[2]),
        UnitQuaternion::from_euler_angles(rpy[0], rpy[1], rpy[2]),
    )
}

/// Mass properties of one link in its own frame.
#[derive(Debug, Clone, Copy)]
pub struct LinkInertial {
    /// Mass.
    pub mass_kg: f64,
    /// Centre of mass in the link frame.
    pub com_m: Point3<f64>,
    /// Inertia tensor about the centre of mass, link axes.
    pub inertia_kgm2: Matrix3<f64>,
}

/// One actuated joint of the chain, with the fixed transforms leading to it.
#[derive(Debug, Clone)]
pub struct ChainJoint {
    /// Joint name.
    pub name: String,
    /// Child link name.
    pub child_link: String,
    /// Parent-link frame to joint frame (at q = 0), including any fixed joints before it.
    pub parent_from_joint: Isometry3<f64>,
    /// Rotation axis in the joint frame.
    pub axis: Unit<Vector3<f64>>,
    /// Mass properties of the child link (and of fixed links merged into it), in the child frame.
    pub inertial: LinkInertial,
}

/// The arm between base link and flange link.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The URDF this came from.
    pub urdf_path: PathBuf,
    /// Actuated joints from base to flange.
    pub joints: Vec<ChainJoint>,
    /// Last joint's child frame to flange frame.
    pub last_from_flange: Isometry3<f64>,
}

impl Chain {
    /// Reads the URDF and extracts the chain `base_link` -> `flange_link`; `joint_names` must be its
    /// revolute joints, in order.
    pub fn from_urdf(
        urdf_path: &Path,
        base_link: &str,
        flange_link: &str,
        joint_names: &[String],
    ) -> Result<Self, RobotError> {
        let text = asid_core::read_limit::read_limited_string(
            urdf_path,
            asid_core::read_limit::URDF_MAX_BYTES,
        )
        .map_err(|e| RobotError::Urdf {
            file: urdf_path.to_path_buf(),
            message: e.to_string(),
        })?;
        let robot = crate::urdf_check::parse_urdf(urdf_path, &text)?;
        Self::from_robot(urdf_path, &robot, base_link, flange_link, joint_names)
    }

    /// As [`Chain::from_urdf`], from a parsed URDF.
    pub fn from_robot(
        urdf_path: &Path,
        robot: &urdf_rs::Robot,
        base_link: &str,
        flange_link: &str,
        joint_names: &[String],
    ) -> Result<Self, RobotError> {
        let file = urdf_path.to_path_buf();
        let link = |name: &str| robot.links.iter().find(|l| l.name == name);
        if link(base_link).is_none() {
            return Err(RobotError::MissingLink {
                file,
                link: base_link.into(),
            });
        }
        if link(flange_link).is_none() {
            return Err(RobotError::MissingLink {
                file,
                link: flange_link.into(),
            });
        }
        // Walk up from the flange to the base.
        let mut path = Vec::new();
        let mut current = flange_link.to_string();
        while current != base_link {
            let joint = robot
                .joints
                .iter()
                .find(|j| j.child.link == current)
                .ok_or_else(|| RobotError::NoChain {
                    file: file.clone(),
                    base: base_link.into(),
                    flange: flange_link.into(),
                })?;
            path.push(joint);
            current = joint.parent.link.clone();
            if path.len() > robot.joints.len() {
                return Err(RobotError::NoChain {
                    file,
                    base: base_link.into(),
                    flange: flange_link.into(),
                });
            }
        }
        path.reverse();
        let mut joints: Vec<ChainJoint> = Vec::new();
        let mut pending = Isometry3::identity();
        for j in path {
            let origin = urdf_pose(j.origin.xyz.0, j.origin.rpy.0);
            let child = link(&j.child.link).ok_or_else(|| RobotError::MissingLink {
                file: file.clone(),
                link: j.child.link.clone(),
            })?;
            match j.joint_type {
                urdf_rs::JointType::Revolute | urdf_rs::JointType::Continuous => {
                    let axis = Vector3::from(j.axis.xyz.0);
                    let axis = Unit::try_new(axis, 1e-9).ok_or_else(|| RobotError::Urdf {
                        file: file.clone(),
                        message: format!("joint `{}` has a zero axis", j.name),
                    })?;
                    joints.push(ChainJoint {
                        name: j.name.clone(),
                        child_link: j.child.link.clone(),
                        parent_from_joint: pending * origin,
                        axis,
                        inertial: inertial_of(child),
                    });
                    pending = Isometry3::identity();
                }
                urdf_rs::JointType::Fixed => {
                    pending *= origin;
                    // Merge the fixed child's mass into the last moving link (expressed in its frame).
                    if let Some(last) = joints.last_mut() {
                        last.inertial = merge(last.inertial, inertial_of(child), &pending);
                    }
                }
                _ => {
                    return Err(RobotError::Urdf {
                        file,
                        message: format!("joint `{}` is neither revolute nor fixed", j.name),
                    });
                }
            }
        }
        let names: Vec<&str> = joints.iter().map(|j| j.name.as_str()).collect();
        if names.len() != joint_names.len() || names.iter().zip(joint_names).any(|(a, b)| a != b) {
            return Err(RobotError::JointMismatch {
                file,
                expected: joint_names.to_vec(),
                found: names.iter().map(|s| s.to_string()).collect(),
            });
        }
        Ok(Self {
            urdf_path: urdf_path.to_path_buf(),
            joints,
            last_from_flange: pending,
        })
    }

    /// Number of actuated joints.
    pub fn dof(&self) -> usize {
        self.joints.len()
    }
}

fn inertial_of(link: &urdf_rs::Link) -> LinkInertial {
    let i = &link.inertial;
    let frame = urdf_pose(i.origin.xyz.0, i.origin.rpy.0);
    let t = &i.inertia;
    let local = Matrix3::new(
        t.ixx, t.ixy, t.ixz, t.ixy, t.iyy, t.iyz, t.ixz, t.iyz, t.izz,
    );
    let r = frame.rotation.to_rotation_matrix();
    LinkInertial {
        mass_kg: i.mass.value,
        com_m: Point3::from(frame.translation.vector),
        inertia_kgm2: r.matrix() * local * r.matrix().transpose(),
    }
}

/// Combines `b` (given in a frame placed at `a_from_b` in `a`'s frame) into `a`.
fn merge(a: LinkInertial, b: LinkInertial, a_from_b: &Isometry3<f64>) -> LinkInertial {
    let m = a.mass_kg + b.mass_kg;
    if m <= 0.0 {
        return a;
    }
    let b_com = a_from_b * b.com_m;
    let com = Point3::from((a.com_m.coords * a.mass_kg + b_com.coords * b.mass_kg) / m);
    let r = a_from_b.rotation.to_rotation_matrix();
    let b_inertia = r.matrix() * b.inertia_kgm2 * r.matrix().transpose();
    let shift =
        |mass: f64, d: Vector3<f64>| mass * (Matrix3::identity() * d.dot(&d) - d * d.transpose());
    LinkInertial {
        mass_kg: m,
        com_m: com,
        inertia_kgm2: a.inertia_kgm2
            + shift(a.mass_kg, a.com_m - com)
            + b_inertia
            + shift(b.mass_kg, b_com - com),
    }
}
