//! Time alignment: the tracker's latency as a nuisance parameter of the fit.
//!
//! A tracker whose stamps do not account for its own processing reports every pose late by a
//! latency that a one-way stream cannot observe. The estimate minimises the cost over the
//! parameters and the latency together, on the profile `C_p(tau) = min_theta C(theta, tau)`:
//!
//! - **The model is moved in time, not the data.** The object observations are resampled from the
//!   tracker's poses by linear interpolation, whose noise variance depends on where a time falls
//!   between two poses (half of a pose's in the middle, all of it on a pose). Shifting the data
//!   by `tau` moves every control step's phase at once (the arm's 10 Hz and the tracker's 100 Hz
//!   keep them in step), so the cost of shifted data oscillates with the tracker's period by more
//!   than the motion's alignment changes it, and its minimum sits where the steps fall between
//!   poses, not at the latency. The replay is instead simulated at every physics step
//!   ([`ReplayModel::simulate_fine`]) and compared `tau` earlier with the data as stamped.
//! - **The parameters are profiled.** Fitted to misaligned data, the parameters absorb part of the
//!   misalignment (a puck seen late looks like one that slides less), so the shift that is best at
//!   them is biased towards none. For every shift the parameters are minimised out in their
//!   linearisation around the current fit (one sensitivity rollout for the whole grid); the fit
//!   is then redone at the profile's minimum, until the shift settles.
//! - **Its std** is the profile's curvature (so the parameters' uncertainty is included), times
//!   the reduced chi-square when that is above 1.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::fit::{FitOptions, identify_from, point_estimate, point_estimate_counted};
use crate::model::ReplayModel;
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

/// Rounds of (profile over the shift at the current fit, fit redone at its minimum) at most.
const ROUNDS: usize = 5;

/// Grid points on each side of the profile's minimum that its parabola is fitted through.
const WINDOW: usize = 3;

/// One replay simulated between the control steps.
struct Fine {
    /// Rows per control period.
    per_step: usize,
    /// Observations, `rows[0]` before the first action.
    rows: Vec<Vec<f64>>,
}

impl Fine {
    /// The simulated observation at `steps` control periods after the first action (clamped to
    /// the rollout): linear between rows, quaternions (at `quats`) slerped.
    fn at(&self, steps: f64, quats: &[usize]) -> Vec<f64> {
        let last = self.rows.len() - 1;
        let x = (steps * self.per_step as f64).clamp(0.0, last as f64);
        let i = (x.floor() as usize).min(last.saturating_sub(1));
        let u = x - i as f64;
        let (a, b) = (&self.rows[i], &self.rows[(i + 1).min(last)]);
        let mut row: Vec<f64> = a.iter().zip(b).map(|(a, b)| a + (b - a) * u).collect();
        for &q in quats {
            let qa = [a[q], a[q + 1], a[q + 2], a[q + 3]];
            let qb = [b[q], b[q + 1], b[q + 2], b[q + 3]];
            if let Some(s) = rotation::slerp(qa, qb, u) {
                row[q..q + 4].copy_from_slice(&s);
            }
        }
        row
    }
}

/// The observation entries that come from the tracker: those whose recorded values move when
/// the dataset is shifted (`a` and `b` at two shifts); a quaternion's four go together. The arm's
/// own channels (joints, the tool position from them) are on the arm's clock and are not moved.
fn tracked_entries(a: &Dataset, b: &Dataset) -> Vec<bool> {
    let dim = a
        .replays
        .iter()
        .flat_map(|r| r.recorded.iter().map(Vec::len))
        .max()
        .unwrap_or(0);
    let mut tracked = vec![false; dim];
    for (ra, rb) in a.replays.iter().zip(&b.replays) {
        for (x, y) in ra.recorded.iter().zip(&rb.recorded) {
            for (e, (u, v)) in x.iter().zip(y).enumerate() {
                if u != v {
                    tracked[e] = true;
                }
            }
        }
    }
    for t in &a.rotations {
        let e = t.entry;
        if e + 4 <= dim && tracked[e..e + 4].iter().any(|&v| v) {
            tracked[e..e + 4].iter_mut().for_each(|v| *v = true);
        }
    }
    tracked
}

/// The whitened residuals of `data` against the fine replays `sims`, the `tracked` entries moved
/// `tau_steps` control periods later (the tracker saw at step `h` what the replay shows at
/// `h - tau_steps`).
fn residuals(data: &Dataset, sims: &[Fine], tracked: &[bool], tau_steps: f64) -> Vec<f64> {
    let quats: Vec<usize> = data.rotations.iter().map(|t| t.entry).collect();
    let mut out = Vec::new();
    for (rep, fine) in data.replays.iter().zip(sims) {
        let sim: Vec<Vec<f64>> = (0..rep.recorded.len())
            .map(|h| {
                let now = &fine.rows[h * fine.per_step];
                let seen = fine.at(h as f64 - tau_steps, &quats);
                now.iter()
                    .zip(seen)
                    .zip(tracked.iter().chain(std::iter::repeat(&false)))
                    .map(|((&n, s), &t)| if t { s } else { n })
                    .collect()
            })
            .collect();
        crate::problem::push_residuals(data, rep, &sim, &mut out, None);
    }
    out
}

fn fine_replays<M: ReplayModel>(
    model: &M,
    theta: &[f64],
    data: &Dataset,
) -> Result<Vec<Fine>, SysIdError> {
    data.replays
        .iter()
        .map(|rep| {
            let (per_step, rows) =
                model.simulate_fine(theta, &rep.actions, rep.joint_path.as_deref())?;
            if per_step == 0 || rows.len() != (rep.recorded.len() - 1) * per_step + 1 {
                return Err(format!(
                    "{}: the fine replay has {} rows at {per_step} per control step, the episode \
                     {} control steps",
                    rep.source,
                    rows.len(),
                    rep.recorded.len() - 1
                ));
            }
            Ok(Fine { per_step, rows })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(SysIdError::Model)
}

/// Parameter vectors for a central (one-sided at a bound) difference of parameter `i`.
fn perturbed<M: ReplayModel>(model: &M, theta: &[f64], i: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let p = &model.space().params[i];
    let (lo, hi, h, x) = (p.bounds[0], p.bounds[1], p.fd_step, theta[i]);
    let (mut plus, mut minus) = (theta.to_vec(), theta.to_vec());
    plus[i] = (x + h).min(hi);
    minus[i] = (x - h).max(lo);
    let step = plus[i] - minus[i];
    (plus, minus, step)
}

/// The profile of the cost over `grid` (in control periods) at the fit `theta`: per shift, the
/// cost with the parameters `free` minimised out in their linearisation; also the number of
/// residuals.
fn profile<M: ReplayModel>(
    model: &M,
    theta: &[f64],
    free: &[usize],
    data: &Dataset,
    tracked: &[bool],
    grid_steps: &[f64],
) -> Result<(Vec<f64>, usize), SysIdError> {
    let mut jobs = vec![theta.to_vec()];
    let mut steps = Vec::new();
    for &i in free {
        let (plus, minus, step) = perturbed(model, theta, i);
        if step > 0.0 {
            jobs.extend([plus, minus]);
            steps.push(step);
        }
    }
    let mut sims = jobs
        .par_iter()
        .map(|t| fine_replays(model, t, data))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let base = sims.next().unwrap_or_default();
    let columns: Vec<(Vec<Fine>, Vec<Fine>, f64)> = steps
        .into_iter()
        .filter_map(|step| Some((sims.next()?, sims.next()?, step)))
        .collect();
    let mut n_res = 0;
    let costs = grid_steps
        .iter()
        .map(|&tau| {
            let r = residuals(data, &base, tracked, tau);
            n_res = r.len();
            let mut j = DMatrix::zeros(r.len(), columns.len());
            for (c, (plus, minus, step)) in columns.iter().enumerate() {
                let (a, b) = (
                    residuals(data, plus, tracked, tau),
                    residuals(data, minus, tracked, tau),
                );
                for row in 0..r.len() {
                    j[(row, c)] = (a[row] - b[row]) / step;
                }
            }
            projected_cost(&r, &j)
        })
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| {
            SysIdError::Model(
                "latency: the replay produced a non-finite residual or sensitivity".into(),
            )
        })?;
    Ok((costs, n_res))
}

/// `min_d 0.5 |r + J d|^2` (least squares, rank-revealing), `None` if anything is not finite.
fn projected_cost(r: &[f64], j: &DMatrix<f64>) -> Option<f64> {
    if r.iter().chain(j.iter()).any(|v| !v.is_finite()) {
        return None;
    }
    let r = DVector::from_column_slice(r);
    let total = r.norm_squared();
    if j.ncols() == 0 || j.nrows() == 0 {
        return Some(0.5 * total);
    }
    // Unit columns, so the rank test does not depend on the parameters' units.
    let mut js = j.clone();
    for mut c in js.column_iter_mut() {
        let n = c.norm();
        if n > 0.0 {
            c /= n;
        }
    }
    let svd = js.svd(true, false);
    let u = svd.u?;
    let smax = svd.singular_values.max();
    let explained: f64 = (0..svd.singular_values.len())
        .filter(|&k| svd.singular_values[k] > 1e-9 * smax)
        .map(|k| u.column(k).dot(&r).powi(2))
        .sum();
    Some(0.5 * (total - explained).max(0.0))
}

/// Least-squares parabola `a t^2 + b t + c` through `(t, y)`: the vertex and `a`; `None` without
/// curvature.
fn parabola(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let m = DMatrix::from_fn(points.len(), 3, |i, j| points[i].0.powi(2 - j as i32));
    let y = DVector::from_iterator(points.len(), points.iter().map(|p| p.1));
    let sol = (m.transpose() * &m).try_inverse()? * m.transpose() * y;
    (sol[0] > 0.0).then(|| (-sol[1] / (2.0 * sol[0]), sol[0]))
}

/// Estimates the latency of the object observations, starting from the fit `theta` of the data as
/// stamped (`free`: the fitted parameters, profiled out). `shifted(tau)` is the dataset with the
/// object observations moved `tau` seconds earlier (the parameters are fitted again on it, with
/// `opts`, at each round's estimate); its replays must not depend on `tau`. Also returns the
/// parameters fitted at the estimate.
pub fn estimate_latency<M: ReplayModel>(
    model: &M,
    theta: &[f64],
    free: &[usize],
    shifted: &dyn Fn(f64) -> Result<Dataset, SysIdError>,
    search: &LatencySearch,
    opts: &FitOptions,
) -> Result<(LatencyEstimate, Vec<f64>), SysIdError> {
    let [lo, hi] = search.range_s;
    if !(lo.is_finite() && hi > lo && search.step_s > 0.0 && search.step_s <= hi - lo) {
        return Err(SysIdError::Data(format!(
            "latency search {lo} to {hi} s in steps of {} s: need lo < hi and 0 < step <= hi - lo",
            search.step_s
        )));
    }
    let period_s = model.control_period_s().ok_or_else(|| {
        SysIdError::Data(
            "the model does not know its control period: the tracker latency cannot be estimated"
                .into(),
        )
    })?;
    let data = shifted(0.0)?;
    let n = ((hi - lo) / search.step_s).round() as usize;
    let grid: Vec<f64> = (0..=n).map(|k| lo + k as f64 * search.step_s).collect();
    let grid_steps: Vec<f64> = grid.iter().map(|t| t / period_s).collect();
    let tracked = tracked_entries(&data, &shifted(hi)?);
    if !tracked.iter().any(|&t| t) {
        let latency = LatencyEstimate {
            estimate_s: 0.0,
            std_s: None,
            searched_s: search.range_s,
            at_edge: false,
        };
        return Ok((latency, theta.to_vec()));
    }
    let mut theta = theta.to_vec();
    let mut previous: Option<f64> = None;
    let mut round = 1;
    loop {
        let (costs, n_res) = profile(model, &theta, free, &data, &tracked, &grid_steps)?;
        let best = (0..costs.len())
            .min_by(|&a, &b| costs[a].total_cmp(&costs[b]))
            .unwrap_or(0);
        let window: Vec<(f64, f64)> = (best.saturating_sub(WINDOW)..=(best + WINDOW).min(n))
            .map(|k| (grid[k], costs[k]))
            .collect();
        let vertex = parabola(&window);
        let estimate = vertex
            .map(|(t, _)| t.clamp(window[0].0, window[window.len() - 1].0))
            .unwrap_or(grid[best]);
        let settled = previous.is_some_and(|p| (estimate - p).abs() <= 0.5 * search.step_s);
        if settled || round == ROUNDS {
            // C = chi2 / 2, so chi2 rises by 1 at one std from the vertex: var = 1 / (2 a).
            let dof = n_res.saturating_sub(free.len() + 1).max(1) as f64;
            let s2 = 2.0 * costs[best] / dof;
            let std_s = vertex
                .map(|(_, a)| (s2.max(1.0) / (2.0 * a)).sqrt())
                .filter(|v| v.is_finite() && *v > 0.0);
            let latency = LatencyEstimate {
                estimate_s: estimate,
                std_s,
                searched_s: search.range_s,
                at_edge: best == 0 || best == n,
            };
            return Ok((latency, theta));
        }
        previous = Some(estimate);
        theta = point_estimate(model, &shifted(estimate)?, opts, &[theta])?;
        round += 1;
    }
}

/// Identifies with the tracker's latency as a nuisance parameter: a point estimate on the data as
/// stamped (without its uncertainty), the latency estimated from it ([`estimate_latency`]), then
/// the fit again on the data shifted by the estimated latency, which the result reports
/// (`pose_latency`). `shifted(tau)` is the dataset with the object observations moved `tau`
/// seconds earlier. The result's `wall_s` is the whole identification's.
pub fn identify_aligned<M: ReplayModel>(
    model: &M,
    shifted: &dyn Fn(f64) -> Result<Dataset, SysIdError>,
    opts: &FitOptions,
    search: &LatencySearch,
    scene_name: &str,
    channel_names: &[(usize, String)],
) -> Result<Fit, SysIdError> {
    let start = std::time::Instant::now();
    // Only the estimate of the data as stamped is needed (the uncertainty, with its profile
    // intervals, is computed once, at the estimated latency): the same estimate `identify` gives.
    let (theta, first_evaluations) = point_estimate_counted(model, &shifted(0.0)?, opts, &[])?;
    let space = model.space();
    let free: Vec<usize> = (0..space.dim())
        .filter(|&i| !space.params[i].prior.is_discrete())
        .collect();
    let (latency, at) = estimate_latency(model, &theta, &free, shifted, search, opts)?;
    let mut fit = identify_from(
        model,
        &shifted(latency.estimate_s)?,
        opts,
        scene_name,
        channel_names,
        &[at],
    )?;
    // The whole identification: the first estimate, the latency search and the fit at it.
    fit.wall_s = start.elapsed().as_secs_f64();
    fit.evaluations += first_evaluations;
    fit.pose_latency = Some(latency);
    Ok(fit)
}
