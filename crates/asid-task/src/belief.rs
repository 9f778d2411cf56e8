//! What is believed about the unknown parameters: a point estimate with a covariance, and samples.

use asid_core::ParamSpace;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::TaskError;

/// Where a belief came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeliefSource {
    /// The scene's prior (no identification: domain randomisation).
    Prior,
    /// An identification fit.
    Fit,
    /// The true parameters (a simulated lab's truth: the ceiling).
    Truth,
}

/// A belief over the scene's parameters (scene order).
///
/// Parameters the fit determined are Gaussian (estimate, covariance) truncated to their bounds;
/// parameters it did not determine (no finite std) keep the prior, independently: a belief never
/// claims more than the data gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Belief {
    /// Where it came from.
    pub source: BeliefSource,
    /// Point estimate (prior centre for the prior).
    pub estimate: Vec<f64>,
    /// Covariance of the determined parameters, in scene order (rows and columns of undetermined
    /// parameters are zero).
    pub covariance: Vec<Vec<f64>>,
    /// Which parameters the covariance describes; the others follow the prior.
    pub determined: Vec<bool>,
    /// Structure weights (posterior probability per hypothesis), when the scene has discrete
    /// parameters; empty otherwise.
    pub structure_weights: Vec<(String, f64)>,
}

impl Belief {
    /// The scene's prior.
    pub fn prior(space: &ParamSpace) -> Self {
        let n = space.dim();
        Self {
            source: BeliefSource::Prior,
            estimate: space.center(),
            covariance: vec![vec![0.0; n]; n],
            determined: vec![false; n],
            structure_weights: Vec::new(),
        }
    }

    /// Exactly `theta`.
    pub fn point(space: &ParamSpace, theta: &[f64]) -> Result<Self, TaskError> {
        space
            .check(theta)
            .map_err(|e| TaskError::Belief(e.to_string()))?;
        let n = space.dim();
        Ok(Self {
            source: BeliefSource::Truth,
            estimate: theta.to_vec(),
            covariance: vec![vec![0.0; n]; n],
            determined: vec![true; n],
            structure_weights: Vec::new(),
        })
    }

    /// From an identification fit: its estimate and covariance; parameters without a finite std
    /// keep the prior.
    pub fn from_fit(space: &ParamSpace, fit: &asid_sysid::Fit) -> Result<Self, TaskError> {
        let n = space.dim();
        let mut estimate = Vec::with_capacity(n);
        for p in &space.params {
            let v = fit.estimate.get(&p.name).copied().ok_or_else(|| {
                TaskError::Belief(format!("the fit has no estimate of `{}`", p.name))
            })?;
            estimate.push(v);
        }
        space
            .check(&estimate)
            .map_err(|e| TaskError::Belief(format!("fit estimate: {e}")))?;
        // Fit matrices are in `fit.names` order.
        let pos: Vec<Option<usize>> = space
            .params
            .iter()
            .map(|p| fit.names.iter().position(|m| *m == p.name))
            .collect();
        let cov_of = |i: usize, j: usize| -> Option<f64> {
            let (a, b) = (pos[i]?, pos[j]?);
            fit.covariance.get(a)?.get(b).copied().flatten()
        };
        let determined: Vec<bool> = (0..n)
            .map(|i| cov_of(i, i).is_some_and(|v| v.is_finite() && v > 0.0))
            .collect();
        let covariance = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if determined[i] && determined[j] {
                            cov_of(i, j).filter(|v| v.is_finite()).unwrap_or(0.0)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        // Posterior weights of the structures from their BIC (equal prior odds).
        let best_bic = fit
            .hypotheses
            .iter()
            .map(|h| h.bic)
            .fold(f64::INFINITY, f64::min);
        let raw: Vec<(String, f64)> = fit
            .hypotheses
            .iter()
            .map(|h| {
                let label: Vec<String> = h
                    .structure
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                (label.join(","), (-0.5 * (h.bic - best_bic)).exp())
            })
            .collect();
        let total: f64 = raw.iter().map(|(_, w)| w).sum();
        let structure_weights = raw.into_iter().map(|(l, w)| (l, w / total)).collect();
        Ok(Self {
            source: BeliefSource::Fit,
            estimate,
            covariance,
            determined,
            structure_weights,
        })
    }

    /// `n` draws (scene order), inside the bounds. Determined parameters are drawn jointly from
    /// the Gaussian (rejecting draws outside the bounds, then falling back to the estimate after
    /// 1000 tries), the others from the prior.
    pub fn samples<R: Rng + ?Sized>(
        &self,
        space: &ParamSpace,
        n: usize,
        rng: &mut R,
    ) -> Vec<Vec<f64>> {
        let idx: Vec<usize> = (0..space.dim()).filter(|&i| self.determined[i]).collect();
        let m = idx.len();
        let chol = (m > 0).then(|| {
            let c = DMatrix::from_fn(m, m, |a, b| self.covariance[idx[a]][idx[b]]);
            // A tiny jitter keeps a nearly singular (confounded) covariance factorisable; if it
            // still is not, the diagonal keeps each parameter's own spread (never the bare point).
            let jitter = DMatrix::from_diagonal(&c.diagonal().map(|d| d * 1e-9 + 1e-300));
            (c.clone() + jitter)
                .cholesky()
                .map(|ch| ch.l())
                .unwrap_or_else(|| DMatrix::from_diagonal(&c.diagonal().map(f64::sqrt)))
        });
        (0..n)
            .map(|_| {
                let mut theta: Vec<f64> = match self.source {
                    BeliefSource::Truth => self.estimate.clone(),
                    _ => space.sample(rng),
                };
                if self.source == BeliefSource::Prior {
                    return theta;
                }
                if let Some(l) = &chol {
                    let draw = (0..1000).find_map(|_| {
                        let z = DVector::from_fn(m, |_, _| StandardNormal.sample(rng));
                        let d = l * z;
                        let v: Vec<f64> = idx
                            .iter()
                            .enumerate()
                            .map(|(a, &i)| self.estimate[i] + d[a])
                            .collect();
                        idx.iter()
                            .zip(&v)
                            .all(|(&i, x)| {
                                let b = space.params[i].bounds;
                                *x >= b[0] && *x <= b[1]
                            })
                            .then_some(v)
                    });
                    for (a, &i) in idx.iter().enumerate() {
                        theta[i] = draw.as_ref().map_or(self.estimate[i], |v| v[a]);
                    }
                } else {
                    for &i in &idx {
                        theta[i] = self.estimate[i];
                    }
                }
                theta
            })
            .collect()
    }
}
