//! Loading and validating a scene with its robot and tool files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, read_toml};
use crate::geometry::PoseSpec;
use crate::param::{JOINT_FIELDS, OBJECT_FIELDS, ParamSpec, ParamTarget, Prior};
use crate::robot::{RobotSpec, ToolSpec};
use crate::scene::{ActionSpec, ArmModel, Attach, ChannelKind, SceneSpec};
use crate::space::{Param, ParamSpace};

/// A validated scene with its robot and tool, and where they came from.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The scene as written.
    pub spec: SceneSpec,
    /// The scene file.
    pub path: PathBuf,
    /// The robot file's contents.
    pub robot: RobotSpec,
    /// The robot file.
    pub robot_path: PathBuf,
    /// The URDF file the robot file names.
    pub urdf_path: PathBuf,
    /// The tool file's contents.
    pub tool: ToolSpec,
    /// The tool file.
    pub tool_path: PathBuf,
    /// The unknown parameters, validated and resolved.
    pub space: ParamSpace,
}

impl Scene {
    /// Number of arm joints.
    pub fn n_joints(&self) -> usize {
        self.robot.joints.len()
    }

    /// Control period.
    pub fn control_period_s(&self) -> f64 {
        1.0 / self.spec.arm.control_rate_hz
    }

    /// Physics steps per control step.
    pub fn substeps(&self) -> usize {
        (self.control_period_s() / self.spec.physics.dt_s).round() as usize
    }

    /// Length of the observation vector.
    pub fn obs_dim(&self) -> usize {
        let n = self.n_joints();
        self.spec
            .observation
            .channels
            .iter()
            .map(|c| c.kind.dim(n))
            .sum()
    }

    /// Length of one action.
    pub fn action_dim(&self) -> usize {
        self.spec.arm.action.dim(self.n_joints())
    }

    /// Index of an object by name.
    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.spec.objects.iter().position(|o| o.name == name)
    }

    /// Noise sigma of each observation entry, in observation order.
    pub fn obs_sigmas(&self) -> Vec<f64> {
        let n = self.n_joints();
        self.spec
            .observation
            .channels
            .iter()
            .flat_map(|c| std::iter::repeat_n(c.sigma, c.kind.dim(n)))
            .collect()
    }
}

/// Loads a scene file, its robot and tool, and validates everything.
///
/// Robots are looked up as `<dir>/robots/<robot>/robot.toml` and tools as `<dir>/robots/tools/<tool>.toml`,
/// where `<dir>` is the scene file's directory or its parent (the repository layout).
pub fn load_scene(path: &Path) -> Result<Scene, ConfigError> {
    let spec: SceneSpec = read_toml(path)?;
    let scene_dir = path.parent().unwrap_or(Path::new("."));
    let robot_path = find_robot_file(path, scene_dir, "arm.robot", &spec.arm.robot, |d, n| {
        d.join("robots").join(n).join("robot.toml")
    })?;
    let tool_path = find_robot_file(path, scene_dir, "arm.tool", &spec.arm.tool, |d, n| {
        d.join("robots").join("tools").join(format!("{n}.toml"))
    })?;
    let robot: RobotSpec = read_toml(&robot_path)?;
    validate_robot(&robot_path, &robot)?;
    let urdf_path = robot_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&robot.urdf);
    if !urdf_path.is_file() {
        return Err(ConfigError::invalid(
            &robot_path,
            "urdf",
            format!("URDF file {} does not exist", urdf_path.display()),
            "a path relative to the robot file",
        ));
    }
    let tool: ToolSpec = read_toml(&tool_path)?;
    validate_tool(&tool_path, &tool)?;
    let v = Validator { file: path };
    v.scene(&spec, &robot, &tool)?;
    let space = v.params(&spec)?;
    Ok(Scene {
        spec,
        path: path.to_path_buf(),
        robot,
        robot_path,
        urdf_path,
        tool,
        tool_path,
        space,
    })
}

fn find_robot_file(
    scene_file: &Path,
    scene_dir: &Path,
    key: &str,
    name: &str,
    layout: impl Fn(&Path, &str) -> PathBuf,
) -> Result<PathBuf, ConfigError> {
    let simple = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !simple {
        return Err(ConfigError::invalid(
            scene_file,
            key,
            format!("`{name}` is not a plain name"),
            "letters, digits, `_` and `-`",
        ));
    }
    let candidates = [layout(scene_dir, name), layout(&scene_dir.join(".."), name)];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            ConfigError::invalid(
                scene_file,
                key,
                format!(
                    "no file for `{name}` (looked for {})",
                    candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "a robot or tool under robots/",
            )
        })
}

struct Validator<'a> {
    file: &'a Path,
}

/// `a < b`, false when either is NaN.
fn increasing(a: f64, b: f64) -> bool {
    a < b
}

fn finite_nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

fn finite_pos(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

impl Validator<'_> {
    fn err(&self, key: impl Into<String>, msg: impl Into<String>, allowed: &str) -> ConfigError {
        ConfigError::invalid(self.file, key, msg, allowed)
    }

    fn check(&self, ok: bool, key: &str, value: f64, allowed: &str) -> Result<(), ConfigError> {
        if ok {
            Ok(())
        } else {
            Err(self.err(key, format!("value {value} is not allowed"), allowed))
        }
    }

    fn pose(&self, key: &str, pose: &PoseSpec) -> Result<(), ConfigError> {
        if pose.is_finite() {
            Ok(())
        } else {
            Err(self.err(key, "pose has a non-finite number", "finite numbers"))
        }
    }

    fn scene(&self, s: &SceneSpec, robot: &RobotSpec, tool: &ToolSpec) -> Result<(), ConfigError> {
        if s.name.trim().is_empty() {
            return Err(self.err("name", "empty scene name", "a non-empty string"));
        }
        let p = &s.physics;
        self.check(
            p.dt_s > 0.0 && p.dt_s <= 0.01,
            "physics.dt_s",
            p.dt_s,
            "0 < dt_s <= 0.01",
        )?;
        self.check(
            (1..=100).contains(&p.solver_iterations),
            "physics.solver_iterations",
            p.solver_iterations as f64,
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
                ("torsional_friction_m", o.torsional_friction_m),
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
        Ok(())
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
                self.check(
                    finite_pos(*max_step_m) && *max_step_m <= 0.5,
                    "arm.action.max_step_m",
                    *max_step_m,
                    "0 < max_step_m <= 0.5",
                )?;
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
                self.check(
                    finite_pos(*max_step_m) && *max_step_m <= 0.5,
                    "arm.action.max_step_m",
                    *max_step_m,
                    "0 < max_step_m <= 0.5",
                )?;
                self.horizon(*horizon_steps)?;
                self.workspace("arm.action.workspace_m", workspace_m, start_xyz_m)?;
            }
            ActionSpec::JointPosition { horizon_steps } => self.horizon(*horizon_steps)?,
        }
        Ok(())
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

    fn params(&self, s: &SceneSpec) -> Result<ParamSpace, ConfigError> {
        let mut out = ParamSpace::default();
        let mut seen = BTreeSet::new();
        for (i, p) in s.parameters.iter().enumerate() {
            let key = format!("parameter[{i}]");
            let target = self.target(s, &format!("{key}.target"), &p.target)?;
            let name = p.name.clone().unwrap_or_else(|| p.target.clone());
            if !seen.insert(name.clone()) {
                return Err(self.err(
                    format!("{key}.name"),
                    format!("parameter `{name}` appears twice"),
                    "unique names",
                ));
            }
            if out.params.iter().any(|q| q.target == target) {
                return Err(self.err(
                    format!("{key}.target"),
                    format!("`{}` is set by two parameters", p.target),
                    "one parameter per target",
                ));
            }
            let [lo, hi] = p.bounds;
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(self.err(
                    format!("{key}.bounds"),
                    format!("[{lo}, {hi}] is not a finite interval"),
                    "[low, high], finite, low < high",
                ));
            }
            let (min_ok, phys) = physical_range(&target);
            if lo < min_ok {
                return Err(self.err(
                    format!("{key}.bounds"),
                    format!("lower bound {lo} is not physical for `{}`", p.target),
                    phys,
                ));
            }
            self.prior(&key, p, lo, hi)?;
            let fd_step = self.fd_step(&key, p, lo, hi)?;
            let nominal = nominal_value(s, &target);
            if nominal < lo || nominal > hi {
                return Err(self.err(
                    format!("{key}.bounds"),
                    format!(
                        "the scene's own value {nominal} of `{}` lies outside the bounds",
                        p.target
                    ),
                    &format!("bounds that contain {nominal}"),
                ));
            }
            out.params.push(Param {
                name,
                target_path: p.target.clone(),
                target,
                prior: p.prior.clone(),
                bounds: p.bounds,
                fd_step,
                nominal,
            });
        }
        Ok(out)
    }

    fn prior(&self, key: &str, p: &ParamSpec, lo: f64, hi: f64) -> Result<(), ConfigError> {
        let pkey = format!("{key}.prior");
        let inside = |a: f64, b: f64| a >= lo && b <= hi;
        match &p.prior {
            Prior::Uniform { low, high } => {
                if !increasing(*low, *high) {
                    return Err(self.err(
                        pkey,
                        format!("uniform [{low}, {high}] is empty"),
                        "low < high",
                    ));
                }
                if !inside(*low, *high) {
                    return Err(self.err(
                        pkey,
                        format!("uniform [{low}, {high}] reaches outside the bounds [{lo}, {hi}]"),
                        "a prior inside the bounds",
                    ));
                }
            }
            Prior::LogUniform { low, high } => {
                if !(*low > 0.0 && low < high) {
                    return Err(self.err(
                        pkey,
                        format!("log-uniform [{low}, {high}] is invalid"),
                        "0 < low < high",
                    ));
                }
                if !inside(*low, *high) {
                    return Err(self.err(
                        pkey,
                        format!(
                            "log-uniform [{low}, {high}] reaches outside the bounds [{lo}, {hi}]"
                        ),
                        "a prior inside the bounds",
                    ));
                }
            }
            Prior::Normal { mean, std } => {
                if !finite_pos(*std) {
                    return Err(self.err(
                        format!("{pkey}.std"),
                        format!("std {std} is not allowed"),
                        "> 0",
                    ));
                }
                if !inside(*mean, *mean) {
                    return Err(self.err(
                        format!("{pkey}.mean"),
                        format!("mean {mean} lies outside the bounds [{lo}, {hi}]"),
                        "a mean inside the bounds",
                    ));
                }
            }
            Prior::Discrete { values } => {
                if values.is_empty() {
                    return Err(self.err(
                        format!("{pkey}.values"),
                        "no values",
                        "at least one value",
                    ));
                }
                if let Some(v) = values.iter().find(|v| !inside(**v, **v)) {
                    return Err(self.err(
                        format!("{pkey}.values"),
                        format!("value {v} lies outside the bounds [{lo}, {hi}]"),
                        "values inside the bounds",
                    ));
                }
            }
        }
        Ok(())
    }

    fn fd_step(&self, key: &str, p: &ParamSpec, lo: f64, hi: f64) -> Result<f64, ConfigError> {
        match (p.prior.is_discrete(), p.fd_step) {
            (true, None) => Ok(0.0),
            (true, Some(_)) => Err(self.err(
                format!("{key}.fd_step"),
                "a discrete parameter has no derivative",
                "omit fd_step",
            )),
            (false, None) => Ok(0.01 * (hi - lo)),
            (false, Some(h)) => {
                if finite_pos(h) && h < 0.5 * (hi - lo) {
                    Ok(h)
                } else {
                    Err(self.err(
                        format!("{key}.fd_step"),
                        format!("value {h} is not allowed"),
                        &format!("0 < fd_step < {}", 0.5 * (hi - lo)),
                    ))
                }
            }
        }
    }

    fn target(&self, s: &SceneSpec, key: &str, path: &str) -> Result<ParamTarget, ConfigError> {
        let parts: Vec<&str> = path.split('.').collect();
        let unknown = |what: String, allowed: String| self.err(key, what, &allowed);
        let object_names = || {
            s.objects
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match parts.as_slice() {
            ["table", "friction"] => Ok(ParamTarget::TableFriction),
            ["table", patch, "friction"] => s
                .table
                .patches
                .iter()
                .position(|p| p.name == *patch)
                .map(|patch| ParamTarget::PatchFriction { patch })
                .ok_or_else(|| unknown(format!("no table patch `{patch}`"), "table.<patch>.friction with a declared patch".into())),
            [obj, field] => {
                let object = s.objects.iter().position(|o| o.name == *obj).ok_or_else(|| {
                    unknown(format!("no object `{obj}` in `{path}`"), format!("one of: {}", object_names()))
                })?;
                let o = &s.objects[object];
                let t = match *field {
                    "mass" => ParamTarget::Mass { object },
                    "inertia_scale" => ParamTarget::InertiaScale { object },
                    "com_x" => ParamTarget::Com { object, axis: 0 },
                    "com_y" => ParamTarget::Com { object, axis: 1 },
                    "com_z" => ParamTarget::Com { object, axis: 2 },
                    "com_offset" => {
                        let axis = o.shape.long_axis().ok_or_else(|| {
                            unknown(format!("`{obj}` has no single long axis for com_offset"), "com_x, com_y or com_z".into())
                        })?;
                        ParamTarget::Com { object, axis }
                    }
                    "friction" => ParamTarget::Friction { object },
                    "restitution" => ParamTarget::Restitution { object },
                    "rolling_resistance" => ParamTarget::RollingResistance { object },
                    "torsional_friction" => ParamTarget::TorsionalFriction { object },
                    "linear_damping" => ParamTarget::LinearDamping { object },
                    "angular_damping" => ParamTarget::AngularDamping { object },
                    other => return Err(unknown(format!("unknown object field `{other}`"), OBJECT_FIELDS.into())),
                };
                if o.fixed && !matches!(t, ParamTarget::Friction { .. } | ParamTarget::Restitution { .. }) {
                    return Err(unknown(format!("`{obj}` is fixed: `{field}` has no effect"), "friction, restitution".into()));
                }
                Ok(t)
            }
            [obj, joint, field] => {
                let object = s.objects.iter().position(|o| o.name == *obj).ok_or_else(|| {
                    unknown(format!("no object `{obj}` in `{path}`"), format!("one of: {}", object_names()))
                })?;
                match &s.objects[object].joint {
                    Some(j) if j.name == *joint => {}
                    _ => return Err(unknown(format!("object `{obj}` has no joint `{joint}`"), "<object>.<its joint>.<field>".into())),
                }
                match *field {
                    "damping" => Ok(ParamTarget::JointDamping { object }),
                    "friction" => Ok(ParamTarget::JointFriction { object }),
                    "axis_offset" => {
                        let dir = s.objects[object].joint.as_ref().map(|j| j.offset_direction).unwrap_or_default();
                        if norm(dir) < 1e-9 {
                            return Err(unknown(format!("joint `{joint}` has no offset_direction"), "set joint.offset_direction to use axis_offset".into()));
                        }
                        Ok(ParamTarget::JointAxisOffset { object })
                    }
                    "present" => Ok(ParamTarget::JointPresent { object }),
                    other => Err(unknown(format!("unknown joint field `{other}`"), JOINT_FIELDS.into())),
                }
            }
            _ => Err(unknown(
                format!("cannot read target `{path}`"),
                "<object>.<field>, <object>.<joint>.<field>, table.friction or table.<patch>.friction".into(),
            )),
        }
    }
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Smallest physical value of a target and a description of the physical range.
fn physical_range(t: &ParamTarget) -> (f64, &'static str) {
    match t {
        ParamTarget::Com { .. } | ParamTarget::JointAxisOffset { .. } => {
            (f64::NEG_INFINITY, "any finite value")
        }
        ParamTarget::Mass { .. } | ParamTarget::InertiaScale { .. } => (1e-9, "> 0"),
        ParamTarget::JointPresent { .. } => (0.0, "0 (welded) or 1 (present)"),
        _ => (0.0, ">= 0"),
    }
}

/// The value a scene file itself gives for a target.
pub fn nominal_value(s: &SceneSpec, t: &ParamTarget) -> f64 {
    let o = |i: usize| &s.objects[i];
    let j = |i: usize| s.objects[i].joint.as_ref();
    match *t {
        ParamTarget::Mass { object } => o(object).mass_kg,
        ParamTarget::InertiaScale { object } => o(object).inertia_scale,
        ParamTarget::Com { object, axis } => o(object).com_m[axis],
        ParamTarget::Friction { object } => o(object).friction,
        ParamTarget::Restitution { object } => o(object).restitution,
        ParamTarget::RollingResistance { object } => o(object).rolling_resistance,
        ParamTarget::TorsionalFriction { object } => o(object).torsional_friction_m,
        ParamTarget::LinearDamping { object } => o(object).linear_damping,
        ParamTarget::AngularDamping { object } => o(object).angular_damping,
        ParamTarget::TableFriction => s.table.friction,
        ParamTarget::PatchFriction { patch } => s.table.patches[patch].friction,
        ParamTarget::JointDamping { object } => j(object).map_or(0.0, |j| j.damping),
        ParamTarget::JointFriction { object } => j(object).map_or(0.0, |j| j.friction),
        ParamTarget::JointAxisOffset { .. } => 0.0,
        ParamTarget::JointPresent { object } => {
            j(object).map_or(0.0, |j| f64::from(u8::from(j.present)))
        }
    }
}

fn validate_robot(file: &Path, r: &RobotSpec) -> Result<(), ConfigError> {
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

fn validate_tool(file: &Path, t: &ToolSpec) -> Result<(), ConfigError> {
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
