//! Slide tasks in the loop (and in `asid eval`): plan a push against a belief with every candidate
//! checked against the arm's limits, and judge an attempt from its recorded episode. The loop's
//! task step itself is `task_step.rs`; the balancing task is [`crate::balance`].

use std::path::Path;

use asid_arm::SafetyLimits;
use asid_core::Scene;
use asid_core::scene::ChannelKind;
use asid_sim::Simulator;
use asid_task::{
    Belief, CarryOutcome, CarryPlan, CarryTask, OpenOutcome, OpenTask, Outcome, SlideTask,
    TaskPlan, TaskPlanOptions,
};

use crate::error::{Context, Result};

/// What every task candidate must pass.
#[derive(Debug, Clone, Copy)]
pub struct TaskChecks<'a> {
    /// The safety layer's limits at the control rate.
    pub limits: &'a SafetyLimits,
    /// A Franka runs the plan: its 1 kHz interpolation must stay inside the arm's limits too (the
    /// exploration planner's check, [`asid_explore::arm_check::ArmCheck`]).
    pub control_loop: bool,
}

/// The check every task candidate must pass: the safety layer's limits at the control rate and,
/// when a Franka runs it, the arm's 1 kHz interpolation. A Franka run whose 1 kHz check cannot be
/// built (the robot's limits or the start pose) is refused, not run unchecked.
fn candidate_check<'a>(
    sim: &'a Simulator,
    checks: TaskChecks<'a>,
) -> Result<impl Fn(&[Vec<f64>]) -> std::result::Result<(), String> + Sync + 'a> {
    let arm_check = if checks.control_loop {
        Some(
            asid_explore::arm_check::ArmCheck::for_scene(sim.scene(), sim.arm()).ok_or_else(
                || {
                    crate::error::StationError::input(format!(
                        "{}: the 1 kHz check of the task's motion cannot be built for `{}` \
                         (its limits or the start pose): the task is not run unchecked",
                        sim.scene().path.display(),
                        sim.scene().robot.name
                    ))
                },
            )?,
        )
    } else {
        None
    };
    let spec = &sim.scene().spec.arm.action;
    Ok(move |a: &[Vec<f64>]| {
        crate::checks::limits_check(sim, a, checks.limits).map_err(|e| e.to_string())?;
        if let Some(c) = &arm_check {
            c.check(spec, sim.arm(), a)
                .map_err(|e| format!("1 kHz control loop: {e}"))?;
        }
        Ok(())
    })
}

/// Plans `task` against `belief`; candidates that fail `checks` are left out.
pub fn plan(
    sim: &Simulator,
    task: &SlideTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    checks: TaskChecks<'_>,
) -> Result<TaskPlan> {
    let check = candidate_check(sim, checks)?;
    Ok(asid_task::plan_task(sim, task, belief, opts, &check)?)
}

/// Plans the opening of the scene's lid against `belief`; candidates that fail `checks` are left
/// out, as a slide task's are.
pub fn plan_open(
    sim: &Simulator,
    task: &OpenTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    checks: TaskChecks<'_>,
) -> Result<asid_task::OpenPlan> {
    let check = candidate_check(sim, checks)?;
    Ok(asid_task::plan_open(sim, task, belief, opts, &check)?)
}

/// Plans the carry of the scene's payload against `belief`; the learned actions must pass
/// `checks`, as every task candidate's do.
pub fn plan_carry(
    sim: &Simulator,
    task: &CarryTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    checks: TaskChecks<'_>,
) -> Result<CarryPlan> {
    let check = candidate_check(sim, checks)?;
    Ok(asid_task::plan_carry(sim, task, belief, opts, &check)?)
}

/// Judges a carry from its episode: the arm's measured joint positions after each command (the
/// k-th recorded state is the state after k commands, whatever its stamp: a control period that
/// ran a physics step long must not shift the comparison by a step's motion), through forward
/// kinematics to the tool centre point, against the path. Fewer recorded states than the carry
/// has steps is an error, not a pass.
pub fn judge_carry_episode(
    sim: &Simulator,
    task: &CarryTask,
    episode: &Path,
) -> Result<CarryOutcome> {
    let input = crate::identify::read_input(episode, sim.scene())?;
    let ep = &input.episode;
    let offset = ep
        .channel_offset(ChannelKind::JointPosition, None)
        .with_context(|| {
            format!(
                "{}: the episode holds no measured joint positions (a carry is judged from them)",
                episode.display()
            )
        })?;
    let arm = sim.arm();
    // Rows without joint values are the tracker's; a row with some but not all is damaged, and
    // skipping it would shift every later state by a step.
    let mut states: Vec<Vec<f64>> = Vec::new();
    for (r, row) in ep.obs.iter().enumerate() {
        let q: Vec<Option<f64>> = (0..arm.dof())
            .map(|i| row.get(offset + i).copied().flatten())
            .collect();
        match q.iter().filter(|v| v.is_some()).count() {
            0 => {}
            n if n == q.len() => states.push(q.into_iter().flatten().collect()),
            n => {
                return Err(crate::error::StationError::input(format!(
                    "{}: observation row {r} holds {n} of {} joint positions",
                    episode.display(),
                    q.len()
                )));
            }
        }
    }
    let steps = task.path().len();
    if states.len() < steps {
        return Err(crate::error::StationError::input(format!(
            "{}: {} measured joint states, the carry has {steps} control steps (the start and \
             one per command)",
            episode.display(),
            states.len()
        )));
    }
    let tcp: Vec<[f64; 3]> = states[..steps]
        .iter()
        .map(|q| {
            let p = arm.world_from_tcp(q).translation.vector;
            [p.x, p.y, p.z]
        })
        .collect();
    task.judge(&tcp)
        .with_context(|| format!("{}", episode.display()))
}

/// Judges an attempt from its episode: the tracker's last poses of the task's object.
pub fn judge_episode(scene: &Scene, task: &SlideTask, episode: &Path) -> Result<Outcome> {
    let input = crate::identify::read_input(episode, scene)?;
    let (xy, at_rest) = final_position(&input.episode, &task.spec.object)
        .with_context(|| format!("{}", episode.display()))?;
    Ok(task.judge(xy, at_rest))
}

/// Judges an opening attempt from its episode: the lid's angle about the hinge from the tracker's
/// orientations, averaged over the last 0.2 s; at rest when that mean differs from the mean of
/// 0.6-0.4 s before the end by less than 0.5 deg plus three standard errors of the two means.
pub fn judge_open_episode(scene: &Scene, task: &OpenTask, episode: &Path) -> Result<OpenOutcome> {
    let input = crate::identify::read_input(episode, scene)?;
    let ep = &input.episode;
    let object = &task.spec.object;
    let offset = ep
        .channel_offset(ChannelKind::ObjectPose, Some(object))
        .with_context(|| {
            format!(
                "{}: the episode does not track `{object}`'s orientation",
                episode.display()
            )
        })?;
    let rows: Vec<(f64, [f64; 1])> = ep
        .obs_t_s
        .iter()
        .zip(&ep.obs)
        .filter_map(|(t, row)| {
            let q: Option<Vec<f64>> = (3..7)
                .map(|k| row.get(offset + k).copied().flatten())
                .collect();
            let q = q?;
            let q = nalgebra::UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(
                q[0], q[1], q[2], q[3],
            ));
            Some((*t, [task.angle_of(&q)]))
        })
        .collect();
    let t_end = rows
        .last()
        .with_context(|| {
            format!(
                "{}: no tracked orientation of `{object}`",
                episode.display()
            )
        })?
        .0;
    let mean_over = |from: f64, to: f64| {
        window_mean(&rows, t_end - from, t_end - to).map(|([m], var)| (m, var))
    };
    let (last, var_last) = mean_over(0.2, 0.0).with_context(|| {
        format!(
            "{}: fewer than 2 tracked orientations in the last 0.2 s",
            episode.display()
        )
    })?;
    let at_rest = mean_over(0.6, 0.4).is_some_and(|(e, var_e)| {
        (e - last).abs() < 0.5f64.to_radians() + 3.0 * (var_e + var_last).sqrt()
    });
    Ok(task.judge(last, at_rest))
}

/// The mean of the `rows` sampled in `[from_s, to_s]` and the variance of that mean (squared
/// deviations summed over the components, / (n - 1) / n); `None` below 2 samples. The window
/// statistic of every task's judge.
fn window_mean<const N: usize>(
    rows: &[(f64, [f64; N])],
    from_s: f64,
    to_s: f64,
) -> Option<([f64; N], f64)> {
    let sel: Vec<&[f64; N]> = rows
        .iter()
        .filter(|(t, _)| *t >= from_s && *t <= to_s)
        .map(|r| &r.1)
        .collect();
    let n = sel.len() as f64;
    (sel.len() >= 2).then(|| {
        let m: [f64; N] = std::array::from_fn(|k| sel.iter().map(|p| p[k]).sum::<f64>() / n);
        let var = sel
            .iter()
            .map(|p| (0..N).map(|k| (p[k] - m[k]).powi(2)).sum::<f64>())
            .sum::<f64>()
            / (n - 1.0)
            / n;
        (m, var)
    })
}

/// Where the tracker last saw `object`: the mean of its positions over the episode's last 0.2 s (the
/// tracker's noise averages out), and whether that mean moved less than 3 mm (plus three standard
/// errors of the two means) from the mean of 0.6-0.4 s before the end.
pub fn final_position(episode: &asid_core::Episode, object: &str) -> Result<([f64; 2], bool)> {
    let offset = episode
        .channel_offset(ChannelKind::ObjectPose, Some(object))
        .or_else(|| episode.channel_offset(ChannelKind::ObjectPosition, Some(object)))
        .with_context(|| format!("the episode does not track `{object}`"))?;
    let rows: Vec<(f64, [f64; 2])> = episode
        .obs_t_s
        .iter()
        .zip(&episode.obs)
        .filter_map(|(t, row)| {
            Some((
                *t,
                [row.get(offset).copied()??, row.get(offset + 1).copied()??],
            ))
        })
        .collect();
    let t_end = rows
        .last()
        .with_context(|| format!("no tracked position of `{object}`"))?
        .0;
    let mean_over = |from: f64, to: f64| window_mean(&rows, t_end - from, t_end - to);
    let (last, var_last) =
        mean_over(0.2, 0.0).context("fewer than 2 tracked positions in the last 0.2 s")?;
    // At rest: the two means differ by less than 3 mm beyond what the tracker's noise explains.
    let at_rest = mean_over(0.6, 0.4).is_some_and(|(e, var_e)| {
        (e[0] - last[0]).hypot(e[1] - last[1]) < 0.003 + 3.0 * (var_e + var_last).sqrt()
    });
    Ok((last, at_rest))
}
