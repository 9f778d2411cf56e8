//! The identification problem for argmin: residuals, cost and Jacobian in scaled coordinates.

use argmin::core::{CostFunction, Error, Jacobian, Operator};
use nalgebra::DMatrix;

use crate::data::Dataset;
use crate::model::ReplayModel;
use crate::rotation;

/// Loss applied to each whitened residual.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Squared error / 2.
    Squared,
    /// Huber with threshold `delta` (in sigmas): quadratic inside, linear outside.
    Huber(f64),
}

impl Loss {
    /// Loss of one residual.
    pub fn of(self, r: f64) -> f64 {
        match self {
            Self::Squared => 0.5 * r * r,
            Self::Huber(d) => {
                if r.abs() <= d {
                    0.5 * r * r
                } else {
                    d * (r.abs() - 0.5 * d)
                }
            }
        }
    }

    /// IRLS weight of one residual (for Gauss-Newton with a robust loss).
    pub fn weight(self, r: f64) -> f64 {
        match self {
            Self::Squared => 1.0,
            Self::Huber(d) => {
                if r.abs() <= d {
                    1.0
                } else {
                    d / r.abs()
                }
            }
        }
    }
}

/// Cost returned for a parameter vector outside the bounds or one the model refuses.
pub const OUT_OF_BOUNDS: f64 = 1e30;

/// Residuals of a dataset under a model, over the free parameters in scaled coordinates
/// `theta[free[i]] = center[i] + scale[i] * u[i]`; the other parameters are held at `fixed`.
pub struct SysIdProblem<'a, M: ReplayModel> {
    /// The model.
    pub model: &'a M,
    /// The data.
    pub data: &'a Dataset,
    /// Full parameter vector with the held values.
    pub fixed: Vec<f64>,
    /// Indices of the fitted parameters.
    pub free: Vec<usize>,
    /// Centre of the scaled coordinates.
    pub center: Vec<f64>,
    /// Scale (prior std) of the scaled coordinates.
    pub scale: Vec<f64>,
    /// Loss.
    pub loss: Loss,
    /// Model rollouts spent (one per episode replay; `2P + 1` per Jacobian).
    pub counter: std::sync::atomic::AtomicUsize,
}

impl<M: ReplayModel> SysIdProblem<'_, M> {
    /// Full parameter vector of scaled free coordinates `u`.
    pub fn theta(&self, u: &[f64]) -> Vec<f64> {
        let mut t = self.fixed.clone();
        let space = self.model.space();
        for (k, &i) in self.free.iter().enumerate() {
            let [lo, hi] = space.params[i].bounds;
            // The scaled box maps onto the bounds; clamping only removes the map's rounding.
            t[i] = (self.center[k] + self.scale[k] * u[k]).clamp(lo, hi);
        }
        t
    }

    /// Scaled coordinates of a full parameter vector.
    pub fn scaled(&self, theta: &[f64]) -> Vec<f64> {
        self.free
            .iter()
            .enumerate()
            .map(|(k, &i)| (theta[i] - self.center[k]) / self.scale[k])
            .collect()
    }

    /// Box of the scaled coordinates (from the hard bounds).
    pub fn scaled_bounds(&self) -> Vec<[f64; 2]> {
        let space = self.model.space();
        self.free
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let [lo, hi] = space.params[i].bounds;
                [
                    (lo - self.center[k]) / self.scale[k],
                    (hi - self.center[k]) / self.scale[k],
                ]
            })
            .collect()
    }

    fn in_bounds(&self, theta: &[f64]) -> bool {
        self.model.space().check(theta).is_ok()
    }

    /// Whitened residuals for every recorded entry: (simulated - recorded) / sigma for scalar
    /// entries, the rotation error `log(q_recorded^-1 q_simulated) / sigma_rad` for orientations.
    pub fn residuals_at(&self, theta: &[f64]) -> Result<Vec<f64>, String> {
        let mut out = Vec::with_capacity(self.data.total);
        for rep in &self.data.replays {
            self.counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let sim = match &rep.joint_path {
                Some(q) => self.model.simulate_joint_path(theta, q)?,
                None => self.model.simulate(theta, &rep.actions)?,
            };
            push_residuals(self.data, rep, &sim, &mut out, None);
        }
        finite(out)
    }

    /// Whitened residuals and their Jacobian with respect to the full physical parameter vector.
    pub fn residuals_and_jacobian_at(
        &self,
        theta: &[f64],
    ) -> Result<(Vec<f64>, DMatrix<f64>), String> {
        let p = theta.len();
        let mut r = Vec::with_capacity(self.data.total);
        let mut rows: Vec<f64> = Vec::with_capacity(self.data.total * p);
        for rep in &self.data.replays {
            self.counter
                .fetch_add(2 * p + 1, std::sync::atomic::Ordering::Relaxed);
            let (sim, jacs) = match &rep.joint_path {
                Some(q) => self.model.joint_path_sensitivities(theta, q)?,
                None => self.model.sensitivities(theta, &rep.actions)?,
            };
            push_residuals(self.data, rep, &sim, &mut r, Some((&jacs, &mut rows)));
        }
        let r = finite(r)?;
        Ok((r.clone(), DMatrix::from_row_slice(r.len(), p, &rows)))
    }
}

impl<M: ReplayModel> SysIdProblem<'_, M> {
    /// Whitened residuals at `theta` and the Jacobian columns of the free parameters (physical
    /// units): what the covariance and the Cramer-Rao bound are made of.
    pub fn free_jacobian_at(&self, theta: &[f64]) -> Result<(Vec<f64>, DMatrix<f64>), String> {
        let (r, j) = self.residuals_and_jacobian_at(theta)?;
        let jf = DMatrix::from_fn(j.nrows(), self.free.len(), |row, k| j[(row, self.free[k])]);
        Ok((r, jf))
    }
}

/// The residuals, or an error when the simulation produced a non-finite value.
fn finite(r: Vec<f64>) -> Result<Vec<f64>, String> {
    match r.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!(
            "the replay produced a non-finite residual (number {i}): the simulated trajectory \
             is not finite or an orientation is no rotation"
        )),
        None => Ok(r),
    }
}

/// Appends the whitened residuals of one replay (and, given the observation Jacobians, their
/// rows of the residual Jacobian) in the order of [`Dataset::index`].
pub(crate) fn push_residuals(
    data: &Dataset,
    rep: &crate::data::Replay,
    sim: &[Vec<f64>],
    out: &mut Vec<f64>,
    mut jac: Option<(&[DMatrix<f64>], &mut Vec<f64>)>,
) {
    for (h, row) in rep.recorded.iter().enumerate().skip(1) {
        for (k, &e) in data.entries.iter().enumerate() {
            if let Some(y) = row[e] {
                out.push((sim[h][e] - y) / data.sigmas[k]);
                if let Some((jacs, rows)) = jac.as_mut() {
                    let j = &jacs[h - 1];
                    rows.extend((0..j.ncols()).map(|c| j[(e, c)] / data.sigmas[k]));
                }
            }
        }
        for t in &data.rotations {
            let e = t.entry;
            let recorded = (|| Some([row[e]?, row[e + 1]?, row[e + 2]?, row[e + 3]?]))();
            let Some(recorded) = recorded else { continue };
            let q_sim: [f64; 4] = std::array::from_fn(|c| sim[h][e + c]);
            // A recorded orientation that is no rotation is a missing value (`Dataset::present`).
            let Some(qm) = rotation::unit(recorded) else {
                continue;
            };
            let Some(qs) = rotation::unit(q_sim) else {
                // A simulated orientation that is no rotation (a blown-up rollout): never a fit.
                out.extend([f64::NAN; 3]);
                if let Some((jacs, rows)) = jac.as_mut() {
                    rows.extend(std::iter::repeat_n(f64::NAN, 3 * jacs[h - 1].ncols()));
                }
                continue;
            };
            let err = rotation::error(&qm, &qs) / t.sigma_rad;
            out.extend(err.iter());
            if let Some((jacs, rows)) = jac.as_mut() {
                let j = &jacs[h - 1];
                let cols: Vec<_> = (0..j.ncols())
                    .map(|c| {
                        let dq = std::array::from_fn(|i| j[(e + i, c)]);
                        rotation::error_derivative(&qm, q_sim, dq) / t.sigma_rad
                    })
                    .collect();
                for axis in 0..3 {
                    rows.extend(cols.iter().map(|d| d[axis]));
                }
            }
        }
    }
}

impl<M: ReplayModel> CostFunction for SysIdProblem<'_, M> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, Error> {
        let theta = self.theta(u);
        if !self.in_bounds(&theta) {
            return Ok(OUT_OF_BOUNDS);
        }
        match self.residuals_at(&theta) {
            Ok(r) => Ok(r.iter().map(|v| self.loss.of(*v)).sum()),
            Err(_) => Ok(OUT_OF_BOUNDS),
        }
    }
}

impl<M: ReplayModel> Operator for SysIdProblem<'_, M> {
    type Param = Vec<f64>;
    type Output = Vec<f64>;

    fn apply(&self, u: &Vec<f64>) -> Result<Vec<f64>, Error> {
        let theta = self.theta(u);
        let r = self
            .residuals_at(&theta)
            .map_err(|e| argmin::core::ArgminError::InvalidParameter { text: e })?;
        Ok(r.iter().map(|v| v * self.loss.weight(*v).sqrt()).collect())
    }
}

impl<M: ReplayModel> Jacobian for SysIdProblem<'_, M> {
    type Param = Vec<f64>;
    type Jacobian = DMatrix<f64>;

    fn jacobian(&self, u: &Vec<f64>) -> Result<DMatrix<f64>, Error> {
        let theta = self.theta(u);
        let (r, j) = self
            .residuals_and_jacobian_at(&theta)
            .map_err(|e| argmin::core::ArgminError::InvalidParameter { text: e })?;
        // Columns of the free parameters, in scaled coordinates, IRLS-weighted rows.
        let mut out = DMatrix::zeros(j.nrows(), self.free.len());
        for (k, &i) in self.free.iter().enumerate() {
            for row in 0..j.nrows() {
                out[(row, k)] = j[(row, i)] * self.scale[k] * self.loss.weight(r[row]).sqrt();
            }
        }
        Ok(out)
    }
}
