//! Discrete parameters (structure: is the lid hinged?) have no derivative, so they stay out of the
//! Fisher matrix; what an experiment tells about them is how far apart the observations predicted
//! under the competing hypotheses lie.
//!
//! For a prior sample `theta` and a discrete parameter with values `v_1 .. v_m`, the observations of
//! the whole open-loop trajectory are predicted with the parameter set to each value (the other
//! parameters at `theta`), and for each pair the expected chi-square difference
//! `d2 = sum ((y_i - y_j) / sigma)^2` (twice the KL divergence between the two predicted
//! observation densities under the scene's noise; orientations compared up to the quaternion sign).
//!
//! The design term is the Bhattacharyya coefficient `exp(-d2 / 8)` of the two Gaussians, averaged
//! over the pairs: for two equally likely hypotheses it bounds the expected posterior variance of
//! the structure indicator in prior-variance units (`E[4 p (1 - p)] <= exp(-d2 / 8)`, the harmonic
//! mean of the two densities being below their geometric mean). So it is on the scale of the A
//! criterion of a continuous parameter: 1 for an experiment that cannot tell the hypotheses apart
//! (the prior), towards 0 for one that does. [`Criterion::with_structure`] adds it to the
//! criterion of the continuous parameters.

use asid_core::{ParamSpace, Prior};
use serde::{Deserialize, Serialize};

use crate::experiment::{Constraint, Experiment};
use crate::fisher::Criterion;

/// What one exploration tells about one discrete parameter, averaged over prior samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Discrimination {
    /// Expected chi-square difference between the observations predicted under its values (mean
    /// over the value pairs and the prior samples).
    pub chi2_difference: f64,
    /// The design term: the Bhattacharyya bound on the structure's expected posterior variance in
    /// prior-variance units (1: the hypotheses cannot be told apart; 0: certain).
    pub posterior_variance_bound: f64,
}

/// Indices of the discrete parameters of a space, with their values.
pub fn discrete_params(space: &ParamSpace) -> Vec<(usize, Vec<f64>)> {
    space
        .params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match &p.prior {
            Prior::Discrete { values } => Some((i, values.clone())),
            _ => None,
        })
        .collect()
}

/// Indices of the continuous parameters (the Fisher matrix's rows and columns).
pub fn continuous_params(space: &ParamSpace) -> Vec<usize> {
    (0..space.dim())
        .filter(|&i| !space.params[i].prior.is_discrete())
        .collect()
}

/// Sum of squared whitened differences of two observation sequences (`H + 1` rows each), the
/// quaternion at each offset in `quaternions` compared on the first's sign.
pub fn chi2_difference(
    a: &[Vec<f64>],
    b: &[Vec<f64>],
    sigmas: &[f64],
    quaternions: &[usize],
) -> f64 {
    let mut sum = 0.0;
    for (ra, rb) in a.iter().zip(b).skip(1) {
        let mut rb = rb.clone();
        for &q in quaternions {
            let dot: f64 = (0..4).map(|c| ra[q + c] * rb[q + c]).sum();
            if dot < 0.0 {
                rb[q..q + 4].iter_mut().for_each(|v| *v = -*v);
            }
        }
        sum += ra
            .iter()
            .zip(&rb)
            .zip(sigmas)
            .map(|((x, y), s)| ((x - y) / s).powi(2))
            .sum::<f64>();
    }
    sum
}

/// The Bhattacharyya coefficient of two Gaussians with one covariance whose means lie `d2` apart
/// in squared Mahalanobis distance.
pub fn bhattacharyya(d2: f64) -> f64 {
    (-d2 / 8.0).exp()
}

/// Per discrete parameter of `exp`, how far apart its hypotheses predict the observations of
/// `actions` at `theta` (`nominal`: the observations at `theta` itself, already simulated).
pub fn discriminate<E: Experiment>(
    exp: &E,
    theta: &[f64],
    actions: &[Vec<f64>],
    nominal: &[Vec<f64>],
    discrete: &[(usize, Vec<f64>)],
) -> Result<Vec<Discrimination>, Constraint> {
    let sigmas = exp.obs_sigmas();
    let quats = exp.quaternion_offsets();
    discrete
        .iter()
        .map(|(d, values)| {
            let predicted = values
                .iter()
                .map(|&v| {
                    if theta[*d] == v {
                        return Ok(nominal.to_vec());
                    }
                    let mut t = theta.to_vec();
                    t[*d] = v;
                    exp.observations(&t, actions)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (mut d2, mut bound, mut pairs) = (0.0, 0.0, 0usize);
            for i in 0..predicted.len() {
                for j in i + 1..predicted.len() {
                    let c = chi2_difference(&predicted[i], &predicted[j], &sigmas, &quats);
                    d2 += c;
                    bound += bhattacharyya(c);
                    pairs += 1;
                }
            }
            let k = pairs.max(1) as f64;
            Ok(Discrimination {
                chi2_difference: d2 / k,
                posterior_variance_bound: if pairs == 0 { 1.0 } else { bound / k },
            })
        })
        .collect()
}

impl Criterion {
    /// The criterion of the continuous parameters' information (`continuous`: [`Criterion::value`])
    /// combined with the structure terms ([`Discrimination::posterior_variance_bound`], `b`): A adds
    /// each `b` (a posterior variance in prior units, as each continuous parameter's), D adds
    /// `ln b` (a log variance ratio), E takes the largest, T subtracts `-ln b = d2 / 8`. An
    /// experiment that tells nothing still scores [`Criterion::uninformative`] of all parameters.
    pub fn with_structure(self, continuous: f64, structure: &[Discrimination]) -> f64 {
        let b = structure
            .iter()
            .map(|s| s.posterior_variance_bound.clamp(f64::MIN_POSITIVE, 1.0));
        match self {
            Self::A => continuous + b.sum::<f64>(),
            Self::D | Self::T => continuous + b.map(f64::ln).sum::<f64>(),
            Self::E => b.fold(continuous, f64::max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_one_without_discrimination_and_falls_with_it() {
        assert_eq!(bhattacharyya(0.0), 1.0);
        assert!((bhattacharyya(8.0) - (-1f64).exp()).abs() < 1e-15);
        let none = [Discrimination {
            chi2_difference: 0.0,
            posterior_variance_bound: 1.0,
        }];
        assert_eq!(Criterion::A.with_structure(0.5, &none), 1.5);
        assert_eq!(Criterion::D.with_structure(-0.5, &none), -0.5);
        assert_eq!(Criterion::E.with_structure(0.5, &none), 1.0);
        let clear = [Discrimination {
            chi2_difference: 80.0,
            posterior_variance_bound: bhattacharyya(80.0),
        }];
        assert!((Criterion::A.with_structure(0.5, &clear) - 0.5).abs() < 1e-4);
        assert!((Criterion::T.with_structure(-3.0, &clear) + 13.0).abs() < 1e-9);
    }

    #[test]
    fn the_bound_holds_for_two_gaussians() {
        // One observation, hypotheses at 0 and d (unit noise): E[4 p (1 - p)] by quadrature is below
        // exp(-d^2 / 8) and approaches it for small d.
        for d in [0.1f64, 1.0, 2.0, 4.0] {
            let pdf = |x: f64, m: f64| (-(x - m).powi(2) / 2.0).exp();
            let (mut e, dx) = (0.0, 1e-3);
            let mut x = -12.0;
            while x < 12.0 + d {
                let (p0, p1) = (pdf(x, 0.0), pdf(x, d));
                let z = (2.0 * std::f64::consts::PI).sqrt();
                // Marginal (p0 + p1) / 2 times 4 p (1 - p), p = p0 / (p0 + p1).
                if p0 + p1 > 0.0 {
                    e += 2.0 * p0 * p1 / (p0 + p1) / z * dx;
                }
                x += dx;
            }
            let b = bhattacharyya(d * d);
            assert!(e <= b + 1e-9, "d {d}: {e} above {b}");
            assert!(e >= 0.5 * b.powi(2), "d {d}: {e} far below {b}");
        }
    }

    #[test]
    fn quaternions_are_compared_up_to_sign() {
        let a = vec![vec![0.0; 5], vec![1.0, 1.0, 0.0, 0.0, 0.0]];
        let b = vec![vec![0.0; 5], vec![1.0, -1.0, 0.0, 0.0, 0.0]];
        let sig = [1.0; 5];
        assert_eq!(chi2_difference(&a, &b, &sig, &[1]), 0.0);
        assert_eq!(chi2_difference(&a, &b, &sig, &[]), 4.0);
    }
}
