//! The world side of planar friction: which objects rest on a face, their support points with the
//! table's friction under each, and the contact hook that leaves those pairs to this model.

use asid_core::scene::{CombineRule, SupportKind};
use nalgebra::Vector3;
use rapier3d::prelude::*;

use crate::convert::{combine, from_pose, from_vec, to_vec};
use crate::support::{PushContact, SupportPoint, apply_torsion, balanced_weights, step};
use crate::support_geometry::bottom_face;
use crate::world::{ObjectBody, PatchState, SimWorld};

/// Contact points closer than this count as touching (m).
const CONTACT_GAP_M: f32 = 5e-4;

/// Friction per contact pair: the table's patches, no engine friction under objects that the
/// planar model holds, and the tool's own coefficient against objects.
pub(crate) struct ContactFriction<'a> {
    pub table: ColliderHandle,
    pub base: f32,
    pub patches: &'a [PatchState],
    pub rule: CombineRule,
    /// Objects whose table friction the planar model applies this step.
    pub planar: &'a [ColliderHandle],
    pub tools: &'a [ColliderHandle],
}

/// The table's own friction at a point of its top.
pub(crate) fn surface_friction(patches: &[PatchState], base: f32, x: f32, y: f32) -> f32 {
    patches
        .iter()
        .find(|p| x >= p.min_xy[0] && x <= p.max_xy[0] && y >= p.min_xy[1] && y <= p.max_xy[1])
        .map_or(base, |p| p.friction)
}

impl PhysicsHooks for ContactFriction<'_> {
    fn modify_solver_contacts(&self, context: &mut ContactModificationContext) {
        let (c1, c2) = (context.collider1, context.collider2);
        let table_other = if c1 == self.table {
            Some(c2)
        } else if c2 == self.table {
            Some(c1)
        } else {
            None
        };
        if let Some(other) = table_other {
            if self.planar.contains(&other) {
                if let Some(m) = context.rigid_mut() {
                    *m.friction = 0.0;
                }
                return;
            }
            if self.patches.is_empty() {
                return;
            }
            let other_friction = context.colliders[other].friction();
            let Some(m) = context.rigid_mut() else { return };
            let n = m.solver_contacts.len();
            if n == 0 {
                return;
            }
            let mut c = Vector::ZERO;
            for sc in m.solver_contacts.iter() {
                c += sc.anchor1;
            }
            c /= n as f32;
            let surface = surface_friction(self.patches, self.base, c.x, c.y);
            *m.friction = combine(self.rule, surface, other_friction);
            return;
        }
        // Tool against anything else: the tool file's coefficient is the pair's.
        let tool = if self.tools.contains(&c1) {
            Some(c1)
        } else if self.tools.contains(&c2) {
            Some(c2)
        } else {
            None
        };
        if let Some(t) = tool {
            let f = context.colliders[t].friction();
            if let Some(m) = context.rigid_mut() {
                *m.friction = f;
            }
        }
    }
}

impl SimWorld {
    /// The support points of object `i` this step, world-horizontal and relative to its centre of
    /// mass, with loads from the last step's normal impulses; `None` when the object does not rest
    /// flat on the table (lifted, tipped, a sphere) or its support is the engine's.
    pub(crate) fn support_points(&self, i: usize, dt: f64) -> Option<Vec<SupportPoint>> {
        let o = &self.objects[i];
        let ObjectBody::Free(h) = o.body else {
            return None;
        };
        if o.support == SupportKind::Engine {
            return None;
        }
        let pair = self
            .physics
            .narrow_phase
            .contact_pair(self.table, o.collider)?;
        if !pair.has_any_active_contact() {
            return None;
        }
        // The normal impulses of the last step's solver contacts (a manifold can also hold a
        // tracked point that is no longer in contact, with a stale impulse: rapier's
        // `total_impulse` counts it).
        let impulse: f64 = pair
            .manifolds()
            .iter()
            .map(|m| {
                let normal_z = f64::from(m.data.normal.z.abs());
                m.data
                    .solver_contacts
                    .iter()
                    .filter_map(|sc| m.points.get(sc.contact_id[0] as usize))
                    .map(|p| f64::from(p.data.impulse) * normal_z)
                    .sum::<f64>()
            })
            .sum();
        let normal_n = impulse / dt;
        if normal_n <= 0.0 {
            return None;
        }
        let body = &self.physics.bodies[h];
        let pose = from_pose(body.position());
        let down_body = pose.rotation.inverse() * Vector3::new(0.0, 0.0, -1.0);
        let face = bottom_face(&o.shape, o.support, &down_body)?;
        let com_body = pose.inverse_transform_point(&from_vec(body.center_of_mass()).into());
        let com_face = [
            face.axes[0].dot(&com_body.coords),
            face.axes[1].dot(&com_body.coords),
        ];
        let weights = balanced_weights(&face.face_points, com_face);
        let com_world = from_vec(body.center_of_mass());
        let mut points: Vec<SupportPoint> = face
            .body_points
            .iter()
            .zip(weights)
            .map(|(p, w)| {
                let pw = pose * nalgebra::Point3::from(*p);
                let surface = surface_friction(
                    &self.patches,
                    self.table_friction as f32,
                    pw.x as f32,
                    pw.y as f32,
                );
                let mu = f64::from(combine(
                    self.scene.spec.physics.friction_combine,
                    surface,
                    o.friction as f32,
                ));
                SupportPoint {
                    r_m: [pw.x - com_world.x, pw.y - com_world.y],
                    normal_n: w * normal_n,
                    mu,
                    spin_m: 0.0,
                }
            })
            .collect();
        if let Some(c) = o.torsional_friction_m {
            apply_torsion(&mut points, c);
        }
        Some(points)
    }

    /// The tool's contact with object `i` from the last collision detection, as a velocity
    /// constraint in the table plane: the mean of its contact points, the horizontal part of the
    /// normal, the tool's velocity there over the coming step. `None` when the tool does not touch
    /// the object from the side.
    fn pusher_contact(&self, i: usize, com: &Vector3<f64>, dt: f64) -> Option<PushContact> {
        let object = self.objects[i].collider;
        for &tool in &self.tool_colliders {
            let Some(pair) = self.physics.narrow_phase.contact_pair(tool, object) else {
                continue;
            };
            if !pair.has_any_active_contact() {
                continue;
            }
            let object_first = pair.collider1 == object;
            let (mut sum, mut count, mut normal) = (Vector3::zeros(), 0.0, Vector3::zeros());
            for m in pair.manifolds() {
                let local_n = if object_first { m.local_n1 } else { m.local_n2 };
                let c = &self.physics.colliders[if object_first {
                    pair.collider1
                } else {
                    pair.collider2
                }];
                let pose = from_pose(c.position());
                for p in m.points.iter().filter(|p| p.dist <= CONTACT_GAP_M) {
                    let local = if object_first { p.local_p1 } else { p.local_p2 };
                    sum += (pose * nalgebra::Point3::from(from_vec(local))).coords;
                    count += 1.0;
                    normal += pose.rotation * from_vec(local_n);
                }
            }
            let horizontal = nalgebra::Vector2::new(normal.x, normal.y);
            if count == 0.0 || horizontal.norm() < 0.5 * normal.norm() {
                continue;
            }
            let point = sum / count;
            let n = horizontal.normalize();
            let tool_body = self.physics.colliders[tool].parent()?;
            let body = &self.physics.bodies[tool_body];
            let velocity = if body.is_kinematic() {
                let (now, next) = (from_pose(body.position()), from_pose(body.next_position()));
                let local = now.inverse_transform_point(&point.into());
                ((next * local).coords - point) / dt
            } else {
                from_vec(body.velocity_at_point(crate::convert::to_vec(&point)))
            };
            return Some(PushContact {
                r_m: [point.x - com.x, point.y - com.y],
                normal: [n.x, n.y],
                pusher_velocity_m_s: [velocity.x, velocity.y],
                mu: f64::from(self.physics.colliders[tool].friction()),
            });
        }
        None
    }

    /// Applies the planar friction of every object resting flat on the table as a force at the
    /// table plane under its centre of mass and a yaw torque, for the coming step; returns the
    /// colliders it handled (the contact hook gives their table pairs no engine friction).
    pub(crate) fn apply_planar_friction(&mut self, dt: f64) -> Vec<ColliderHandle> {
        let mut handled = Vec::new();
        for i in 0..self.objects.len() {
            let ObjectBody::Free(h) = self.objects[i].body else {
                continue;
            };
            let Some(points) = self.support_points(i, dt) else {
                continue;
            };
            let body = &self.physics.bodies[h];
            let mass = f64::from(body.mass());
            let inv_izz = f64::from(body.mass_properties().effective_world_inv_inertia.m33);
            if mass <= 0.0 || inv_izz <= 0.0 {
                continue;
            }
            let (v, w) = (from_vec(body.linvel()), from_vec(body.angvel()));
            let com = from_vec(body.center_of_mass());
            let contact = self.pusher_contact(i, &com, dt);
            let solved = step(
                &points,
                [mass, mass, 1.0 / inv_izz],
                [v.x, v.y, w.z],
                dt,
                contact.as_ref(),
            );
            let force = Vector3::new(solved.friction[0], solved.friction[1], 0.0);
            let torque_z = solved.friction[2];
            // The table plane: the top is z = 0.
            let at = Vector3::new(com.x, com.y, 0.0);
            let body = &mut self.physics.bodies[h];
            body.add_force_at_point(to_vec(&force), to_vec(&at), true);
            body.add_torque(to_vec(&Vector3::new(0.0, 0.0, torque_z)), true);
            handled.push(self.objects[i].collider);
        }
        handled
    }
}
