//! The articulation task (`[task] kind = "open"`, [`OpenSpec`]): open a hinged lid to a target
//! angle by pushing it along an arc about the hinge as identified, or report that there is nothing
//! to open (the lid is welded). Validation against the rest of the scene.
//!
//! ```toml
//! [task]
//! kind = "open"
//! object = "lid"            # a box with a revolute joint to its parent
//! target_rad = 0.5          # inside the joint's limits
//! tolerance_rad = 0.0873    # success: within 5 deg of the target, at rest
//! contact_m = [0.08, 0.2]   # where along the lid (from the hinge) the tool may push
//! speed_mps = 0.05          # tool speed along the arc
//! horizon_steps = 60
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Shape;
use crate::error::ConfigError;
use crate::scene::{ActionSpec, JointKind, SceneSpec};

/// The articulation task (`kind = "open"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSpec {
    /// The lid: a box object with a revolute joint to its parent.
    pub object: String,
    /// The angle to open it to (rad from its initial configuration, positive opening).
    pub target_rad: f64,
    /// Success: the lid's final angle within this of the target (and at rest).
    #[serde(default = "default_tolerance")]
    pub tolerance_rad: f64,
    /// Range of the distance from the hinge axis, along the lid, of the point the tool pushes
    /// (the planner chooses it).
    pub contact_m: [f64; 2],
    /// Tool speed along the arc.
    #[serde(default = "default_speed")]
    pub speed_mps: f64,
    /// Control steps of one attempt: the approach, the push, the retreat and the settling.
    pub horizon_steps: usize,
}

fn default_tolerance() -> f64 {
    5f64.to_radians()
}

fn default_speed() -> f64 {
    0.05
}

fn invalid(file: &Path, key: &str, msg: String, allowed: &str) -> ConfigError {
    ConfigError::invalid(file, key, msg, allowed)
}

/// Checks an opening task: the object is a box with a revolute joint, the target inside the
/// joint's limits, the ranges and the speed sensible, and the arm moves its tool in 3-D.
pub(crate) fn validate_open(file: &Path, s: &SceneSpec, t: &OpenSpec) -> Result<(), ConfigError> {
    let obj = crate::task::named_object(file, s, &t.object)?;
    let joint = match (&obj.joint, &obj.shape) {
        (Some(j), Shape::Box { .. }) if j.kind == JointKind::Revolute => j,
        _ => {
            return Err(invalid(
                file,
                "task.object",
                format!("`{}` is not a box with a revolute joint", t.object),
                "a lid: a box object whose [object.joint] kind is \"revolute\"",
            ));
        }
    };
    let [lo, hi] = joint.limits;
    if !(t.target_rad.is_finite() && t.target_rad > lo.max(0.0) && t.target_rad <= hi) {
        return Err(invalid(
            file,
            "task.target_rad",
            format!("value {} is not allowed", t.target_rad),
            &format!(
                "{} < target_rad <= {hi} (opening, inside the joint's limits)",
                lo.max(0.0)
            ),
        ));
    }
    if !(t.tolerance_rad.is_finite() && t.tolerance_rad > 0.0 && t.tolerance_rad <= 0.5) {
        return Err(invalid(
            file,
            "task.tolerance_rad",
            format!("value {} is not allowed", t.tolerance_rad),
            "0 < tolerance_rad <= 0.5",
        ));
    }
    let [a, b] = t.contact_m;
    if !(a.is_finite() && b.is_finite() && a > 0.0 && a < b && b <= 1.0) {
        return Err(invalid(
            file,
            "task.contact_m",
            format!("range [{a}, {b}] is not allowed"),
            "0 < low < high <= 1",
        ));
    }
    let ActionSpec::EeDeltaXyz { max_step_m, .. } = s.arm.action else {
        return Err(invalid(
            file,
            "task.kind",
            "open needs the arm's action kind ee_delta_xyz".into(),
            "a scene with [arm.action] kind = \"ee_delta_xyz\"",
        ));
    };
    let top = max_step_m * s.arm.control_rate_hz;
    if !(t.speed_mps.is_finite() && t.speed_mps > 0.0 && t.speed_mps <= top) {
        return Err(invalid(
            file,
            "task.speed_mps",
            format!("value {} is not allowed", t.speed_mps),
            &format!("0 < speed_mps <= {top} (the largest step at the control rate)"),
        ));
    }
    if !(2..=2000).contains(&t.horizon_steps) {
        return Err(invalid(
            file,
            "task.horizon_steps",
            format!("value {} is not allowed", t.horizon_steps),
            "2..=2000",
        ));
    }
    Ok(())
}
