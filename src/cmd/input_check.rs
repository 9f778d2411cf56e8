//! Plans and JSON episodes checked against their scene before anything runs on them: the error
//! names the file, the action or observation index and the allowed range, once.

use std::path::Path;

use anyhow::bail;
use asid_core::{Episode, Scene};
use asid_sim::ActionBounds;

/// The plan format this build reads.
pub const PLAN_FORMAT: &str = "asid-plan/1";

/// Largest magnitude taken as a measurement (m, rad, m/s): beyond it a value is a fault.
pub const MAX_OBSERVATION: f64 = 1e6;

/// Checks a plan's format tag, control period, length and actions against `scene`.
pub fn check_plan(file: &Path, plan: &asid_explore::Plan, scene: &Scene) -> anyhow::Result<()> {
    if plan.format != PLAN_FORMAT {
        bail!(
            "{}: format `{}` (allowed: `{PLAN_FORMAT}`)",
            file.display(),
            plan.format
        );
    }
    check_actions(file, "plan", &plan.actions, plan.control_period_s, scene)
}

/// Checks actions recorded or planned at `period_s` against `scene`'s control period, horizon
/// and action box.
pub fn check_actions(
    file: &Path,
    what: &str,
    actions: &[Vec<f64>],
    period_s: f64,
    scene: &Scene,
) -> anyhow::Result<()> {
    let f = file.display();
    let want = scene.control_period_s();
    if !(period_s.is_finite() && (period_s - want).abs() <= 1e-9 * want) {
        bail!(
            "{f}: control_period_s {period_s} (allowed: {want}, the period of scene `{}`)",
            scene.spec.name
        );
    }
    let horizon = scene.spec.arm.action.horizon_steps();
    if actions.is_empty() {
        bail!("{f}: the {what} has no actions (allowed: 1..={horizon})");
    }
    if actions.len() > horizon {
        bail!(
            "{f}: the {what} has {} actions, longer than the horizon of scene `{}` (allowed: \
             1..={horizon}, arm.action.horizon_steps)",
            actions.len(),
            scene.spec.name
        );
    }
    let bounds = ActionBounds::of(scene).action;
    for (i, a) in actions.iter().enumerate() {
        if a.len() != bounds.len() {
            bail!(
                "{f}: action {i} has {} numbers (allowed: {})",
                a.len(),
                bounds.len()
            );
        }
        for (c, (v, [lo, hi])) in a.iter().zip(&bounds).enumerate() {
            if !(v.is_finite() && (*lo - 1e-12..=*hi + 1e-12).contains(v)) {
                bail!(
                    "{f}: action {i} component {c} is {v}, outside the action box (allowed: {lo}..={hi})"
                );
            }
        }
    }
    Ok(())
}

/// Checks a JSON episode's actions and observations against `scene`.
pub fn check_episode(file: &Path, ep: &Episode, scene: &Scene) -> anyhow::Result<()> {
    check_actions(file, "episode", &ep.actions, ep.control_period_s, scene)?;
    let f = file.display();
    if ep.obs.len() != ep.obs_t_s.len() {
        bail!(
            "{f}: {} observations but {} observation times",
            ep.obs.len(),
            ep.obs_t_s.len()
        );
    }
    let dim = ep.obs_dim();
    let labels: Vec<String> = ep
        .channels
        .iter()
        .flat_map(|c| {
            let name = match &c.of {
                Some(of) => format!("{:?}({of})", c.kind),
                None => format!("{:?}", c.kind),
            };
            std::iter::repeat_n(name, c.dim)
        })
        .collect();
    for (i, (t, row)) in ep.obs_t_s.iter().zip(&ep.obs).enumerate() {
        if !t.is_finite() {
            bail!("{f}: observation {i} has time {t} (allowed: a finite time)");
        }
        if row.len() != dim {
            bail!(
                "{f}: observation {i} has {} values (allowed: {dim}, the channels' sizes)",
                row.len()
            );
        }
        for (j, v) in row.iter().enumerate() {
            if let Some(v) = v
                && !(v.is_finite() && v.abs() <= MAX_OBSERVATION)
            {
                bail!(
                    "{f}: observation {i} entry {j} ({}) is {v}, not a measurement (allowed: \
                     |value| <= {MAX_OBSERVATION:e}, or null for missing)",
                    labels[j]
                );
            }
        }
    }
    Ok(())
}
