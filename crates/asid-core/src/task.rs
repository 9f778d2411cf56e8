//! The task a scene poses (`[task]` in a scene file): what the arm must achieve once the unknown
//! parameters are identified, how success is judged and what the planner may choose.
//!
//! One kind exists so far, `slide_to_zone` (the shuffleboard and the sphere-striking tasks): the tool
//! pushes or strikes an object along the line towards a goal zone and stops; the object slides or
//! rolls out and must come to rest inside the zone. A task names one or more goal zones; each is
//! planned and judged on its own.
//!
//! ```toml
//! [task]
//! kind = "slide_to_zone"
//! object = "puck"
//! horizon_steps = 40
//! speed_mps = [0.1, 0.75]
//! travel_m = [0.06, 0.2]
//!
//! [[task.goal]]
//! name = "near"
//! center_xy_m = [0.66, 0.0]
//! size_xy_m = [0.06, 0.4]
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::scene::{ActionSpec, SceneSpec};

/// What kind of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Push or strike an object so that it comes to rest inside a goal zone.
    SlideToZone,
}

/// How far outside a zone's edge a point still counts as on it.
pub const ON_EDGE_M: f64 = 1e-9;

/// A rectangular goal zone on the table (axis-aligned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalZone {
    /// Name used in reports (`near`, `far`, ...).
    pub name: String,
    /// Centre of the zone on the table.
    pub center_xy_m: [f64; 2],
    /// Full extent of the zone in x and y.
    pub size_xy_m: [f64; 2],
}

impl GoalZone {
    /// Distance from `xy` to the zone (0 inside or on its edge).
    pub fn distance_m(&self, xy: [f64; 2]) -> f64 {
        let dx = ((xy[0] - self.center_xy_m[0]).abs() - 0.5 * self.size_xy_m[0]).max(0.0);
        let dy = ((xy[1] - self.center_xy_m[1]).abs() - 0.5 * self.size_xy_m[1]).max(0.0);
        dx.hypot(dy)
    }

    /// How far `xy` lies from the zone's centre, per axis in half-sizes, the larger of the two: at
    /// most 1 inside the zone, 0 at its centre.
    pub fn offset_in_half_sizes(&self, xy: [f64; 2]) -> f64 {
        let ox = (xy[0] - self.center_xy_m[0]).abs() / (0.5 * self.size_xy_m[0]);
        let oy = (xy[1] - self.center_xy_m[1]).abs() / (0.5 * self.size_xy_m[1]);
        ox.max(oy)
    }

    /// The success rule: the object's centre inside the zone; a centre on the edge counts (to 1 nm,
    /// so that an edge written in decimals is on the edge in floating point too).
    pub fn contains(&self, xy: [f64; 2]) -> bool {
        self.distance_m(xy) <= ON_EDGE_M
    }
}

/// The `[task]` table of a scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// What kind of task.
    pub kind: TaskKind,
    /// The object to bring into a zone (a free object of the scene).
    pub object: String,
    /// Control steps of one attempt: the push and the time the object needs to come to rest.
    pub horizon_steps: usize,
    /// Range of the tool's push speed that the planner may choose.
    pub speed_mps: [f64; 2],
    /// Range of the tool's travel along the push line (from its pre-push point, which lies as far
    /// behind the object as the arm's start position does) that the planner may choose.
    pub travel_m: [f64; 2],
    /// Range of the push direction's offset from the line object -> goal centre (rad,
    /// counter-clockwise), when the planner may aim (a strike that curves, an object that turns);
    /// absent: the push follows that line.
    #[serde(default)]
    pub aim_rad: Option<[f64; 2]>,
    /// Largest tool acceleration of the push's ramps.
    #[serde(default = "default_accel")]
    pub accel_mps2: f64,
    /// Goal zones; each is a task of its own.
    #[serde(rename = "goal")]
    pub goals: Vec<GoalZone>,
}

fn default_accel() -> f64 {
    3.0
}

fn invalid(file: &Path, key: &str, msg: String, allowed: &str) -> ConfigError {
    ConfigError::invalid(file, key, msg, allowed)
}

/// Checks a scene's `[task]` against the rest of the scene.
pub(crate) fn validate_task(file: &Path, s: &SceneSpec) -> Result<(), ConfigError> {
    let Some(t) = &s.task else {
        return Ok(());
    };
    let Some(obj) = s.objects.iter().find(|o| o.name == t.object) else {
        let names: Vec<&str> = s.objects.iter().map(|o| o.name.as_str()).collect();
        return Err(invalid(
            file,
            "task.object",
            format!("no object named `{}`", t.object),
            &format!("one of {names:?}"),
        ));
    };
    if obj.fixed || obj.attach.is_some() || obj.joint.is_some() {
        return Err(invalid(
            file,
            "task.object",
            format!("`{}` is not a free body", t.object),
            "a free object (not fixed, attached or jointed)",
        ));
    }
    if !matches!(s.arm.action, ActionSpec::EeDeltaXy { .. }) {
        return Err(invalid(
            file,
            "task.kind",
            "slide_to_zone needs the arm's action kind ee_delta_xy".into(),
            "a scene with [arm.action] kind = \"ee_delta_xy\"",
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
    let ranges = [
        ("task.speed_mps", t.speed_mps, 5.0),
        ("task.travel_m", t.travel_m, 2.0),
    ];
    for (key, [lo, hi], max) in ranges {
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo < hi && hi <= max) {
            return Err(invalid(
                file,
                key,
                format!("range [{lo}, {hi}] is not allowed"),
                &format!("0 < low < high <= {max}"),
            ));
        }
    }
    if let Some([lo, hi]) = t.aim_rad
        && !(lo.is_finite() && hi.is_finite() && lo < hi && lo >= -1.0 && hi <= 1.0)
    {
        return Err(invalid(
            file,
            "task.aim_rad",
            format!("range [{lo}, {hi}] is not allowed"),
            "-1 <= low < high <= 1",
        ));
    }
    if !(t.accel_mps2.is_finite() && t.accel_mps2 > 0.0 && t.accel_mps2 <= 50.0) {
        return Err(invalid(
            file,
            "task.accel_mps2",
            format!("value {} is not allowed", t.accel_mps2),
            "0 < accel_mps2 <= 50",
        ));
    }
    if t.goals.is_empty() {
        return Err(invalid(
            file,
            "task.goal",
            "no goal zone".into(),
            "at least one [[task.goal]]",
        ));
    }
    let half = [0.5 * s.table.size_m[0], 0.5 * s.table.size_m[1]];
    for (i, g) in t.goals.iter().enumerate() {
        let key = format!("task.goal[{i}]");
        if g.name.trim().is_empty() || g.name.chars().any(char::is_control) {
            return Err(invalid(
                file,
                &format!("{key}.name"),
                format!("name {:?} is not allowed", g.name),
                "a non-empty name without control characters",
            ));
        }
        if t.goals[..i].iter().any(|o| o.name == g.name) {
            return Err(invalid(
                file,
                &format!("{key}.name"),
                format!("goal `{}` is named twice", g.name),
                "unique goal names",
            ));
        }
        for (k, half_k) in half.iter().enumerate() {
            let (c, w) = (g.center_xy_m[k], g.size_xy_m[k]);
            if !(w.is_finite() && w > 0.0 && w <= s.table.size_m[k]) {
                return Err(invalid(
                    file,
                    &format!("{key}.size_xy_m[{k}]"),
                    format!("value {w} is not allowed"),
                    &format!("0 < size <= the table's {}", s.table.size_m[k]),
                ));
            }
            let (lo, hi) = (
                s.table.center_xy_m[k] - half_k,
                s.table.center_xy_m[k] + half_k,
            );
            if !(c.is_finite() && c - 0.5 * w >= lo && c + 0.5 * w <= hi) {
                return Err(invalid(
                    file,
                    &format!("{key}.center_xy_m[{k}]"),
                    format!(
                        "the zone [{}, {}] leaves the table",
                        c - 0.5 * w,
                        c + 0.5 * w
                    ),
                    &format!("a zone on the table, [{lo}, {hi}]"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> GoalZone {
        GoalZone {
            name: "near".into(),
            center_xy_m: [0.7, 0.0],
            size_xy_m: [0.1, 0.2],
        }
    }

    #[test]
    fn a_centre_on_the_line_counts_and_one_just_outside_does_not() {
        let z = zone();
        assert!(z.contains([0.75, 0.0]));
        assert!(z.contains([0.65, 0.1]));
        assert!(!z.contains([0.7501, 0.0]));
        assert!((z.distance_m([0.80, 0.0]) - 0.05).abs() < 1e-12);
        assert!((z.distance_m([0.78, 0.14]) - 0.05).abs() < 1e-12);
        assert_eq!(z.distance_m([0.7, 0.05]), 0.0);
        assert_eq!(z.offset_in_half_sizes([0.7, 0.0]), 0.0);
        assert!((z.offset_in_half_sizes([0.725, 0.05]) - 0.5).abs() < 1e-12);
        assert!((z.offset_in_half_sizes([0.8, 0.0]) - 2.0).abs() < 1e-12);
    }
}
