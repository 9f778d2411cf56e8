//! Fisher information of the parameters from observation sensitivities, and optimal-design criteria.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

/// Fisher information `sum_h J_h^T diag(sigma)^-2 J_h` of parameters scaled by `scale` (prior std),
/// so parameters in different units are comparable: column `i` of each `J_h` is multiplied by `scale[i]`.
pub fn fisher_information(
    jacobians: &[DMatrix<f64>],
    sigmas: &[f64],
    scale: &[f64],
) -> DMatrix<f64> {
    let p = scale.len();
    let mut info = DMatrix::zeros(p, p);
    for j in jacobians {
        for r in 0..j.nrows() {
            let w = 1.0 / (sigmas[r] * sigmas[r]);
            for a in 0..p {
                let ja = j[(r, a)] * scale[a];
                if ja == 0.0 {
                    continue;
                }
                for b in a..p {
                    info[(a, b)] += w * ja * j[(r, b)] * scale[b];
                }
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            info[(a, b)] = info[(b, a)];
        }
    }
    info
}

/// An optimal-design criterion, Bayesian where that is natural: the prior (identity in prior-std
/// units, `Sigma0 = I`) is the regulariser, so the posterior covariance `(Sigma0^-1 + I)^-1` is
/// always defined and an experiment that tells nothing scores the prior's value. Every value is to
/// be minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// Bayesian A-optimal: `tr((Sigma0^-1 + I)^-1)`, the sum of the posterior variances in prior-std
    /// units (the paper's objective with the prior as regulariser). Between 0 (perfectly
    /// informative) and the number of parameters (uninformative).
    A,
    /// Bayesian D-optimal: `log det (Sigma0^-1 + I)^-1 = -log det(Sigma0^-1 + I)`, the log volume
    /// of the posterior ellipsoid; 0 when uninformative.
    D,
    /// Bayesian E-optimal: the largest eigenvalue of the posterior covariance (the worst-determined
    /// direction); 1 when some direction is not informed at all.
    E,
    /// T: minus the trace of the information, `-tr(I)`, exactly what the paper's public code
    /// rewards (not Bayesian; equals A's ordering only for one parameter).
    T,
}

/// Eigenvalues of a symmetric information matrix, clipped at 0 (it is positive semi-definite by
/// construction; negative values are round-off).
fn info_eigen(info: &DMatrix<f64>) -> SymmetricEigen<f64, nalgebra::Dyn> {
    let mut eig = SymmetricEigen::new(info.clone());
    for e in eig.eigenvalues.iter_mut() {
        *e = e.max(0.0);
    }
    eig
}

/// Posterior covariance `(Sigma0^-1 + I)^-1` of parameters in prior-std units (`Sigma0 = I`) after
/// an experiment with (scaled) information `info`; the identity when `info` is zero.
pub fn posterior_covariance(info: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = info_eigen(info);
    let d = eig.eigenvalues.map(|e| 1.0 / (1.0 + e));
    &eig.eigenvectors * DMatrix::from_diagonal(&d) * eig.eigenvectors.transpose()
}

impl Criterion {
    /// Value of the criterion for a (scaled) information matrix; lower is better.
    pub fn value(self, info: &DMatrix<f64>) -> f64 {
        if self == Self::T {
            return -info.trace();
        }
        let eig = info_eigen(info).eigenvalues;
        match self {
            Self::A => eig.iter().map(|e| 1.0 / (1.0 + e)).sum(),
            Self::D => -eig.iter().map(|e| e.ln_1p()).sum::<f64>(),
            Self::E => 1.0 / (1.0 + eig.iter().copied().fold(f64::INFINITY, f64::min)),
            Self::T => unreachable!("handled above"),
        }
    }

    /// The criterion's value for an experiment that tells nothing (zero information): the prior's.
    pub fn uninformative(self, n_params: usize) -> f64 {
        match self {
            Self::A => n_params as f64,
            Self::D | Self::T => 0.0,
            Self::E => 1.0,
        }
    }

    /// How many times better `value` is than `reference` (> 1: better), in the criterion's natural
    /// ratio: summed posterior variances for A, posterior volume per parameter (geometric mean of
    /// the variance ratios) for D, largest posterior variance for E, information trace for T (NaN
    /// when either value is not a number; infinite for T when the reference carries no information
    /// and the value does).
    pub fn gain(self, value: f64, reference: f64, n_params: usize) -> f64 {
        if value.is_nan() || reference.is_nan() {
            return f64::NAN;
        }
        match self {
            Self::A | Self::E => reference / value,
            Self::D => ((reference - value) / n_params.max(1) as f64).exp(),
            Self::T if reference == 0.0 => {
                if value < 0.0 {
                    f64::INFINITY
                } else {
                    1.0
                }
            }
            Self::T => value / reference,
        }
    }

    /// Parses `a`, `d`, `e` or `t`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "a" => Some(Self::A),
            "d" => Some(Self::D),
            "e" => Some(Self::E),
            "t" => Some(Self::T),
            _ => None,
        }
    }
}

/// Eigenvalues of a symmetric matrix, ascending.
pub fn eigenvalues(info: &DMatrix<f64>) -> Vec<f64> {
    let mut e: Vec<f64> = SymmetricEigen::new(info.clone())
        .eigenvalues
        .iter()
        .copied()
        .collect();
    e.sort_by(f64::total_cmp);
    e
}

/// Relative size below which an eigenvalue of the information counts as zero in [`crb_std`].
const SINGULAR: f64 = 1e-12;

/// Cramer-Rao standard deviation of each parameter, in its own unit, from a scaled information
/// matrix (one trajectory, no prior): `scale_i * sqrt(I^-1_ii)`; infinite for a parameter that
/// has a component along a direction the information does not see (no regulariser).
pub fn crb_std(info: &DMatrix<f64>, scale: &[f64]) -> Vec<f64> {
    let eig = info_eigen(info);
    let top = eig.eigenvalues.iter().copied().fold(0.0, f64::max);
    (0..info.nrows())
        .map(|i| {
            let mut var = 0.0;
            for (k, &e) in eig.eigenvalues.iter().enumerate() {
                let v2 = eig.eigenvectors[(i, k)].powi(2);
                if v2 <= SINGULAR {
                    continue;
                }
                if e <= SINGULAR * top || e == 0.0 {
                    return f64::INFINITY;
                }
                var += v2 / e;
            }
            scale[i] * var.sqrt()
        })
        .collect()
}

/// Predicted posterior std of each parameter, in its own unit, from a posterior covariance in
/// prior-std units: `scale_i * sqrt(cov_ii)` (at most the prior std).
pub fn posterior_std(cov: &DMatrix<f64>, scale: &[f64]) -> Vec<f64> {
    (0..cov.nrows())
        .map(|i| scale[i] * cov[(i, i)].max(0.0).sqrt())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;

    const ALL: [Criterion; 4] = [Criterion::A, Criterion::D, Criterion::E, Criterion::T];

    #[test]
    fn criteria_of_a_diagonal_matrix() {
        let info = DMatrix::from_diagonal(&DVector::from_vec(vec![4.0, 1.0]));
        // Posterior variances 1/5 and 1/2.
        assert!((Criterion::A.value(&info) - 0.7).abs() < 1e-12);
        assert!((Criterion::D.value(&info) + 10f64.ln()).abs() < 1e-12);
        assert!((Criterion::E.value(&info) - 0.5).abs() < 1e-12);
        assert!((Criterion::T.value(&info) + 5.0).abs() < 1e-12);
    }

    #[test]
    fn an_uninformative_experiment_scores_the_prior() {
        for p in [1, 2, 5] {
            let zero = DMatrix::zeros(p, p);
            for c in ALL {
                assert_eq!(c.value(&zero), c.uninformative(p), "{c:?}, {p} parameters");
            }
            assert_eq!(Criterion::A.value(&zero), p as f64);
            assert_eq!(posterior_covariance(&zero), DMatrix::identity(p, p));
        }
    }

    #[test]
    fn a_perfectly_informative_experiment_tends_to_zero() {
        let mut last = f64::INFINITY;
        for k in [1e2, 1e4, 1e8, 1e12] {
            let info = DMatrix::from_row_slice(2, 2, &[2.0 * k, 0.5 * k, 0.5 * k, k]);
            let a = Criterion::A.value(&info);
            assert!(a < last && a > 0.0, "{a} after {last}");
            assert!(Criterion::E.value(&info) < 10.0 / k);
            last = a;
        }
        assert!(last < 1e-11, "{last}");
    }

    #[test]
    fn a_singular_matrix_leaves_one_direction_at_the_prior() {
        // Information only about p0 + p1: the other direction keeps its prior variance 1.
        let info = DMatrix::from_row_slice(2, 2, &[1e6, 1e6, 1e6, 1e6]);
        let a = Criterion::A.value(&info);
        assert!((a - (1.0 + 1.0 / (1.0 + 2e6))).abs() < 1e-9, "{a}");
        assert!((Criterion::E.value(&info) - 1.0).abs() < 1e-12);
        // Each parameter alone is not determined: its variance is half the prior's.
        let cov = posterior_covariance(&info);
        assert!((cov[(0, 0)] - 0.5).abs() < 1e-6, "{cov}");
        assert_eq!(crb_std(&info, &[1.0, 1.0]), vec![f64::INFINITY; 2]);
        let std = posterior_std(&cov, &[0.1, 2.0]);
        assert!((std[1] - 2.0 * 0.5f64.sqrt()).abs() < 1e-6, "{std:?}");
    }

    #[test]
    fn the_a_value_is_the_sum_of_the_scaled_posterior_variances() {
        let info = DMatrix::from_row_slice(3, 3, &[5.0, 1.0, 0.0, 1.0, 3.0, 0.5, 0.0, 0.5, 0.2]);
        let cov = posterior_covariance(&info);
        let direct = (DMatrix::identity(3, 3) + &info)
            .try_inverse()
            .expect("invertible");
        assert!((&cov - &direct).amax() < 1e-12);
        assert!((Criterion::A.value(&info) - direct.trace()).abs() < 1e-12);
        let crb = crb_std(&info, &[1.0; 3]);
        let inv = info.try_inverse().expect("invertible");
        for i in 0..3 {
            assert!((crb[i] - inv[(i, i)].sqrt()).abs() < 1e-9, "{crb:?}");
        }
    }

    #[test]
    fn gains_are_ratios_of_posterior_quantities() {
        assert_eq!(Criterion::A.gain(0.5, 2.0, 2), 4.0);
        assert_eq!(Criterion::E.gain(0.25, 1.0, 2), 4.0);
        assert!((Criterion::D.gain(-4f64.ln(), 0.0, 2) - 2.0).abs() < 1e-12);
        assert_eq!(Criterion::T.gain(-10.0, -5.0, 2), 2.0);
        assert_eq!(Criterion::T.gain(-10.0, 0.0, 2), f64::INFINITY);
        assert!(Criterion::A.gain(0.5, f64::NAN, 2).is_nan());
    }
}
