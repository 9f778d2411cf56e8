//! System identification: fit the simulator's parameters by replaying the recorded actions open
//! loop and matching the recorded observations, and say honestly how sure the fit is.
//!
//! - [`dataset`]: episodes checked against the scene, resampled onto the control grid, channels
//!   chosen, missing values skipped and counted;
//! - [`SysIdProblem`]: whitened residuals, cost (squared or Huber) and the finite-difference Jacobian
//!   (the same sensitivities the exploration planner uses), as argmin problems;
//! - solvers behind one interface ([`SolverKind`]): CEM (`asid-opt`), argmin's Nelder-Mead and
//!   particle swarm, and a bounded Levenberg-Marquardt ([`LevenbergMarquardt`]); multi-start;
//! - uncertainty at the optimum: covariance `s^2 (J^T J)^-1`, std, correlations, Wald intervals, the
//!   Cramer-Rao bound, and an [`identifiability`] report with a plain-language verdict;
//! - 95 % intervals from the profile likelihood ([`profile`]), honest where the cost is not
//!   quadratic (friction in pushing), next to the Wald intervals;
//! - structure: every combination of discrete parameters (hinge present or not) is fitted and the
//!   best BIC wins.
//!
//! ```no_run
//! use asid_sysid::{FitOptions, dataset, identify};
//! let sim = asid_sim::Simulator::load(std::path::Path::new("scenes/shuffleboard.toml"))?;
//! let ep = asid_core::Episode::read(std::path::Path::new("episode.json"))?;
//! let data = dataset(sim.scene(), &[("episode.json".into(), ep)], None)?;
//! let fit = identify(&sim, &data, &FitOptions::default(), "shuffleboard", &[])?;
//! println!("{:?} +- {:?}", fit.estimate, fit.std);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod data;
pub mod fit;
pub mod lm;
pub mod misfit;
pub mod model;
pub mod problem;
pub mod profile;
pub mod report;
pub mod rotation;
mod sim_model;
pub mod uncertainty;
pub mod verdict;

pub use data::{
    Dataset, Drive, EpisodeInput, JointTrack, Replay, RotationTerm, dataset, dataset_driven,
};
pub use fit::{FitOptions, SolverKind, identify};
pub use lm::LevenbergMarquardt;
pub use misfit::MisfitTests;
pub use model::ReplayModel;
pub use problem::{Loss, SysIdProblem};
pub use profile::Interval;
pub use report::{Fit, Hypothesis};
pub use uncertainty::{Identifiability, crb_std_at, identifiability};
pub use verdict::Combination;

/// Errors of identification.
#[derive(Debug, thiserror::Error)]
pub enum SysIdError {
    /// The data cannot be used.
    #[error("{0}")]
    Data(String),
    /// An episode does not fit the scene.
    #[error("{file}: {message}")]
    Episode {
        /// The episode.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The model failed.
    #[error("model: {0}")]
    Model(String),
    /// No solver run produced an estimate inside the bounds.
    #[error("no estimate inside the bounds was found")]
    NoFit,
    /// The optimiser failed.
    #[error("optimiser: {0}")]
    Optimiser(#[from] argmin::core::Error),
}
