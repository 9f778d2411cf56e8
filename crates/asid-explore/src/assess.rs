//! How one action sequence scores: the design criterion averaged over prior samples, the
//! structure terms of the discrete parameters, and the checks (limits, smoothness) a plan must
//! pass.

use asid_sim::Nominal;
use nalgebra::DMatrix;

use crate::discriminate::{Discrimination, continuous_params, discrete_params, discriminate};
use crate::experiment::{Constraint, Experiment, NoiseModel};
use crate::fisher::{Criterion, fisher_information, posterior_covariance};

/// How one action sequence scores.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// Criterion averaged over the prior samples (continuous parameters and structure terms).
    pub value: f64,
    /// Scaled Fisher information of the continuous parameters (in the order of
    /// [`crate::discriminate::continuous_params`]) averaged over the prior samples.
    pub mean_info: DMatrix<f64>,
    /// Posterior covariance `(Sigma0^-1 + I)^-1` of the continuous parameters in prior-std units,
    /// averaged over the samples.
    pub mean_posterior_cov: DMatrix<f64>,
    /// Per discrete parameter (in the order of [`crate::discriminate::discrete_params`]): how far
    /// apart its hypotheses predict the observations, averaged over the samples.
    pub structure: Vec<Discrimination>,
    /// Whether the observations were smooth in the parameters at every sample (always true for
    /// [`assess`], which rejects the rest).
    pub smooth: bool,
}

/// Scores an action sequence as the planner does: the criterion of the Fisher information at each
/// prior sample, averaged; a sequence that breaks a limit or is not smooth at a sample is rejected.
pub fn assess<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
) -> Result<Assessment, Constraint> {
    score(exp, actions, thetas, criterion, noise, true)
}

/// As [`assess`], but a sequence whose observations are not smooth is scored all the same
/// (`smooth` says so): how the random baseline and the held-out check judge.
pub fn assess_unfiltered<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
) -> Result<Assessment, Constraint> {
    score(exp, actions, thetas, criterion, noise, false)
}

/// What [`score`] does with the smoothness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmoothCheck {
    /// A sequence that is not smooth at a sample is rejected (the planner).
    Reject,
    /// It is scored all the same and flagged (the random baseline, the held-out check).
    Flag,
    /// Not checked here: the sensitivities are kept for [`check_smooth`] (the planner's lazy check).
    Later,
}

/// The sensitivities at each sample (jacobians and nominal trajectory), kept for a later
/// smoothness check.
pub(crate) type Kept = Vec<(Vec<DMatrix<f64>>, Option<Nominal>)>;

fn score<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
    filter: bool,
) -> Result<Assessment, Constraint> {
    let mode = if filter {
        SmoothCheck::Reject
    } else {
        SmoothCheck::Flag
    };
    score_with(exp, actions, thetas, criterion, noise, mode).map(|(a, _)| a)
}

pub(crate) fn score_with<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    criterion: Criterion,
    noise: NoiseModel,
    mode: SmoothCheck,
) -> Result<(Assessment, Kept), Constraint> {
    let space = exp.space();
    let scale: Vec<f64> = space.scales();
    let sigmas = exp.obs_sigmas();
    let continuous = continuous_params(space);
    let discrete = discrete_params(space);
    let pc = continuous.len();
    let mut mean_info = DMatrix::zeros(pc, pc);
    let mut mean_posterior_cov = DMatrix::zeros(pc, pc);
    let mut structure = vec![Discrimination::default(); discrete.len()];
    let mut value = 0.0;
    let mut smooth = true;
    let mut kept = Vec::new();
    // Once per candidate, not once per sample: the checks do not depend on the parameters.
    exp.check_actions(actions)?;
    for theta in thetas {
        let (jacs, nominal) = exp.sensitivities(theta, actions, noise)?;
        if let Some(c) = nominal
            .as_ref()
            .and_then(|n| exp.violations(&n.trajectory).first().copied())
        {
            return Err(c);
        }
        match mode {
            SmoothCheck::Reject => {
                if !exp.is_smooth_around(theta, actions, noise, &jacs, nominal.as_ref())? {
                    return Err(Constraint::Smoothness);
                }
            }
            SmoothCheck::Flag => {
                // The check itself failing (the wider step refused) counts as not smooth, not as a
                // limit.
                if !exp
                    .is_smooth_around(theta, actions, noise, &jacs, nominal.as_ref())
                    .unwrap_or(false)
                {
                    smooth = false;
                }
            }
            SmoothCheck::Later => {}
        }
        // Discrete parameters have no derivative: out of the Fisher matrix, judged by how far apart
        // their hypotheses predict the observations.
        let full = fisher_information(&jacs, &sigmas, &scale);
        let info = full.select_rows(&continuous).select_columns(&continuous);
        let here = if discrete.is_empty() {
            Vec::new()
        } else {
            let own;
            let obs = match &nominal {
                Some(n) => &n.trajectory.obs,
                None => {
                    own = exp.observations(theta, actions)?;
                    &own
                }
            };
            discriminate(exp, theta, actions, obs, &discrete)?
        };
        value += criterion.with_structure(criterion.value(&info), &here);
        for (acc, d) in structure.iter_mut().zip(&here) {
            acc.chi2_difference += d.chi2_difference;
            acc.posterior_variance_bound += d.posterior_variance_bound;
        }
        mean_posterior_cov += posterior_covariance(&info);
        mean_info += info;
        if mode == SmoothCheck::Later {
            kept.push((jacs, nominal));
        }
    }
    let k = thetas.len().max(1) as f64;
    for d in &mut structure {
        d.chi2_difference /= k;
        d.posterior_variance_bound /= k;
    }
    Ok((
        Assessment {
            value: value / k,
            mean_info: mean_info / k,
            mean_posterior_cov: mean_posterior_cov / k,
            structure,
            smooth,
        },
        kept,
    ))
}

/// The smoothness check of a sequence [`score_with`] scored with [`SmoothCheck::Later`]: sample by
/// sample, stopping at the first that is not smooth (as [`SmoothCheck::Reject`] would have).
pub(crate) fn check_smooth<E: Experiment>(
    exp: &E,
    actions: &[Vec<f64>],
    thetas: &[Vec<f64>],
    noise: NoiseModel,
    kept: &Kept,
) -> Result<bool, Constraint> {
    for (theta, (jacs, nominal)) in thetas.iter().zip(kept) {
        if !exp.is_smooth_around(theta, actions, noise, jacs, nominal.as_ref())? {
            return Ok(false);
        }
    }
    Ok(true)
}
