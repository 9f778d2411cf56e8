//! The result of an identification (the fit file, `asid-fit/1`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::Drive;
use crate::fit::FitOptions;
use crate::misfit::MisfitTests;
use crate::profile::Interval;
use crate::structure::{Hypothesis, StructureVerdict};
use crate::uncertainty::Identifiability;
use crate::verdict::Combination;

/// The result file of an identification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fit {
    /// Format tag.
    pub format: String,
    /// Scene name.
    pub scene: String,
    /// Episodes fitted.
    pub episodes: Vec<String>,
    /// Settings.
    pub options: FitOptions,
    /// Estimate per parameter.
    pub estimate: BTreeMap<String, f64>,
    /// What moved the simulated arm in the replays.
    pub drive: Drive,
    /// Standard deviation per parameter (`null`: unbounded): from `covariance`.
    pub std: BTreeMap<String, Option<f64>>,
    /// Standard deviation from the residual-based covariance `s^2 (J^T J)^-1`.
    pub std_nominal: BTreeMap<String, Option<f64>>,
    /// Standard deviation from the Newey-West sandwich ([`crate::misfit`]).
    pub std_sandwich: BTreeMap<String, Option<f64>>,
    /// Which covariance `std`, `covariance`, `correlation` and the Wald intervals use.
    pub covariance_method: String,
    /// 95 % interval per parameter: on each side the wider of the profile-likelihood end
    /// ([`crate::profile`]: where the cost, the other parameters re-fitted, rises by 3.84 s^2;
    /// asymmetric where the data are) and the Wald end, within the bounds; `*_open` where it
    /// reaches a bound.
    pub interval95: BTreeMap<String, Interval>,
    /// 95 % profile-likelihood interval per parameter alone.
    pub profile_interval95: BTreeMap<String, Interval>,
    /// 95 % Wald interval per parameter (estimate +- 1.96 std; `null`: unbounded).
    pub wald_interval95: BTreeMap<String, Option<[f64; 2]>>,
    /// Covariance, in the order of `names`.
    pub covariance: Vec<Vec<Option<f64>>>,
    /// Correlation matrix, same order.
    pub correlation: Vec<Vec<Option<f64>>>,
    /// Parameter order of the matrices.
    pub names: Vec<String>,
    /// Cramer-Rao std at the estimate for these episodes (with the scene's sigmas).
    pub crb_std: BTreeMap<String, Option<f64>>,
    /// Identifiability per parameter: determined by the data alone, 95 % interval closed inside
    /// the bounds, not confounded.
    pub identifiable: BTreeMap<String, bool>,
    /// Parameter pairs determined only in combination (|correlation| > 0.95).
    pub confounded: Vec<Combination>,
    /// The full identifiability report.
    pub identifiability: Identifiability,
    /// Structure hypotheses (when the scene has discrete parameters).
    pub hypotheses: Vec<Hypothesis>,
    /// The structure verdict: the BIC difference to the runner-up and the posterior odds
    /// ([`crate::structure`]; `null` without discrete parameters).
    #[serde(default)]
    pub structure: Option<StructureVerdict>,
    /// Half the sum of squared whitened residuals at the estimate.
    pub cost: f64,
    /// Residual-based noise scale (1 when the scene's sigmas are right).
    pub residual_sigma_ratio: f64,
    /// Sum of squared whitened residuals / (residuals - fitted parameters).
    pub reduced_chi2: f64,
    /// The residuals are not explained by the scene's noise ([`crate::misfit`]).
    pub misfit: bool,
    /// The misfit tests, their statistics and thresholds.
    pub misfit_tests: MisfitTests,
    /// RMS residual per observation channel, in the channel's unit (`<channel>.rotation_rad`: the
    /// rotation error of an `object_pose` channel).
    pub residual_rms: BTreeMap<String, f64>,
    /// Residuals used.
    pub residuals: usize,
    /// Recorded entries skipped (missing or not finite).
    pub skipped: usize,
    /// Model rollouts spent: the fits, the Jacobian at the estimate and the profile intervals (a
    /// latency search's profile of shifts and its fits between rounds are not counted).
    pub evaluations: usize,
    /// Wall time (with the tracker's latency estimated: of the whole search).
    pub wall_s: f64,
    /// The tracker's latency, estimated from the episodes and taken out of the object
    /// observations before this fit ([`crate::identify_aligned`]); absent when not estimated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose_latency: Option<crate::latency::LatencyEstimate>,
    /// How the optimiser got there: the best cost and parameters after each iteration of the
    /// start that won, for the chosen structure (empty when nothing was free to fit, and in fit
    /// files written before this field existed).
    #[serde(default)]
    pub iterations: Vec<crate::trail::FitIteration>,
}
