//! Receding-horizon exploration: replan the remaining steps from the latest observed state.

use asid_sim::{SimWorld, Simulator};

use crate::ExploreError;
use crate::design::{Design, DesignKind, Target};
use crate::experiment::{Experiment, SimExperiment};
use crate::plan::Plan;
use crate::planner::{PlanOptions, plan_with_warm_starts};

/// Plans the `remaining` steps of an episode from `state` (the simulator put in the latest observed
/// state). With the `actions` design, `current` (the rest of the plan being executed) seeds the
/// search, so the new plan is never worse than continuing on the same prior samples.
pub fn replan(
    sim: &Simulator,
    state: SimWorld,
    remaining: usize,
    kind: DesignKind,
    target: Option<Target>,
    opts: &PlanOptions,
    current: Option<&[Vec<f64>]>,
) -> Result<Plan, ExploreError> {
    if remaining == 0 {
        return Err(ExploreError::Unsupported("nothing left to replan".into()));
    }
    let exp = SimExperiment::from_state(sim, state, remaining);
    let design = Design::new(kind, exp.action_bounds(), remaining, target)?;
    let warm = match (kind, current) {
        (DesignKind::Actions, Some(c)) if c.len() == remaining => {
            vec![c.iter().flatten().copied().collect()]
        }
        _ => Vec::new(),
    };
    let scene = sim.scene();
    plan_with_warm_starts(
        &exp,
        &design,
        opts,
        (&scene.spec.name, "", scene.control_period_s()),
        false,
        warm,
    )
}
