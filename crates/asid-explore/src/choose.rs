//! Planning over several parameterisations and keeping the best: which one is most informative
//! depends on the scene (free-form paths for a rod whose rotation tells its centre of mass, a
//! glancing push for a puck whose spin tells its torsional friction), so `auto` tries each.

use crate::ExploreError;
use crate::design::{Design, DesignKind, Target};
use crate::experiment::Experiment;
use crate::plan::Plan;
use crate::planner::{PlanOptions, plan_with_baseline};

/// The parameterisations `auto` tries, in order.
pub const AUTO: [DesignKind; 2] = [DesignKind::Spline, DesignKind::Primitive];

/// Plans with every parameterisation in `kinds` that the scene supports (on the same prior samples,
/// so the criterion values compare) and returns the plan with the lowest value, with the value of
/// every parameterisation tried.
pub fn plan_best<E: Experiment>(
    exp: &E,
    kinds: &[DesignKind],
    target: Option<Target>,
    opts: &PlanOptions,
    labels: (&str, &str, f64),
    progress: bool,
) -> Result<(Plan, Vec<(DesignKind, f64)>), ExploreError> {
    let mut best: Option<Plan> = None;
    let mut tried = Vec::new();
    let steps0 = exp.simulated_steps();
    let mut last_err = None;
    for &kind in kinds {
        let design = match Design::new(kind, exp.action_bounds(), exp.horizon(), target) {
            Ok(d) => d,
            // A parameterisation this scene cannot use (a primitive without a free object).
            Err(ExploreError::Unsupported(_)) if kinds.len() > 1 => continue,
            Err(e) => return Err(e),
        };
        // The random baseline is the same for every parameterisation: computed with the first.
        let baseline = best.as_ref().map(|b| b.random.clone());
        match plan_with_baseline(
            exp,
            &design,
            opts,
            labels,
            progress,
            Vec::new(),
            baseline.as_ref(),
        ) {
            Ok(p) => {
                tried.push((kind, p.value));
                if best.as_ref().is_none_or(|b| p.value < b.value) {
                    best = Some(p);
                }
            }
            Err(e @ ExploreError::NoPlan(_)) if kinds.len() > 1 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    match best {
        Some(mut p) => {
            // The cost of the whole choice, not only of the kept parameterisation.
            p.rollouts = (exp.simulated_steps() - steps0) as f64 / exp.horizon().max(1) as f64;
            Ok((p, tried))
        }
        None => Err(last_err.unwrap_or_else(|| {
            ExploreError::Unsupported("no parameterisation applies to this scene".into())
        })),
    }
}
