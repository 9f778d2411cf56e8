//! Building a [`SimWorld`] from a validated scene.

use std::sync::Arc;

use asid_core::Scene;
use asid_core::scene::{ActionSpec, ArmModel, Attach, FrictionModel as SceneFriction, JointKind};
use asid_robot::{Arm, IkOptions, urdf_pose};
use nalgebra::{Isometry3, Point3, Translation3, Vector3};
use rapier3d::prelude::*;
use rapier3d_urdf::{UrdfLoaderOptions, UrdfMultibodyOptions, UrdfRobot};

use crate::SimError;
use crate::convert::{
    collider_for, combine_rule, from_pose, object_mass_properties, to_pose, to_vec,
};
use crate::gripper::Fingers;
use crate::world::{
    ArmBodies, JointState, ObjectBody, ObjectState, PatchState, SimWorld, frame_with_x_axis,
};

/// Initial joint configuration of a scene: the scene's or the robot's home, moved by IK so the tool
/// centre point is at the action's start with the home orientation.
pub fn initial_configuration(scene: &Scene, arm: &Arm) -> Result<Vec<f64>, SimError> {
    Ok(start_of(scene, arm)?.0)
}

/// Initial joint configuration and the exact tool target it realises (where an executor on a real
/// arm starts from, so it sends the joint targets the simulator would).
pub fn start_of(scene: &Scene, arm: &Arm) -> Result<(Vec<f64>, Isometry3<f64>), SimError> {
    let q0 = scene
        .spec
        .arm
        .initial_q_rad
        .clone()
        .unwrap_or_else(|| scene.robot.home_rad.clone());
    let start = match &scene.spec.arm.action {
        ActionSpec::EeDeltaXy { start_xyz_m, .. } | ActionSpec::EeDeltaXyz { start_xyz_m, .. } => {
            Some(*start_xyz_m)
        }
        ActionSpec::JointPosition { .. } => None,
    };
    match start {
        None => {
            let t = arm.world_from_tcp(&q0);
            Ok((q0, t))
        }
        Some(p) => {
            let rotation = arm.world_from_tcp(&scene.robot.home_rad).rotation;
            let target = Isometry3::from_parts(Translation3::new(p[0], p[1], p[2]), rotation);
            let q = arm
                .inverse_kinematics(&q0, &target, &IkOptions::default())
                .map_err(|e| SimError::Start(e.to_string()))?;
            Ok((q, target))
        }
    }
}

impl SimWorld {
    /// Builds the world of `scene` with the scene's own parameter values.
    pub fn build(scene: Arc<Scene>, arm: Arc<Arm>) -> Result<Self, SimError> {
        let spec = &scene.spec;
        let mut physics = PhysicsWorld::default();
        let g = spec.physics.gravity_m_s2;
        physics.gravity = Vector::new(g[0] as f32, g[1] as f32, g[2] as f32);
        physics.integration_parameters.dt = spec.physics.dt_s as f32;
        physics.integration_parameters.num_solver_iterations = spec.physics.solver_iterations;
        physics.integration_parameters.num_internal_pgs_iterations = spec.physics.pgs_iterations;
        physics.integration_parameters.contact_recycling = spec.physics.contact_recycling;
        physics.integration_parameters.friction_model = match spec.physics.friction_model {
            SceneFriction::Coulomb => rapier3d::dynamics::FrictionModel::Coulomb,
            SceneFriction::Simplified => rapier3d::dynamics::FrictionModel::Simplified,
        };
        let rule = combine_rule(spec.physics.friction_combine);

        // Table: a fixed box whose top is z = 0.
        let t = &spec.table;
        let table_body = physics
            .bodies
            .insert(RigidBodyBuilder::fixed().translation(Vector::new(
                t.center_xy_m[0] as f32,
                t.center_xy_m[1] as f32,
                (-0.5 * t.size_m[2]) as f32,
            )));
        let mut table_collider = ColliderBuilder::cuboid(
            (0.5 * t.size_m[0]) as f32,
            (0.5 * t.size_m[1]) as f32,
            (0.5 * t.size_m[2]) as f32,
        )
        .friction(t.friction as f32)
        .friction_combine_rule(rule)
        .restitution(t.restitution as f32);
        // The contact hook sets the table's friction per patch and hands objects that rest on a
        // face to the planar friction model (`crate::support`).
        table_collider = table_collider.active_hooks(ActiveHooks::MODIFY_SOLVER_CONTACTS);
        let table =
            physics
                .colliders
                .insert_with_parent(table_collider, table_body, &mut physics.bodies);
        let patches = t
            .patches
            .iter()
            .map(|p| PatchState {
                min_xy: [
                    (p.center_xy_m[0] - 0.5 * p.size_xy_m[0]) as f32,
                    (p.center_xy_m[1] - 0.5 * p.size_xy_m[1]) as f32,
                ],
                max_xy: [
                    (p.center_xy_m[0] + 0.5 * p.size_xy_m[0]) as f32,
                    (p.center_xy_m[1] + 0.5 * p.size_xy_m[1]) as f32,
                ],
                friction: p.friction as f32,
            })
            .collect();

        for s in &spec.statics {
            let body = physics.bodies.insert(
                RigidBodyBuilder::fixed().pose(to_pose(&urdf_pose(s.pose.xyz_m, s.pose.rpy_rad))),
            );
            let c = collider_for(&s.shape)
                .friction(s.friction as f32)
                .friction_combine_rule(rule)
                .restitution(s.restitution as f32);
            physics
                .colliders
                .insert_with_parent(c, body, &mut physics.bodies);
        }

        let (q0, tcp_target) = start_of(&scene, &arm)?;
        let arm_bodies = insert_arm(&scene, &arm, &mut physics, &q0)?;
        let flange = arm_bodies.flange();
        let tool = &scene.tool;
        let mut tool_colliders = Vec::new();
        // Tool: rigid shapes on the flange; its mass as one collider's mass properties.
        for (k, s) in tool.shapes.iter().enumerate() {
            let pose =
                to_pose(&urdf_pose(s.pose.xyz_m, s.pose.rpy_rad)) * collider_local(&s.geometry);
            let mut c = collider_for(&s.geometry)
                .position(pose)
                .friction(s.friction as f32)
                .friction_combine_rule(rule)
                .active_hooks(ActiveHooks::MODIFY_SOLVER_CONTACTS);
            if k == 0 {
                let com = Vector3::from(tool.com_m);
                let i = 0.001 * tool.mass_kg;
                c = c.mass_properties(MassProperties::new(
                    to_vec(&(pose_inv_point(&pose, &com))),
                    tool.mass_kg as f32,
                    Vector::splat(i as f32),
                ));
            }
            tool_colliders.push(physics.colliders.insert_with_parent(
                c,
                flange,
                &mut physics.bodies,
            ));
        }
        let (gripper_width_m, fingers) = match (&tool.gripper, spec.arm.gripper_width_m) {
            (Some(g), w) => {
                let w = w.unwrap_or(g.max_width_m);
                let half_y = match g.finger {
                    asid_core::Shape::Box { half_extents_m } => half_extents_m[1],
                    _ => 0.01,
                };
                let mut colliders = Vec::with_capacity(2);
                for side in [-1.0, 1.0] {
                    let y = side * (0.5 * w + half_y);
                    let c = collider_for(&g.finger)
                        .translation(Vector::new(0.0, y as f32, g.finger_z_m as f32))
                        .friction(g.friction as f32)
                        .friction_combine_rule(rule)
                        .active_hooks(ActiveHooks::MODIFY_SOLVER_CONTACTS);
                    let h = physics
                        .colliders
                        .insert_with_parent(c, flange, &mut physics.bodies);
                    tool_colliders.push(h);
                    colliders.push(h);
                }
                let fingers = Fingers {
                    colliders: [colliders[0], colliders[1]],
                    half_y_m: half_y,
                    max_width_m: g.max_width_m,
                    max_force_n: g.max_force_n,
                    target_width_m: w,
                    speed_m_s: 0.0,
                    grasp_force_n: None,
                    moving: false,
                    blocked_by: None,
                    held: None,
                };
                (w, Some(fingers))
            }
            (None, _) => (0.0, None),
        };

        // Objects.
        let flange_from_tcp = arm.flange_from_tcp;
        let mut objects = Vec::with_capacity(spec.objects.len());
        for o in &spec.objects {
            let pose = urdf_pose(o.pose.xyz_m, o.pose.rpy_rad);
            let mprops =
                object_mass_properties(&o.shape, o.mass_kg, o.ballast_kg, o.com_m, o.inertia_scale);
            let collider = collider_for(&o.shape)
                .friction(o.friction as f32)
                .friction_combine_rule(rule)
                .restitution(o.restitution as f32);
            let (body, collider) = if o.attach == Some(Attach::Tool) {
                let local = to_pose(&(flange_from_tcp * pose)) * collider_local(&o.shape);
                let c = collider.position(local).mass_properties(mprops);
                let h = physics
                    .colliders
                    .insert_with_parent(c, flange, &mut physics.bodies);
                (ObjectBody::Attached, h)
            } else {
                let builder = if o.fixed {
                    RigidBodyBuilder::fixed()
                } else {
                    RigidBodyBuilder::dynamic()
                };
                let b = physics.bodies.insert(
                    builder
                        .pose(to_pose(&pose))
                        .additional_mass_properties(mprops)
                        .linear_damping(o.linear_damping as f32)
                        .angular_damping(o.angular_damping as f32)
                        .can_sleep(false),
                );
                let c = collider.position(collider_local(&o.shape));
                let h = physics
                    .colliders
                    .insert_with_parent(c, b, &mut physics.bodies);
                (ObjectBody::Free(b), h)
            };
            objects.push(ObjectState {
                name: o.name.clone(),
                body,
                collider,
                shape: o.shape.clone(),
                mass_kg: o.mass_kg,
                ballast_kg: o.ballast_kg,
                inertia_scale: o.inertia_scale,
                com_m: o.com_m,
                friction: o.friction,
                restitution: o.restitution,
                rolling_resistance: o.rolling_resistance,
                torsional_friction_m: o.torsional_friction_m,
                support: o
                    .support
                    .unwrap_or_else(|| asid_core::scene::SupportKind::default_for(&o.shape)),
                joint: None,
            });
        }
        // Articulation joints, once every object exists.
        for (i, o) in spec.objects.iter().enumerate() {
            let Some(j) = &o.joint else { continue };
            let parent_index = spec
                .objects
                .iter()
                .position(|p| p.name == j.parent)
                .ok_or_else(|| SimError::UnknownObject(j.parent.clone()))?;
            let (ObjectBody::Free(parent), ObjectBody::Free(child)) =
                (objects[parent_index].body, objects[i].body)
            else {
                return Err(SimError::NotFree(o.name.clone()));
            };
            let axis = Vector3::from(j.axis).normalize();
            let offset = Vector3::from(j.offset_direction);
            let offset = if offset.norm() > 1e-12 {
                offset.normalize()
            } else {
                offset
            };
            objects[i].joint = Some(JointState {
                handle: None,
                friction_handle: None,
                parent,
                kind: j.kind,
                world_frame0: Isometry3::from_parts(
                    Translation3::new(j.anchor_m[0], j.anchor_m[1], j.anchor_m[2]),
                    frame_with_x_axis(&axis),
                ),
                parent_pose0: from_pose(physics.bodies[parent].position()),
                child_pose0: from_pose(physics.bodies[child].position()),
                offset_direction: offset,
                axis_offset_m: 0.0,
                limits: j.limits,
                damping: j.damping,
                friction: j.friction,
                present: j.present,
            });
        }

        let n = arm.dof();
        let tool_com = Point3::from(Vector3::from(tool.com_m));
        let mut world = SimWorld {
            scene: Arc::clone(&scene),
            arm: Arc::clone(&arm),
            physics,
            table,
            table_friction: t.friction,
            patches,
            tool_colliders,
            objects,
            arm_bodies,
            q_cmd: q0.clone(),
            q: q0.clone(),
            qd: vec![0.0; n],
            tau: vec![0.0; n],
            q_target: q0.clone(),
            qd_target: vec![0.0; n],
            tcp_target,
            gripper_width_m,
            fingers,
            tool_mass: (tool.mass_kg, tool_com),
            time_s: 0.0,
            control_steps: 0,
            watch: crate::world::Watch::Off,
        };
        for i in 0..world.objects.len() {
            if world.objects[i].joint.is_some() {
                world.rebuild_joint(i);
            }
        }
        Ok(world)
    }

    /// (Re)creates the rapier joint of object `i` from its [`JointState`]: the joint itself, whose
    /// motor (velocity 0, force-based) is the viscous damping, and, when the joint has dry friction,
    /// a second joint between the same frames that locks nothing and whose motor holds the joint
    /// still up to the friction torque (force): stiff ([`DRY_FRICTION_GAIN`]) and limited, so a
    /// lid stays where it was pushed until gravity or the tool exceeds the friction.
    pub(crate) fn rebuild_joint(&mut self, i: usize) {
        let ObjectBody::Free(child) = self.objects[i].body else {
            return;
        };
        let Some(j) = self.objects[i].joint.as_mut() else {
            return;
        };
        for h in [j.handle.take(), j.friction_handle.take()]
            .into_iter()
            .flatten()
        {
            self.physics.impulse_joints.remove(h, true);
        }
        let world_frame = SimWorld::joint_world_frame(j);
        let frame1 = j.parent_pose0.inverse() * world_frame;
        let frame2 = j.child_pose0.inverse() * world_frame;
        let (mask, axis) = match (j.present, j.kind) {
            (false, _) => (JointAxesMask::LOCKED_FIXED_AXES, JointAxis::AngX),
            (true, JointKind::Revolute) => (JointAxesMask::LOCKED_REVOLUTE_AXES, JointAxis::AngX),
            (true, JointKind::Prismatic) => (JointAxesMask::LOCKED_PRISMATIC_AXES, JointAxis::LinX),
        };
        let mut builder = GenericJointBuilder::new(mask)
            .local_frame1(to_pose(&frame1))
            .local_frame2(to_pose(&frame2))
            .contacts_enabled(false);
        if j.present {
            builder = builder
                .limits(axis, [j.limits[0] as f32, j.limits[1] as f32])
                .motor_model(axis, MotorModel::ForceBased)
                .motor_velocity(axis, 0.0, j.damping as f32);
        }
        let handle = self
            .physics
            .impulse_joints
            .insert(j.parent, child, builder.build(), true);
        j.handle = Some(handle);
        if j.present && j.friction > 0.0 {
            let friction = GenericJointBuilder::new(JointAxesMask::empty())
                .local_frame1(to_pose(&frame1))
                .local_frame2(to_pose(&frame2))
                .contacts_enabled(false)
                .motor_model(axis, MotorModel::ForceBased)
                .motor_velocity(axis, 0.0, DRY_FRICTION_GAIN)
                .motor_max_force(axis, j.friction as f32);
            j.friction_handle = Some(self.physics.impulse_joints.insert(
                j.parent,
                child,
                friction.build(),
                true,
            ));
        }
    }
}

/// Gain (N m s/rad or N s/m) of the motor that models a joint's dry friction: stiff enough that
/// the motor is a velocity constraint limited by the friction. What creep remains comes from the
/// solver's convergence, not from the gain (measured on the articulation lid, 0.55 rad open, held
/// by 0.3 to 50 N m alike: 0.04 rad/s with 4 solver iterations, 0.005 rad/s with 30).
pub(crate) const DRY_FRICTION_GAIN: f32 = 1e4;

/// rapier's cylinder runs along y; scene cylinders run along z. Other shapes need no turn.
fn collider_local(shape: &asid_core::Shape) -> Pose {
    match shape {
        asid_core::Shape::Cylinder { .. } => {
            Pose::from_rotation(Rotation::from_rotation_x(std::f32::consts::FRAC_PI_2))
        }
        _ => Pose::IDENTITY,
    }
}

fn pose_inv_point(pose: &Pose, p: &Vector3<f64>) -> Vector3<f64> {
    crate::convert::from_vec(pose.inverse_transform_point(to_vec(p)))
}

fn insert_arm(
    scene: &Scene,
    arm: &Arm,
    physics: &mut PhysicsWorld,
    q0: &[f64],
) -> Result<ArmBodies, SimError> {
    let options = UrdfLoaderOptions {
        make_roots_fixed: true,
        shift: to_pose(&arm.world_from_base),
        ..Default::default()
    };
    let (robot, urdf) = UrdfRobot::from_file(&scene.urdf_path, options, None)
        .map_err(|e| SimError::Urdf(format!("{}: {e}", scene.urdf_path.display())))?;
    let link_name = |k: usize| urdf.links[robot.links[k].urdf_link_index].name.clone();
    let names: Vec<String> = (0..robot.links.len()).map(link_name).collect();
    let flange_name = &scene.robot.flange_link;
    let chain_links: Vec<&String> = arm.chain.joints.iter().map(|j| &j.child_link).collect();
    match scene.spec.arm.model {
        ArmModel::Kinematic => {
            let mut robot = robot;
            for link in &mut robot.links {
                if !link.body.is_fixed() {
                    link.body
                        .set_body_type(RigidBodyType::KinematicPositionBased, false);
                }
            }
            let handles = robot.insert_using_impulse_joints(
                &mut physics.bodies,
                &mut physics.colliders,
                &mut ImpulseJointSet::new(),
            );
            let find = |name: &str| -> Result<RigidBodyHandle, SimError> {
                names
                    .iter()
                    .position(|n| n == name)
                    .map(|k| handles.links[k].body)
                    .ok_or_else(|| SimError::Urdf(format!("link `{name}` not found")))
            };
            let links = chain_links
                .iter()
                .map(|n| find(n))
                .collect::<Result<Vec<_>, _>>()?;
            let flange = find(flange_name)?;
            let bodies = ArmBodies::Kinematic { links, flange };
            crate::arm::place_kinematic(arm, &bodies, physics, q0, true);
            Ok(bodies)
        }
        ArmModel::Dynamic => {
            let handles = robot.insert_using_multibody_joints(
                &mut physics.bodies,
                &mut physics.colliders,
                &mut physics.multibody_joints,
                UrdfMultibodyOptions::DISABLE_SELF_CONTACTS,
            );
            // A multibody at rest falls asleep, and a sleeping multibody ignores its motors' new
            // targets: an arm that paused at a waypoint stayed frozen there under full torque.
            for link in &handles.links {
                *physics.bodies[link.body].activation_mut() = RigidBodyActivation::cannot_sleep();
            }
            let body_of = |name: &str| -> Result<RigidBodyHandle, SimError> {
                names
                    .iter()
                    .position(|n| n == name)
                    .map(|k| handles.links[k].body)
                    .ok_or_else(|| SimError::Urdf(format!("link `{name}` not found")))
            };
            let mut link_ids = Vec::new();
            let mut multibody = None;
            for n in &chain_links {
                let b = body_of(n)?;
                let id = physics
                    .multibody_joints
                    .rigid_body_link(b)
                    .copied()
                    .ok_or_else(|| SimError::Urdf(format!("link `{n}` is not in a multibody")))?;
                link_ids.push(id.id);
                multibody = handles
                    .joints
                    .iter()
                    .find(|j| j.link2 == b)
                    .and_then(|j| j.joint)
                    .or(multibody);
            }
            let multibody =
                multibody.ok_or_else(|| SimError::Urdf("the arm has no moving joint".into()))?;
            let flange = body_of(flange_name)?;
            let bodies = ArmBodies::Dynamic {
                multibody,
                link_ids,
                flange,
            };
            crate::arm::setup_dynamic(scene, &bodies, physics, q0)?;
            Ok(bodies)
        }
    }
}
