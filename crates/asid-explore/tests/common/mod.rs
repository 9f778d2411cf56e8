//! A linear-Gaussian toy experiment whose Fisher information has a closed form, with knobs for the
//! cases the planner must handle: a limit, observations that do not depend on the parameters, a
//! Jacobian that depends on them, and observations that are not smooth in them.

#![allow(dead_code, reason = "each test file uses part of the toy")]

use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use asid_explore::{Constraint, Experiment, NoiseModel};
use asid_sim::{ActionBounds, Nominal};
use nalgebra::DMatrix;

/// y_h = A(a_h) f(theta) with A(a) = [[a0, 0, ..], [0, a1, ..], [a0 * a1, ..]]: the design controls
/// how much each step reveals about each parameter. f is the identity, or theta^2 elementwise
/// (`nonlinear`, so the information depends on the prior sample).
pub struct Linear {
    pub space: ParamSpace,
    pub sigma: f64,
    /// Actions with a0 > this are "unsafe" (a stand-in for a limit).
    pub forbid_above: Option<f64>,
    /// Observations do not depend on the parameters at all (zero Jacobian).
    pub blind: bool,
    /// y = A(a) theta^2 instead of A(a) theta.
    pub nonlinear: bool,
    /// Plans with any a1 > this are "not smooth" (a stand-in for a contact event).
    pub rough_above: Option<f64>,
}

pub fn param(name: &str, std: f64) -> Param {
    let half = std * 3f64.sqrt();
    Param {
        name: name.into(),
        target_path: name.into(),
        target: ParamTarget::TableFriction,
        prior: Prior::Uniform {
            low: 1.0 - half,
            high: 1.0 + half,
        },
        bounds: [1.0 - 2.0 * half, 1.0 + 2.0 * half],
        fd_step: 1e-3,
        nominal: 1.0,
    }
}

impl Linear {
    pub fn new(n: usize) -> Self {
        let params = (0..n)
            .map(|i| param(&format!("p{i}"), 0.1 * (i + 1) as f64))
            .collect();
        Self {
            space: ParamSpace { params },
            sigma: 0.05,
            forbid_above: None,
            blind: false,
            nonlinear: false,
            rough_above: None,
        }
    }

    pub fn rows(&self, a: &[f64]) -> DMatrix<f64> {
        let n = self.space.dim();
        let mut m = DMatrix::zeros(3, n);
        if self.blind {
            return m;
        }
        m[(0, 0)] = a[0];
        if n > 1 {
            m[(1, 1)] = a[1];
            m[(2, 1)] = a[0] * a[1];
        }
        m[(2, 0)] = 0.5 * a[1];
        m
    }

    fn observe(&self, theta: &[f64], a: &[f64]) -> Vec<f64> {
        let f: Vec<f64> = if self.nonlinear {
            theta.iter().map(|t| t * t).collect()
        } else {
            theta.to_vec()
        };
        let t = nalgebra::DVector::from_column_slice(&f);
        (self.rows(a) * t).iter().copied().collect()
    }

    /// The closed-form scaled information of a plan at `theta`.
    pub fn closed_form_info(&self, actions: &[Vec<f64>], theta: &[f64]) -> DMatrix<f64> {
        let n = self.space.dim();
        let df = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
            n,
            theta
                .iter()
                .map(|t| if self.nonlinear { 2.0 * t } else { 1.0 }),
        ));
        let scale = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(self.space.scales()));
        let mut info = DMatrix::zeros(n, n);
        for a in actions {
            let j = self.rows(a) * &df * &scale;
            info += j.transpose() * j / (self.sigma * self.sigma);
        }
        info
    }
}

impl Experiment for Linear {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn obs_sigmas(&self) -> Vec<f64> {
        vec![self.sigma; 3]
    }
    fn action_bounds(&self) -> ActionBounds {
        ActionBounds {
            action: vec![[-1.0, 1.0]; 2],
            workspace: vec![],
            start: vec![0.0, 0.0],
            max_step_change: vec![],
            start_step: vec![],
        }
    }
    fn horizon(&self) -> usize {
        5
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        _noise: NoiseModel,
    ) -> Result<(Vec<DMatrix<f64>>, Option<Nominal>), Constraint> {
        if self
            .forbid_above
            .is_some_and(|limit| actions.iter().any(|a| a[0] > limit))
        {
            return Err(Constraint::JointVelocity);
        }
        // Central finite differences, as for the simulator.
        let n = self.space.dim();
        let jacs = actions
            .iter()
            .map(|a| {
                let mut j = DMatrix::zeros(3, n);
                for i in 0..n {
                    let h = self.space.params[i].fd_step;
                    let mut p = theta.to_vec();
                    let mut m = theta.to_vec();
                    p[i] += h;
                    m[i] -= h;
                    let (yp, ym) = (self.observe(&p, a), self.observe(&m, a));
                    for r in 0..3 {
                        j[(r, i)] = (yp[r] - ym[r]) / (2.0 * h);
                    }
                }
                j
            })
            .collect();
        Ok((jacs, None))
    }
    fn is_smooth(
        &self,
        _theta: &[f64],
        actions: &[Vec<f64>],
        _noise: NoiseModel,
        _jacobians: &[DMatrix<f64>],
    ) -> Result<bool, Constraint> {
        Ok(self
            .rough_above
            .is_none_or(|limit| actions.iter().all(|a| a[1] <= limit)))
    }
}
