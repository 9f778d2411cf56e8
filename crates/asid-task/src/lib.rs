//! Task planning for asid: the step that identification exists for.
//!
//! A scene declares its task under `[task]` ([`asid_core::task`]); a [`Belief`] says what is known
//! about the unknown parameters (the prior, an identification fit, or the truth of a simulated lab);
//! the task planner chooses the primitive's few parameters with the shared CEM in the simulator,
//! either for the belief's point estimate ([`Mode::Point`]) or for the expected success over belief
//! samples ([`Mode::Robust`]). A slide task's [`TaskPlan`] is an action sequence in the scene's
//! action space, so it runs through the same dry run, safety layer and recorder as an exploration;
//! a balancing plan ([`BalancePlan`]) becomes the hand's motion ([`pick_place::PickPlace`]: joint
//! targets and hand commands), which the station checks and runs the same way.
//!
//! Implemented: `slide_to_zone` (shuffleboard, sphere striking) with the [`SlideTask`] primitive;
//! for rod balancing, the success rule ([`balance::Perch`]: the rod set on the perch at a point of
//! its axis, released, judged by its tilt), the planner of that point ([`BalanceTask`],
//! [`plan_balance`], the same CEM and beliefs) and the hand's pick-and-place motion that carries a
//! plan out ([`pick_place`]); for the articulation, the opening of a lid along the arc about the
//! believed hinge, or nothing when the belief holds the lid welded ([`open`], [`plan_open`]); for
//! the payload, a carry along a path whose commands feed the believed payload forward, learned in
//! the simulator ([`carry`], [`plan_carry`]).
//!
//! ```no_run
//! use std::path::Path;
//! use asid_task::{Belief, Mode, SlideTask, TaskPlanOptions, plan_task};
//! let sim = asid_sim::Simulator::load(Path::new("scenes/shuffleboard.toml"))?;
//! let task = SlideTask::new(sim.scene(), Some("far"))?;
//! let belief = Belief::prior(&sim.scene().space); // domain randomisation
//! let opts = TaskPlanOptions { mode: Mode::Robust, ..Default::default() };
//! let plan = plan_task(&sim, &task, &belief, &opts, &|_| Ok(()))?;
//! println!("push {:?}: predicted success {:.0} %", plan.primitive, 100.0 * plan.predicted_success);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod balance;
mod balance_plan;
mod belief;
pub mod carry;
pub mod open;
pub mod pick_place;
mod planner;
mod primitive;

pub use balance_plan::{
    BALANCE_PLAN_FORMAT, BALANCE_SETTLE_S, BalancePlan, BalanceTask, CEM_SMOOTHING,
    FINGER_PAD_HALF_M, plan_balance,
};
pub use belief::{Belief, BeliefSource};
pub use carry::{CarryOutcome, CarryPlan, CarryTask, plan_carry};
pub use open::{OpenOutcome, OpenPlan, OpenTask, plan_open};
pub use planner::{
    ArmCheck, Mode, PREDICTION_SAMPLES, TASK_PLAN_FORMAT, TaskPlan, TaskPlanOptions, plan_task,
};
pub use primitive::{Outcome, REST_SPEED_MPS, REST_SPIN_RAD_S, SlideTask};

/// Errors of task planning.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The scene declares no task.
    #[error("{0}: the scene declares no [task]")]
    NoTask(String),
    /// No goal of that name.
    #[error("no goal zone `{name}` (allowed: {allowed:?})")]
    UnknownGoal {
        /// The name asked for.
        name: String,
        /// The scene's goals.
        allowed: Vec<String>,
    },
    /// The task does not fit the scene.
    #[error("{0}")]
    Config(String),
    /// The primitive's parameters give no valid attempt.
    #[error("task primitive: {0}")]
    Primitive(String),
    /// The belief cannot be formed.
    #[error("belief: {0}")]
    Belief(String),
    /// The planner failed.
    #[error("task planner: {0}")]
    Plan(String),
    /// The simulator failed.
    #[error(transparent)]
    Sim(asid_sim::SimError),
}
