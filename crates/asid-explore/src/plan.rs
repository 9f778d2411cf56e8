//! The plan file: everything needed to run, reproduce and judge an exploration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::design::DesignKind;
use crate::discriminate::Discrimination;
use crate::experiment::Constraint;
use crate::planner::PlanOptions;

/// Summary of one parameter in a plan file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamSummary {
    /// Name.
    pub name: String,
    /// Target.
    pub target: String,
    /// Prior.
    pub prior: asid_core::Prior,
    /// Hard bounds.
    pub bounds: [f64; 2],
}

/// Figures of the random-exploration baseline, scored on the held-out prior samples without the
/// smoothness filter (a random draw the arm's 1 kHz check refuses is smoothed as the planner's
/// candidates are; one that breaks a limit of the arm or the scene is tried again at half its
/// amplitude, up to three times, then skipped; see [`crate::baseline`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomBaseline {
    /// Feasible random explorations assessed.
    pub draws: usize,
    /// Infeasible random explorations skipped (a limit even at an eighth of the amplitude; never
    /// the smoothness filter).
    pub infeasible: usize,
    /// Assessed draws that broke a limit at full amplitude and were scored scaled down.
    #[serde(default)]
    pub scaled_down: usize,
    /// Assessed draws scored smoothed (`asid_explore::design::smoothed`), because the arm's
    /// 1 kHz check refused them as drawn (or as scaled down), as the planner's candidates are.
    #[serde(default)]
    pub smoothed: usize,
    /// Assessed draws the planner's smoothness filter would have rejected (scored all the same).
    #[serde(default)]
    pub rejected_by_smoothness: usize,
    /// Feasible random explorations that are informative at all: the smallest eigenvalue of their
    /// scaled Fisher information is at least 1 (every direction's Cramer-Rao std below its prior std).
    pub informative: usize,
    /// Median criterion value on the held-out samples.
    #[serde(deserialize_with = "null_as_nan")]
    pub median_value: f64,
    /// Median Cramer-Rao std per parameter (`null`: not determined, or no draw).
    #[serde(deserialize_with = "nulls_as_nan")]
    pub median_crb_std: BTreeMap<String, f64>,
    /// Median predicted posterior std per parameter.
    #[serde(default, deserialize_with = "nulls_as_nan")]
    pub median_posterior_std: BTreeMap<String, f64>,
    /// Median expected chi-square difference between the hypotheses of each discrete parameter.
    #[serde(default)]
    pub median_structure_chi2_difference: BTreeMap<String, f64>,
}

/// A plan file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Format tag.
    pub format: String,
    /// Scene name.
    pub scene: String,
    /// Scene file the plan was made for.
    pub scene_file: String,
    /// The unknown parameters and their prior.
    pub parameters: Vec<ParamSummary>,
    /// Settings of the run.
    pub options: PlanOptions,
    /// Parameterisation.
    pub design: DesignKind,
    /// Control period of the actions.
    pub control_period_s: f64,
    /// The action sequence, one action per control step.
    pub actions: Vec<Vec<f64>>,
    /// The design vector the actions came from.
    pub design_vector: Vec<f64>,
    /// Whether the actions are the design vector's decoded actions smoothed
    /// (`asid_explore::design::smoothed`), because the arm's 1 kHz check refused them as decoded.
    #[serde(default)]
    pub smoothed: bool,
    /// Criterion value averaged over the planning prior samples (what the optimiser minimised;
    /// lower is better).
    pub value: f64,
    /// Criterion value of the plan averaged over the held-out prior samples (`null`: the plan
    /// breaks a limit at one of them, see `held_out_violation`).
    #[serde(default = "nan", deserialize_with = "null_as_nan")]
    pub held_out_value: f64,
    /// The limit the plan breaks at a held-out sample, if any.
    #[serde(default)]
    pub held_out_violation: Option<Constraint>,
    /// Whether the plan's observations are smooth in the parameters at every held-out sample
    /// (the planner only checked its own samples; false too when `held_out_violation` is set).
    #[serde(default = "yes")]
    pub held_out_smooth: bool,
    /// Eigenvalues of the expected Fisher information of the continuous parameters on the held-out
    /// samples (parameters scaled by their prior std), ascending.
    pub fisher_eigenvalues: Vec<f64>,
    /// Predicted Cramer-Rao std per parameter (one episode, no prior) from the expected information
    /// on the held-out samples (`null`: not determined by this plan).
    #[serde(deserialize_with = "nulls_as_inf")]
    pub crb_std: BTreeMap<String, f64>,
    /// Prior std per parameter.
    #[serde(default)]
    pub prior_std: BTreeMap<String, f64>,
    /// Predicted posterior std per parameter after one episode: `prior_std * sqrt(diag((Sigma0^-1 +
    /// I)^-1))` in prior-std units, the posterior variance averaged over the held-out samples.
    #[serde(default, deserialize_with = "nulls_as_nan")]
    pub posterior_std: BTreeMap<String, f64>,
    /// Per discrete (structural) parameter, left out of the Fisher matrix: how far apart its
    /// hypotheses predict this plan's observations on the held-out samples
    /// ([`crate::discriminate`]).
    #[serde(default)]
    pub structure: BTreeMap<String, Discrimination>,
    /// Random exploration of the same length.
    pub random: RandomBaseline,
    /// How many times better than the random median, both on the held-out samples (> 1: better;
    /// `null` when there is no random draw or the plan breaks a limit at a held-out sample).
    #[serde(deserialize_with = "null_as_nan")]
    pub gain: f64,
    /// Candidate plans evaluated.
    pub evaluations: usize,
    /// What the plan cost in simulation: control steps simulated (every rollout of the search, the
    /// smoothness checks, the held-out assessment and the random baseline) divided by the horizon,
    /// i.e. whole-episode rollouts; with `auto`, summed over every parameterisation tried.
    #[serde(default)]
    pub rollouts: f64,
    /// CEM iterations run (fewer than `options.iterations` when the criterion stopped improving).
    #[serde(default)]
    pub iterations_run: u64,
    /// The search's best criterion on the planning samples after each CEM iteration (`null`
    /// while no candidate was feasible): how the search converged. (`value` is the chosen plan
    /// assessed again on the same samples.)
    #[serde(default)]
    pub criterion_by_iteration: Vec<Option<f64>>,
    /// Candidates rejected, per constraint.
    pub rejections: BTreeMap<Constraint, usize>,
    /// Wall time.
    pub wall_s: f64,
}

fn yes() -> bool {
    true
}

fn nan() -> f64 {
    f64::NAN
}

/// JSON has no NaN: serde writes it as `null`; read `null` back as NaN (no feasible random draw).
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// [`null_as_nan`] for every value of a map.
fn nulls_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let m = BTreeMap::<String, Option<f64>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
        .collect())
}

/// Every value of a map, `null` read back as infinity (a Cramer-Rao std of an undetermined parameter).
fn nulls_as_inf<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let m = BTreeMap::<String, Option<f64>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.unwrap_or(f64::INFINITY)))
        .collect())
}
