//! The two arm models: kinematic (links placed by forward kinematics) and dynamic (multibody + PD motors).

use asid_core::Scene;
use asid_robot::Arm;
use rapier3d::prelude::*;

use crate::SimError;
use crate::convert::to_pose;
use crate::world::ArmBodies;

/// Places the kinematic links at configuration `q`: teleported, or as the next kinematic target.
pub(crate) fn place_kinematic(
    arm: &Arm,
    bodies: &ArmBodies,
    physics: &mut PhysicsWorld,
    q: &[f64],
    teleport: bool,
) {
    let ArmBodies::Kinematic { links, flange } = bodies else {
        return;
    };
    let frames = arm.frames(q);
    // The flange follows the last link; computing it from `frames` avoids a second pass of FK.
    let flange_pose =
        frames.last().map_or(arm.world_from_base, |f| f.0) * arm.chain.last_from_flange;
    let targets = links
        .iter()
        .zip(frames.iter().map(|f| f.0))
        .chain(std::iter::once((flange, flange_pose)));
    for (h, iso) in targets {
        let pose = to_pose(&iso);
        let body = &mut physics.bodies[*h];
        if teleport {
            body.set_position(pose, true);
        } else {
            body.set_next_kinematic_position(pose);
        }
    }
}

/// Moves the arm to `q` at rest, whatever its model.
pub(crate) fn teleport(arm: &Arm, bodies: &ArmBodies, physics: &mut PhysicsWorld, q: &[f64]) {
    match bodies {
        ArmBodies::Kinematic { .. } => place_kinematic(arm, bodies, physics, q, true),
        ArmBodies::Dynamic {
            multibody,
            link_ids,
            ..
        } => {
            let Some((mb, _)) = physics.multibody_joints.get_mut(*multibody) else {
                return;
            };
            let mut disp = vec![0.0f32; mb.ndofs()];
            for (i, &id) in link_ids.iter().enumerate() {
                if let Some(link) = mb.link(id) {
                    disp[link.assembly_id()] = q[i] as f32 - link.joint.coords()[3];
                }
            }
            mb.apply_displacements(&disp);
            mb.generalized_velocity_mut().fill(0.0);
            mb.forward_kinematics(&physics.bodies, false);
            mb.update_rigid_bodies(&mut physics.bodies, true);
        }
    }
}

/// Joint drive settings, initial configuration and motors of the dynamic arm.
pub(crate) fn setup_dynamic(
    scene: &Scene,
    bodies: &ArmBodies,
    physics: &mut PhysicsWorld,
    q0: &[f64],
) -> Result<(), SimError> {
    let ArmBodies::Dynamic {
        multibody,
        link_ids,
        ..
    } = bodies
    else {
        return Ok(());
    };
    let c = &scene.robot.controller;
    let limits = &scene.robot.limits;
    let (mb, _) = physics
        .multibody_joints
        .get_mut(*multibody)
        .ok_or_else(|| SimError::Urdf("multibody vanished".into()))?;
    let mut disp = vec![0.0f32; mb.ndofs()];
    for (i, &id) in link_ids.iter().enumerate() {
        let link = mb
            .link(id)
            .ok_or_else(|| SimError::Urdf(format!("multibody link {id} missing")))?;
        let dof = link.assembly_id();
        disp[dof] = q0[i] as f32;
        mb.armature_mut()[dof] = c.armature_kgm2[i] as f32;
        mb.damping_mut()[dof] = c.joint_damping_nms_per_rad[i] as f32;
        if let Some(link) = mb.link_mut(id) {
            link.joint
                .data
                .set_motor_model(JointAxis::AngX, MotorModel::ForceBased)
                .set_motor(
                    JointAxis::AngX,
                    q0[i] as f32,
                    0.0,
                    c.kp_nm_per_rad[i] as f32,
                    c.kd_nms_per_rad[i] as f32,
                )
                .set_motor_max_force(JointAxis::AngX, limits.torque_nm[i] as f32);
        }
    }
    mb.apply_displacements(&disp);
    mb.forward_kinematics(&physics.bodies, false);
    mb.update_rigid_bodies(&mut physics.bodies, true);
    Ok(())
}

/// Joint positions and velocities of the dynamic arm.
pub(crate) fn read_dynamic(
    bodies: &ArmBodies,
    physics: &PhysicsWorld,
    q: &mut [f64],
    qd: &mut [f64],
) {
    let ArmBodies::Dynamic {
        multibody,
        link_ids,
        ..
    } = bodies
    else {
        return;
    };
    let Some((mb, _)) = physics.multibody_joints.get(*multibody) else {
        return;
    };
    for (i, &id) in link_ids.iter().enumerate() {
        if let Some(link) = mb.link(id) {
            q[i] = f64::from(link.joint.coords()[3]);
            qd[i] = mb
                .joint_velocity(link)
                .get(0)
                .copied()
                .map_or(0.0, f64::from);
        }
    }
}

/// Sets the PD motor targets of the dynamic arm; `tau_ff` is a feed-forward torque (gravity
/// compensation), realised by shifting the position target by `tau_ff / kp`.
pub(crate) fn drive_dynamic(
    scene: &Scene,
    bodies: &ArmBodies,
    physics: &mut PhysicsWorld,
    q_target: &[f64],
    qd_target: &[f64],
    tau_ff: &[f64],
) {
    let ArmBodies::Dynamic {
        multibody,
        link_ids,
        ..
    } = bodies
    else {
        return;
    };
    let c = &scene.robot.controller;
    let Some((mb, _)) = physics.multibody_joints.get_mut(*multibody) else {
        return;
    };
    for (i, &id) in link_ids.iter().enumerate() {
        if let Some(link) = mb.link_mut(id) {
            let kp = c.kp_nm_per_rad[i];
            link.joint.data.set_motor(
                JointAxis::AngX,
                (q_target[i] + tau_ff[i] / kp) as f32,
                qd_target[i] as f32,
                kp as f32,
                c.kd_nms_per_rad[i] as f32,
            );
        }
    }
}
