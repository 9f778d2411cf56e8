//! Stepping: actions at the control rate, physics sub-steps, explicit rolling / torsional / joint friction.

use asid_core::scene::{ArmModel, ChannelKind};
use nalgebra::{Isometry3, Vector3};
use rapier3d::prelude::*;

use crate::SimError;
use crate::convert::{from_vec, to_vec};
use crate::planar::ContactFriction;
use crate::world::{ObjectBody, SimWorld};

impl SimWorld {
    /// Checks an action and turns it into the joint command at the end of the next control step.
    pub fn command_for_action(
        &self,
        action: &[f64],
    ) -> Result<(Vec<f64>, Isometry3<f64>), SimError> {
        crate::actions::command_for_action(
            &self.scene.spec.arm.action,
            &self.arm,
            &self.q_cmd,
            &self.tcp_target,
            action,
        )
    }

    /// Runs one control period with `action`.
    pub fn step_control(&mut self, action: &[f64]) -> Result<(), SimError> {
        let (q_next, tcp) = self.command_for_action(action)?;
        self.drive(q_next, tcp, self.scene.substeps());
        Ok(())
    }

    /// Runs one control period towards the joint command `q_next` (what a real arm's joint-position
    /// interface receives), in `substeps` physics steps (the scene's count, or one more or less for a
    /// lab whose control rate jitters). Joint limits are checked; nothing moves if one is broken.
    pub fn step_joint_command(&mut self, q_next: &[f64], substeps: usize) -> Result<(), SimError> {
        if q_next.len() != self.arm.dof() {
            return Err(SimError::ActionLength {
                got: q_next.len(),
                expected: self.arm.dof(),
            });
        }
        for (index, &value) in q_next.iter().enumerate() {
            let (low, high) = (self.arm.q_min_rad[index], self.arm.q_max_rad[index]);
            if !(value >= low && value <= high) {
                return Err(SimError::ActionOutOfRange {
                    index,
                    value,
                    low,
                    high,
                });
            }
        }
        let tcp = self.arm.world_from_tcp(q_next);
        self.drive(q_next.to_vec(), tcp, substeps.max(1));
        Ok(())
    }

    fn drive(&mut self, q_next: Vec<f64>, tcp: Isometry3<f64>, n: usize) {
        let period = if n == self.scene.substeps() {
            self.scene.control_period_s()
        } else {
            n as f64 * self.scene.spec.physics.dt_s
        };
        let q_from = self.q_cmd.clone();
        let qd: Vec<f64> = q_from
            .iter()
            .zip(&q_next)
            .map(|(a, b)| (b - a) / period)
            .collect();
        for k in 0..n {
            let alpha = (k + 1) as f64 / n as f64;
            let target: Vec<f64> = q_from
                .iter()
                .zip(&q_next)
                .map(|(a, b)| a + (b - a) * alpha)
                .collect();
            self.q_target = target;
            self.qd_target.clone_from(&qd);
            self.physics_step();
        }
        self.q_cmd = q_next;
        self.tcp_target = tcp;
        self.control_steps += 1;
    }

    /// Runs physics steps with the arm holding its current command (no action), e.g. to let objects settle.
    pub fn hold(&mut self, steps: usize) {
        self.q_target.clone_from(&self.q_cmd);
        self.qd_target.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..steps {
            self.physics_step();
        }
    }

    /// One physics step: arm drive, explicit resistances, rapier step, state read-back.
    pub fn physics_step(&mut self) {
        let dt = self.scene.spec.physics.dt_s;
        match self.scene.spec.arm.model {
            ArmModel::Kinematic => {
                crate::arm::place_kinematic(
                    &self.arm,
                    &self.arm_bodies,
                    &mut self.physics,
                    &self.q_target,
                    false,
                );
            }
            ArmModel::Dynamic => {
                let g = from_vec(self.physics.gravity);
                let tau_g = self.arm.gravity_torques(&self.q, g, Some(self.tool_mass));
                let c = &self.scene.robot.controller;
                let lim = &self.scene.robot.limits.torque_nm;
                for i in 0..self.q.len() {
                    let pd = c.kp_nm_per_rad[i] * (self.q_target[i] - self.q[i])
                        + c.kd_nms_per_rad[i] * (self.qd_target[i] - self.qd[i])
                        + tau_g[i];
                    self.tau[i] = pd.clamp(-lim[i], lim[i]);
                }
                crate::arm::drive_dynamic(
                    &self.scene,
                    &self.arm_bodies,
                    &mut self.physics,
                    &self.q_target,
                    &self.qd_target,
                    &tau_g,
                );
            }
        }
        for o in &self.objects {
            if let ObjectBody::Free(h) = o.body {
                let body = &mut self.physics.bodies[h];
                body.reset_forces(false);
                body.reset_torques(false);
            }
        }
        self.step_fingers(dt);
        let planar = self.apply_planar_friction(dt);
        self.apply_resistances(dt, &planar);
        let hook = ContactFriction {
            table: self.table,
            base: self.table_friction as f32,
            patches: &self.patches,
            rule: self.scene.spec.physics.friction_combine,
            planar: &planar,
            tools: &self.tool_colliders,
        };
        self.physics.step_with_events(&hook, &());
        match self.scene.spec.arm.model {
            ArmModel::Kinematic => {
                self.q.clone_from(&self.q_target);
                self.qd.clone_from(&self.qd_target);
            }
            ArmModel::Dynamic => {
                crate::arm::read_dynamic(
                    &self.arm_bodies,
                    &self.physics,
                    &mut self.q,
                    &mut self.qd,
                );
            }
        }
        self.time_s += dt;
        if matches!(self.watch, crate::world::Watch::Untouched { .. }) {
            self.check_untouched();
        }
    }

    fn in_contact(&self, collider: ColliderHandle) -> bool {
        self.physics
            .narrow_phase
            .contact_pairs_with(collider)
            .any(|p| p.has_any_active_contact())
    }

    /// Rolling resistance and torsional friction of objects (the latter only where the planar
    /// model does not already hold the object), dry friction of articulation joints: torques
    /// opposing the motion, never larger than what stops it within one step.
    fn apply_resistances(&mut self, dt: f64, planar: &[ColliderHandle]) {
        let g = f64::from(self.physics.gravity.length());
        for i in 0..self.objects.len() {
            let o = &self.objects[i];
            let ObjectBody::Free(h) = o.body else {
                continue;
            };
            let torsion = if planar.contains(&o.collider) {
                0.0
            } else {
                o.torsional_friction_m.unwrap_or(0.0)
            };
            let needs_contact = o.rolling_resistance > 0.0 || torsion > 0.0;
            let joint_friction = o
                .joint
                .as_ref()
                .filter(|j| j.present && j.friction > 0.0)
                .map(|j| {
                    let axis = Self::joint_world_frame(j).rotation * Vector3::x();
                    (j.friction, axis)
                });
            if !needs_contact && joint_friction.is_none() {
                continue;
            }
            let touching = needs_contact && self.in_contact(o.collider);
            let (rr, tf, mass) = (o.rolling_resistance, torsion, o.mass_kg + o.ballast_kg);
            let radius = o.shape.half_height_z_m();
            let body = &mut self.physics.bodies[h];
            let w = from_vec(body.angvel());
            let inertia = from_vec(body.mass_properties().local_mprops.principal_inertia());
            let i_min = inertia.min().max(1e-9);
            let mut torque = Vector3::zeros();
            if touching {
                let w_h = Vector3::new(w.x, w.y, 0.0);
                if rr > 0.0 && w_h.norm() > 1e-9 {
                    let cap = i_min * w_h.norm() / dt;
                    torque -= w_h.normalize() * (rr * mass * g * radius).min(cap);
                }
                if tf > 0.0 && w.z.abs() > 1e-9 {
                    let cap = i_min * w.z.abs() / dt;
                    torque.z -= w.z.signum() * (tf * mass * g).min(cap);
                }
            }
            if let Some((f, axis)) = joint_friction {
                let rate = w.dot(&axis);
                if rate.abs() > 1e-9 {
                    let cap = i_min * rate.abs() / dt;
                    torque -= axis * rate.signum() * f.min(cap);
                }
            }
            body.add_torque(to_vec(&torque), true);
        }
    }

    /// The observation vector: the scene's channels, in order, without noise.
    pub fn observe(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.scene.obs_dim());
        for c in &self.scene.spec.observation.channels {
            match c.kind {
                ChannelKind::EePosition => {
                    let p = self.arm.world_from_tcp(&self.q).translation.vector;
                    out.extend_from_slice(&[p.x, p.y, p.z]);
                }
                ChannelKind::JointPosition => out.extend_from_slice(&self.q),
                ChannelKind::JointVelocity => out.extend_from_slice(&self.qd),
                ChannelKind::JointTorque => out.extend_from_slice(&self.tau),
                ChannelKind::GripperWidth => out.push(self.gripper_width_m),
                ChannelKind::ObjectPosition
                | ChannelKind::ObjectPose
                | ChannelKind::ObjectVelocity => {
                    let name = c.of.as_deref().unwrap_or_default();
                    let i = self.object_index(name).unwrap_or(0);
                    if c.kind == ChannelKind::ObjectVelocity {
                        let v = self.object_velocity_at(i);
                        out.extend_from_slice(&[v.x, v.y, v.z]);
                        continue;
                    }
                    let pose = self.object_pose_at(i);
                    let p = pose.translation.vector;
                    out.extend_from_slice(&[p.x, p.y, p.z]);
                    if c.kind == ChannelKind::ObjectPose {
                        // Canonical sign (w >= 0) so the observation is continuous in the parameters.
                        let q = pose.rotation.quaternion();
                        let s = if q.w < 0.0 { -1.0 } else { 1.0 };
                        out.extend_from_slice(&[s * q.w, s * q.i, s * q.j, s * q.k]);
                    }
                }
                ChannelKind::ArticulationPosition => {
                    let object =
                        c.of.as_deref()
                            .and_then(|s| s.split_once('.'))
                            .map_or("", |(o, _)| o);
                    out.push(self.articulation_position(object).unwrap_or(0.0));
                }
            }
        }
        out
    }
}
