//! The task a scene poses (`[task]` in a scene file): what the arm must achieve once the unknown
//! parameters are identified, how success is judged and what the planner may choose.
//!
//! Four kinds exist:
//! - `slide_to_zone` (the shuffleboard and the sphere-striking tasks): the tool pushes or strikes an
//!   object along the line towards a goal zone and stops; the object slides or rolls out and must
//!   come to rest inside the zone. A task names one or more goal zones; each is planned and judged
//!   on its own.
//! - `balance` (ASID's rod balancing, [`BalanceSpec`]): the hand grasps a rod at a chosen point of
//!   its long axis, lifts it, sets that point on a narrow perch (a static box of the scene) and
//!   opens; the rod must stay up.
//! - `open` (ASID's articulation, [`crate::task_open::OpenSpec`]): the tool pushes a hinged lid
//!   open along an arc about the hinge to a target angle, or reports that the lid is welded.
//! - `carry` (the payload, [`crate::task_carry::CarrySpec`]): the arm carries a payload held by its
//!   tool along a path of waypoints, within a tracking-error bound at every control step.
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
    /// Pick a rod and set it on a perch so that it balances.
    Balance,
    /// Open a hinged lid to a target angle.
    Open,
    /// Carry a payload along a path within a tracking-error bound.
    Carry,
}

/// The `[task]` table of a scene, by its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SceneTask {
    /// `kind = "slide_to_zone"`.
    SlideToZone(TaskSpec),
    /// `kind = "balance"`.
    Balance(BalanceSpec),
    /// `kind = "open"`.
    Open(crate::task_open::OpenSpec),
    /// `kind = "carry"`.
    Carry(crate::task_carry::CarrySpec),
}

impl SceneTask {
    /// The task's kind.
    pub fn kind(&self) -> TaskKind {
        match self {
            Self::SlideToZone(_) => TaskKind::SlideToZone,
            Self::Balance(_) => TaskKind::Balance,
            Self::Open(_) => TaskKind::Open,
            Self::Carry(_) => TaskKind::Carry,
        }
    }

    /// The object the task acts on.
    pub fn object(&self) -> &str {
        match self {
            Self::SlideToZone(t) => &t.object,
            Self::Balance(t) => &t.object,
            Self::Open(t) => &t.object,
            Self::Carry(t) => &t.object,
        }
    }

    /// The slide-to-zone task, if it is one.
    pub fn slide(&self) -> Option<&TaskSpec> {
        match self {
            Self::SlideToZone(t) => Some(t),
            Self::Balance(_) | Self::Open(_) | Self::Carry(_) => None,
        }
    }

    /// The balancing task, if it is one.
    pub fn balance(&self) -> Option<&BalanceSpec> {
        match self {
            Self::Balance(t) => Some(t),
            Self::SlideToZone(_) | Self::Open(_) | Self::Carry(_) => None,
        }
    }

    /// The opening task, if it is one.
    pub fn open(&self) -> Option<&crate::task_open::OpenSpec> {
        match self {
            Self::Open(t) => Some(t),
            Self::SlideToZone(_) | Self::Balance(_) | Self::Carry(_) => None,
        }
    }

    /// The payload task, if it is one.
    pub fn carry(&self) -> Option<&crate::task_carry::CarrySpec> {
        match self {
            Self::Carry(t) => Some(t),
            Self::SlideToZone(_) | Self::Balance(_) | Self::Open(_) => None,
        }
    }
}

/// The rod-balancing task (`kind = "balance"`):
///
/// ```toml
/// [task]
/// kind = "balance"
/// object = "rod"
/// perch = "perch"
/// carry_z_m = 0.25
/// speed_mps = 0.1
/// grasp_force_n = 20.0
/// settle_s = 2.0
/// ```
///
/// The grasp point along the rod is what the planner chooses; the rest is the motion's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceSpec {
    /// The rod: a free box with one long axis in the table plane.
    pub object: String,
    /// The perch: a static, upright box.
    pub perch: String,
    /// Height of the tool centre point while the rod is carried (world z); it must clear the
    /// perch with the rod below the hand.
    pub carry_z_m: f64,
    /// Largest tool speed of the pick-and-place motion.
    #[serde(default = "default_pick_speed")]
    pub speed_mps: f64,
    /// Grasp force of the hand.
    #[serde(default = "default_grasp_force")]
    pub grasp_force_n: f64,
    /// Time the released rod is left to settle before it is judged.
    #[serde(default = "default_settle")]
    pub settle_s: f64,
}

fn default_pick_speed() -> f64 {
    0.1
}

fn default_grasp_force() -> f64 {
    20.0
}

fn default_settle() -> f64 {
    2.0
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

/// The slide-to-zone task (`kind = "slide_to_zone"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
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
    match &s.task {
        None => Ok(()),
        Some(SceneTask::SlideToZone(t)) => validate_slide(file, s, t),
        Some(SceneTask::Balance(t)) => crate::task_balance::validate_balance(file, s, t),
        Some(SceneTask::Open(t)) => crate::task_open::validate_open(file, s, t),
        Some(SceneTask::Carry(t)) => crate::task_carry::validate_carry(file, s, t),
    }
}

/// The task's object by name (`task.object`), or an error listing the scene's objects.
pub(crate) fn named_object<'a>(
    file: &Path,
    s: &'a SceneSpec,
    name: &str,
) -> Result<&'a crate::scene::ObjectSpec, ConfigError> {
    s.objects.iter().find(|o| o.name == name).ok_or_else(|| {
        let names: Vec<&str> = s.objects.iter().map(|o| o.name.as_str()).collect();
        invalid(
            file,
            "task.object",
            format!("no object named `{name}`"),
            &format!("one of {names:?}"),
        )
    })
}

/// The task's object: a free body of the scene.
pub(crate) fn free_object<'a>(
    file: &Path,
    s: &'a SceneSpec,
    name: &str,
) -> Result<&'a crate::scene::ObjectSpec, ConfigError> {
    let obj = named_object(file, s, name)?;
    if obj.fixed || obj.attach.is_some() || obj.joint.is_some() {
        return Err(invalid(
            file,
            "task.object",
            format!("`{name}` is not a free body"),
            "a free object (not fixed, attached or jointed)",
        ));
    }
    Ok(obj)
}

fn validate_slide(file: &Path, s: &SceneSpec, t: &TaskSpec) -> Result<(), ConfigError> {
    free_object(file, s, &t.object)?;
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
