//! Validation of the rod-balancing task (`[task] kind = "balance"`, [`crate::task::BalanceSpec`])
//! against the rest of its scene. The tool's gripper is checked where the tool file is loaded
//! (the task crate), since a scene file names its tool by name only.

use std::path::Path;

use crate::Shape;
use crate::error::ConfigError;
use crate::scene::SceneSpec;
use crate::task::{BalanceSpec, free_object};

fn invalid(file: &Path, key: &str, msg: String, allowed: &str) -> ConfigError {
    ConfigError::invalid(file, key, msg, allowed)
}

/// Checks a balancing task: the rod is a free box with one long axis in the table plane, lying
/// flat; the perch a static upright box; the carry height clears the perch with the rod below the
/// hand; speed, force and settle time in their ranges.
pub(crate) fn validate_balance(
    file: &Path,
    s: &SceneSpec,
    t: &BalanceSpec,
) -> Result<(), ConfigError> {
    let rod = free_object(file, s, &t.object)?;
    let (rod_h, rod_axis) = match (&rod.shape, rod.shape.long_axis()) {
        (Shape::Box { half_extents_m }, Some(axis)) if axis < 2 => (*half_extents_m, axis),
        _ => {
            return Err(invalid(
                file,
                "task.object",
                format!("`{}` is not a box with one long axis in x or y", t.object),
                "a rod: a box whose longest half extent is x or y",
            ));
        }
    };
    if rod.pose.rpy_rad[0] != 0.0 || rod.pose.rpy_rad[1] != 0.0 {
        return Err(invalid(
            file,
            "task.object",
            format!("`{}` does not lie flat (roll or pitch set)", t.object),
            "a rod lying flat on the table (roll = pitch = 0)",
        ));
    }
    let Some(perch) = s.statics.iter().find(|p| p.name == t.perch) else {
        let names: Vec<&str> = s.statics.iter().map(|p| p.name.as_str()).collect();
        return Err(invalid(
            file,
            "task.perch",
            format!("no static named `{}`", t.perch),
            &format!("one of {names:?}"),
        ));
    };
    let Shape::Box { half_extents_m: ph } = &perch.shape else {
        return Err(invalid(
            file,
            "task.perch",
            format!("`{}` is not a box", t.perch),
            "a static box",
        ));
    };
    if perch.pose.rpy_rad.iter().any(|a| *a != 0.0) {
        return Err(invalid(
            file,
            "task.perch",
            format!("`{}` is rotated", t.perch),
            "an upright, axis-aligned static box (rpy 0)",
        ));
    }
    // The rod is set on the perch lying along the scene's axis it lies along now (the planner
    // simulates that placement), and must cross the perch's narrow side there.
    let narrow = if ph[0] < ph[1] { 0 } else { 1 };
    if ph[0] == ph[1] || narrow != rod_axis {
        let axis = |k: usize| ["x", "y"][k];
        return Err(invalid(
            file,
            "task.perch",
            format!(
                "`{}` is {:.3} m along x and {:.3} m along y; the rod lies along {}",
                t.perch,
                2.0 * ph[0],
                2.0 * ph[1],
                axis(rod_axis)
            ),
            &format!(
                "a perch narrower along the rod's axis ({}) than across it",
                axis(rod_axis)
            ),
        ));
    }
    // The tool centre point sits at the rod's mid-height while it is carried: the rod's underside
    // is `rod_h[2]` below it. Keep 5 cm of clearance over the perch's top.
    let top = perch.pose.xyz_m[2] + ph[2];
    let lowest = top + rod_h[2] + 0.05;
    if !(t.carry_z_m.is_finite() && t.carry_z_m >= lowest && t.carry_z_m <= 1.0) {
        return Err(invalid(
            file,
            "task.carry_z_m",
            format!("value {} is not allowed", t.carry_z_m),
            &format!(
                "{lowest:.3} ..= 1.0 m (the perch's top {top:.3} m, the rod's half height and 5 cm)"
            ),
        ));
    }
    let ranges = [
        ("task.speed_mps", t.speed_mps, 0.005, 0.5),
        ("task.grasp_force_n", t.grasp_force_n, 1.0, 140.0),
        ("task.settle_s", t.settle_s, 0.2, 30.0),
    ];
    for (key, v, lo, hi) in ranges {
        if !(v.is_finite() && v >= lo && v <= hi) {
            return Err(invalid(
                file,
                key,
                format!("value {v} is not allowed"),
                &format!("{lo} ..= {hi}"),
            ));
        }
    }
    Ok(())
}
