//! The rod-balancing task's success rule (ASID's "rod balancing"): the rod is set on the scene's
//! narrow perch with a chosen point of its long axis over the perch's centre, released, and left to
//! settle; it balances when it stays up, level. The metric is its tilt after settling (degrees).
//!
//! This is the physics of the rule alone (a rod placed on the perch as the hand would leave it);
//! the grasp, lift and place motion that brings it there is [`crate::pick_place`].

use asid_core::Shape;
use asid_sim::SimWorld;
use nalgebra::{Isometry3, Translation3, Vector3};

use crate::TaskError;

/// A rod that stays up tilts less than this after settling (degrees); one that falls ends leaning
/// on the perch and the table, or slides off the perch altogether.
pub const BALANCED_TILT_DEG: f64 = 5.0;

/// How a placement on the perch ended.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BalanceOutcome {
    /// Angle between the rod's long axis and the table plane after settling.
    pub tilt_deg: f64,
    /// The rod's centre is still above the perch's top (it did not fall off).
    pub on_perch: bool,
    /// Stays up: on the perch and tilted less than [`BALANCED_TILT_DEG`].
    pub success: bool,
}

impl BalanceOutcome {
    /// The task's metric: the tilt on the perch, 90 degrees for a rod that fell off it (which
    /// may lie flat on the table again).
    pub fn metric_deg(&self) -> f64 {
        if self.on_perch { self.tilt_deg } else { 90.0 }
    }
}

/// The perch and the rod of a scene, as the rule needs them.
#[derive(Debug, Clone)]
pub struct Perch {
    /// The rod (a movable object of the scene).
    pub object: String,
    /// Its long axis (index into its box's half extents).
    pub long_axis: usize,
    /// Half its height (the rod lies flat, so its box's z half extent).
    pub half_height_m: f64,
    /// Centre of the perch's top face, world frame.
    pub top_m: Vector3<f64>,
    /// The rod's index among the scene's objects.
    pub object_index: usize,
    /// The rod's box half extents (its own frame).
    pub rod_half_extents_m: [f64; 3],
    /// The perch's box half extents.
    pub perch_half_extents_m: [f64; 3],
}

impl Perch {
    /// The perch `perch` (a static box of the scene) and the rod `object` (a movable box with one
    /// long axis, lying flat in the scene's start pose).
    pub fn of_scene(
        scene: &asid_core::Scene,
        object: &str,
        perch: &str,
    ) -> Result<Self, TaskError> {
        let spec = &scene.spec;
        let p = spec
            .statics
            .iter()
            .find(|s| s.name == perch)
            .ok_or_else(|| TaskError::Config(format!("the scene has no static `{perch}`")))?;
        let Shape::Box { half_extents_m: ph } = &p.shape else {
            return Err(TaskError::Config(format!(
                "static `{perch}`: a box is needed"
            )));
        };
        if p.pose.rpy_rad.iter().any(|a| *a != 0.0) {
            return Err(TaskError::Config(format!(
                "static `{perch}`: must stand upright (rpy 0)"
            )));
        }
        let (object_index, o) = spec
            .objects
            .iter()
            .enumerate()
            .find(|(_, o)| o.name == object)
            .ok_or_else(|| TaskError::Config(format!("the scene has no object `{object}`")))?;
        let (Shape::Box { half_extents_m: h }, Some(long_axis)) = (&o.shape, o.shape.long_axis())
        else {
            return Err(TaskError::Config(format!(
                "object `{object}`: a box with one long axis is needed"
            )));
        };
        if long_axis == 2 {
            return Err(TaskError::Config(format!(
                "object `{object}`: its long axis must lie in the table plane (x or y)"
            )));
        }
        let [x, y, z] = p.pose.xyz_m;
        Ok(Self {
            object: object.to_string(),
            long_axis,
            half_height_m: h[2],
            top_m: Vector3::new(x, y, z + ph[2]),
            object_index,
            rod_half_extents_m: *h,
            perch_half_extents_m: *ph,
        })
    }

    /// Sets the rod level on the perch with the point `offset_m` along its long axis (from its
    /// geometric centre, towards +axis) over the perch's centre, releases it, and lets it settle
    /// for `settle_s` with the arm holding still; judges where it ends.
    pub fn place_and_settle(
        &self,
        world: &mut SimWorld,
        offset_m: f64,
        settle_s: f64,
    ) -> Result<BalanceOutcome, TaskError> {
        if !offset_m.is_finite() || !settle_s.is_finite() || settle_s <= 0.0 {
            return Err(TaskError::Primitive(format!(
                "rod placement: offset {offset_m} m, settle time {settle_s} s: finite values and a \
                 positive time are needed"
            )));
        }
        let mut axis = Vector3::zeros();
        axis[self.long_axis] = 1.0;
        // Level, 0.5 mm above the perch so it is released, not pressed into it.
        let centre =
            self.top_m - offset_m * axis + Vector3::new(0.0, 0.0, self.half_height_m + 5e-4);
        world
            .set_object_pose(
                &self.object,
                &Isometry3::from_parts(Translation3::from(centre), Default::default()),
            )
            .map_err(TaskError::Sim)?;
        let dt = world.scene().spec.physics.dt_s;
        world.hold((settle_s / dt).ceil() as usize);
        self.judge(world)
    }

    /// Judges where the rod is now (after it was set on the perch and left to settle, by
    /// [`Self::place_and_settle`] or by the arm).
    pub fn judge(&self, world: &SimWorld) -> Result<BalanceOutcome, TaskError> {
        let pose = world
            .object_pose(&self.object)
            .ok_or_else(|| TaskError::Config(format!("object `{}` vanished", self.object)))?;
        Ok(self.judge_pose(&pose))
    }

    /// Judges the rod at `pose` (world frame; from the simulator or the tracker): its tilt, and
    /// whether its centre is above the perch's top.
    pub fn judge_pose(&self, pose: &Isometry3<f64>) -> BalanceOutcome {
        let mut axis = Vector3::zeros();
        axis[self.long_axis] = 1.0;
        let along = pose.rotation * axis;
        let tilt_deg = along.z.abs().min(1.0).asin().to_degrees();
        let on_perch = pose.translation.vector.z > self.top_m.z;
        BalanceOutcome {
            tilt_deg,
            on_perch,
            success: on_perch && tilt_deg < BALANCED_TILT_DEG,
        }
    }
}
