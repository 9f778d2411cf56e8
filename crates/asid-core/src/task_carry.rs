//! The payload task (`[task] kind = "carry"`, [`CarrySpec`]): carry a payload held by the tool
//! along a path of waypoints with the tool centre point's tracking error (its distance from the
//! path's point of the same control step) within a bound at every control step. The arm's controller compensates gravity for the arm and the tool only,
//! so an unknown payload pulls the tool off the path; the planner feeds the identified payload's
//! effect forward into the commands. Validation against the rest of the scene.
//!
//! ```toml
//! [task]
//! kind = "carry"
//! object = "payload"        # attach = "tool"
//! path_m = [[0.55, 0.15, 0.30], [0.55, -0.15, 0.30], [0.45, 0.0, 0.40]]
//! speed_mps = 0.15          # peak tool speed of each segment (rest to rest)
//! tolerance_m = 0.001       # success: tracking error within 1 mm at every control step
//! settle_steps = 5          # control steps held at the end (judged too)
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::scene::{ActionSpec, ArmModel, Attach, SceneSpec};

/// The payload task (`kind = "carry"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrySpec {
    /// The payload: an object with `attach = "tool"`.
    pub object: String,
    /// Waypoints of the tool centre point (world, m) after the arm's start; the path runs from the
    /// start through each in turn, coming to rest at every waypoint.
    pub path_m: Vec<[f64; 3]>,
    /// Peak tool speed along each segment.
    #[serde(default = "default_speed")]
    pub speed_mps: f64,
    /// Success: the tool centre point within this distance of the path's point of the same
    /// control step (its tracking error) at every control step after the lead-in.
    pub tolerance_m: f64,
    /// Control steps held at the last waypoint (judged like the rest).
    #[serde(default = "default_settle")]
    pub settle_steps: usize,
}

fn default_speed() -> f64 {
    0.1
}

fn default_settle() -> usize {
    5
}

/// The rest-to-rest profile's peak speed over its mean speed (quintic time scaling).
pub const QUINTIC_PEAK_OVER_MEAN: f64 = 1.875;

/// Control steps the arm holds at the start before the path begins: the payload's load is taken
/// up (the learned targets lift the tool back to the start); not judged.
pub const LEAD_IN_STEPS: usize = 5;

/// Largest number of control steps of one carry.
pub const MAX_CARRY_STEPS: usize = 2000;

impl CarrySpec {
    /// Control steps of each segment from `start` through the waypoints at `control_rate_hz`: the
    /// shortest whole number of periods whose quintic profile peaks at or below `speed_mps` (at
    /// least one; a segment of zero length takes one).
    pub fn segment_steps(&self, start: [f64; 3], control_rate_hz: f64) -> Vec<usize> {
        let mut from = start;
        self.path_m
            .iter()
            .map(|to| {
                let len = (0..3)
                    .map(|k| (to[k] - from[k]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                from = *to;
                let periods = QUINTIC_PEAK_OVER_MEAN * len / self.speed_mps * control_rate_hz;
                // `periods` is finite and bounded once the spec is validated.
                (periods - 1e-9).ceil().max(1.0) as usize
            })
            .collect()
    }

    /// Control steps of the whole carry: the lead-in, the segments and the settling.
    pub fn horizon_steps(&self, start: [f64; 3], control_rate_hz: f64) -> usize {
        LEAD_IN_STEPS
            + self
                .segment_steps(start, control_rate_hz)
                .iter()
                .sum::<usize>()
            + self.settle_steps
    }
}

fn invalid(file: &Path, key: &str, msg: String, allowed: &str) -> ConfigError {
    ConfigError::invalid(file, key, msg, allowed)
}

/// Checks a carry task: the object is held by the tool of a dynamic arm that moves its tool in
/// 3-D, every waypoint is inside the workspace, the speed, tolerance and length sensible.
pub(crate) fn validate_carry(file: &Path, s: &SceneSpec, t: &CarrySpec) -> Result<(), ConfigError> {
    let obj = crate::task::named_object(file, s, &t.object)?;
    if obj.attach != Some(Attach::Tool) {
        return Err(invalid(
            file,
            "task.object",
            format!("`{}` is not held by the tool", t.object),
            "a payload: an object with attach = \"tool\"",
        ));
    }
    if s.arm.model != ArmModel::Dynamic {
        return Err(invalid(
            file,
            "task.kind",
            "carry needs a dynamic arm (a kinematic arm is not loaded by its payload)".into(),
            "a scene with [arm] model = \"dynamic\"",
        ));
    }
    let ActionSpec::EeDeltaXyz {
        max_step_m,
        start_xyz_m,
        workspace_m,
        ..
    } = s.arm.action
    else {
        return Err(invalid(
            file,
            "task.kind",
            "carry needs the arm's action kind ee_delta_xyz".into(),
            "a scene with [arm.action] kind = \"ee_delta_xyz\"",
        ));
    };
    if t.path_m.is_empty() || t.path_m.len() > 50 {
        return Err(invalid(
            file,
            "task.path_m",
            format!("{} waypoints", t.path_m.len()),
            "1..=50 waypoints [x, y, z]",
        ));
    }
    for (i, p) in t.path_m.iter().enumerate() {
        let inside = (0..3)
            .all(|k| p[k].is_finite() && p[k] >= workspace_m[k][0] && p[k] <= workspace_m[k][1]);
        if !inside {
            return Err(invalid(
                file,
                &format!("task.path_m[{i}]"),
                format!("waypoint {p:?} is outside the workspace"),
                &format!("inside [arm.action] workspace_m {workspace_m:?}"),
            ));
        }
    }
    let top = max_step_m * s.arm.control_rate_hz;
    if !(t.speed_mps.is_finite() && t.speed_mps >= 1e-3 && t.speed_mps <= top) {
        return Err(invalid(
            file,
            "task.speed_mps",
            format!("value {} is not allowed", t.speed_mps),
            &format!("0.001 <= speed_mps <= {top} (the largest step at the control rate)"),
        ));
    }
    if !(t.tolerance_m.is_finite() && t.tolerance_m > 0.0 && t.tolerance_m <= 0.05) {
        return Err(invalid(
            file,
            "task.tolerance_m",
            format!("value {} is not allowed", t.tolerance_m),
            "0 < tolerance_m <= 0.05",
        ));
    }
    if t.settle_steps > 100 {
        return Err(invalid(
            file,
            "task.settle_steps",
            format!("value {} is not allowed", t.settle_steps),
            "0..=100",
        ));
    }
    let horizon = t.horizon_steps(start_xyz_m, s.arm.control_rate_hz);
    if horizon > MAX_CARRY_STEPS {
        return Err(invalid(
            file,
            "task.path_m",
            format!(
                "the carry takes {horizon} control steps at speed_mps {}",
                t.speed_mps
            ),
            &format!("at most {MAX_CARRY_STEPS} steps: a shorter path or a higher speed"),
        ));
    }
    Ok(())
}
