//! The untouched start of an episode, shared between finite-difference rollouts.
//!
//! While every object rests on the table and nothing else touches it (nor the table, but for the
//! objects), the parameters of the objects and of the table (mass, centre of mass, inertia,
//! friction, restitution, rolling and torsional resistance, damping) act on nothing but how the
//! resting objects settle: the arm moves through free space and the objects stay where they are.
//! Rollouts that differ from a nominal one only in such parameters therefore start from the
//! nominal rollout's world at its last untouched control step (with their own parameters set
//! there) instead of from the beginning. A plan whose tool reaches the object halfway through its
//! horizon saves half of every perturbed rollout, and one that never touches an object saves all
//! of it.
//!
//! What the shared start leaves out:
//! - how a resting object settles under other parameters (a rod's centre of mass moves its weight
//!   between its supports by micrometres; a puck's position changes in the 12th digit), against
//!   the millimetres a push moves it by;
//! - how an object creeps under other parameters while it stays within the rest tolerance
//!   ([`REST_DRIFT_M`], [`REST_TURN_RAD`]): a rest that holds only at the nominal values (an
//!   object on the verge of sliding) is not told apart from one that holds at every value;
//! - the contact solver's warm start of the first step after the shared start, which is the
//!   nominal's.
//!
//! Parameters that can act before a touch are never deferred: those of an articulation's joint,
//! of a body a joint holds or hangs from, and of a payload on the tool. A grasp counts as a touch,
//! and so does anything but an object on the table (the tool, a finger).

use std::sync::Arc;

use asid_core::ParamTarget;
use rapier3d::prelude::ColliderHandle;

use crate::SimError;
use crate::rollout::{Simulator, Trajectory};
use crate::world::{ObjectBody, SimWorld, Watch};

/// How far (m) a free object may move from where it was when the watch began and still count as
/// resting: an object placed on the table sinks into it by up to 0.2 mm over its first half
/// second (rapier's contact settling; the rod 0.21 mm, the puck 0.08 mm), against a tracker's
/// sigma of millimetres.
pub const REST_DRIFT_M: f64 = 5e-4;

/// How far (rad) a free object may turn from its orientation when the watch began and still
/// count as resting (settling turns the rod by up to 0.6 mrad).
pub const REST_TURN_RAD: f64 = 5e-3;

/// A nominal rollout's world at its last untouched control step: every free object had rested,
/// touched by nothing but the table, through every physics step until then.
#[derive(Clone)]
pub struct Untouched {
    steps: usize,
    world: Arc<SimWorld>,
}

impl std::fmt::Debug for Untouched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Untouched")
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl Untouched {
    /// `world` after `steps` control steps, when it is watched and still untouched
    /// ([`SimWorld::untouched`]).
    pub(crate) fn capture(world: &SimWorld, steps: usize) -> Option<Self> {
        world.untouched().then(|| Self {
            steps,
            world: Arc::new(world.clone()),
        })
    }

    /// Control steps run before this world.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// A copy of the world, no longer watched, with parameters `theta`: where a rollout that
    /// differs from the nominal only in them continues.
    pub(crate) fn resume(&self, theta: &[f64]) -> Result<SimWorld, SimError> {
        let mut w = SimWorld::clone(&self.world);
        w.stop_watching();
        w.set_params(theta)?;
        Ok(w)
    }
}

impl SimWorld {
    /// Starts watching the free objects: from now on [`SimWorld::untouched`] says whether every one
    /// of them has stayed within [`REST_DRIFT_M`] and [`REST_TURN_RAD`] of its present pose,
    /// touched by nothing but the table, at the end of every physics step.
    pub(crate) fn watch_untouched(&mut self) {
        let from = (0..self.objects.len())
            .map(|i| self.object_pose_at(i))
            .collect();
        self.watch = Watch::Untouched { from };
        self.check_untouched();
    }

    /// Stops watching.
    pub(crate) fn stop_watching(&mut self) {
        self.watch = Watch::Off;
    }

    /// Whether the world is watched ([`SimWorld::watch_untouched`]) and no free object has been
    /// touched or moved since.
    pub(crate) fn untouched(&self) -> bool {
        matches!(self.watch, Watch::Untouched { .. })
    }

    /// After each physics step of a watched world.
    pub(crate) fn check_untouched(&mut self) {
        let Watch::Untouched { from } = &self.watch else {
            return;
        };
        let moved = self
            .objects
            .iter()
            .zip(from)
            .enumerate()
            .any(|(i, (o, p0))| {
                if !matches!(o.body, ObjectBody::Free(_)) {
                    return false;
                }
                let p = self.object_pose_at(i);
                (p.translation.vector - p0.translation.vector).norm() > REST_DRIFT_M
                    || p.rotation.angle_to(&p0.rotation) > REST_TURN_RAD
            });
        let touched = self.objects.iter().any(|o| {
            self.physics
                .narrow_phase
                .contact_pairs_with(o.collider)
                .any(|p| {
                    p.has_any_active_contact()
                        && p.collider1 != self.table
                        && p.collider2 != self.table
                })
        });
        // The table's friction acts on whatever slides on it: the tool or a finger counts as a
        // touch too.
        let object = |c: ColliderHandle| self.objects.iter().any(|o| o.collider == c);
        let table_touched = self
            .physics
            .narrow_phase
            .contact_pairs_with(self.table)
            .any(|p| {
                let other = if p.collider1 == self.table {
                    p.collider2
                } else {
                    p.collider1
                };
                p.has_any_active_contact() && !object(other)
            });
        // A grasp joint turns off the fingers' contacts with the object it holds.
        let held = self.fingers.as_ref().is_some_and(|f| f.held.is_some());
        if moved || touched || table_touched || held {
            self.watch = Watch::Touched;
        }
    }
}

/// Whether a parameter can act on the episode only once something touches an object: a property
/// of a free object or of the table, not of a joint or of a payload on the tool.
fn waits_for_touch(world: &SimWorld, target: &ParamTarget) -> bool {
    // A free body that no joint holds: a hinged lid (or its base) can tip or sag under its own
    // mass with nothing touching it, and a joint turns off the contacts with its parent.
    let free = |object: usize| {
        let o = &world.objects[object];
        let ObjectBody::Free(body) = o.body else {
            return false;
        };
        o.joint.is_none()
            && !world
                .objects
                .iter()
                .any(|other| other.joint.as_ref().is_some_and(|j| j.parent == body))
    };
    match *target {
        ParamTarget::Mass { object }
        | ParamTarget::InertiaScale { object }
        | ParamTarget::Com { object, .. }
        | ParamTarget::Friction { object }
        | ParamTarget::Restitution { object }
        | ParamTarget::RollingResistance { object }
        | ParamTarget::TorsionalFriction { object }
        | ParamTarget::LinearDamping { object }
        | ParamTarget::AngularDamping { object } => free(object),
        ParamTarget::TableFriction | ParamTarget::PatchFriction { .. } => true,
        ParamTarget::JointDamping { .. }
        | ParamTarget::JointFriction { .. }
        | ParamTarget::JointAxisOffset { .. }
        | ParamTarget::JointPresent { .. } => false,
    }
}

impl Simulator {
    /// Whether every parameter of the scene waits for a touch (see the module docs), so that
    /// perturbed rollouts may share the nominal's untouched start.
    pub fn params_wait_for_touch(&self) -> bool {
        let w = self.template();
        self.scene()
            .space
            .params
            .iter()
            .all(|p| waits_for_touch(w, &p.target))
    }

    /// Runs `actions` at `theta` as [`Simulator::rollout`] does (the same trajectory), and, when
    /// the scene's parameters wait for a touch and the first control step left every object
    /// untouched, the world at the last untouched control step.
    pub fn rollout_watched(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<(Trajectory, Option<Untouched>), SimError> {
        let mut w = self.world(theta)?;
        self.count(actions.len());
        let watch = self.params_wait_for_touch();
        if watch {
            w.watch_untouched();
        }
        let mut t = Trajectory::start(&w, actions.len() + 1);
        let mut last = None;
        for (k, a) in actions.iter().enumerate() {
            w.step_control(a)?;
            t.record(&w);
            if w.untouched() {
                // Only the last untouched world is kept.
                last = Untouched::capture(&w, k + 1);
            } else {
                w.stop_watching();
            }
        }
        Ok((t, last))
    }

    /// The rollout of `actions` at `theta` that starts from `untouched` (a world of the nominal
    /// rollout `nominal` of the same actions): its first `untouched.steps() + 1` observations are
    /// the nominal's, the rest are simulated with `theta` set in that world.
    pub fn rollout_from(
        &self,
        untouched: &Untouched,
        nominal: &Trajectory,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<Trajectory, SimError> {
        let k = untouched.steps;
        debug_assert!(
            k <= actions.len() && nominal.obs.len() == actions.len() + 1,
            "an untouched world of another rollout"
        );
        let mut w = untouched.resume(theta)?;
        self.count(actions.len().saturating_sub(k));
        let mut t = nominal.prefix(k + 1);
        for a in actions.iter().skip(k) {
            w.step_control(a)?;
            t.record(&w);
        }
        Ok(t)
    }
}
