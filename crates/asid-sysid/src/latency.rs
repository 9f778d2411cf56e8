//! Time alignment: the tracker's latency as a nuisance parameter of the fit.
//!
//! A tracker whose stamps do not account for its own processing reports every pose late by a
//! latency that a one-way stream cannot observe. Shifting the object observations back by `tau`
//! and replaying the episode at the fitted parameters gives a cost `C(tau)`: its minimum is the
//! estimate (a grid search, refined by a parabola through the points around the minimum), and its
//! uncertainty comes from the joint information of `tau` and the fitted parameters (the Schur
//! complement, so the parameters' uncertainty is included), widened by the reduced chi-square when
//! that is above 1.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::fit::{FitOptions, identify};
use crate::model::ReplayModel;
use crate::problem::{Loss, SysIdProblem};
use crate::report::Fit;
use crate::{SysIdError, rotation};

/// Where the latency is searched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySearch {
    /// Shifts tried, from `range_s[0]` to `range_s[1]` (s).
    pub range_s: [f64; 2],
    /// Grid step (s).
    pub step_s: f64,
}

impl Default for LatencySearch {
    fn default() -> Self {
        Self {
            range_s: [0.0, 0.08],
            step_s: 0.002,
        }
    }
}

/// The tracker's latency estimated from an episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyEstimate {
    /// How long after it was true a pose was stamped (s); the observations were shifted back by
    /// this for the fit.
    pub estimate_s: f64,
    /// Its standard deviation (s); `None` when the cost does not change with the shift (no object
    /// moved).
    pub std_s: Option<f64>,
    /// The range searched (s).
    pub searched_s: [f64; 2],
    /// The estimate is at an end of the range (the true latency may lie beyond it).
    pub at_edge: bool,
}

/// Per replay, per control step, per residual slot: the whitened residual, if recorded.
type Rows = Vec<Vec<Vec<Option<f64>>>>;

fn residual_rows(data: &Dataset, sims: &[Vec<Vec<f64>>]) -> Rows {
    data.replays
        .iter()
        .zip(sims)
        .map(|(rep, sim)| {
            rep.recorded
                .iter()
                .enumerate()
                .map(|(h, row)| {
                    let mut out: Vec<Option<f64>> = data
                        .entries
                        .iter()
                        .zip(&data.sigmas)
                        .map(|(&e, s)| row[e].map(|y| (sim[h][e] - y) / s))
                        .collect();
                    for t in &data.rotations {
                        let e = t.entry;
                        let rec = (|| Some([row[e]?, row[e + 1]?, row[e + 2]?, row[e + 3]?]))();
                        let q_sim = std::array::from_fn(|c| sim[h][e + c]);
                        let err = rec
                            .and_then(rotation::unit)
                            .zip(rotation::unit(q_sim))
                            .map(|(qm, qs)| rotation::error(&qm, &qs) / t.sigma_rad);
                        out.extend((0..3).map(|a| err.map(|v| v[a])));
                    }
                    out
                })
                .collect()
        })
        .collect()
}

fn cost(rows: &Rows, mask: &Rows) -> f64 {
    let mut c = 0.0;
    for (r, m) in rows.iter().flatten().zip(mask.iter().flatten()) {
        for (v, keep) in r.iter().zip(m) {
            if let (Some(v), Some(_)) = (v, keep) {
                c += 0.5 * v * v;
            }
        }
    }
    c
}

/// Least-squares parabola `a t^2 + b t + c` through `(t, y)`; `None` without curvature.
fn parabola(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let m = DMatrix::from_fn(points.len(), 3, |i, j| points[i].0.powi(2 - j as i32));
    let y = nalgebra::DVector::from_iterator(points.len(), points.iter().map(|p| p.1));
    let sol = (m.transpose() * &m).try_inverse()? * m.transpose() * y;
    (sol[0] > 0.0).then(|| (-sol[1] / (2.0 * sol[0]), sol[0]))
}

/// Estimates the latency of the object observations at the fitted `theta` (`free`: the fitted
/// parameters, whose uncertainty the latency's includes). `shifted(tau)` is the dataset with the
/// object observations moved `tau` seconds earlier; its replays must not depend on `tau`.
pub fn estimate_latency<M: ReplayModel>(
    model: &M,
    theta: &[f64],
    free: &[usize],
    shifted: &dyn Fn(f64) -> Result<Dataset, SysIdError>,
    search: &LatencySearch,
) -> Result<LatencyEstimate, SysIdError> {
    let [lo, hi] = search.range_s;
    if !(lo.is_finite() && hi > lo && search.step_s > 0.0 && search.step_s <= hi - lo) {
        return Err(SysIdError::Data(format!(
            "latency search {lo} to {hi} s in steps of {} s: need lo < hi and 0 < step <= hi - lo",
            search.step_s
        )));
    }
    let base = shifted(lo)?;
    let sims = base
        .replays
        .iter()
        .map(|rep| match &rep.joint_path {
            Some(q) => model.simulate_joint_path(theta, q),
            None => model.simulate(theta, &rep.actions),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(SysIdError::Model)?;
    let n = ((hi - lo) / search.step_s).round() as usize;
    let grid: Vec<f64> = (0..=n).map(|k| lo + k as f64 * search.step_s).collect();
    let rows = grid
        .iter()
        .map(|&t| shifted(t).map(|d| residual_rows(&d, &sims)))
        .collect::<Result<Vec<_>, _>>()?;
    // Compare every shift on the residuals that all of them have (edges of the tracker's span).
    let mut mask = rows[0].clone();
    for r in &rows[1..] {
        for (m, x) in mask.iter_mut().flatten().zip(r.iter().flatten()) {
            for (a, b) in m.iter_mut().zip(x) {
                if b.is_none() {
                    *a = None;
                }
            }
        }
    }
    let costs: Vec<f64> = rows.iter().map(|r| cost(r, &mask)).collect();
    let best = (0..costs.len())
        .min_by(|&a, &b| costs[a].total_cmp(&costs[b]))
        .unwrap_or(0);
    let window: Vec<(f64, f64)> = (best.saturating_sub(3)..=(best + 3).min(n))
        .map(|k| (grid[k], costs[k]))
        .collect();
    let estimate = parabola(&window)
        .map(|(t, _)| t.clamp(window[0].0, window[window.len() - 1].0))
        .unwrap_or(grid[best]);
    let at_edge = best == 0 || best == n;
    let std_s = latency_std(model, theta, free, shifted, estimate, search.step_s)?;
    Ok(LatencyEstimate {
        estimate_s: estimate,
        std_s,
        searched_s: search.range_s,
        at_edge,
    })
}

/// The latency's std at `tau`: the `tau` entry of the inverse joint information of (`free`
/// parameters, `tau`), times the reduced chi-square when above 1.
fn latency_std<M: ReplayModel>(
    model: &M,
    theta: &[f64],
    free: &[usize],
    shifted: &dyn Fn(f64) -> Result<Dataset, SysIdError>,
    tau: f64,
    step_s: f64,
) -> Result<Option<f64>, SysIdError> {
    let data = shifted(tau)?;
    let problem = SysIdProblem {
        model,
        data: &data,
        fixed: theta.to_vec(),
        free: free.to_vec(),
        center: vec![0.0; free.len()],
        scale: vec![1.0; free.len()],
        loss: Loss::Squared,
        counter: Default::default(),
    };
    let (r, jf) = problem.free_jacobian_at(theta).map_err(SysIdError::Model)?;
    let sims = data
        .replays
        .iter()
        .map(|rep| match &rep.joint_path {
            Some(q) => model.simulate_joint_path(theta, q),
            None => model.simulate(theta, &rep.actions),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(SysIdError::Model)?;
    let d = 0.5 * step_s;
    let plus = residual_rows(&shifted(tau + d)?, &sims);
    let minus = residual_rows(&shifted(tau - d)?, &sims);
    let j_tau: Vec<f64> = data
        .index()
        .into_iter()
        .map(|(i, h, slot)| match (plus[i][h][slot], minus[i][h][slot]) {
            (Some(a), Some(b)) => (a - b) / (2.0 * d),
            _ => 0.0,
        })
        .collect();
    if j_tau.len() != r.len() {
        return Err(SysIdError::Model(format!(
            "latency: {} residuals against {} Jacobian rows",
            r.len(),
            j_tau.len()
        )));
    }
    let p = jf.ncols();
    let j = DMatrix::from_fn(r.len(), p + 1, |row, c| {
        if c < p { jf[(row, c)] } else { j_tau[row] }
    });
    let info = j.transpose() * &j;
    let Some(cov) = info.try_inverse() else {
        return Ok(None);
    };
    let dof = r.len().saturating_sub(p + 1).max(1) as f64;
    let chi2: f64 = r.iter().map(|v| v * v).sum();
    let var = cov[(p, p)] * (chi2 / dof).max(1.0);
    Ok((var.is_finite() && var > 0.0).then(|| var.sqrt()))
}

/// Identifies with the tracker's latency as a nuisance parameter: a fit on the data as stamped,
/// the latency estimated at its estimate ([`estimate_latency`]), then the fit again on the data
/// shifted by the estimated latency, which the result reports (`pose_latency`). `shifted(tau)`
/// is the dataset with the object observations moved `tau` seconds earlier.
pub fn identify_aligned<M: ReplayModel>(
    model: &M,
    shifted: &dyn Fn(f64) -> Result<Dataset, SysIdError>,
    opts: &FitOptions,
    search: &LatencySearch,
    scene_name: &str,
    channel_names: &[(usize, String)],
) -> Result<Fit, SysIdError> {
    let first = identify(model, &shifted(0.0)?, opts, scene_name, channel_names)?;
    let space = model.space();
    let theta: Vec<f64> = space
        .params
        .iter()
        .map(|p| {
            first
                .estimate
                .get(&p.name)
                .copied()
                .unwrap_or(p.prior.center())
        })
        .collect();
    let free: Vec<usize> = (0..space.dim())
        .filter(|&i| !space.params[i].prior.is_discrete())
        .collect();
    let latency = estimate_latency(model, &theta, &free, shifted, search)?;
    let mut fit = identify(
        model,
        &shifted(latency.estimate_s)?,
        opts,
        scene_name,
        channel_names,
    )?;
    fit.wall_s += first.wall_s;
    fit.evaluations += first.evaluations;
    fit.pose_latency = Some(latency);
    Ok(fit)
}
