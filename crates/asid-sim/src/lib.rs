//! The rapier3d simulator of asid.
//!
//! A [`Simulator`] builds a world from a validated scene (table, static geometry, objects,
//! articulations, a URDF arm with its tool) and runs it: physical parameters are set by name
//! ([`SimWorld::set_params`], [`SimWorld::set_param`]), actions go through damped least-squares IK at
//! the control rate with physics sub-steps, two arm models are offered (`kinematic`: links follow the
//! commanded joint path exactly; `dynamic`: a multibody with force-limited PD joint motors and gravity
//! compensation), stepping is deterministic, the full state can be snapshot and restored, rollouts run
//! in parallel, and finite-difference sensitivities of the observations are computed per step
//! (process-noise model) or over the whole trajectory (measurement-noise model), the perturbed
//! rollouts starting where the nominal's objects were last untouched ([`untouched`]). A rollout can be
//! recorded as an episode with sensor noise ([`Simulator::record_episode`]): the simulated lab.
//! A gripper tool's fingers move ([`SimWorld::set_gripper_target`]): they stop on an object both
//! of them touch, and a grasp holds that object with a fixed joint until the fingers open.
//!
//! Objects resting on a face slide and spin under the table's Coulomb friction integrated over
//! their support ([`support`], [`support_geometry`]): one implicit step per physics step, solved
//! together with the pusher's contact. [`pushing`] is a quasi-static pusher-slider reference and
//! [`push_case`] runs the same straight push in the simulator, in that reference and (as a setup)
//! for another engine: the checks behind `asid bench push`.
//!
//! ```no_run
//! use std::path::Path;
//! let sim = asid_sim::Simulator::load(Path::new("scenes/shuffleboard.toml"))?;
//! let theta = sim.scene().space.center();
//! let actions = vec![vec![0.05, 0.0]; 20];
//! let traj = sim.rollout(&theta, &actions)?;
//! let sens = sim.trajectory_sensitivity(&theta, &actions)?;
//! println!("{} observations, d obs / d theta at the end: {}", traj.obs.len(), sens.jacobians[19]);
//! # Ok::<(), asid_sim::SimError>(())
//! ```

pub mod actions;
mod arm;
mod build;
pub mod convert;
mod episode;
mod gripper;
mod params;
mod planar;
pub mod push_case;
pub mod pushing;
mod rollout;
mod step;
pub mod support;
pub mod support_geometry;
pub mod untouched;
mod world;

pub use actions::{ActionBounds, command_for_action};
pub use build::{initial_configuration, start_of};
pub use gripper::{CONTACT_M, GripperStatus};
pub use rollout::{FdScheme, Nominal, RolloutJob, Sensitivity, Simulator, Trajectory, run};
pub use untouched::Untouched;
pub use world::{SimWorld, Snapshot};

/// Errors of the simulator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// The scene did not load.
    #[error("{0}")]
    Config(String),
    /// The robot description could not be turned into bodies.
    #[error("robot: {0}")]
    Urdf(String),
    /// The arm cannot reach the start of the episode.
    #[error("start configuration: {0}")]
    Start(String),
    /// A parameter vector is not acceptable.
    #[error(transparent)]
    Param(#[from] asid_core::ParamError),
    /// No parameter of that name.
    #[error("no parameter named `{0}`")]
    UnknownParameter(String),
    /// No object of that name.
    #[error("no object named `{0}`")]
    UnknownObject(String),
    /// The object is not a free body.
    #[error("object `{0}` is not a free body")]
    NotFree(String),
    /// An action has the wrong length.
    #[error("action has {got} values, the action space has {expected}")]
    ActionLength {
        /// Values given.
        got: usize,
        /// Values expected.
        expected: usize,
    },
    /// An action value is outside the action space.
    #[error("action value [{index}] = {value} is outside [{low}, {high}]")]
    ActionOutOfRange {
        /// Index in the action.
        index: usize,
        /// The value.
        value: f64,
        /// Lower limit.
        low: f64,
        /// Upper limit.
        high: f64,
    },
    /// The tool target would leave the workspace.
    #[error("tool target {value} m on axis {axis} would leave the workspace [{low}, {high}]")]
    Workspace {
        /// 0 = x, 1 = y, 2 = z.
        axis: usize,
        /// The target coordinate.
        value: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// A gripper command was refused (no gripper, or a value outside its range).
    #[error("gripper: {0}")]
    Gripper(String),
    /// IK failed for an action.
    #[error("action not reachable: {0}")]
    Ik(String),
}
