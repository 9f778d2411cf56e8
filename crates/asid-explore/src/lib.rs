//! Information-maximising exploration: choose the arm motion whose observations carry the most
//! Fisher information about the unknown parameters, before touching the real arm.
//!
//! - [`fisher_information`] from finite-difference sensitivities, under process or measurement noise,
//!   with parameters scaled by their prior std so different units compare (the prior covariance is
//!   then the identity, `Sigma0 = I`);
//! - [`Criterion`]: Bayesian A-optimal `tr((Sigma0^-1 + I)^-1)` (the paper's objective with the
//!   prior as regulariser: an experiment that tells nothing scores the number of parameters, a
//!   perfectly informative one tends to 0), Bayesian D and E on the same posterior covariance, and
//!   T = `-tr(I)` (what the paper's public code rewards);
//! - discrete parameters (is the lid hinged?) stay out of the Fisher matrix; their term is how far
//!   apart the hypotheses predict the observations ([`discriminate`]: the expected chi-square
//!   difference, through the Bhattacharyya bound on the structure's posterior variance), added to
//!   the criterion of the continuous parameters, so a plan that never tells the hypotheses apart
//!   scores the prior for them;
//! - Bayesian design: the criterion averaged over samples of the prior, common to all candidates;
//! - [`Design`]: open-loop actions, via-point splines, or push / strike primitives, always decoded into
//!   feasible actions; a candidate a Franka's 1 kHz interpolation would refuse is tried once more
//!   with its speed averaged over three control periods ([`design::smoothed`]); plans that break a
//!   constraint ([`Constraint`]) or whose sensitivities are not smooth (the Fisher information
//!   from two finite-difference steps disagrees by more than half, above a floor of a twentieth of
//!   the prior's) are rejected and counted, and never become CEM elites;
//! - [`plan`]: the Cross-Entropy Method (an argmin solver from `asid-opt`) over the design, into a
//!   [`Plan`] file with the predicted posterior std of every parameter next to its prior std;
//! - a fair baseline ([`random_baseline`]): the plan and random explorations of the same length are
//!   judged on held-out prior samples the optimiser never saw ([`prior_samples`], separate random
//!   [`Stream`]s), random draws without the smoothness filter (the plan file counts how many it
//!   would have rejected) and smoothed like the plan's candidates when the arm refuses them; `gain` = random median / plan, both on the held-out samples;
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
//! println!(
//!     "A = {} on held-out samples (prior: {}), random median {}: {}x",
//!     p.held_out_value,
//!     p.parameters.len(),
//!     p.random.median_value,
//!     p.gain
//! );
//! for (name, post) in &p.posterior_std {
//!     println!("{name}: prior std {} -> posterior std {post}", p.prior_std[name]);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod arm_check;
mod assess;
pub mod baseline;
pub mod choose;
pub mod design;
pub mod discriminate;
pub mod experiment;
pub mod fisher;
pub mod plan;
pub mod planner;
pub mod receding;

pub use baseline::{PriorSamples, Stream, prior_samples, random_baseline};
pub use choose::{AUTO, plan_best};
pub use design::{Design, DesignKind, Target};
pub use discriminate::Discrimination;
pub use experiment::{Constraint, Experiment, NoiseModel, SimExperiment};
pub use fisher::{
    Criterion, crb_std, eigenvalues, fisher_information, posterior_covariance, posterior_std,
};
pub use plan::{ParamSummary, Plan, RandomBaseline};
pub use planner::{
    Assessment, PlanOptions, assess, assess_unfiltered, plan, plan_with_warm_starts,
};
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
