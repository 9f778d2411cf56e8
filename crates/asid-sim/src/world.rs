//! The simulated world: owns the rapier sets and maps scene names to handles.

use std::sync::Arc;

use asid_core::Scene;
use asid_core::scene::{ArmModel, JointKind};
use asid_robot::Arm;
use nalgebra::{Isometry3, Point3, UnitQuaternion, Vector3};
use rapier3d::prelude::*;

/// How an object is represented.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ObjectBody {
    /// A rigid body of its own.
    Free(RigidBodyHandle),
    /// A collider on the arm's flange body (a held payload).
    Attached,
}

/// An articulation joint between an object and its parent.
#[derive(Debug, Clone)]
pub(crate) struct JointState {
    pub handle: Option<ImpulseJointHandle>,
    /// The dry-friction joint beside it (only while `friction > 0` and the joint is present).
    pub friction_handle: Option<ImpulseJointHandle>,
    pub parent: RigidBodyHandle,
    pub kind: JointKind,
    /// Joint frame in the world at the initial poses (x axis = joint axis), before any axis offset.
    pub world_frame0: Isometry3<f64>,
    pub parent_pose0: Isometry3<f64>,
    pub child_pose0: Isometry3<f64>,
    pub offset_direction: Vector3<f64>,
    pub axis_offset_m: f64,
    pub limits: [f64; 2],
    pub damping: f64,
    pub friction: f64,
    pub present: bool,
}

/// Current physical properties of an object (what parameters change).
#[derive(Debug, Clone)]
pub(crate) struct ObjectState {
    pub name: String,
    pub body: ObjectBody,
    pub collider: ColliderHandle,
    pub shape: asid_core::Shape,
    pub mass_kg: f64,
    pub ballast_kg: f64,
    pub inertia_scale: f64,
    pub com_m: [f64; 3],
    pub friction: f64,
    pub restitution: f64,
    pub rolling_resistance: f64,
    /// Spin-in-place friction torque per unit normal force (m); `None`: the support's own.
    pub torsional_friction_m: Option<f64>,
    /// How the object rests on the table (planar friction model or the engine's).
    pub support: asid_core::scene::SupportKind,
    pub joint: Option<JointState>,
}

/// The arm's bodies in the physics world.
#[derive(Debug, Clone)]
pub(crate) enum ArmBodies {
    /// Kinematic position-based bodies placed by forward kinematics: one per moving link, then the flange.
    Kinematic {
        links: Vec<RigidBodyHandle>,
        flange: RigidBodyHandle,
    },
    /// A multibody driven by PD motors.
    Dynamic {
        multibody: MultibodyJointHandle,
        /// Multibody link index of each moving joint.
        link_ids: Vec<usize>,
        flange: RigidBodyHandle,
    },
}

impl ArmBodies {
    pub(crate) fn flange(&self) -> RigidBodyHandle {
        match self {
            Self::Kinematic { flange, .. } | Self::Dynamic { flange, .. } => *flange,
        }
    }
}

/// A table patch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatchState {
    pub min_xy: [f32; 2],
    pub max_xy: [f32; 2],
    pub friction: f32,
}

/// One simulated world: physics state, arm command state and time. Cloning it is a full snapshot.
pub struct SimWorld {
    pub(crate) scene: Arc<Scene>,
    pub(crate) arm: Arc<Arm>,
    pub(crate) physics: PhysicsWorld,
    pub(crate) table: ColliderHandle,
    pub(crate) table_friction: f64,
    pub(crate) patches: Vec<PatchState>,
    /// Colliders of the tool (and gripper fingers): their contacts with objects use the tool's
    /// own friction coefficient.
    pub(crate) tool_colliders: Vec<ColliderHandle>,
    pub(crate) objects: Vec<ObjectState>,
    pub(crate) arm_bodies: ArmBodies,
    /// Commanded joint positions at the end of the current control step.
    pub(crate) q_cmd: Vec<f64>,
    /// Joint positions of the kinematic arm (or last measured for the dynamic arm).
    pub(crate) q: Vec<f64>,
    pub(crate) qd: Vec<f64>,
    /// Torques the joint controller applied in the last physics step.
    pub(crate) tau: Vec<f64>,
    /// Joint-position targets and velocities feeding the motors during the current control step.
    pub(crate) q_target: Vec<f64>,
    pub(crate) qd_target: Vec<f64>,
    pub(crate) tcp_target: Isometry3<f64>,
    /// Current opening of the gripper (0 without one).
    pub(crate) gripper_width_m: f64,
    /// The gripper's moving fingers (None without a gripper).
    pub(crate) fingers: Option<crate::gripper::Fingers>,
    pub(crate) tool_mass: (f64, Point3<f64>),
    pub(crate) time_s: f64,
    pub(crate) control_steps: usize,
    /// Whether the free objects are watched for a first touch ([`SimWorld::watch_untouched`]).
    pub(crate) watch: Watch,
}

/// Watching the free objects for the first touch or motion (see [`SimWorld::watch_untouched`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Watch {
    /// Not watched.
    Off,
    /// Watched, and every free object has stayed near its pose when the watch began (`from`, the
    /// objects' poses in scene order), touched by nothing but the table.
    Untouched { from: Vec<Isometry3<f64>> },
    /// Watched, and some free object has been touched or moved.
    Touched,
}

impl Clone for SimWorld {
    fn clone(&self) -> Self {
        let p = &self.physics;
        let physics = PhysicsWorld {
            gravity: p.gravity,
            integration_parameters: p.integration_parameters,
            physics_pipeline: PhysicsPipeline::new(),
            collision_pipeline: CollisionPipeline::new(),
            islands: p.islands.clone(),
            broad_phase: p.broad_phase.clone(),
            narrow_phase: p.narrow_phase.clone(),
            bodies: p.bodies.clone(),
            colliders: p.colliders.clone(),
            impulse_joints: p.impulse_joints.clone(),
            multibody_joints: p.multibody_joints.clone(),
            soft_bodies: p.soft_bodies.clone(),
            ccd_solver: p.ccd_solver.clone(),
        };
        Self {
            scene: Arc::clone(&self.scene),
            arm: Arc::clone(&self.arm),
            physics,
            table: self.table,
            table_friction: self.table_friction,
            patches: self.patches.clone(),
            tool_colliders: self.tool_colliders.clone(),
            objects: self.objects.clone(),
            arm_bodies: self.arm_bodies.clone(),
            q_cmd: self.q_cmd.clone(),
            q: self.q.clone(),
            qd: self.qd.clone(),
            tau: self.tau.clone(),
            q_target: self.q_target.clone(),
            qd_target: self.qd_target.clone(),
            tcp_target: self.tcp_target,
            gripper_width_m: self.gripper_width_m,
            fingers: self.fingers.clone(),
            tool_mass: self.tool_mass,
            time_s: self.time_s,
            control_steps: self.control_steps,
            watch: self.watch.clone(),
        }
    }
}

/// A saved world state; restoring it and continuing gives bit-identical results.
#[derive(Clone)]
pub struct Snapshot(pub(crate) Box<SimWorld>);

impl SimWorld {
    /// The scene this world was built from.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The arm's kinematic model.
    pub fn arm(&self) -> &Arm {
        &self.arm
    }

    /// Simulated time since the start.
    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    /// Control steps taken.
    pub fn control_steps(&self) -> usize {
        self.control_steps
    }

    /// Arm model of this world.
    pub fn arm_model(&self) -> ArmModel {
        self.scene.spec.arm.model
    }

    /// Current joint positions.
    pub fn joint_positions(&self) -> &[f64] {
        &self.q
    }

    /// Current joint velocities.
    pub fn joint_velocities(&self) -> &[f64] {
        &self.qd
    }

    /// Joint torques of the arm's controller (dynamic arm; zeros for the kinematic one).
    pub fn joint_torques(&self) -> &[f64] {
        &self.tau
    }

    /// Commanded joint positions (end of the current control period).
    pub fn commanded_joint_positions(&self) -> &[f64] {
        &self.q_cmd
    }

    /// Current tool-centre-point target.
    pub fn tcp_target(&self) -> Isometry3<f64> {
        self.tcp_target
    }

    /// Number of rigid bodies and colliders, and joints (arm joints + articulation joints).
    pub fn counts(&self) -> (usize, usize, usize) {
        let articulations = self.objects.iter().filter(|o| o.joint.is_some()).count();
        (
            self.physics.bodies.len(),
            self.physics.colliders.len(),
            self.arm.dof() + articulations,
        )
    }

    /// Pose of the flange body in the physics world (rapier's own forward kinematics for the dynamic arm).
    pub fn flange_pose(&self) -> Isometry3<f64> {
        crate::convert::from_pose(self.physics.bodies[self.arm_bodies.flange()].position())
    }

    /// Puts the arm at configuration `q` at rest, holding it there (a reset between episodes).
    pub fn set_arm_configuration(&mut self, q: &[f64]) -> Result<(), crate::SimError> {
        if q.len() != self.arm.dof() {
            return Err(crate::SimError::ActionLength {
                got: q.len(),
                expected: self.arm.dof(),
            });
        }
        for (index, &value) in q.iter().enumerate() {
            let (low, high) = (self.arm.q_min_rad[index], self.arm.q_max_rad[index]);
            if !(value >= low && value <= high) {
                return Err(crate::SimError::ActionOutOfRange {
                    index,
                    value,
                    low,
                    high,
                });
            }
        }
        crate::arm::teleport(&self.arm, &self.arm_bodies, &mut self.physics, q);
        self.q = q.to_vec();
        self.q_cmd = q.to_vec();
        self.q_target = q.to_vec();
        self.qd.iter_mut().for_each(|v| *v = 0.0);
        self.qd_target.iter_mut().for_each(|v| *v = 0.0);
        self.tcp_target = self.arm.world_from_tcp(q);
        Ok(())
    }

    /// Saves the full state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(Box::new(self.clone()))
    }

    /// Restores a saved state.
    pub fn restore(&mut self, snapshot: &Snapshot) {
        *self = (*snapshot.0).clone();
    }

    pub(crate) fn object_index(&self, name: &str) -> Option<usize> {
        self.objects.iter().position(|o| o.name == name)
    }

    /// World pose of an object by name.
    pub fn object_pose(&self, name: &str) -> Option<Isometry3<f64>> {
        self.object_index(name).map(|i| self.object_pose_at(i))
    }

    pub(crate) fn object_pose_at(&self, i: usize) -> Isometry3<f64> {
        let o = &self.objects[i];
        match o.body {
            ObjectBody::Free(h) => crate::convert::from_pose(self.physics.bodies[h].position()),
            ObjectBody::Attached => {
                let c = &self.physics.colliders[o.collider];
                crate::convert::from_pose(c.position())
            }
        }
    }

    /// Positions of the free objects (scene order; fixed and held objects left out).
    pub fn free_object_positions(&self) -> Vec<[f64; 3]> {
        self.objects
            .iter()
            .filter_map(|o| match o.body {
                ObjectBody::Free(h) if self.physics.bodies[h].is_dynamic() => {
                    let p = self.physics.bodies[h].translation();
                    Some([f64::from(p.x), f64::from(p.y), f64::from(p.z)])
                }
                _ => None,
            })
            .collect()
    }

    /// Linear velocity of an object by name.
    pub fn object_velocity(&self, name: &str) -> Option<Vector3<f64>> {
        let i = self.object_index(name)?;
        Some(self.object_velocity_at(i))
    }

    pub(crate) fn object_velocity_at(&self, i: usize) -> Vector3<f64> {
        match self.objects[i].body {
            ObjectBody::Free(h) => crate::convert::from_vec(self.physics.bodies[h].linvel()),
            ObjectBody::Attached => {
                let f = &self.physics.bodies[self.arm_bodies.flange()];
                let p = self.physics.colliders[self.objects[i].collider].translation();
                crate::convert::from_vec(f.velocity_at_point(p))
            }
        }
    }

    /// Angular velocity of an object by name.
    pub fn object_angular_velocity(&self, name: &str) -> Option<Vector3<f64>> {
        let i = self.object_index(name)?;
        match self.objects[i].body {
            ObjectBody::Free(h) => Some(crate::convert::from_vec(self.physics.bodies[h].angvel())),
            ObjectBody::Attached => Some(crate::convert::from_vec(
                self.physics.bodies[self.arm_bodies.flange()].angvel(),
            )),
        }
    }

    /// Puts a free object at `pose` (world frame) at rest, for task checks (a rod set on its
    /// perch) and tests.
    pub fn set_object_pose(
        &mut self,
        name: &str,
        pose: &Isometry3<f64>,
    ) -> Result<(), crate::SimError> {
        let i = self
            .object_index(name)
            .ok_or_else(|| crate::SimError::UnknownObject(name.into()))?;
        match self.objects[i].body {
            ObjectBody::Free(h) if self.physics.bodies[h].is_dynamic() => {
                let b = &mut self.physics.bodies[h];
                b.set_position(crate::convert::to_pose(pose), true);
                b.set_linvel(Default::default(), true);
                b.set_angvel(Default::default(), true);
                Ok(())
            }
            _ => Err(crate::SimError::NotFree(name.into())),
        }
    }

    /// Sets the velocity of a free object (for experiments and tests: a struck puck, a thrown ball).
    pub fn set_object_velocity(
        &mut self,
        name: &str,
        linear_m_s: Vector3<f64>,
        angular_rad_s: Vector3<f64>,
    ) -> Result<(), crate::SimError> {
        let i = self
            .object_index(name)
            .ok_or_else(|| crate::SimError::UnknownObject(name.into()))?;
        match self.objects[i].body {
            ObjectBody::Free(h) => {
                let b = &mut self.physics.bodies[h];
                b.set_linvel(crate::convert::to_vec(&linear_m_s), true);
                b.set_angvel(crate::convert::to_vec(&angular_rad_s), true);
                Ok(())
            }
            ObjectBody::Attached => Err(crate::SimError::NotFree(name.into())),
        }
    }

    /// Angle (rad) or displacement (m) of an object's articulation joint from its initial configuration.
    pub fn articulation_position(&self, object: &str) -> Option<f64> {
        let i = self.object_index(object)?;
        let j = self.objects[i].joint.as_ref()?;
        let child = self.object_pose_at(i);
        let parent = crate::convert::from_pose(self.physics.bodies[j.parent].position());
        // Child pose relative to the parent now vs at the start, expressed in the joint frame.
        let rel_now = parent.inverse() * child;
        let rel0 = j.parent_pose0.inverse() * j.child_pose0;
        let joint_in_parent = j.parent_pose0.inverse() * j.world_frame0;
        let delta = joint_in_parent.inverse() * rel_now * rel0.inverse() * joint_in_parent;
        Some(match j.kind {
            JointKind::Revolute => {
                let (axis, angle) = delta
                    .rotation
                    .axis_angle()
                    .map_or((Vector3::x_axis(), 0.0), |(a, ang)| (a, ang));
                angle * axis.x.signum()
            }
            JointKind::Prismatic => delta.translation.vector.x,
        })
    }

    /// The joint frame of a joint in the world at the initial poses, with the axis offset applied.
    pub(crate) fn joint_world_frame(j: &JointState) -> Isometry3<f64> {
        let mut f = j.world_frame0;
        f.translation.vector += j.offset_direction * j.axis_offset_m;
        f
    }
}

/// Rotation taking the x axis onto `axis`.
pub(crate) fn frame_with_x_axis(axis: &Vector3<f64>) -> UnitQuaternion<f64> {
    UnitQuaternion::rotation_between(&Vector3::x(), axis).unwrap_or_else(|| {
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), std::f64::consts::PI)
    })
}
