//! The scene file format (`scenes/*.toml`), as parsed. [`crate::load_scene`] validates it.
//!
//! Every table denies unknown keys; units are in the key names.

use serde::{Deserialize, Serialize};

use crate::geometry::{PoseSpec, Shape};
use crate::param::ParamSpec;

/// A scene: table, static geometry, objects, the arm, what is observed and what is unknown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneSpec {
    /// Short name of the scene (used in reports and logs).
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Physics settings.
    #[serde(default)]
    pub physics: PhysicsSpec,
    /// The table; its top is the plane z = 0 of the world.
    pub table: TableSpec,
    /// Fixed geometry besides the table (perches, walls, targets).
    #[serde(default, rename = "static")]
    pub statics: Vec<StaticSpec>,
    /// Movable objects, possibly articulated to one another.
    #[serde(default, rename = "object")]
    pub objects: Vec<ObjectSpec>,
    /// The robot arm.
    pub arm: ArmSpec,
    /// What is observed, with noise.
    pub observation: ObservationSpec,
    /// The unknown physical parameters.
    #[serde(default, rename = "parameter")]
    pub parameters: Vec<ParamSpec>,
    /// The task to plan and run once the parameters are identified ([`crate::task`]).
    #[serde(default)]
    pub task: Option<crate::task::SceneTask>,
}

/// How the pair friction coefficient is formed from the two materials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CombineRule {
    /// Product of the two coefficients (the default: a table of friction 1 leaves the object's value).
    #[default]
    Multiply,
    /// Mean of the two.
    Average,
    /// The smaller one.
    Min,
    /// The larger one (MuJoCo's rule).
    Max,
}

/// Friction model of the contact solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrictionModel {
    /// Coulomb cone (use when friction is identified).
    #[default]
    Coulomb,
    /// rapier's faster simplified model.
    Simplified,
}

/// Physics settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhysicsSpec {
    /// Physics time step.
    pub dt_s: f64,
    /// Gravity in the world frame.
    pub gravity_m_s2: [f64; 3],
    /// Friction model.
    pub friction_model: FrictionModel,
    /// How two friction coefficients combine.
    pub friction_combine: CombineRule,
    /// Solver iterations (rapier sub-steps) per step.
    pub solver_iterations: usize,
    /// Velocity-solver (PGS) iterations inside each sub-step (rapier's default 1). Cheaper than more
    /// sub-steps where a joint must converge: the articulation lid held by a hinge friction of
    /// 0.3 N m creeps 0.04 rad/s with 1 and 0.002 rad/s with 8 (at 1.6x the cost of a step).
    pub pgs_iterations: usize,
    /// Reuse contact points while a pair barely moves (rapier's default). On by default: measured on the
    /// sliding puck, regenerating the manifold every step made the slide distance jitter by +-1 % from one
    /// friction value to the next (rough finite differences); recycling keeps it smooth.
    pub contact_recycling: bool,
}

impl Default for PhysicsSpec {
    fn default() -> Self {
        Self {
            dt_s: 0.002,
            gravity_m_s2: [0.0, 0.0, -9.81],
            friction_model: FrictionModel::Coulomb,
            friction_combine: CombineRule::Multiply,
            solver_iterations: 4,
            pgs_iterations: 1,
            contact_recycling: false,
        }
    }
}

/// The table: a box whose top face is at z = 0.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Extents of the top (x, y) and the thickness (z).
    pub size_m: [f64; 3],
    /// Centre of the top in the world x-y plane.
    #[serde(default)]
    pub center_xy_m: [f64; 2],
    /// Friction coefficient of the surface.
    pub friction: f64,
    /// Restitution of the surface.
    #[serde(default)]
    pub restitution: f64,
    /// Patches of other friction on the top (thin boxes flush with the surface).
    #[serde(default, rename = "patch")]
    pub patches: Vec<PatchSpec>,
}

/// A rectangular patch of the table top with its own friction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchSpec {
    /// Name (parameter target `table.<name>.friction`).
    pub name: String,
    /// Centre in the world x-y plane.
    pub center_xy_m: [f64; 2],
    /// Extents in x and y.
    pub size_xy_m: [f64; 2],
    /// Friction coefficient.
    pub friction: f64,
}

/// Fixed geometry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticSpec {
    /// Name.
    pub name: String,
    /// Shape.
    pub shape: Shape,
    /// Pose in the world.
    pub pose: PoseSpec,
    /// Friction coefficient.
    #[serde(default = "one")]
    pub friction: f64,
    /// Restitution.
    #[serde(default)]
    pub restitution: f64,
}

fn one() -> f64 {
    1.0
}

/// How an object's bottom face rests on the table: where the table's friction acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportKind {
    /// The extreme points of the bottom face: a box's four corners, a cylinder's rim.
    Corners,
    /// Pressure over the whole bottom face, linear in position so it balances the centre of mass.
    Footprint,
    /// rapier's contact friction (no planar friction model).
    Engine,
}

impl SupportKind {
    /// The support a shape has when the scene does not say.
    pub fn default_for(shape: &crate::Shape) -> Self {
        match shape {
            crate::Shape::Box { .. } => Self::Corners,
            crate::Shape::Cylinder { .. } => Self::Footprint,
            crate::Shape::Sphere { .. } | crate::Shape::Capsule { .. } => Self::Engine,
        }
    }
}

/// A movable object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// Name (parameter targets start with it).
    pub name: String,
    /// Shape.
    pub shape: Shape,
    /// Initial pose in the world (or relative to the tool when `attach = "tool"`).
    pub pose: PoseSpec,
    /// Mass of the body (uniform over the shape), without the ballast.
    pub mass_kg: f64,
    /// Centre of mass in the body frame. With a ballast, the ballast is placed to produce it.
    #[serde(default)]
    pub com_m: [f64; 3],
    /// An internal weight that slides to move the centre of mass (the rod of the paper).
    #[serde(default)]
    pub ballast_kg: f64,
    /// Factor on the body's uniform-density inertia (1: a uniform solid; > 1: mass towards the rim).
    #[serde(default = "one")]
    pub inertia_scale: f64,
    /// Friction coefficient.
    #[serde(default = "one")]
    pub friction: f64,
    /// Restitution.
    #[serde(default)]
    pub restitution: f64,
    /// Rolling-resistance coefficient (dimensionless: resisting torque = c m g r).
    #[serde(default)]
    pub rolling_resistance: f64,
    /// Torsional friction (metres): the whole contact's friction torque per unit normal force while
    /// the object spins in place without sliding (what a spin-down measures). Absent: what the
    /// support's Coulomb friction gives by itself (2/3 mu r for a uniformly loaded disc).
    #[serde(default)]
    pub torsional_friction_m: Option<f64>,
    /// How the object rests on the table (`docs/scenes.md`, "Planar friction"): `corners` (a box's
    /// four bottom corners, a cylinder's rim), `footprint` (pressure spread over the bottom face,
    /// shifting with the centre of mass) or `engine` (rapier's own contact friction). Default:
    /// `corners` for boxes, `footprint` for cylinders, `engine` for spheres and capsules.
    #[serde(default)]
    pub support: Option<SupportKind>,
    /// Linear velocity damping (1/s).
    #[serde(default)]
    pub linear_damping: f64,
    /// Angular velocity damping (1/s).
    #[serde(default)]
    pub angular_damping: f64,
    /// `fixed` objects do not move (e.g. the base of a laptop).
    #[serde(default)]
    pub fixed: bool,
    /// `tool`: rigidly held by the arm's tool (a payload); the pose is then relative to the tool centre point.
    #[serde(default)]
    pub attach: Option<Attach>,
    /// A joint to a parent object (articulation).
    #[serde(default)]
    pub joint: Option<JointSpec>,
}

/// What an object is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attach {
    /// Held rigidly by the tool.
    Tool,
}

/// Kind of an articulation joint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JointKind {
    /// Rotation about `axis` through `anchor_m`.
    Revolute,
    /// Translation along `axis`.
    Prismatic,
}

/// A joint between an object (the child) and its parent object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointSpec {
    /// Name (parameter targets `<child>.<name>.<field>`).
    pub name: String,
    /// Revolute or prismatic.
    pub kind: JointKind,
    /// Parent object name.
    pub parent: String,
    /// A point on the axis, in the world frame at the initial poses.
    pub anchor_m: [f64; 3],
    /// Axis direction in the world frame (normalised on load).
    pub axis: [f64; 3],
    /// Direction in which `axis_offset` moves the anchor (world frame).
    #[serde(default)]
    pub offset_direction: [f64; 3],
    /// Joint limits (rad or m), relative to the initial configuration.
    pub limits: [f64; 2],
    /// Viscous damping (N m s/rad or N s/m).
    #[serde(default)]
    pub damping: f64,
    /// Dry friction (N m or N).
    #[serde(default)]
    pub friction: f64,
    /// When false the child is welded to the parent (no hinge).
    #[serde(default = "yes")]
    pub present: bool,
}

fn yes() -> bool {
    true
}

/// Which dynamics the simulated arm has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmModel {
    /// Multibody with force-limited PD joint motors (and gravity compensation), as the real controller.
    Dynamic,
    /// Links follow the commanded joint trajectory exactly (stiff position control).
    Kinematic,
}

/// The arm in the scene.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    /// Robot name: `robots/<robot>/robot.toml` next to the scenes directory.
    pub robot: String,
    /// Tool on the flange: `robots/tools/<tool>.toml`.
    pub tool: String,
    /// Pose of the robot base in the world.
    #[serde(default)]
    pub base: PoseSpec,
    /// Arm dynamics model.
    pub model: ArmModel,
    /// Control (action) rate.
    pub control_rate_hz: f64,
    /// Initial joint configuration; defaults to the robot's home, then moved by IK to `action.start_xyz_m`.
    #[serde(default)]
    pub initial_q_rad: Option<Vec<f64>>,
    /// Action space.
    pub action: ActionSpec,
    /// Gripper opening at the start, for tools with fingers.
    #[serde(default)]
    pub gripper_width_m: Option<f64>,
}

/// The action space of the arm.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpec {
    /// Tool-centre-point delta in x and y per control step, z fixed, tool pointing down.
    EeDeltaXy {
        /// Largest |dx|, |dy| per step.
        max_step_m: f64,
        /// Fixed tool-centre-point height.
        z_m: f64,
        /// Tool-centre-point at the start (z must equal `z_m`).
        start_xyz_m: [f64; 3],
        /// Steps per episode.
        horizon_steps: usize,
        /// Workspace of the tool centre point, x and y bounds.
        workspace_xy_m: [[f64; 2]; 2],
    },
    /// Tool-centre-point delta in x, y, z per control step, tool pointing down.
    EeDeltaXyz {
        /// Largest |dx|, |dy|, |dz| per step.
        max_step_m: f64,
        /// Tool-centre-point at the start.
        start_xyz_m: [f64; 3],
        /// Steps per episode.
        horizon_steps: usize,
        /// Workspace of the tool centre point: x, y, z bounds.
        workspace_m: [[f64; 2]; 3],
    },
    /// Absolute joint-position targets (7 numbers) per control step.
    JointPosition {
        /// Steps per episode.
        horizon_steps: usize,
    },
}

impl ActionSpec {
    /// Number of numbers in one action.
    pub fn dim(&self, n_joints: usize) -> usize {
        match self {
            Self::EeDeltaXy { .. } => 2,
            Self::EeDeltaXyz { .. } => 3,
            Self::JointPosition { .. } => n_joints,
        }
    }

    /// Steps per episode.
    pub fn horizon_steps(&self) -> usize {
        match self {
            Self::EeDeltaXy { horizon_steps, .. }
            | Self::EeDeltaXyz { horizon_steps, .. }
            | Self::JointPosition { horizon_steps } => *horizon_steps,
        }
    }
}

/// What is observed at each control step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationSpec {
    /// Channels, in order; the observation vector concatenates them.
    #[serde(rename = "channel")]
    pub channels: Vec<ChannelSpec>,
}

/// One observed channel with its noise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    /// What is observed.
    pub kind: ChannelKind,
    /// The object (object channels) or `<object>.<joint>` (joint channels).
    #[serde(default)]
    pub of: Option<String>,
    /// Standard deviation of the measurement noise, in the channel's unit.
    pub sigma: f64,
    /// `object_pose` only: standard deviation (rad) of each component of the rotation error (the
    /// log map of `q_measured^-1 q_simulated`, axis times angle). Absent: `2 sigma`, what a
    /// quaternion component noise of `sigma` amounts to for small rotations (a component is about
    /// half the angle), so a scene written before this key keeps its weighting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_rad: Option<f64>,
}

impl ChannelSpec {
    /// The rotation-error sigma (rad) of an `object_pose` channel: `sigma_rad`, or `2 sigma`.
    pub fn rotation_sigma_rad(&self) -> f64 {
        self.sigma_rad.unwrap_or(2.0 * self.sigma)
    }
}

/// Observation channel kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Tool-centre-point position (3, m).
    EePosition,
    /// Arm joint positions (n, rad).
    JointPosition,
    /// Arm joint velocities (n, rad/s).
    JointVelocity,
    /// Arm joint torques commanded by the joint controller (n, N m).
    JointTorque,
    /// Gripper opening (1, m).
    GripperWidth,
    /// Object position (3, m).
    ObjectPosition,
    /// Object position and orientation quaternion w, x, y, z (7).
    ObjectPose,
    /// Object linear velocity (3, m/s).
    ObjectVelocity,
    /// Articulation joint coordinate (1, rad or m), `of = "<object>.<joint>"`.
    ArticulationPosition,
}

impl ChannelKind {
    /// Does this channel need `of`?
    pub fn needs_subject(self) -> bool {
        matches!(
            self,
            Self::ObjectPosition
                | Self::ObjectPose
                | Self::ObjectVelocity
                | Self::ArticulationPosition
        )
    }

    /// Number of numbers in this channel.
    pub fn dim(self, n_joints: usize) -> usize {
        match self {
            Self::EePosition | Self::ObjectPosition | Self::ObjectVelocity => 3,
            Self::JointPosition | Self::JointVelocity | Self::JointTorque => n_joints,
            Self::GripperWidth | Self::ArticulationPosition => 1,
            Self::ObjectPose => 7,
        }
    }

    /// Unit of the channel's numbers.
    pub fn unit(self) -> &'static str {
        match self {
            Self::EePosition | Self::ObjectPosition | Self::GripperWidth => "m",
            Self::JointPosition => "rad",
            Self::JointVelocity => "rad/s",
            Self::JointTorque => "N m",
            Self::ObjectPose => "m, quaternion",
            Self::ObjectVelocity => "m/s",
            Self::ArticulationPosition => "rad or m",
        }
    }
}
