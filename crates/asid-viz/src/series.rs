//! How the searches converged, as time series on their own timelines: the exploration planner's
//! best criterion per CEM iteration (`design_iteration`), and the identification's cost and
//! parameters per solver iteration with the final 95 % interval beside them (`fit_iteration`).
//! These rows are kept off the arm clock's `time` timeline, which is set again afterwards.

use rerun::RecordingStream;

use crate::VizError;

/// Timeline of the exploration planner's iterations.
pub const DESIGN_TIMELINE: &str = "design_iteration";
/// Timeline of the identification's iterations (counted on over several fits of one run).
pub const FIT_TIMELINE: &str = "fit_iteration";

/// Logs `plots/design/search`: the best criterion on the planning samples after each CEM
/// iteration, at `k` after the `k`-th (iterations with no feasible candidate yet are left out).
pub(crate) fn log_search(
    rec: &RecordingStream,
    now_s: f64,
    best_by_iteration: &[Option<f64>],
) -> Result<(), VizError> {
    rec.disable_timeline("time");
    let logged = (|| {
        for (k, c) in best_by_iteration.iter().enumerate() {
            if let Some(c) = c {
                rec.set_time_sequence(DESIGN_TIMELINE, k as i64 + 1);
                rec.log("plots/design/search", &rerun::Scalars::single(*c))?;
            }
        }
        Ok::<(), VizError>(())
    })();
    rec.disable_timeline(DESIGN_TIMELINE);
    rec.set_duration_secs("time", now_s);
    logged
}

/// Logs `plots/fit/cost` and `plots/fit/params/<name>/{estimate,lo,hi}` for each iteration of
/// `fit` (the interval is the final one, drawn beside the path) at `first` + its number (0: the
/// start); returns the next free number.
pub(crate) fn log_fit_path(
    rec: &RecordingStream,
    now_s: f64,
    first: i64,
    fit: &asid_sysid::Fit,
) -> Result<i64, VizError> {
    rec.disable_timeline("time");
    let logged = (|| {
        for it in &fit.iterations {
            rec.set_time_sequence(FIT_TIMELINE, first + it.iteration as i64);
            rec.log("plots/fit/cost", &rerun::Scalars::single(it.cost))?;
            for (name, v) in &it.estimate {
                // Only the continuous parameters the fit reports on.
                let Some(i) = fit.interval95.get(name) else {
                    continue;
                };
                let base = format!("plots/fit/params/{name}");
                rec.log(format!("{base}/estimate"), &rerun::Scalars::single(*v))?;
                rec.log(format!("{base}/lo"), &rerun::Scalars::single(i.lo))?;
                rec.log(format!("{base}/hi"), &rerun::Scalars::single(i.hi))?;
            }
        }
        Ok::<(), VizError>(())
    })();
    rec.disable_timeline(FIT_TIMELINE);
    rec.set_duration_secs("time", now_s);
    let next = fit
        .iterations
        .last()
        .map_or(first, |it| first + it.iteration as i64 + 1);
    logged.map(|()| next)
}
