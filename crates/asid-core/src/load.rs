//! Loading and validating a scene with its robot and tool files.

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, read_toml};
use crate::robot::{RobotSpec, ToolSpec};
use crate::scene::SceneSpec;
use crate::space::ParamSpace;
use crate::validate::{Validator, validate_robot, validate_tool};

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

    /// Objects whose poses the scene observes (position or pose channels), in channel order, each
    /// with the sigma of its first such channel: what a tracker must deliver.
    pub fn tracked_objects(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = Vec::new();
        for c in &self.spec.observation.channels {
            if matches!(
                c.kind,
                crate::scene::ChannelKind::ObjectPosition | crate::scene::ChannelKind::ObjectPose
            ) && let Some(of) = &c.of
                && !out.iter().any(|(n, _)| n == of)
            {
                out.push((of.clone(), c.sigma));
            }
        }
        out
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
    crate::task::validate_task(path, &spec)?;
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
