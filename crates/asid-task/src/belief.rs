//! What is believed about the unknown parameters: a point estimate with a covariance and the fit's
//! reported intervals, and samples that reach those intervals.

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
/// Parameters the fit determined are drawn with the fit's correlations, each side of the estimate
/// spread at least as wide as the covariance says and as the fit's reported 95 % interval says (a
/// split normal per parameter, joined through a Gaussian copula), truncated to their bounds.
/// Where the cost is not quadratic (a confounded pair whose valley curves), the profile interval
/// is far wider than the covariance: a fit of the shuffleboard put the friction at 0.232 +- 0.004
/// with the interval [0.224, 0.425] and the truth at 0.41. Parameters the fit did not determine
/// (no finite std) keep the prior, independently: a belief never claims more than the data gave.
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
    /// The fit's reported 95 % interval per parameter (scene order; `None` where it has none);
    /// empty: the covariance alone.
    #[serde(default)]
    pub interval95: Vec<Option<[f64; 2]>>,
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
            interval95: Vec::new(),
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
            interval95: Vec::new(),
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
        let interval95 = space
            .params
            .iter()
            .map(|p| fit.interval95.get(&p.name).map(|i| [i.lo, i.hi]))
            .collect();
        Ok(Self {
            source: BeliefSource::Fit,
            estimate,
            covariance,
            determined,
            structure_weights,
            interval95,
        })
    }

    /// `n` draws (scene order), inside the bounds. Determined parameters are drawn jointly
    /// (rejecting draws outside the bounds, then falling back to the estimate after 1000 tries):
    /// correlated standard normals `z` from the covariance's correlations, and parameter `i` at
    /// `estimate + z * spread`, with the spread below or above the estimate by the sign of `z`
    /// (see [`Self::spreads`]); without intervals this is the Gaussian of the covariance. The
    /// others come from the prior.
    pub fn samples<R: Rng + ?Sized>(
        &self,
        space: &ParamSpace,
        n: usize,
        rng: &mut R,
    ) -> Vec<Vec<f64>> {
        let idx: Vec<usize> = (0..space.dim()).filter(|&i| self.determined[i]).collect();
        let m = idx.len();
        let spreads = self.spreads();
        let chol = (m > 0).then(|| {
            let sd: Vec<f64> = idx.iter().map(|&i| self.covariance[i][i].sqrt()).collect();
            let r = DMatrix::from_fn(m, m, |a, b| {
                if a == b {
                    1.0
                } else {
                    let v = self.covariance[idx[a]][idx[b]] / (sd[a] * sd[b]);
                    if v.is_finite() {
                        v.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    }
                }
            });
            // A tiny jitter keeps a nearly singular (confounded) correlation factorisable; if it
            // still is not, the parameters are drawn independently (never the bare point).
            (r + DMatrix::identity(m, m) * 1e-9)
                .cholesky()
                .map_or_else(|| DMatrix::identity(m, m), |ch| ch.l())
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
                            .map(|(a, &i)| {
                                let [below, above] = spreads[i];
                                self.estimate[i] + d[a] * if d[a] < 0.0 { below } else { above }
                            })
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

    /// Per parameter (scene order), the spread of the draws below and above the estimate: the
    /// covariance's std, widened on each side to reach the end of the fit's 95 % interval at 1.96
    /// spreads. Zero for a parameter the covariance does not describe.
    pub fn spreads(&self) -> Vec<[f64; 2]> {
        (0..self.estimate.len())
            .map(|i| {
                let sd = self
                    .covariance
                    .get(i)
                    .and_then(|r| r.get(i))
                    .copied()
                    .unwrap_or(0.0);
                let sd = if sd.is_finite() && sd > 0.0 {
                    sd.sqrt()
                } else {
                    0.0
                };
                match self.interval95.get(i).copied().flatten() {
                    Some([lo, hi]) if sd > 0.0 => {
                        let e = self.estimate[i];
                        [sd.max((e - lo) / 1.96), sd.max((hi - e) / 1.96)]
                    }
                    _ => [sd, sd],
                }
            })
            .collect()
    }
}
