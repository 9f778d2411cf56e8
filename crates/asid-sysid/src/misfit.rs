//! Is the model wrong? Tests of the residuals at the estimate against the scene's noise, and a
//! covariance that holds when it is.
//!
//! - **Size**: the sum of squared whitened residuals is chi-square with `n - p` degrees of freedom
//!   when the model is right and the sigmas are the noise; the upper tail (Wilson-Hilferty normal
//!   approximation) below [`ALPHA`] flags a misfit. A model error smaller than the noise hides here.
//! - **Order** (Wald-Wolfowitz runs test): a model error is smooth in time, so the residuals of one
//!   channel keep their sign for several control steps; noise changes sign at random. The runs of
//!   signs of every channel's residual series (per episode) are counted and the deviations from
//!   their expected numbers summed into one normal score; too few runs (one-sided, below
//!   [`ALPHA`]) flags a misfit. Series whose residual RMS is under [`RUNS_MIN_RMS`] sigma are left
//!   out: far below the noise they say nothing about it (an end-effector channel computed from
//!   precise joint encoders).
//! - **Whiteness** (lag-1 autocorrelation, a one-lag Ljung-Box pooled over series): the sum of
//!   products of consecutive residuals of each series, over the root of the sum of their squares,
//!   is a normal score under white noise; above the one-sided [`ALPHA`] quantile flags a misfit.
//!   It keeps the residuals' sizes that the runs test throws away, so it sees a smooth model
//!   error of half the noise on a few hundred residuals. Same series as the runs test.
//! - **Covariance under misfit**: a Newey-West sandwich over control steps (Bartlett weights, lag
//!   `ceil(sqrt(H))`), `B M B` with `B = (J^T J)^-1` and `M` the autocovariance of the per-step
//!   scores `J_h^T r_h`: it holds when the residuals are correlated in time.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::uncertainty::scaled_psd_inverse;

/// Size of each of the two tests (one-sided).
pub const ALPHA: f64 = 0.01;
/// Normal quantile of [`ALPHA`].
const Z_ALPHA: f64 = 2.326_347_874_040_841;
/// Residual RMS (in sigmas) below which a series is left out of the runs test.
pub const RUNS_MIN_RMS: f64 = 0.5;

/// The misfit tests at the estimate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MisfitTests {
    /// Sum of squared whitened residuals / (residuals - fitted parameters).
    pub reduced_chi2: f64,
    /// Degrees of freedom of the chi-square.
    pub dof: usize,
    /// Upper-tail probability of the chi-square.
    pub chi2_p: f64,
    /// Runs of residual signs counted, over the series tested.
    pub runs: usize,
    /// Runs expected for noise.
    pub runs_expected: f64,
    /// Normal score of the runs (negative: fewer runs than noise makes).
    pub runs_z: f64,
    /// Lower-tail probability of the runs score.
    pub runs_p: f64,
    /// Series (episode x channel component) in the runs and whiteness tests.
    pub runs_series: usize,
    /// Normal score of the pooled lag-1 autocorrelation (positive: residuals that persist).
    pub lag1_z: f64,
    /// Either test rejects the noise model.
    pub misfit: bool,
    /// The tests and their thresholds, in words.
    pub test: String,
}

/// Standard normal lower-tail probability.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Upper-tail probability of chi-square with `k` degrees of freedom at `x` (Wilson-Hilferty).
pub fn chi2_upper(x: f64, k: f64) -> f64 {
    let k = k.max(1.0);
    let a = 2.0 / (9.0 * k);
    let z = ((x / k).cbrt() - (1.0 - a)) / a.sqrt();
    1.0 - normal_cdf(z)
}

/// Residual series per (episode, slot), in time order.
fn series(data: &Dataset, r: &[f64]) -> Vec<Vec<f64>> {
    let slots = data.slots();
    let mut out = vec![Vec::new(); data.replays.len() * slots];
    for (v, (rep, _, slot)) in r.iter().zip(data.index()) {
        out[rep * slots + slot].push(*v);
    }
    out
}

/// Runs of signs in one series: (runs, expected, variance), `None` with a single sign.
fn runs_of(s: &[f64]) -> Option<(usize, f64, f64)> {
    let signs: Vec<bool> = s.iter().filter(|v| **v != 0.0).map(|v| *v > 0.0).collect();
    let pos = signs.iter().filter(|b| **b).count() as f64;
    let neg = signs.len() as f64 - pos;
    let n = pos + neg;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let runs = 1 + signs.windows(2).filter(|w| w[0] != w[1]).count();
    let mu = 2.0 * pos * neg / n + 1.0;
    let var = (mu - 1.0) * (mu - 2.0) / (n - 1.0);
    Some((runs, mu, var))
}

/// The size and runs tests for whitened residuals `r` (in [`Dataset::index`] order) of a fit of
/// `n_params` parameters.
pub fn misfit_tests(data: &Dataset, r: &[f64], n_params: usize) -> MisfitTests {
    let chi2: f64 = r.iter().map(|v| v * v).sum();
    let dof = r.len().saturating_sub(n_params).max(1);
    let reduced_chi2 = chi2 / dof as f64;
    let chi2_p = chi2_upper(chi2, dof as f64);
    let (mut runs, mut expected, mut var, mut used) = (0, 0.0, 0.0, 0);
    let (mut lag1, mut lag1_var) = (0.0, 0.0);
    for s in series(data, r) {
        let rms = (s.iter().map(|v| v * v).sum::<f64>() / s.len().max(1) as f64).sqrt();
        if s.len() < 2 || rms < RUNS_MIN_RMS {
            continue;
        }
        for w in s.windows(2) {
            lag1 += w[0] * w[1];
            lag1_var += (w[0] * w[1]).powi(2);
        }
        used += 1;
        if let Some((k, mu, v)) = runs_of(&s) {
            runs += k;
            expected += mu;
            var += v;
        }
    }
    let runs_z = if var > 0.0 {
        (runs as f64 - expected) / var.sqrt()
    } else {
        0.0
    };
    let runs_p = normal_cdf(runs_z);
    let lag1_z = if lag1_var > 0.0 {
        lag1 / lag1_var.sqrt()
    } else {
        0.0
    };
    let misfit = chi2_p < ALPHA || runs_z < -Z_ALPHA || lag1_z > Z_ALPHA;
    MisfitTests {
        reduced_chi2,
        dof,
        chi2_p,
        runs,
        runs_expected: expected,
        runs_z,
        runs_p,
        runs_series: used,
        lag1_z,
        misfit,
        test: format!(
            "misfit when the chi-square of the whitened residuals ({dof} dof) has upper-tail \
             p < {ALPHA} or the Wald-Wolfowitz runs test on the signs of each channel's residual \
             series (series with RMS >= {RUNS_MIN_RMS} sigma, summed into one normal score) has \
             z < -{Z_ALPHA:.3} (p < {ALPHA}, too few sign changes), or the pooled lag-1 \
             autocorrelation of the same series has z > {Z_ALPHA:.3} (p < {ALPHA})"
        ),
    }
}

/// Newey-West sandwich covariance of the free parameters from the whitened Jacobian `j`
/// (residuals x free parameters, physical units, prior std `scale`) and residuals `r` in
/// [`Dataset::index`] order.
/// Returns the covariance and the lag used.
pub fn sandwich(
    data: &Dataset,
    j: &DMatrix<f64>,
    r: &[f64],
    scale: &[f64],
) -> (DMatrix<f64>, usize) {
    let p = j.ncols();
    let horizon = data
        .replays
        .iter()
        .map(|rep| rep.recorded.len().saturating_sub(1))
        .max()
        .unwrap_or(1);
    let lag = (horizon as f64).sqrt().ceil() as usize;
    // Score per (episode, step).
    let mut scores: Vec<Vec<DVector<f64>>> = data
        .replays
        .iter()
        .map(|rep| vec![DVector::zeros(p); rep.recorded.len()])
        .collect();
    for (row, (rep, h, _)) in data.index().into_iter().enumerate() {
        scores[rep][h] += j.row(row).transpose() * r[row];
    }
    let mut meat = DMatrix::zeros(p, p);
    for g in &scores {
        for (h, gh) in g.iter().enumerate() {
            meat += gh * gh.transpose();
            for l in 1..=lag.min(h) {
                let w = 1.0 - l as f64 / (lag + 1) as f64;
                let cross = gh * g[h - l].transpose();
                meat += (&cross + cross.transpose()) * w;
            }
        }
    }
    let bread = scaled_psd_inverse(&(j.transpose() * j), scale);
    // Parameters in an undetermined direction keep an infinite variance; the rest is B M B.
    let open: Vec<bool> = (0..p).map(|i| !bread[(i, i)].is_finite()).collect();
    let b = DMatrix::from_fn(p, p, |a, c| {
        if open[a] || open[c] {
            0.0
        } else {
            bread[(a, c)]
        }
    });
    let cov = &b * meat * &b;
    (
        DMatrix::from_fn(p, p, |a, c| {
            if open[a] || open[c] {
                f64::INFINITY
            } else {
                cov[(a, c)]
            }
        }),
        lag,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_and_chi_square_tails() {
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-2.326_348) - 0.01).abs() < 1e-6);
        // chi-square(100) 99 % quantile is 135.807.
        assert!((chi2_upper(135.807, 100.0) - 0.01).abs() < 5e-4);
    }

    #[test]
    fn runs_of_a_sign_series() {
        let (k, mu, var) = runs_of(&[1.0, 1.0, -1.0, -1.0, 1.0, -1.0]).expect("both signs");
        assert_eq!(k, 4);
        assert!((mu - 4.0).abs() < 1e-12);
        assert!((var - 3.0 * 2.0 / 5.0).abs() < 1e-12);
        assert!(runs_of(&[1.0, 2.0]).is_none());
    }
}
