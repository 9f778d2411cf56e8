//! Validation of names and of where objects are: what the per-field rules cannot see.
//!
//! - the scene name becomes a directory of `asid run`, so it must be a plain name;
//! - no name may hold a control character (NUL and newlines break file names and logs);
//! - a free object must start on or above the table top (z = 0) and over the table;
//! - an object's centre of mass lies inside its shape;
//! - a control period of more than [`MAX_SUBSTEPS`] physics steps would stall the simulator.

use crate::error::ConfigError;
use crate::geometry::{PoseSpec, Shape};
use crate::scene::SceneSpec;
use crate::validate::Validator;

/// Most physics steps per control period.
pub(crate) const MAX_SUBSTEPS: f64 = 10_000.0;
/// Longest scene name.
const MAX_NAME_CHARS: usize = 64;
/// How far a shape may reach into the table top (contact slop of the shipped scenes).
const TABLE_SLOP_M: f64 = 1e-3;

impl Validator<'_> {
    pub(crate) fn layout(&self, s: &SceneSpec) -> Result<(), ConfigError> {
        self.scene_name(&s.name)?;
        let substeps = 1.0 / (s.arm.control_rate_hz * s.physics.dt_s);
        if !(substeps.is_finite() && substeps <= MAX_SUBSTEPS) {
            return Err(self.err(
                "physics.dt_s",
                format!(
                    "{substeps:.3e} physics steps of {} s per control period of {} s",
                    s.physics.dt_s,
                    1.0 / s.arm.control_rate_hz
                ),
                &format!("at most {MAX_SUBSTEPS} steps per control period"),
            ));
        }
        let names = s
            .table
            .patches
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("table.patch[{i}].name"), &p.name))
            .chain(
                s.statics
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (format!("static[{i}].name"), &o.name)),
            )
            .chain(
                s.objects
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (format!("object[{i}].name"), &o.name)),
            )
            .chain(s.objects.iter().enumerate().filter_map(|(i, o)| {
                o.joint
                    .as_ref()
                    .map(|j| (format!("object[{i}].joint.name"), &j.name))
            }));
        for (key, name) in names {
            printable(self, &key, name)?;
        }
        let t = &s.table;
        for (i, o) in s.objects.iter().enumerate() {
            let key = format!("object[{i}]");
            if !shape_contains(&o.shape, o.com_m) {
                return Err(self.err(
                    format!("{key}.com_m"),
                    format!("centre of mass {:?} m lies outside the shape", o.com_m),
                    "a point inside the object's shape (body frame)",
                ));
            }
            // Attached objects are placed relative to the tool; jointed ones hang from a parent.
            if o.attach.is_some() || o.joint.is_some() {
                continue;
            }
            let bottom = o.pose.xyz_m[2] - half_height_world(&o.shape, &o.pose);
            if bottom < -TABLE_SLOP_M {
                return Err(self.err(
                    format!("{key}.pose.xyz_m[2]"),
                    format!("the object's lowest point is {bottom:.4} m, inside the table"),
                    &format!(
                        "a lowest point at or above the table top z = 0 (-{TABLE_SLOP_M} m slop)"
                    ),
                ));
            }
            for a in 0..2 {
                let lo = t.center_xy_m[a] - 0.5 * t.size_m[a];
                let hi = t.center_xy_m[a] + 0.5 * t.size_m[a];
                let c = o.pose.xyz_m[a];
                if !(lo..=hi).contains(&c) {
                    return Err(self.err(
                        format!("{key}.pose.xyz_m[{a}]"),
                        format!("the object's centre {c} m is off the table"),
                        &format!("{lo}..={hi} (the table top)"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The scene name names a directory under `asid run --out-dir`.
    fn scene_name(&self, name: &str) -> Result<(), ConfigError> {
        let plain = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !plain || name.starts_with('.') || name.chars().count() > MAX_NAME_CHARS {
            return Err(self.err(
                "name",
                format!("scene name {name:?} is not a plain file name"),
                &format!(
                    "1..={MAX_NAME_CHARS} ASCII letters, digits, `_`, `-`, `.`, not starting with `.`"
                ),
            ));
        }
        Ok(())
    }
}

/// Names hold no control characters (NUL and newlines break file names, topics and logs).
pub(crate) fn printable(v: &Validator<'_>, key: &str, name: &str) -> Result<(), ConfigError> {
    match name.chars().find(|c| c.is_control()) {
        Some(c) => Err(v.err(
            key,
            format!("name {name:?} holds the control character {c:?}"),
            "printable characters",
        )),
        None => Ok(()),
    }
}

/// The rotation matrix of roll-pitch-yaw about fixed x, y, z: R = Rz(yaw) Ry(pitch) Rx(roll).
fn rotation(rpy: [f64; 3]) -> [[f64; 3]; 3] {
    let (sr, cr) = rpy[0].sin_cos();
    let (sp, cp) = rpy[1].sin_cos();
    let (sy, cy) = rpy[2].sin_cos();
    [
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
        [-sp, cp * sr, cp * cr],
    ]
}

/// How far the shape reaches below its origin along world z in `pose`.
fn half_height_world(shape: &Shape, pose: &PoseSpec) -> f64 {
    let r = rotation(pose.rpy_rad);
    let up = r[2]; // world z in body coordinates
    match shape {
        Shape::Box { half_extents_m: h } => (0..3).map(|j| up[j].abs() * h[j]).sum(),
        Shape::Sphere { radius_m } => *radius_m,
        Shape::Cylinder {
            radius_m,
            half_height_m,
        } => up[2].abs() * half_height_m + radius_m * (1.0 - up[2] * up[2]).max(0.0).sqrt(),
        Shape::Capsule {
            radius_m,
            half_height_m,
        } => up[2].abs() * half_height_m + radius_m,
    }
}

/// True when body-frame point `p` lies inside `shape` (boundary included, 1e-9 m tolerance).
pub(crate) fn shape_contains(shape: &Shape, p: [f64; 3]) -> bool {
    const TOL: f64 = 1e-9;
    if !p.iter().all(|v| v.is_finite()) {
        return false;
    }
    match shape {
        Shape::Box { half_extents_m: h } => (0..3).all(|i| p[i].abs() <= h[i] + TOL),
        Shape::Sphere { radius_m } => p.iter().map(|v| v * v).sum::<f64>().sqrt() <= radius_m + TOL,
        Shape::Cylinder {
            radius_m,
            half_height_m,
        } => p[0].hypot(p[1]) <= radius_m + TOL && p[2].abs() <= half_height_m + TOL,
        Shape::Capsule {
            radius_m,
            half_height_m,
        } => {
            let z = p[2].clamp(-half_height_m, *half_height_m);
            let d = (p[0] * p[0] + p[1] * p[1] + (p[2] - z) * (p[2] - z)).sqrt();
            d <= radius_m + TOL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_of_mass_ten_metres_outside_a_rod_is_outside() {
        let rod = Shape::Box {
            half_extents_m: [0.02, 0.15, 0.02],
        };
        assert!(shape_contains(&rod, [0.0, 0.15, 0.0]));
        assert!(!shape_contains(&rod, [0.0, 10.0, 0.0]));
        assert!(!shape_contains(&rod, [f64::NAN, 0.0, 0.0]));
    }

    #[test]
    fn a_cylinder_on_its_side_reaches_down_by_its_radius() {
        let puck = Shape::Cylinder {
            radius_m: 0.04,
            half_height_m: 0.01,
        };
        let flat = PoseSpec::default();
        assert!((half_height_world(&puck, &flat) - 0.01).abs() < 1e-12);
        let side = PoseSpec {
            xyz_m: [0.0; 3],
            rpy_rad: [std::f64::consts::FRAC_PI_2, 0.0, 0.0],
        };
        assert!((half_height_world(&puck, &side) - 0.04).abs() < 1e-9);
    }
}
