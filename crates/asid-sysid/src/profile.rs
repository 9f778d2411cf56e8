//! Profile-likelihood 95 % intervals.
//!
//! A Wald interval (estimate +- 1.96 std) assumes the cost is quadratic in the parameters. Friction
//! in pushing is not: a high friction makes the motion quasi-static and the data go flat on that
//! side, so the Wald interval is too short there and too long on the other side. The profile
//! interval is where the cost, minimised over the other parameters, rises by the 95 % quantile of
//! chi-square with one degree of freedom (3.84, times the residual-based noise scale `s^2` so that
//! it agrees with the covariance on a linear model).
//!
//! The other parameters are re-fitted at each point by two Gauss-Newton steps with the Jacobian at
//! the estimate, starting on the linear profile trace; every iterate's cost bounds the profile from
//! above and the smallest is kept. The root of `sqrt(delta chi2 / s^2) = 1.96` is found by secant
//! steps from the Wald guess. An interval that reaches a hard bound before the threshold is open
//! there (`lo_open` / `hi_open`): the data do not close it.
//!
//! An end can equal the estimate only when the estimate sits on a hard bound (the data's optimum
//! lies beyond it, a sign of a model error): that side has no room and is open at the bound, and
//! the fit's verdict does not call the parameter identifiable. A side is never called open without
//! the profile evaluated at the bound: when the secant runs out of evaluations before the cost
//! rises (steps below the simulator's resolution), the bound is checked and the end bisected.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::ReplayModel;
use crate::problem::SysIdProblem;

/// 95 % quantile of chi-square with one degree of freedom, as a z value (sqrt 3.84).
const Z95: f64 = 1.959_963_984_540_054;
/// Relative tolerance on the z value at the interval's end.
const Z_TOL: f64 = 0.02;
/// Profile evaluations per side at most.
const MAX_EVALS: usize = 10;
/// Points of the scan from the local end to the bound.
const SCAN: usize = 6;
/// Gauss-Newton re-fits of the other parameters per profile point.
const NUISANCE_STEPS: usize = 2;

/// A 95 % interval of one parameter (the profile one, or the one a fit reports).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end (physical units).
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// The lower end is the parameter's hard bound: the data do not close the interval there.
    pub lo_open: bool,
    /// The upper end is the hard bound.
    pub hi_open: bool,
}

/// Everything the profile needs about the optimum, in the problem's scaled coordinates.
pub struct Optimum<'a> {
    /// Scaled estimate.
    pub u: &'a [f64],
    /// Sum of squared whitened residuals at the estimate.
    pub chi2: f64,
    /// Residual-based noise scale squared (chi2 / dof).
    pub s2: f64,
    /// Whitened Jacobian in scaled coordinates (residuals x free parameters).
    pub jacobian: &'a DMatrix<f64>,
}

/// Profile intervals of every free parameter of `problem` (squared loss), in parallel.
/// Returns the intervals and the model rollouts spent.
pub fn profile_intervals<M: ReplayModel>(
    problem: &SysIdProblem<'_, M>,
    opt: &Optimum<'_>,
) -> (Vec<Interval>, usize) {
    let p = opt.u.len();
    let before = problem.counter.load(std::sync::atomic::Ordering::Relaxed);
    let bounds = problem.scaled_bounds();
    let jtj = opt.jacobian.transpose() * opt.jacobian;
    let cov = crate::uncertainty::psd_inverse(&jtj);
    let ends: Vec<(f64, bool)> = (0..2 * p)
        .into_par_iter()
        .map(|job| {
            let (k, up) = (job / 2, job % 2 == 1);
            Side::new(problem, opt, &bounds, &cov, k, up).end()
        })
        .collect();
    let spent = problem.counter.load(std::sync::atomic::Ordering::Relaxed) - before;
    let intervals = (0..p)
        .map(|k| {
            let phys = |u: f64| problem.center[k] + problem.scale[k] * u;
            let (lo, lo_open) = ends[2 * k];
            let (hi, hi_open) = ends[2 * k + 1];
            Interval {
                lo: phys(lo),
                hi: phys(hi),
                lo_open,
                hi_open,
            }
        })
        .collect();
    (intervals, spent)
}

/// One side of one parameter's profile.
struct Side<'s, 'p, 'a, M: ReplayModel> {
    problem: &'s SysIdProblem<'p, M>,
    opt: &'s Optimum<'a>,
    bounds: &'s [[f64; 2]],
    k: usize,
    /// The other free parameters (re-fitted along the profile).
    others: Vec<usize>,
    /// +1 upwards, -1 downwards.
    dir: f64,
    /// Change of the other parameters per unit of parameter k on the linear trace.
    trace: Vec<f64>,
    /// Gauss-Newton map of the other parameters: `-(A^T A)^-1 A^T`.
    gn: Option<DMatrix<f64>>,
    /// Wald half-width in scaled units (infinite when unbounded).
    wald: f64,
}

impl<'s, 'p, 'a, M: ReplayModel> Side<'s, 'p, 'a, M> {
    fn new(
        problem: &'s SysIdProblem<'p, M>,
        opt: &'s Optimum<'a>,
        bounds: &'s [[f64; 2]],
        cov: &DMatrix<f64>,
        k: usize,
        up: bool,
    ) -> Self {
        let p = opt.u.len();
        let others: Vec<usize> = (0..p).filter(|&i| i != k).collect();
        let ckk = cov[(k, k)];
        let trace = others
            .iter()
            .map(|&i| {
                let t = cov[(i, k)] / ckk;
                if t.is_finite() { t } else { 0.0 }
            })
            .collect();
        let gn = (!others.is_empty()).then(|| {
            let a = DMatrix::from_fn(opt.jacobian.nrows(), others.len(), |r, c| {
                opt.jacobian[(r, others[c])]
            });
            let ata = a.transpose() * &a;
            // A tiny ridge keeps a direction the data do not see from blowing up the step.
            let ridge = 1e-9 * ata.diagonal().max().max(1e-300);
            let inv = (ata + DMatrix::identity(others.len(), others.len()) * ridge)
                .try_inverse()
                .unwrap_or_else(|| DMatrix::zeros(others.len(), others.len()));
            -(inv * a.transpose())
        });
        Self {
            problem,
            opt,
            bounds,
            k,
            others,
            dir: if up { 1.0 } else { -1.0 },
            trace,
            gn,
            wald: Z95 * (opt.s2 * ckk).sqrt(),
        }
    }

    /// The bound on this side, as a distance from the estimate.
    fn room(&self) -> f64 {
        let [lo, hi] = self.bounds[self.k];
        let u = self.opt.u[self.k];
        if self.dir > 0.0 { hi - u } else { u - lo }.max(0.0)
    }

    /// `sqrt(delta chi2 / s^2)` at distance `d` from the estimate, the other parameters re-fitted.
    fn z(&self, d: f64) -> f64 {
        let mut u = self.opt.u.to_vec();
        u[self.k] += self.dir * d;
        for (j, &i) in self.others.iter().enumerate() {
            u[i] += self.trace[j] * self.dir * d;
        }
        let mut best = f64::INFINITY;
        for step in 0..=NUISANCE_STEPS {
            self.clamp(&mut u);
            let theta = self.problem.theta(&u);
            let Ok(r) = self.problem.residuals_at(&theta) else {
                break;
            };
            best = best.min(r.iter().map(|v| v * v).sum::<f64>());
            let Some(gn) = &self.gn else { break };
            if step == NUISANCE_STEPS {
                break;
            }
            let delta = gn * DVector::from_column_slice(&r);
            for (j, &i) in self.others.iter().enumerate() {
                u[i] += delta[j];
            }
        }
        ((best - self.opt.chi2).max(0.0) / self.opt.s2.max(1e-300)).sqrt()
    }

    fn clamp(&self, u: &mut [f64]) {
        for (v, [lo, hi]) in u.iter_mut().zip(self.bounds) {
            *v = v.clamp(*lo, *hi);
        }
    }

    /// The end of the interval on this side (scaled) and whether it is open at the bound: the
    /// local end, pushed further out to the farthest point of a scan up to the bound whose profile
    /// is still under the threshold (a second basin of the cost, as a strike's spin can make).
    fn end(&self) -> (f64, bool) {
        let room = self.room();
        let at = |d: f64| self.opt.u[self.k] + self.dir * d;
        let (mut d, mut open) = self.local_end(room);
        if !open {
            for i in 1..=SCAN {
                let di = d + (room - d) * i as f64 / SCAN as f64;
                if self.z(di) < Z95 {
                    (d, open) = (di, i == SCAN);
                }
            }
        }
        (at(d), open)
    }

    /// The first crossing of the threshold from the estimate outwards (distance), or the bound.
    fn local_end(&self, room: f64) -> (f64, bool) {
        if room <= 0.0 {
            return (0.0, true);
        }
        // Secant on z(d), which is linear in d for a quadratic cost; (0, 0) is the first point.
        let (mut d0, mut z0) = (0.0, 0.0);
        let mut d1 = if self.wald.is_finite() && self.wald > 0.0 {
            self.wald.min(room)
        } else {
            room
        };
        // Bracket: largest d known below the threshold, smallest known above.
        let (mut below, mut above) = (0.0_f64, f64::INFINITY);
        for _ in 0..MAX_EVALS {
            let z1 = self.z(d1);
            if (z1 - Z95).abs() <= Z_TOL * Z95 {
                return (d1, false);
            }
            if z1 < Z95 {
                below = below.max(d1);
                if d1 >= room {
                    return (room, true);
                }
            } else {
                above = above.min(d1);
            }
            let slope = (z1 - z0) / (d1 - d0);
            let mut next = if slope > 0.0 && slope.is_finite() {
                d1 + (Z95 - z1) / slope
            } else {
                2.0 * d1
            };
            // Stay inside the bracket and grow at most fourfold per step.
            next = next.min(4.0 * d1.max(1e-12)).min(room);
            if above.is_finite() && (next <= below || next >= above) {
                next = 0.5 * (below + above);
            }
            (d0, z0, d1) = (d1, z1, next);
        }
        // Out of evaluations with nothing above the threshold yet: the steps were too small to
        // see the cost rise (a Wald half-width below the simulator's resolution, as on
        // noise-free data), which says nothing about the bound. Look at the bound itself and
        // bisect towards it, instead of calling the side open unseen.
        if !above.is_finite() {
            if self.z(room) < Z95 {
                return (room, true);
            }
            above = room;
            for _ in 0..MAX_EVALS {
                let mid = 0.5 * (below + above);
                if self.z(mid) < Z95 {
                    below = mid;
                } else {
                    above = mid;
                }
            }
        }
        (0.5 * (below + above), false)
    }
}
