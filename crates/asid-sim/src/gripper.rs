//! Moving gripper fingers and the grasp constraint.
//!
//! The two finger colliders of a gripper tool sit on the flange body and slide along the flange y
//! axis, symmetric about its centre. [`SimWorld::set_gripper_target`] sets the opening to reach and
//! the finger speed; every physics step then moves the fingers by at most `speed * dt` towards it.
//! Closing, the fingers stop when both touch the same object (closer than [`CONTACT_M`], measured
//! with the exact shape distance at the current poses): the opening is then the object's width. A
//! finger that touches alone keeps going and pushes the object towards the other one. When the
//! command was a grasp, a fixed joint between the flange and the object then holds it (contacts
//! between the two disabled); opening ([`SimWorld::set_gripper_target`] to a larger width) or
//! [`SimWorld::stop_gripper`] removes it. Everything is deterministic.

use rapier3d::parry;
use rapier3d::prelude::*;

use crate::SimError;
use crate::world::{ObjectBody, SimWorld};

/// Fingers closer than this to an object touch it.
pub const CONTACT_M: f64 = 5e-5;

/// The moving fingers of a gripper tool.
#[derive(Debug, Clone)]
pub(crate) struct Fingers {
    /// Finger colliders on the flange: the one at -y, then the one at +y.
    pub colliders: [ColliderHandle; 2],
    /// Half thickness of a finger along y (the opening is between the inner faces).
    pub half_y_m: f64,
    pub max_width_m: f64,
    pub max_force_n: f64,
    pub target_width_m: f64,
    pub speed_m_s: f64,
    /// Force of the current grasp command (None: a plain move).
    pub grasp_force_n: Option<f64>,
    pub moving: bool,
    /// Object both fingers touched when they stopped.
    pub blocked_by: Option<usize>,
    /// Held object and the joint holding it.
    pub held: Option<(usize, ImpulseJointHandle)>,
}

/// What the fingers are doing.
#[derive(Debug, Clone, PartialEq)]
pub struct GripperStatus {
    /// Current opening (between the inner finger faces).
    pub width_m: f64,
    /// Largest opening.
    pub max_width_m: f64,
    /// Largest grasp force.
    pub max_force_n: f64,
    /// Opening the fingers move towards.
    pub target_width_m: f64,
    /// Finger speed (opening rate).
    pub speed_m_s: f64,
    /// The fingers are still moving.
    pub moving: bool,
    /// Object both fingers touched when they stopped closing.
    pub blocked_by: Option<String>,
    /// Object held by the grasp constraint.
    pub held: Option<String>,
}

fn bad(text: String) -> SimError {
    SimError::Gripper(text)
}

impl SimWorld {
    /// The gripper's state (None: the tool has no gripper).
    pub fn gripper(&self) -> Option<GripperStatus> {
        let f = self.fingers.as_ref()?;
        let name = |i: usize| self.objects[i].name.clone();
        Some(GripperStatus {
            width_m: self.gripper_width_m,
            max_width_m: f.max_width_m,
            max_force_n: f.max_force_n,
            target_width_m: f.target_width_m,
            speed_m_s: f.speed_m_s,
            moving: f.moving,
            blocked_by: f.blocked_by.map(name),
            held: f.held.map(|(i, _)| name(i)),
        })
    }

    /// Sets the opening the fingers move to at `speed_m_s` from the next physics step on;
    /// `grasp_force_n` makes it a grasp (the object both fingers stop on is held). Opening beyond
    /// the current width releases a held object. Refused, with nothing changed, without a gripper
    /// or with a width outside `[0, max_width_m]`, a speed that is not positive or a force outside
    /// `[0, max_force_n]`.
    pub fn set_gripper_target(
        &mut self,
        width_m: f64,
        speed_m_s: f64,
        grasp_force_n: Option<f64>,
    ) -> Result<(), SimError> {
        let w = self.gripper_width_m;
        let f = self
            .fingers
            .as_ref()
            .ok_or_else(|| bad(format!("tool `{}` has no gripper", self.scene.tool.name)))?;
        if !(width_m >= 0.0 && width_m <= f.max_width_m) {
            return Err(bad(format!(
                "width {width_m} m is outside [0, {}] m",
                f.max_width_m
            )));
        }
        if !(speed_m_s > 0.0 && speed_m_s.is_finite()) {
            return Err(bad(format!("speed {speed_m_s} m/s is not positive")));
        }
        if let Some(force) = grasp_force_n
            && !(force >= 0.0 && force <= f.max_force_n)
        {
            return Err(bad(format!(
                "grasp force {force} N is outside [0, {}] N",
                f.max_force_n
            )));
        }
        if width_m > w {
            self.release_grasp();
        }
        if let Some(f) = self.fingers.as_mut() {
            f.target_width_m = width_m;
            f.speed_m_s = speed_m_s;
            f.grasp_force_n = grasp_force_n;
            f.moving = true;
            f.blocked_by = None;
        }
        Ok(())
    }

    /// Stops the fingers where they are and releases a held object.
    pub fn stop_gripper(&mut self) {
        self.release_grasp();
        let w = self.gripper_width_m;
        if let Some(f) = self.fingers.as_mut() {
            f.target_width_m = w;
            f.moving = false;
            f.grasp_force_n = None;
        }
    }

    fn release_grasp(&mut self) {
        let Some((i, joint)) = self.fingers.as_mut().and_then(|f| f.held.take()) else {
            return;
        };
        self.physics.impulse_joints.remove(joint, true);
        if let ObjectBody::Free(h) = self.objects[i].body {
            self.physics.bodies[h].wake_up(true);
        }
    }

    /// The object nearest to finger `k` (0: -y, 1: +y) if the opening were `width_m`, and its
    /// distance.
    fn finger_gap(&self, k: usize, width_m: f64) -> Option<(usize, f64)> {
        let f = self.fingers.as_ref()?;
        let c = &self.physics.colliders[f.colliders[k]];
        let mut local = *c.position_wrt_parent()?;
        let side = if k == 0 { -1.0 } else { 1.0 };
        local.translation.y = (side * (0.5 * width_m + f.half_y_m)) as f32;
        let flange = self.physics.bodies[self.arm_bodies.flange()].position();
        let pose = *flange * local;
        let mut best: Option<(usize, f64)> = None;
        for (i, o) in self.objects.iter().enumerate() {
            if !matches!(o.body, ObjectBody::Free(_)) {
                continue;
            }
            let oc = &self.physics.colliders[o.collider];
            let Ok(d) = parry::query::distance(&pose, c.shape(), oc.position(), oc.shape()) else {
                continue;
            };
            let d = f64::from(d.distance);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((i, d));
            }
        }
        best
    }

    fn place_fingers(&mut self, width_m: f64) {
        let Some(f) = self.fingers.as_ref() else {
            return;
        };
        let (colliders, half_y) = (f.colliders, f.half_y_m);
        for (k, h) in colliders.into_iter().enumerate() {
            let side = if k == 0 { -1.0 } else { 1.0 };
            let c = &mut self.physics.colliders[h];
            if let Some(p) = c.position_wrt_parent() {
                let mut t = p.translation;
                t.y = (side * (0.5 * width_m + half_y)) as f32;
                c.set_translation_wrt_parent(t);
            }
        }
        self.gripper_width_m = width_m;
    }

    /// Moves the fingers one physics step of `dt_s` towards their target (before the rapier step).
    pub(crate) fn step_fingers(&mut self, dt_s: f64) {
        let Some(f) = self.fingers.as_ref() else {
            return;
        };
        if !f.moving {
            return;
        }
        let (w, target, reach) = (self.gripper_width_m, f.target_width_m, f.speed_m_s * dt_s);
        let next = if target >= w {
            (w + reach).min(target)
        } else {
            let mut close = reach.min(w - target);
            if let (Some((a, ga)), Some((b, gb))) = (self.finger_gap(0, w), self.finger_gap(1, w))
                && a == b
            {
                let gap = ga.max(gb);
                if gap <= CONTACT_M {
                    self.fingers_blocked(a);
                    return;
                }
                close = close.min(gap);
            }
            w - close
        };
        self.place_fingers(next);
        if let Some(f) = self.fingers.as_mut()
            && next == f.target_width_m
        {
            f.moving = false;
        }
    }

    /// Both fingers touch object `i`: they stop, and a grasp command holds it.
    fn fingers_blocked(&mut self, i: usize) {
        let Some(f) = self.fingers.as_mut() else {
            return;
        };
        f.moving = false;
        f.blocked_by = Some(i);
        let grasp = f.grasp_force_n.is_some() && f.held.is_none();
        let ObjectBody::Free(body) = self.objects[i].body else {
            return;
        };
        if !grasp || !self.physics.bodies[body].is_dynamic() {
            return;
        }
        let flange = self.arm_bodies.flange();
        let frame1 = self.physics.bodies[flange]
            .position()
            .inv_mul(self.physics.bodies[body].position());
        let joint = FixedJointBuilder::new()
            .local_frame1(frame1)
            .local_frame2(Pose::IDENTITY)
            .contacts_enabled(false);
        let handle = self
            .physics
            .impulse_joints
            .insert(flange, body, joint, true);
        if let Some(f) = self.fingers.as_mut() {
            f.held = Some((i, handle));
        }
    }
}
