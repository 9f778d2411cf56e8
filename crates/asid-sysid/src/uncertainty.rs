//! Uncertainty at the estimate: covariance from the residuals, the Cramer-Rao bound, identifiability.

use std::collections::BTreeMap;

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

/// One direction of parameter space and how well the data determine it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Direction {
    /// Eigenvalue of the Fisher information `J^T J / s^2` with parameters in prior-std units (>= 1:
    /// the data pin this direction down better than the prior does).
    pub eigenvalue: f64,
    /// Weight of each parameter in the direction (unit vector in prior-std units).
    pub weights: BTreeMap<String, f64>,
    /// Whether the data determine this direction.
    pub identifiable: bool,
}

/// The identifiability report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identifiability {
    /// Residual variance `s^2` (sum of squared whitened residuals over the degrees of freedom, at
    /// least 1) the information was divided by: the noise the data show where it exceeds the
    /// scene's sigmas.
    #[serde(default = "one")]
    pub residual_variance: f64,
    /// Eigenvalue (prior-std units) a direction needs to count as determined: [`THRESHOLD`].
    #[serde(default = "threshold")]
    pub threshold: f64,
    /// Directions, weakest first.
    pub directions: Vec<Direction>,
    /// Per parameter: not part of any unidentifiable direction.
    pub identifiable: BTreeMap<String, bool>,
    /// Plain-language verdict.
    pub verdict: String,
}

fn one() -> f64 {
    1.0
}

fn threshold() -> f64 {
    THRESHOLD
}

/// Weight above which a parameter counts as part of a direction.
const PART_OF: f64 = 0.3;

/// Eigenvalue of the scaled Fisher information above which a direction is determined: the data
/// then pin it down better than the prior does (its posterior variance in prior-std units is
/// below one half).
pub const THRESHOLD: f64 = 1.0;

/// Eigen-decomposition of the Fisher information `S J^T J S / s^2` (S = prior std, `s^2` =
/// `residual_variance`, the whitened residuals' variance at the estimate, taken as at least 1) and
/// a verdict: a direction with an eigenvalue below [`THRESHOLD`] is not determined.
pub fn identifiability(
    jtj: &DMatrix<f64>,
    names: &[String],
    prior_std: &[f64],
    residual_variance: f64,
) -> Identifiability {
    let p = names.len();
    let s = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(prior_std));
    // The residuals may show more noise than the scene's sigmas say (misfit, underestimated
    // noise), which takes information away; never less: residuals below the noise (a noise-free
    // replay, an overfit) would turn rounding-level sensitivities into determined directions.
    let s2 = if residual_variance.is_finite() {
        residual_variance.max(1.0)
    } else {
        1.0
    };
    let scaled = &s * jtj * &s / s2;
    let eig = SymmetricEigen::new(scaled);
    let max = eig.eigenvalues.iter().copied().fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
    let directions: Vec<Direction> = order
        .iter()
        .map(|&k| {
            let l = eig.eigenvalues[k];
            let v = eig.eigenvectors.column(k);
            let sign = if v
                .iter()
                .copied()
                .fold(0.0, |a: f64, b| if b.abs() > a.abs() { b } else { a })
                < 0.0
            {
                -1.0
            } else {
                1.0
            };
            Direction {
                eigenvalue: l,
                weights: names
                    .iter()
                    .cloned()
                    .zip(v.iter().map(|x| sign * x))
                    .collect(),
                identifiable: l >= THRESHOLD && l >= 1e-10 * max,
            }
        })
        .collect();
    let identifiable: BTreeMap<String, bool> = names
        .iter()
        .map(|n| {
            let weak = directions
                .iter()
                .any(|d| !d.identifiable && d.weights[n].abs() > PART_OF);
            (n.clone(), !weak)
        })
        .collect();
    let weak: Vec<&Direction> = directions.iter().filter(|d| !d.identifiable).collect();
    let rule = format!(
        "Fisher information J^T J / s^2 with s^2 = {s2:.3} (the residual variance, at least 1), in \
         prior-std units; a direction is determined when its eigenvalue is at least {THRESHOLD}"
    );
    let verdict = if weak.is_empty() {
        format!("every parameter is identifiable from these episodes ({rule})")
    } else {
        weak.iter()
            .map(|d| {
                let parts: Vec<String> = d
                    .weights
                    .iter()
                    .filter(|(_, w)| w.abs() > PART_OF)
                    .map(|(n, w)| format!("{w:+.2} {n}"))
                    .collect();
                if parts.len() > 1 {
                    format!(
                        "not identifiable: {} are confounded (the combination {} is not determined; Fisher eigenvalue {:.3e} in prior-std units)",
                        d.weights.iter().filter(|(_, w)| w.abs() > PART_OF).map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" and "),
                        parts.join(" "),
                        d.eigenvalue
                    )
                } else {
                    format!(
                        "not identifiable: {} (these episodes barely excite it; Fisher eigenvalue {:.3e} in prior-std units)",
                        parts.join(" "),
                        d.eigenvalue
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
            + &format!(" ({rule})")
    };
    Identifiability {
        residual_variance: s2,
        threshold: THRESHOLD,
        directions,
        identifiable,
        verdict,
    }
}

/// [`psd_inverse`] of an information matrix `jtj` of physical parameters, taken in prior-std units
/// (`scale`) so that which parameters take part in an undetermined direction does not depend on
/// their units: `S (S jtj S)^+ S`.
pub fn scaled_psd_inverse(jtj: &DMatrix<f64>, scale: &[f64]) -> DMatrix<f64> {
    let s = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(scale));
    let inv = psd_inverse(&(&s * jtj * &s));
    DMatrix::from_fn(inv.nrows(), inv.ncols(), |i, j| {
        let v = inv[(i, j)];
        if v.is_finite() {
            scale[i] * v * scale[j]
        } else {
            v
        }
    })
}

/// Weight (in a unit eigenvector) above which a parameter takes part in an undetermined direction.
const NULL_PART: f64 = 1e-3;

/// Inverse of a symmetric positive semi-definite matrix by eigen-decomposition; directions with
/// eigenvalues below `1e-12 * max` get infinite variance (for the entries whose weight in them is
/// above 1e-3: rounding leaves small weights on every parameter).
pub fn psd_inverse(m: &DMatrix<f64>) -> DMatrix<f64> {
    let p = m.nrows();
    let eig = SymmetricEigen::new(m.clone());
    let max = eig.eigenvalues.iter().copied().fold(0.0, f64::max);
    let mut inv = DMatrix::zeros(p, p);
    for k in 0..p {
        let l = eig.eigenvalues[k];
        let v = eig.eigenvectors.column(k);
        let w = if l > 1e-12 * max && l > 0.0 {
            1.0 / l
        } else {
            f64::INFINITY
        };
        if w.is_infinite() {
            for i in 0..p {
                for j in 0..p {
                    if v[i].abs() > NULL_PART && v[j].abs() > NULL_PART {
                        inv[(i, j)] = f64::INFINITY;
                    }
                }
            }
        } else {
            inv += v * v.transpose() * w;
        }
    }
    inv
}

/// Cramer-Rao std of every continuous parameter at `theta` for the episodes of `data` (the
/// scene's sigmas): the physical limit of any unbiased estimator when `theta` is the truth.
/// `None`: the episodes do not determine the parameter.
pub fn crb_std_at<M: crate::ReplayModel>(
    model: &M,
    data: &crate::Dataset,
    theta: &[f64],
) -> Result<BTreeMap<String, Option<f64>>, crate::SysIdError> {
    let space = model.space();
    let free: Vec<usize> = (0..space.dim())
        .filter(|&i| !space.params[i].prior.is_discrete())
        .collect();
    let problem = crate::SysIdProblem {
        model,
        data,
        fixed: theta.to_vec(),
        free: free.clone(),
        center: free.iter().map(|&i| theta[i]).collect(),
        scale: vec![1.0; free.len()],
        loss: crate::Loss::Squared,
        counter: Default::default(),
    };
    let (_, jf) = problem
        .free_jacobian_at(theta)
        .map_err(crate::SysIdError::Model)?;
    let crb = psd_inverse(&(jf.transpose() * &jf));
    let names: Vec<String> = free.iter().map(|&i| space.params[i].name.clone()).collect();
    Ok(diagonal_std(&names, &crb))
}

/// Square roots of the diagonal by name (`None` where infinite: not determined).
pub fn diagonal_std(names: &[String], m: &DMatrix<f64>) -> BTreeMap<String, Option<f64>> {
    names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let v = m[(k, k)].max(0.0).sqrt();
            (n.clone(), v.is_finite().then_some(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiability_divides_the_information_by_the_residual_variance() {
        // Information 4 in prior-std units: determined when the noise is what the scene says,
        // not when the residuals show three times that noise (variance 9).
        let jtj = DMatrix::from_element(1, 1, 4.0);
        let names = vec!["k".to_string()];
        let fine = identifiability(&jtj, &names, &[1.0], 1.0);
        assert!(fine.identifiable["k"], "{}", fine.verdict);
        let noisy = identifiability(&jtj, &names, &[1.0], 9.0);
        assert!(!noisy.identifiable["k"], "{}", noisy.verdict);
        assert!((noisy.directions[0].eigenvalue - 4.0 / 9.0).abs() < 1e-12);
        assert_eq!(noisy.residual_variance, 9.0);
        assert_eq!(noisy.threshold, THRESHOLD);
        assert!(
            noisy.verdict.contains("s^2 = 9.000") && noisy.verdict.contains("at least 1"),
            "the rule is stated: {}",
            noisy.verdict
        );
        // Residuals below the scene's noise do not add information.
        let weak = DMatrix::from_element(1, 1, 0.5);
        let quiet = identifiability(&weak, &names, &[1.0], 1e-4);
        assert!(!quiet.identifiable["k"], "{}", quiet.verdict);
        assert_eq!(quiet.residual_variance, 1.0);
    }
}
