//! Validation of robot and tool files.

use std::path::Path;

use crate::error::ConfigError;
use crate::robot::{RobotSpec, ToolSpec};
use crate::validate::finite_pos;

pub(crate) fn validate_robot(file: &Path, r: &RobotSpec) -> Result<(), ConfigError> {
    let n = r.joints.len();
    let bad =
        |key: &str, msg: String, allowed: &str| Err(ConfigError::invalid(file, key, msg, allowed));
    if n == 0 {
        return bad("joints", "no joints".into(), "at least one joint name");
    }
    let lists: [(&str, &Vec<f64>); 12] = [
        ("home_rad", &r.home_rad),
        ("controller.kp_nm_per_rad", &r.controller.kp_nm_per_rad),
        ("controller.kd_nms_per_rad", &r.controller.kd_nms_per_rad),
        ("controller.armature_kgm2", &r.controller.armature_kgm2),
        (
            "controller.joint_damping_nms_per_rad",
            &r.controller.joint_damping_nms_per_rad,
        ),
        ("limits.position_min_rad", &r.limits.position_min_rad),
        ("limits.position_max_rad", &r.limits.position_max_rad),
        ("limits.velocity_rad_s", &r.limits.velocity_rad_s),
        ("limits.acceleration_rad_s2", &r.limits.acceleration_rad_s2),
        ("limits.jerk_rad_s3", &r.limits.jerk_rad_s3),
        ("limits.torque_nm", &r.limits.torque_nm),
        ("limits.torque_rate_nm_s", &r.limits.torque_rate_nm_s),
    ];
    for (key, list) in lists {
        if list.len() != n {
            return bad(
                key,
                format!("{} values for {n} joints", list.len()),
                "one value per joint",
            );
        }
        if let Some(v) = list.iter().find(|v| !v.is_finite()) {
            return bad(key, format!("value {v} is not finite"), "finite numbers");
        }
    }
    for (key, list) in [
        ("controller.kp_nm_per_rad", &r.controller.kp_nm_per_rad),
        ("limits.velocity_rad_s", &r.limits.velocity_rad_s),
        ("limits.acceleration_rad_s2", &r.limits.acceleration_rad_s2),
        ("limits.jerk_rad_s3", &r.limits.jerk_rad_s3),
        ("limits.torque_nm", &r.limits.torque_nm),
    ] {
        if let Some(v) = list.iter().find(|v| **v <= 0.0) {
            return bad(key, format!("value {v} is not allowed"), "> 0");
        }
    }
    for i in 0..n {
        let (lo, hi) = (r.limits.position_min_rad[i], r.limits.position_max_rad[i]);
        if lo >= hi {
            return bad(
                &format!("limits.position_min_rad[{i}]"),
                format!("min {lo} >= max {hi}"),
                "min < max",
            );
        }
        let h = r.home_rad[i];
        if h < lo || h > hi {
            return bad(
                &format!("home_rad[{i}]"),
                format!("value {h} is outside the joint limits"),
                &format!("{lo}..={hi}"),
            );
        }
    }
    for (key, v) in [
        ("limits.tool_speed_m_s", r.limits.tool_speed_m_s),
        ("limits.collision_force_n", r.limits.collision_force_n),
        ("control_rate_hz", r.control_rate_hz),
    ] {
        if !finite_pos(v) {
            return bad(key, format!("value {v} is not allowed"), "> 0");
        }
    }
    Ok(())
}

pub(crate) fn validate_tool(file: &Path, t: &ToolSpec) -> Result<(), ConfigError> {
    let bad = |key: String, msg: String, allowed: &str| {
        Err(ConfigError::invalid(file, key, msg, allowed))
    };
    if !finite_pos(t.mass_kg) {
        return bad(
            "mass_kg".into(),
            format!("value {} is not allowed", t.mass_kg),
            "> 0",
        );
    }
    if t.shapes.is_empty() {
        return bad("shape".into(), "no shape".into(), "at least one [[shape]]");
    }
    for (i, s) in t.shapes.iter().enumerate() {
        if let Err((field, v)) = s.geometry.check() {
            return bad(
                format!("shape[{i}].geometry.{field}"),
                format!("value {v} is not allowed"),
                "> 0",
            );
        }
    }
    if let Some(g) = &t.gripper {
        if !finite_pos(g.max_width_m) {
            return bad(
                "gripper.max_width_m".into(),
                format!("value {} is not allowed", g.max_width_m),
                "> 0",
            );
        }
        if let Err((field, v)) = g.finger.check() {
            return bad(
                format!("gripper.finger.{field}"),
                format!("value {v} is not allowed"),
                "> 0",
            );
        }
    }
    Ok(())
}
