//! Validation of a parsed scene: every rule names the key path and the allowed values.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::ConfigError;
use crate::geometry::PoseSpec;
use crate::robot::{RobotSpec, ToolSpec};
use crate::scene::{ActionSpec, ArmModel, Attach, ChannelKind, SceneSpec};

pub use crate::validate_params::nominal_value;
pub(crate) use crate::validate_robot::{validate_robot, validate_tool};

pub(crate) struct Validator<'a> {
    pub(crate) file: &'a Path,
}

/// `a < b`, false when either is NaN.
pub(crate) fn increasing(a: f64, b: f64) -> bool {
    a < b
}

/// A number as people write it: exponent notation for the very small and the very large.
pub(crate) fn number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

pub(crate) fn finite_nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

pub(crate) fn finite_pos(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

impl Validator<'_> {
    pub(crate) fn err(
        &self,
        key: impl Into<String>,
        msg: impl Into<String>,
        allowed: &str,
    ) -> ConfigError {
        ConfigError::invalid(self.file, key, msg, allowed)
    }

    fn check(&self, ok: bool, key: &str, value: f64, allowed: &str) -> Result<(), ConfigError> {
        if ok {
            Ok(())
        } else {
            Err(self.err(
                key,
                format!("value {} is not allowed", number(value)),
                allowed,
            ))
        }
    }

    fn pose(&self, key: &str, pose: &PoseSpec) -> Result<(), ConfigError> {
        if pose.is_finite() {
            Ok(())
        } else {
            Err(self.err(key, "pose has a non-finite number", "finite numbers"))
        }
    }

    pub(crate) fn scene(
        &self,
        s: &SceneSpec,
        robot: &RobotSpec,
        tool: &ToolSpec,
    ) -> Result<(), ConfigError> {
        if s.name.trim().is_empty() {
            return Err(self.err("name", "empty scene name", "a non-empty string"));
        }
        let p = &s.physics;
        self.check(
            p.dt_s >= 1e-6 && p.dt_s <= 0.01,
            "physics.dt_s",
            p.dt_s,
            "1e-6 <= dt_s <= 0.01",
        )?;
        self.check(
            (1..=100).contains(&p.solver_iterations),
            "physics.solver_iterations",
            p.solver_iterations as f64,
            "1..=100",
        )?;
        self.check(
            (1..=100).contains(&p.pgs_iterations),
            "physics.pgs_iterations",
            p.pgs_iterations as f64,
            "1..=100",
        )?;
        if !p.gravity_m_s2.iter().all(|g| g.is_finite()) {
            return Err(self.err(
                "physics.gravity_m_s2",
                "non-finite gravity",
                "finite numbers",
            ));
        }
        let t = &s.table;
        for (i, v) in t.size_m.iter().enumerate() {
            self.check(finite_pos(*v), &format!("table.size_m[{i}]"), *v, "> 0")?;
        }
        self.check(
            finite_nonneg(t.friction),
            "table.friction",
            t.friction,
            ">= 0",
        )?;
        self.check(
            (0.0..=1.0).contains(&t.restitution),
            "table.restitution",
            t.restitution,
            "0..=1",
        )?;
        let mut names = BTreeSet::from(["table".to_string(), "arm".to_string()]);
        for (i, patch) in t.patches.iter().enumerate() {
            let key = format!("table.patch[{i}]");
            self.unique(&mut names, &patch.name, &format!("{key}.name"))?;
            self.check(
                finite_nonneg(patch.friction),
                &format!("{key}.friction"),
                patch.friction,
                ">= 0",
            )?;
            for a in 0..2 {
                let half = 0.5 * patch.size_xy_m[a];
                self.check(
                    finite_pos(half),
                    &format!("{key}.size_xy_m[{a}]"),
                    patch.size_xy_m[a],
                    "> 0",
                )?;
                let lo = t.center_xy_m[a] - 0.5 * t.size_m[a];
                let hi = t.center_xy_m[a] + 0.5 * t.size_m[a];
                let c = patch.center_xy_m[a];
                if c - half < lo - 1e-9 || c + half > hi + 1e-9 {
                    return Err(self.err(
                        format!("{key}.center_xy_m[{a}]"),
                        format!("patch spans {}..{} outside the table", c - half, c + half),
                        &format!("inside {lo}..{hi}"),
                    ));
                }
            }
        }
        for (i, st) in s.statics.iter().enumerate() {
            let key = format!("static[{i}]");
            self.unique(&mut names, &st.name, &format!("{key}.name"))?;
            self.shape(&format!("{key}.shape"), &st.shape)?;
            self.pose(&format!("{key}.pose"), &st.pose)?;
            self.check(
                finite_nonneg(st.friction),
                &format!("{key}.friction"),
                st.friction,
                ">= 0",
            )?;
            self.check(
                (0.0..=1.0).contains(&st.restitution),
                &format!("{key}.restitution"),
                st.restitution,
                "0..=1",
            )?;
        }
        for (i, o) in s.objects.iter().enumerate() {
            let key = format!("object[{i}]");
            self.unique(&mut names, &o.name, &format!("{key}.name"))?;
            if o.name.contains('.') {
                return Err(self.err(
                    format!("{key}.name"),
                    "name contains `.`",
                    "letters, digits, `_`",
                ));
            }
            self.shape(&format!("{key}.shape"), &o.shape)?;
            if let Some(support) = o.support {
                let flat = matches!(
                    o.shape,
                    crate::Shape::Box { .. } | crate::Shape::Cylinder { .. }
                );
                if support != crate::scene::SupportKind::Engine && !flat {
                    return Err(self.err(
                        format!("{key}.support"),
                        format!("`{support:?}` needs a flat bottom face; this shape has none"),
                        "`engine` for spheres and capsules (`corners` or `footprint` for boxes and cylinders)",
                    ));
                }
            }
            self.pose(&format!("{key}.pose"), &o.pose)?;
            self.check(
                finite_pos(o.mass_kg),
                &format!("{key}.mass_kg"),
                o.mass_kg,
                "> 0",
            )?;
            self.check(
                finite_nonneg(o.ballast_kg),
                &format!("{key}.ballast_kg"),
                o.ballast_kg,
                ">= 0",
            )?;
            self.check(
                finite_pos(o.inertia_scale),
                &format!("{key}.inertia_scale"),
                o.inertia_scale,
                "> 0",
            )?;
            for (field, v) in [
                ("friction", o.friction),
                ("rolling_resistance", o.rolling_resistance),
                (
                    "torsional_friction_m",
                    o.torsional_friction_m.unwrap_or(0.0),
                ),
                ("linear_damping", o.linear_damping),
                ("angular_damping", o.angular_damping),
            ] {
                self.check(finite_nonneg(v), &format!("{key}.{field}"), v, ">= 0")?;
            }
            self.check(
                (0.0..=1.0).contains(&o.restitution),
                &format!("{key}.restitution"),
                o.restitution,
                "0..=1",
            )?;
            if !o.com_m.iter().all(|c| c.is_finite()) {
                return Err(self.err(
                    format!("{key}.com_m"),
                    "non-finite centre of mass",
                    "finite numbers",
                ));
            }
            if o.attach.is_some() && (o.fixed || o.joint.is_some()) {
                return Err(self.err(
                    format!("{key}.attach"),
                    "an attached object cannot also be fixed or jointed",
                    "one of attach, fixed, joint",
                ));
            }
            if o.attach == Some(Attach::Tool) && s.arm.model == ArmModel::Kinematic {
                return Err(self.err(
                    format!("{key}.attach"),
                    "a payload held by a kinematic arm has no effect on the motion",
                    "attach = \"tool\" only with arm.model = \"dynamic\"",
                ));
            }
            if let Some(j) = &o.joint {
                let jkey = format!("{key}.joint");
                let parent_ok = s
                    .objects
                    .iter()
                    .any(|p| p.name == j.parent && p.name != o.name);
                if !parent_ok {
                    return Err(self.err(
                        format!("{jkey}.parent"),
                        format!("no object `{}` to attach to", j.parent),
                        "the name of another object",
                    ));
                }
                if norm(j.axis) < 1e-9 || !j.axis.iter().all(|a| a.is_finite()) {
                    return Err(self.err(
                        format!("{jkey}.axis"),
                        "zero or non-finite axis",
                        "a non-zero direction",
                    ));
                }
                if !increasing(j.limits[0], j.limits[1]) {
                    return Err(self.err(
                        format!("{jkey}.limits"),
                        format!("limits {:?} are not increasing", j.limits),
                        "[low, high] with low < high",
                    ));
                }
                self.check(
                    finite_nonneg(j.damping),
                    &format!("{jkey}.damping"),
                    j.damping,
                    ">= 0",
                )?;
                self.check(
                    finite_nonneg(j.friction),
                    &format!("{jkey}.friction"),
                    j.friction,
                    ">= 0",
                )?;
            }
        }
        self.arm(s, robot, tool)?;
        self.observation(s, tool)?;
        self.layout(s)
    }

    fn unique(
        &self,
        names: &mut BTreeSet<String>,
        name: &str,
        key: &str,
    ) -> Result<(), ConfigError> {
        if name.trim().is_empty() {
            return Err(self.err(key, "empty name", "a non-empty name"));
        }
        crate::validate_layout::printable(self, key, name)?;
        if !names.insert(name.to_string()) {
            return Err(self.err(
                key,
                format!("name `{name}` is used twice (or is reserved)"),
                "unique names other than `table`, `arm`",
            ));
        }
        Ok(())
    }

    fn shape(&self, key: &str, shape: &crate::geometry::Shape) -> Result<(), ConfigError> {
        shape.check().map_err(|(field, v)| {
            self.err(
                format!("{key}.{field}"),
                format!("value {v} is not allowed"),
                "> 0",
            )
        })
    }

    fn arm(&self, s: &SceneSpec, robot: &RobotSpec, tool: &ToolSpec) -> Result<(), ConfigError> {
        let a = &s.arm;
        self.pose("arm.base", &a.base)?;
        self.check(
            a.control_rate_hz > 0.0 && a.control_rate_hz <= 1000.0,
            "arm.control_rate_hz",
            a.control_rate_hz,
            "0 < rate <= 1000",
        )?;
        let ratio = 1.0 / (a.control_rate_hz * s.physics.dt_s);
        if ratio < 1.0 - 1e-9 || (ratio - ratio.round()).abs() > 1e-6 {
            return Err(self.err(
                "arm.control_rate_hz",
                format!(
                    "control period {} s is not a whole number of physics steps of {} s",
                    1.0 / a.control_rate_hz,
                    s.physics.dt_s
                ),
                "a rate whose period is a multiple of physics.dt_s",
            ));
        }
        if let Some(q) = &a.initial_q_rad {
            if q.len() != robot.joints.len() {
                return Err(self.err(
                    "arm.initial_q_rad",
                    format!("{} values for {} joints", q.len(), robot.joints.len()),
                    "one value per joint",
                ));
            }
            for (i, v) in q.iter().enumerate() {
                let (lo, hi) = (
                    robot.limits.position_min_rad[i],
                    robot.limits.position_max_rad[i],
                );
                self.check(
                    *v >= lo && *v <= hi,
                    &format!("arm.initial_q_rad[{i}]"),
                    *v,
                    &format!("{lo}..={hi} (joint {})", robot.joints[i]),
                )?;
            }
        }
        if let Some(w) = a.gripper_width_m {
            let max = tool.gripper.as_ref().map(|g| g.max_width_m);
            match max {
                None => {
                    return Err(self.err(
                        "arm.gripper_width_m",
                        format!("tool `{}` has no gripper", tool.name),
                        "omit it, or use a gripper tool",
                    ));
                }
                Some(m) => self.check(
                    w >= 0.0 && w <= m,
                    "arm.gripper_width_m",
                    w,
                    &format!("0..={m}"),
                )?,
            }
        }
        match &a.action {
            ActionSpec::EeDeltaXy {
                max_step_m,
                z_m,
                start_xyz_m,
                horizon_steps,
                workspace_xy_m,
            } => {
                self.max_step(*max_step_m)?;
                self.horizon(*horizon_steps)?;
                // Written with `contains` so that a NaN height is rejected too.
                if !(0.0..=1e-9).contains(&(start_xyz_m[2] - z_m).abs()) {
                    return Err(self.err(
                        "arm.action.start_xyz_m[2]",
                        format!("start height {} differs from z_m {}", start_xyz_m[2], z_m),
                        "equal to arm.action.z_m",
                    ));
                }
                self.workspace("arm.action.workspace_xy_m", workspace_xy_m, start_xyz_m)?;
            }
            ActionSpec::EeDeltaXyz {
                max_step_m,
                start_xyz_m,
                horizon_steps,
                workspace_m,
            } => {
                self.max_step(*max_step_m)?;
                self.horizon(*horizon_steps)?;
                self.workspace("arm.action.workspace_m", workspace_m, start_xyz_m)?;
            }
            ActionSpec::JointPosition { horizon_steps } => self.horizon(*horizon_steps)?,
        }
        Ok(())
    }

    fn max_step(&self, v: f64) -> Result<(), ConfigError> {
        self.check(
            finite_pos(v) && v <= 0.5,
            "arm.action.max_step_m",
            v,
            "0 < max_step_m <= 0.5",
        )
    }

    fn horizon(&self, h: usize) -> Result<(), ConfigError> {
        self.check(
            (1..=100_000).contains(&h),
            "arm.action.horizon_steps",
            h as f64,
            "1..=100000",
        )
    }

    fn workspace<const N: usize>(
        &self,
        key: &str,
        ws: &[[f64; 2]; N],
        start: &[f64; 3],
    ) -> Result<(), ConfigError> {
        for (i, [lo, hi]) in ws.iter().enumerate() {
            if !increasing(*lo, *hi) {
                return Err(self.err(
                    format!("{key}[{i}]"),
                    format!("[{lo}, {hi}] is empty"),
                    "[low, high] with low < high",
                ));
            }
            // Written with `contains` so that a NaN start is rejected too.
            if !(*lo..=*hi).contains(&start[i]) {
                return Err(self.err(
                    format!("arm.action.start_xyz_m[{i}]"),
                    format!("start {} lies outside the workspace", start[i]),
                    &format!("{lo}..={hi}"),
                ));
            }
        }
        Ok(())
    }

    fn observation(&self, s: &SceneSpec, tool: &ToolSpec) -> Result<(), ConfigError> {
        if s.observation.channels.is_empty() {
            return Err(self.err(
                "observation.channel",
                "no channel",
                "at least one [[observation.channel]]",
            ));
        }
        for (i, c) in s.observation.channels.iter().enumerate() {
            let key = format!("observation.channel[{i}]");
            self.check(finite_pos(c.sigma), &format!("{key}.sigma"), c.sigma, "> 0")?;
            if let Some(v) = c.sigma_rad {
                if c.kind != ChannelKind::ObjectPose {
                    return Err(self.err(
                        format!("{key}.sigma_rad"),
                        format!("{:?} has no rotation", c.kind),
                        "sigma_rad on object_pose channels only",
                    ));
                }
                self.check(finite_pos(v), &format!("{key}.sigma_rad"), v, "> 0 (rad)")?;
            }
            match (c.kind.needs_subject(), &c.of) {
                (true, None) => {
                    return Err(self.err(
                        format!("{key}.of"),
                        format!("{:?} needs `of`", c.kind),
                        "an object name",
                    ));
                }
                (false, Some(of)) => {
                    return Err(self.err(
                        format!("{key}.of"),
                        format!("{:?} takes no subject, got `{of}`", c.kind),
                        "omit `of`",
                    ));
                }
                _ => {}
            }
            if let Some(of) = &c.of {
                let ok = if c.kind == ChannelKind::ArticulationPosition {
                    of.split_once('.').is_some_and(|(obj, joint)| {
                        s.objects.iter().any(|o| {
                            o.name == obj && o.joint.as_ref().is_some_and(|j| j.name == joint)
                        })
                    })
                } else {
                    s.objects.iter().any(|o| &o.name == of)
                };
                if !ok {
                    let allowed = if c.kind == ChannelKind::ArticulationPosition {
                        "`<object>.<joint>` of a jointed object"
                    } else {
                        "an object name"
                    };
                    return Err(self.err(
                        format!("{key}.of"),
                        format!("`{of}` does not exist"),
                        allowed,
                    ));
                }
            }
            if c.kind == ChannelKind::JointTorque && s.arm.model == ArmModel::Kinematic {
                return Err(self.err(
                    format!("{key}.kind"),
                    "a kinematic arm has no joint torques",
                    "arm.model = \"dynamic\"",
                ));
            }
            if c.kind == ChannelKind::GripperWidth && tool.gripper.is_none() {
                return Err(self.err(
                    format!("{key}.kind"),
                    format!("tool `{}` has no gripper", tool.name),
                    "a gripper tool",
                ));
            }
        }
        Ok(())
    }
}

pub(crate) fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}
