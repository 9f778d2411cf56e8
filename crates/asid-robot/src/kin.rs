//! Forward kinematics, Jacobians, damped least-squares inverse kinematics and gravity torques.

use nalgebra::{
    DMatrix, DVector, Isometry3, Matrix6, Point3, Translation3, UnitQuaternion, Vector3, Vector6,
};

use crate::RobotError;
use crate::chain::Chain;

/// Options of the damped least-squares IK.
#[derive(Debug, Clone, Copy)]
pub struct IkOptions {
    /// Damping factor lambda.
    pub damping: f64,
    /// Iteration cap.
    pub max_iterations: usize,
    /// Position tolerance.
    pub tolerance_m: f64,
    /// Orientation tolerance.
    pub tolerance_rad: f64,
    /// Stay this far inside the joint limits.
    pub limit_margin_rad: f64,
}

impl Default for IkOptions {
    fn default() -> Self {
        Self {
            damping: 0.02,
            max_iterations: 300,
            tolerance_m: 1e-5,
            tolerance_rad: 1e-4,
            limit_margin_rad: 1e-3,
        }
    }
}

/// An arm placed in the world, with a tool centre point: kinematics and statics.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The kinematic chain.
    pub chain: Chain,
    /// Where the robot base is.
    pub world_from_base: Isometry3<f64>,
    /// Tool centre point in the flange frame.
    pub flange_from_tcp: Isometry3<f64>,
    /// Lower joint limits.
    pub q_min_rad: Vec<f64>,
    /// Upper joint limits.
    pub q_max_rad: Vec<f64>,
}

impl Arm {
    /// Number of joints.
    pub fn dof(&self) -> usize {
        self.chain.dof()
    }

    /// World frames of each moving link (the child of each joint), and of each joint axis:
    /// returns `(world_from_link[i], joint_origin_world[i], joint_axis_world[i])`.
    pub fn frames(&self, q: &[f64]) -> Vec<(Isometry3<f64>, Point3<f64>, Vector3<f64>)> {
        let mut world_from_parent = self.world_from_base;
        let mut out = Vec::with_capacity(self.dof());
        for (joint, &qi) in self.chain.joints.iter().zip(q) {
            let world_from_joint = world_from_parent * joint.parent_from_joint;
            let axis_world = world_from_joint.rotation * joint.axis.into_inner();
            let origin = Point3::from(world_from_joint.translation.vector);
            let rot = UnitQuaternion::from_axis_angle(&joint.axis, qi);
            let world_from_link =
                world_from_joint * Isometry3::from_parts(Translation3::identity(), rot);
            out.push((world_from_link, origin, axis_world));
            world_from_parent = world_from_link;
        }
        out
    }

    /// Flange pose in the world.
    pub fn world_from_flange(&self, q: &[f64]) -> Isometry3<f64> {
        let last = self.frames(q).last().map_or(self.world_from_base, |f| f.0);
        last * self.chain.last_from_flange
    }

    /// Tool-centre-point pose in the world.
    pub fn world_from_tcp(&self, q: &[f64]) -> Isometry3<f64> {
        self.world_from_flange(q) * self.flange_from_tcp
    }

    /// Geometric Jacobian of the tool centre point (rows: linear velocity, angular velocity).
    pub fn tcp_jacobian(&self, q: &[f64]) -> DMatrix<f64> {
        let frames = self.frames(q);
        let tcp = self.world_from_tcp(q).translation.vector;
        let mut j = DMatrix::zeros(6, self.dof());
        for (i, (_, origin, axis)) in frames.iter().enumerate() {
            let lin = axis.cross(&(tcp - origin.coords));
            j.fixed_view_mut::<3, 1>(0, i).copy_from(&lin);
            j.fixed_view_mut::<3, 1>(3, i).copy_from(axis);
        }
        j
    }

    /// Damped least-squares IK for a full tool pose, starting at `q_seed`, keeping inside the joint limits.
    pub fn inverse_kinematics(
        &self,
        q_seed: &[f64],
        target: &Isometry3<f64>,
        opts: &IkOptions,
    ) -> Result<Vec<f64>, RobotError> {
        let n = self.dof();
        let mut q: Vec<f64> = q_seed.to_vec();
        self.project(&mut q, opts.limit_margin_rad);
        let mut err = self.pose_error(&q, target);
        for _ in 0..opts.max_iterations {
            let (pos, rot) = (err.fixed_rows::<3>(0).norm(), err.fixed_rows::<3>(3).norm());
            if pos < opts.tolerance_m && rot < opts.tolerance_rad {
                return Ok(q);
            }
            let j = self.tcp_jacobian(&q);
            let jjt: Matrix6<f64> = (&j * j.transpose()).fixed_view::<6, 6>(0, 0).into_owned()
                + Matrix6::identity() * opts.damping * opts.damping;
            let Some(y) = jjt.cholesky().map(|c| c.solve(&err)) else {
                break;
            };
            let dq: DVector<f64> = j.transpose() * DVector::from_column_slice(y.as_slice());
            // Limit the step so the linearisation holds.
            let scale = (0.2 / dq.amax().max(1e-12)).min(1.0);
            for i in 0..n {
                q[i] += scale * dq[i];
            }
            self.project(&mut q, opts.limit_margin_rad);
            err = self.pose_error(&q, target);
        }
        let (pos, rot) = (err.fixed_rows::<3>(0).norm(), err.fixed_rows::<3>(3).norm());
        if pos < opts.tolerance_m && rot < opts.tolerance_rad {
            return Ok(q);
        }
        let t = target.translation.vector;
        Err(RobotError::IkFailed {
            target_xyz_m: [t.x, t.y, t.z],
            position_error_m: pos,
            orientation_error_rad: rot,
        })
    }

    fn project(&self, q: &mut [f64], margin: f64) {
        for (i, v) in q.iter_mut().enumerate() {
            *v = v.clamp(self.q_min_rad[i] + margin, self.q_max_rad[i] - margin);
        }
    }

    fn pose_error(&self, q: &[f64], target: &Isometry3<f64>) -> Vector6<f64> {
        let current = self.world_from_tcp(q);
        let dp = target.translation.vector - current.translation.vector;
        let dr = (target.rotation * current.rotation.inverse()).scaled_axis();
        Vector6::new(dp.x, dp.y, dp.z, dr.x, dr.y, dr.z)
    }

    /// Joint torques that hold the arm still against `gravity_m_s2` (world frame), optionally with an
    /// extra point mass `(mass_kg, com in the flange frame)` held at the flange.
    pub fn gravity_torques(
        &self,
        q: &[f64],
        gravity_m_s2: Vector3<f64>,
        extra: Option<(f64, Point3<f64>)>,
    ) -> Vec<f64> {
        let frames = self.frames(q);
        let mut masses: Vec<(f64, Point3<f64>, usize)> = self
            .chain
            .joints
            .iter()
            .zip(&frames)
            .enumerate()
            .map(|(k, (j, f))| (j.inertial.mass_kg, f.0 * j.inertial.com_m, k))
            .collect();
        if let Some((m, com_flange)) = extra {
            masses.push((m, self.world_from_flange(q) * com_flange, self.dof() - 1));
        }
        (0..self.dof())
            .map(|i| {
                let (_, origin, axis) = &frames[i];
                -masses
                    .iter()
                    .filter(|(_, _, k)| *k >= i)
                    .map(|(m, c, _)| (gravity_m_s2 * *m).dot(&axis.cross(&(c - origin))))
                    .sum::<f64>()
            })
            .collect()
    }
}
