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

/// An optimal-design criterion. Every value is to be minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// A-optimal: trace of the inverse (the sum of the Cramer-Rao variances; the paper's objective).
    A,
    /// D-optimal: minus the log-determinant (volume of the confidence ellipsoid).
    D,
    /// E-optimal: minus the smallest eigenvalue (the worst-determined direction).
    E,
    /// T: minus the trace (what the paper's public code rewards; equals A only for one parameter).
    T,
}

/// Ridge added to the information so a singular matrix gives a large but finite, comparable value.
pub const RIDGE: f64 = 1e-8;

impl Criterion {
    /// Value of the criterion for a (scaled) information matrix; lower is better.
    pub fn value(self, info: &DMatrix<f64>) -> f64 {
        let p = info.nrows();
        let reg = info + DMatrix::identity(p, p) * RIDGE;
        let eig = SymmetricEigen::new(reg).eigenvalues;
        let eig: Vec<f64> = eig.iter().map(|e| e.max(RIDGE)).collect();
        match self {
            Self::A => eig.iter().map(|e| 1.0 / e).sum(),
            Self::D => -eig.iter().map(|e| e.ln()).sum::<f64>(),
            Self::E => -eig.iter().copied().fold(f64::INFINITY, f64::min),
            Self::T => -(info.trace()),
        }
    }

    /// How many times better `value` is than `reference` (> 1: better), in the criterion's natural
    /// ratio: variances for A, volume per parameter for D, smallest eigenvalue for E, trace for T.
    pub fn gain(self, value: f64, reference: f64, n_params: usize) -> f64 {
        match self {
            Self::A => reference / value,
            Self::D => ((reference - value) / n_params.max(1) as f64).exp(),
            Self::E | Self::T => value / reference,
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

/// Cramer-Rao standard deviation of each parameter, in its own unit, from a scaled information
/// matrix (one trajectory): `scale_i * sqrt((I + ridge)^-1_ii)`.
pub fn crb_std(info: &DMatrix<f64>, scale: &[f64]) -> Vec<f64> {
    let p = info.nrows();
    let reg = info + DMatrix::identity(p, p) * RIDGE;
    match reg.try_inverse() {
        Some(inv) => (0..p)
            .map(|i| scale[i] * inv[(i, i)].max(0.0).sqrt())
            .collect(),
        None => vec![f64::INFINITY; p],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_of_a_diagonal_matrix() {
        let info = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![4.0, 1.0]));
        assert!((Criterion::A.value(&info) - 1.25).abs() < 1e-6);
        assert!((Criterion::D.value(&info) + 4f64.ln()).abs() < 1e-6);
        assert!((Criterion::E.value(&info) + 1.0).abs() < 1e-6);
        assert!((Criterion::T.value(&info) + 5.0).abs() < 1e-12);
    }

    #[test]
    fn a_singular_matrix_gives_a_finite_value() {
        let info = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        for c in [Criterion::A, Criterion::D, Criterion::E, Criterion::T] {
            assert!(c.value(&info).is_finite(), "{c:?}");
        }
        assert!(Criterion::A.value(&info) > 1e6);
    }
}
