//! Applying parameter values by target, in place (the joint is rebuilt only when its structure changes).

use asid_core::ParamTarget;
use asid_core::scene::JointKind;
use rapier3d::prelude::*;

use crate::SimError;
use crate::convert::{object_mass_properties, to_pose};
use crate::world::{ObjectBody, SimWorld};

impl SimWorld {
    /// Sets every unknown parameter of the scene (vector in the scene's parameter order).
    pub fn set_params(&mut self, theta: &[f64]) -> Result<(), SimError> {
        self.scene.space.check(theta)?;
        let targets: Vec<ParamTarget> = self
            .scene
            .space
            .params
            .iter()
            .map(|p| p.target.clone())
            .collect();
        for (t, &v) in targets.iter().zip(theta) {
            self.set_target(t, v);
        }
        Ok(())
    }

    /// Sets one parameter by its name.
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<(), SimError> {
        let space = &self.scene.space;
        let i = space
            .index_of(name)
            .ok_or_else(|| SimError::UnknownParameter(name.into()))?;
        let mut theta = space.nominal();
        theta[i] = value;
        space.check(&theta)?;
        let t = space.params[i].target.clone();
        self.set_target(&t, value);
        Ok(())
    }

    /// Applies a value to a target (bounds already checked).
    pub(crate) fn set_target(&mut self, t: &ParamTarget, v: f64) {
        match *t {
            ParamTarget::Mass { object } => {
                self.objects[object].mass_kg = v;
                self.update_mass(object);
            }
            ParamTarget::InertiaScale { object } => {
                self.objects[object].inertia_scale = v;
                self.update_mass(object);
            }
            ParamTarget::Com { object, axis } => {
                self.objects[object].com_m[axis] = v;
                self.update_mass(object);
            }
            ParamTarget::Friction { object } => {
                self.objects[object].friction = v;
                self.physics.colliders[self.objects[object].collider].set_friction(v as f32);
            }
            ParamTarget::Restitution { object } => {
                self.objects[object].restitution = v;
                self.physics.colliders[self.objects[object].collider].set_restitution(v as f32);
            }
            ParamTarget::RollingResistance { object } => {
                self.objects[object].rolling_resistance = v
            }
            ParamTarget::TorsionalFriction { object } => {
                self.objects[object].torsional_friction_m = Some(v)
            }
            ParamTarget::LinearDamping { object } => {
                if let ObjectBody::Free(h) = self.objects[object].body {
                    self.physics.bodies[h].set_linear_damping(v as f32);
                }
            }
            ParamTarget::AngularDamping { object } => {
                if let ObjectBody::Free(h) = self.objects[object].body {
                    self.physics.bodies[h].set_angular_damping(v as f32);
                }
            }
            ParamTarget::TableFriction => {
                self.table_friction = v;
                self.physics.colliders[self.table].set_friction(v as f32);
            }
            ParamTarget::PatchFriction { patch } => self.patches[patch].friction = v as f32,
            ParamTarget::JointDamping { object } => {
                let Some(j) = self.objects[object].joint.as_mut() else {
                    return;
                };
                j.damping = v;
                if let (true, Some(h)) = (j.present, j.handle) {
                    let axis = match j.kind {
                        JointKind::Revolute => JointAxis::AngX,
                        JointKind::Prismatic => JointAxis::LinX,
                    };
                    if let Some(joint) = self.physics.impulse_joints.get_mut(h, true) {
                        joint.data.set_motor_velocity(axis, 0.0, v as f32);
                    }
                }
            }
            ParamTarget::JointFriction { object } => {
                let Some(j) = self.objects[object].joint.as_mut() else {
                    return;
                };
                let had = j.friction > 0.0;
                j.friction = v;
                // Created or dropped with the friction; otherwise only its limit changes.
                if had != (v > 0.0) {
                    self.rebuild_joint(object);
                } else if let Some(joint) = j
                    .friction_handle
                    .and_then(|h| self.physics.impulse_joints.get_mut(h, true))
                {
                    let axis = match j.kind {
                        JointKind::Revolute => JointAxis::AngX,
                        JointKind::Prismatic => JointAxis::LinX,
                    };
                    joint.data.set_motor_max_force(axis, v as f32);
                }
            }
            ParamTarget::JointAxisOffset { object } => {
                let Some(j) = self.objects[object].joint.as_mut() else {
                    return;
                };
                j.axis_offset_m = v;
                let world_frame = SimWorld::joint_world_frame(j);
                let f1 = to_pose(&(j.parent_pose0.inverse() * world_frame));
                let f2 = to_pose(&(j.child_pose0.inverse() * world_frame));
                // The friction joint shares the hinge's frames.
                for h in [j.handle, j.friction_handle].into_iter().flatten() {
                    if let Some(joint) = self.physics.impulse_joints.get_mut(h, true) {
                        joint.data.set_local_frame1(f1);
                        joint.data.set_local_frame2(f2);
                    }
                }
            }
            ParamTarget::JointPresent { object } => {
                let present = v > 0.5;
                let changed = self.objects[object].joint.as_mut().is_some_and(|j| {
                    let changed = j.present != present;
                    j.present = present;
                    changed
                });
                if changed {
                    self.rebuild_joint(object);
                }
            }
        }
    }

    fn update_mass(&mut self, i: usize) {
        let o = &self.objects[i];
        let mprops =
            object_mass_properties(&o.shape, o.mass_kg, o.ballast_kg, o.com_m, o.inertia_scale);
        match o.body {
            ObjectBody::Free(h) => {
                self.physics.bodies[h].set_additional_mass_properties(mprops, true)
            }
            ObjectBody::Attached => self.physics.colliders[o.collider].set_mass_properties(mprops),
        }
    }
}
