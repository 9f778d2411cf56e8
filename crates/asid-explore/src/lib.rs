//! Information-maximising exploration: choose the arm motion whose observations carry the most
//! Fisher information about the unknown parameters, before touching the real arm.
//!
//! - [`fisher_information`] from finite-difference sensitivities, under process or measurement noise,
//!   with parameters scaled by their prior std so different units compare;
//! - [`Criterion`]: A-optimal (the paper's), D, E, and T (what the paper's public code rewards);
//! - Bayesian design: the criterion averaged over samples of the prior, common to all candidates;
//! - [`Design`]: open-loop actions, via-point splines, or push / strike primitives, always decoded into
//!   feasible actions; plans that break a constraint ([`Constraint`]) are rejected and counted;
//! - [`plan`]: the Cross-Entropy Method (an argmin solver from `asid-opt`) over the design, with a
//!   random-exploration baseline of the same length, into a [`Plan`] file;
//! - [`plan_best`]: plans with several parameterisations (`auto`: spline and primitive) and keeps
//!   the most informative;
//! - [`replan`]: receding-horizon exploration, replanning the rest of the episode from the latest
//!   observed state so exploration can run closed loop on the arm.
//!
//! Algorithms are generic over [`Experiment`]; [`SimExperiment`] is the simulator.
//!
//! ```no_run
//! use asid_explore::{Criterion, Design, DesignKind, Experiment, PlanOptions, SimExperiment, plan};
//! let sim = asid_sim::Simulator::load(std::path::Path::new("scenes/rod.toml"))?;
//! let exp = SimExperiment::new(&sim);
//! let design = Design::new(DesignKind::Spline, exp.action_bounds(), exp.horizon(), None)?;
//! let p = plan(&exp, &design, &PlanOptions::default(), ("rod", "scenes/rod.toml", 0.1), false)?;
//! println!("A = {}, {}x better than random", p.value, p.gain);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod arm_check;
pub mod choose;
pub mod design;
pub mod experiment;
pub mod fisher;
pub mod planner;
pub mod receding;

pub use choose::{AUTO, plan_best};
pub use design::{Design, DesignKind, Target};
pub use experiment::{Constraint, Experiment, NoiseModel, SimExperiment};
pub use fisher::{Criterion, crb_std, eigenvalues, fisher_information};
pub use planner::{Assessment, Plan, PlanOptions, assess, plan, plan_with_warm_starts};
pub use receding::replan;

/// Errors of exploration planning.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The request cannot be planned.
    #[error("{0}")]
    Unsupported(String),
    /// A plan breaks a constraint.
    #[error("plan violates the {0:?} constraint")]
    Infeasible(Constraint),
    /// No candidate satisfied the constraints.
    #[error("no feasible plan found: every candidate broke a constraint (rejections: {0:?})")]
    NoPlan(std::collections::BTreeMap<Constraint, usize>),
    /// The optimiser failed.
    #[error("optimiser: {0}")]
    Optimiser(#[from] argmin::core::Error),
}
