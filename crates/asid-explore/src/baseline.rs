//! The comparison with random exploration, made fair: the plan and random explorations of the same
//! length are both scored on held-out prior samples that the optimiser never saw, and the random
//! draws are scored whether or not the planner's smoothness filter would have accepted them (the
//! filter is a planning choice; a random exploration run on the arm is not filtered).
//!
//! The limits of the arm and the scene do apply to random exploration: it must be something the
//! arm runs. A random walk ([`asid_sim::ActionBounds::random`]) that the arm's 1 kHz check refuses
//! is smoothed as the planner's candidates are ([`crate::design::smoothed`]); one that breaks a limit is tried again at
//! half its amplitude (towards the start), up to [`MAX_HALVINGS`] times, and only then counted as
//! infeasible; the plan file says how many draws were scaled down. Smaller motions tell less, so
//! this favours the plan only as much as the limits force it.

use std::collections::BTreeMap;

use asid_core::ParamSpace;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::discriminate::{continuous_params, discrete_params};
use crate::experiment::Experiment;
use crate::fisher::{crb_std, eigenvalues, posterior_std};
use crate::plan::RandomBaseline;
use crate::planner::{PlanOptions, assess_unfiltered};

/// How many times a random walk that breaks a limit is halved before it counts as infeasible.
pub const MAX_HALVINGS: u32 = 3;

/// A random exploration scaled by `factor` towards the start (delta actions: each step scaled;
/// absolute targets: their offset from the start).
fn scaled(bounds: &asid_sim::ActionBounds, actions: &[Vec<f64>], factor: f64) -> Vec<Vec<f64>> {
    actions
        .iter()
        .map(|a| {
            if bounds.is_delta() {
                a.iter().map(|v| v * factor).collect()
            } else {
                a.iter()
                    .zip(&bounds.start)
                    .map(|(v, s)| s + (v - s) * factor)
                    .collect()
            }
        })
        .collect()
}

/// The prior samples of a planning run.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorSamples {
    /// What the optimiser averages the criterion over.
    pub planning: Vec<Vec<f64>>,
    /// What the plan and the random baseline are judged on (never seen by the optimiser).
    pub held_out: Vec<Vec<f64>>,
}

/// Random streams of a planning run, derived from its seed: independent generators, so the
/// held-out samples and the random baseline do not depend on how much the planner drew.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Planning prior samples (the seed itself, as before held-out samples existed).
    Planning,
    /// Held-out prior samples.
    HeldOut,
    /// Random explorations of the baseline.
    RandomActions,
}

impl Stream {
    /// The generator of this stream for `seed`.
    pub fn rng(self, seed: u64) -> StdRng {
        // Odd multipliers of the golden ratio: the streams' seeds never coincide for one run.
        let k: u64 = match self {
            Self::Planning => 0,
            Self::HeldOut => 1,
            Self::RandomActions => 3,
        };
        StdRng::seed_from_u64(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

/// Draws the planning and held-out prior samples of a run with `opts`, from separate streams.
pub fn prior_samples(space: &ParamSpace, opts: &PlanOptions) -> PriorSamples {
    let draw = |stream: Stream, n: usize| {
        let mut rng = stream.rng(opts.seed);
        (0..n.max(1)).map(|_| space.sample(&mut rng)).collect()
    };
    PriorSamples {
        planning: draw(Stream::Planning, opts.prior_samples),
        held_out: draw(Stream::HeldOut, opts.held_out_samples),
    }
}

/// Scores `opts.random_draws` feasible random explorations of the experiment's length on
/// `held_out`, without the smoothness filter (up to ten times as many draws are tried; a draw that
/// breaks a limit is halved up to [`MAX_HALVINGS`] times, then skipped and counted).
pub fn random_baseline<E: Experiment>(
    exp: &E,
    held_out: &[Vec<f64>],
    opts: &PlanOptions,
) -> RandomBaseline {
    let space = exp.space();
    let continuous = continuous_params(space);
    let discrete = discrete_params(space);
    let scale: Vec<f64> = continuous.iter().map(|&i| space.scales()[i]).collect();
    let bounds = exp.action_bounds();
    let mut rng = Stream::RandomActions.rng(opts.seed);
    let (mut values, mut crbs, mut posts) = (Vec::new(), Vec::new(), Vec::new());
    let mut chi2s: Vec<Vec<f64>> = Vec::new();
    let (mut infeasible, mut informative, mut non_smooth, mut tries) = (0, 0, 0, 0);
    let (mut scaled_down, mut smoothed) = (0, 0);
    while values.len() < opts.random_draws && tries < 10 * opts.random_draws.max(1) {
        tries += 1;
        let random = bounds.random(exp.horizon(), &mut rng);
        let mut scored = None;
        for halvings in 0..=MAX_HALVINGS {
            // Each scaled walk is smoothed when the arm refuses it, as the planner's candidates are.
            let (actions, was_smoothed) = crate::design::runnable(
                exp,
                &bounds,
                scaled(&bounds, &random, 0.5f64.powi(halvings as i32)),
            );
            if let Ok(a) = assess_unfiltered(exp, &actions, held_out, opts.criterion, opts.noise) {
                scored = Some((a, halvings > 0, was_smoothed));
                break;
            }
        }
        match scored {
            Some((a, was_scaled, was_smoothed)) => {
                if was_scaled {
                    scaled_down += 1;
                }
                if was_smoothed {
                    smoothed += 1;
                }
                if eigenvalues(&a.mean_info).first().is_some_and(|e| *e >= 1.0) {
                    informative += 1;
                }
                if !a.smooth {
                    non_smooth += 1;
                }
                values.push(a.value);
                crbs.push(crb_std(&a.mean_info, &scale));
                posts.push(posterior_std(&a.mean_posterior_cov, &scale));
                chi2s.push(a.structure.iter().map(|d| d.chi2_difference).collect());
            }
            None => infeasible += 1,
        }
    }
    let per_param = |rows: &[Vec<f64>], which: &[usize]| -> BTreeMap<String, f64> {
        which
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let column: Vec<f64> = rows.iter().map(|r| r[k]).collect();
                (space.params[i].name.clone(), median(&column))
            })
            .collect()
    };
    let discrete: Vec<usize> = discrete.into_iter().map(|(d, _)| d).collect();
    RandomBaseline {
        draws: values.len(),
        infeasible,
        scaled_down,
        smoothed,
        rejected_by_smoothness: non_smooth,
        informative,
        median_value: median(&values),
        median_crb_std: per_param(&crbs, &continuous),
        median_posterior_std: per_param(&posts, &continuous),
        median_structure_chi2_difference: per_param(&chi2s, &discrete),
    }
}

/// Median (NaN for no values; infinities sort last).
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}
