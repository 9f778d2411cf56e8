//! System identification: fit the simulator's parameters by replaying recorded episodes open loop
//! and matching the recorded observations, and say honestly how sure the fit is.
//!
//! - [`dataset_driven`]: episodes checked against the scene, resampled onto the control grid
//!   (slerp for orientations), channels chosen, missing values skipped and counted, and the
//!   [`Drive`]: the simulated arm follows the recorded measured joint positions (what the arm did,
//!   lag and offsets included) or the plan's commands ([`dataset`]: commanded);
//! - [`SysIdProblem`]: whitened residuals (orientations through the log-map rotation error over the
//!   channel's `sigma_rad`, [`rotation`]), cost (squared or Huber) and the finite-difference
//!   Jacobian, as argmin problems;
//! - solvers behind one interface ([`SolverKind`]): CEM (`asid-opt`), argmin's Nelder-Mead and
//!   particle swarm, and a bounded Levenberg-Marquardt ([`LevenbergMarquardt`]); multi-start (the
//!   LM's starts run in parallel and are chosen among in start order);
//! - uncertainty at the optimum: covariance `s^2 (J^T J)^-1`, std, correlations, Wald intervals, the
//!   Cramer-Rao bound;
//! - is the model right? ([`misfit`]): reduced chi-square, a chi-square size test, a runs test and
//!   a lag-1 whiteness test of the residuals in time; under misfit a Newey-West sandwich
//!   covariance, both reported;
//! - 95 % intervals from the profile likelihood ([`profile`]), honest where the cost is not
//!   quadratic (friction in pushing), next to the Wald intervals;
//! - the verdict ([`verdict`]): identifiable only when the Fisher directions, an interval closed
//!   inside the bounds and the absence of confounding (|correlation| > 0.95, reported as the
//!   combination the data determine) all agree;
//! - time alignment ([`latency`], [`identify_aligned`]): the tracker's latency as a nuisance
//!   parameter, estimated with its std by shifting the object observations in time at the fitted
//!   parameters; the fit is then repeated on the aligned data;
//! - structure ([`structure`]): every combination of discrete parameters (hinge present or not) is
//!   fitted over the continuous parameters that act under it, and the best BIC wins, each
//!   hypothesis penalised only for those parameters (a welded lid has no damping); the verdict
//!   gives the BIC difference and the posterior odds.
//!
//! ```no_run
//! use asid_sysid::{EpisodeInput, FitOptions, dataset_driven, identify};
//! let sim = asid_sim::Simulator::load(std::path::Path::new("scenes/shuffleboard.toml"))?;
//! let episode = asid_core::Episode::read(std::path::Path::new("episode.json"))?;
//! let input = EpisodeInput { source: "episode.json".into(), episode, joints: None };
//! // No measured joint positions in a JSON episode: the commanded drive, with a note.
//! let (data, notes) = dataset_driven(sim.scene(), &[input], None, None)?;
//! let fit = identify(&sim, &data, &FitOptions::default(), "shuffleboard", &[])?;
//! println!("{notes:?} {:?} +- {:?}, misfit {}", fit.estimate, fit.std, fit.misfit);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod data;
pub mod fit;
pub mod latency;
pub mod lm;
pub mod misfit;
pub mod model;
pub mod problem;
pub mod profile;
pub mod report;
pub mod rotation;
mod sim_model;
pub mod structure;
mod trail;
pub mod uncertainty;
pub mod verdict;

pub use data::{
    Dataset, Drive, EpisodeInput, JointTrack, Replay, RotationTerm, dataset, dataset_driven,
};
pub use fit::{FitOptions, SolverKind, identify};
pub use latency::{LatencyEstimate, LatencySearch, estimate_latency, identify_aligned};
pub use lm::LevenbergMarquardt;
pub use misfit::MisfitTests;
pub use model::ReplayModel;
pub use problem::{Loss, SysIdProblem};
pub use profile::Interval;
pub use report::Fit;
pub use structure::{Hypothesis, StructureVerdict};
pub use trail::FitIteration;
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
