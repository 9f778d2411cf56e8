//! Step 4 of the loop: plan the scene's task against the fit's belief and run it on the arm, for
//! each kind of task: every goal zone of a slide task (a push in the scene's action space), the
//! balancing task (the hand's pick-and-place motion, [`crate::balance`]), or the opening of a lid
//! (a push along the believed hinge's arc in the scene's action space, or nothing when the belief
//! holds the lid welded), or the carry of a payload (tool targets learned in the identified
//! simulator, in the scene's action space).

use std::path::Path;
use std::time::Instant;

use asid_arm::SafetyLimits;
use asid_sim::Simulator;
use asid_task::Belief;

use crate::balance::{BalanceAttempt, balance_limits, plan_attempt};
use crate::error::{Context, Result};
use crate::event::{Event, Observer};
use crate::executor::Work;
use crate::report::TaskReport;
use crate::session::{
    ArmTarget, Motion, Station, elapsed, plan_task_step, slide_goals, task_entry, write_json,
};

/// The report entry of a planned (not yet run) balancing attempt.
fn balance_entry(perch: &str, attempt: &BalanceAttempt) -> TaskReport {
    TaskReport::planned(
        perch,
        vec![attempt.plan.offset_m],
        attempt.plan.predicted_success,
    )
}

/// Plans the balancing attempt of a scene with a balancing task (None for other scenes) and
/// writes `task-<perch>.json`.
pub(crate) fn replan_balance(
    sim: &Simulator,
    belief: &Belief,
    seed: u64,
    limits: &SafetyLimits,
    dir: &Path,
    obs: &mut dyn Observer,
) -> Result<Option<TaskReport>> {
    if sim
        .scene()
        .spec
        .task
        .as_ref()
        .and_then(|t| t.balance())
        .is_none()
    {
        return Ok(None);
    }
    let (motion, _, attempt) = plan_balancing(sim, belief, seed, limits, dir, obs)?;
    Ok(Some(balance_entry(&motion.spec.perch, &attempt)))
}

/// Plans, checks and writes the balancing attempt; tells the observers. Returns the task, the
/// safety limits its motion is checked and run with ([`balance_limits`]) and the attempt.
fn plan_balancing(
    sim: &Simulator,
    belief: &Belief,
    seed: u64,
    limits: &SafetyLimits,
    dir: &Path,
    obs: &mut dyn Observer,
) -> Result<(
    asid_task::pick_place::BalanceMotion,
    SafetyLimits,
    BalanceAttempt,
)> {
    let motion = asid_task::pick_place::BalanceMotion::of_scene(sim.scene())?;
    let limits = balance_limits(limits, &motion);
    let opts = asid_task::TaskPlanOptions {
        seed,
        ..Default::default()
    };
    let attempt = plan_attempt(sim, &motion, belief, &opts, &limits)?;
    let file = format!("task-{}.json", motion.spec.perch);
    write_json(dir, &file, &attempt)?;
    obs.observe(&Event::BalancePlanned {
        perch: &motion.spec.perch,
        attempt: &attempt,
    });
    obs.observe(&Event::DryRunPassed { what: &file });
    Ok((motion, limits, attempt))
}

/// Plans the opening of the scene's lid against `belief` (robust), writes `task-<lid>.json`, puts a
/// plan that moves through the dry run and tells the observers. Returns the task, the plan and its report entry (the lid's name as goal).
pub(crate) fn plan_opening(
    sim: &Simulator,
    belief: &Belief,
    seed: u64,
    checks: crate::task::TaskChecks<'_>,
    dir: &Path,
    obs: &mut dyn Observer,
) -> Result<(asid_task::OpenTask, asid_task::OpenPlan, TaskReport)> {
    let open = asid_task::OpenTask::of_scene(sim.scene())?;
    let opts = asid_task::TaskPlanOptions {
        seed,
        ..Default::default()
    };
    let plan = crate::task::plan_open(sim, &open, belief, &opts, checks)
        .with_context(|| "planning the opening".to_string())?;
    let file = format!("task-{}.json", open.spec.object);
    write_json(dir, &file, &plan)?;
    obs.observe(&Event::OpenPlanned(&plan));
    if !plan.nothing_to_open {
        crate::checks::dry_run(sim, &plan.actions, checks.limits).with_context(|| file.clone())?;
        obs.observe(&Event::DryRunPassed { what: &file });
    }
    let mut entry = TaskReport::planned(
        &open.spec.object,
        plan.primitive.clone(),
        plan.predicted_success,
    );
    entry.nothing_to_open = plan.nothing_to_open;
    Ok((open, plan, entry))
}

/// Plans the carry of the scene's payload against `belief` (robust), writes `task-<payload>.json`,
/// puts the plan through the dry run and tells the observers.
pub(crate) fn plan_carrying(
    sim: &Simulator,
    belief: &Belief,
    seed: u64,
    checks: crate::task::TaskChecks<'_>,
    dir: &Path,
    obs: &mut dyn Observer,
) -> Result<(asid_task::CarryTask, asid_task::CarryPlan, TaskReport)> {
    let task = asid_task::CarryTask::of_scene(sim.scene())?;
    let opts = asid_task::TaskPlanOptions {
        seed,
        ..Default::default()
    };
    let plan = crate::task::plan_carry(sim, &task, belief, &opts, checks)
        .with_context(|| "planning the carry".to_string())?;
    let file = format!("task-{}.json", task.spec.object);
    write_json(dir, &file, &plan)?;
    obs.observe(&Event::CarryPlanned(&plan));
    crate::checks::dry_run(sim, &plan.actions, checks.limits).with_context(|| file.clone())?;
    obs.observe(&Event::DryRunPassed { what: &file });
    let entry = TaskReport::planned(
        &task.spec.object,
        vec![plan.rest_lift_m],
        plan.predicted_success,
    );
    Ok((task, plan, entry))
}

impl Station<'_> {
    /// What every task plan of this run must pass: `arm`'s limits, and the 1 kHz control loop's
    /// check when the arm is a Franka.
    fn task_checks<'a>(&self, arm: &Motion<'a>) -> crate::task::TaskChecks<'a> {
        crate::task::TaskChecks {
            limits: arm.limits,
            control_loop: matches!(self.arm, ArmTarget::Franka(_)),
        }
    }

    /// Plans and runs the scene's task against `belief`; fills the report's task entries and
    /// timings.
    pub(crate) fn task_step(
        &mut self,
        arm: &Motion<'_>,
        belief: &Belief,
        report: &mut crate::Report,
        obs: &mut dyn Observer,
    ) -> Result<()> {
        let sim = self.sim;
        let scene = sim.scene();
        let (mut plan_s, mut run_s) = (0.0, 0.0);
        if scene.spec.task.as_ref().and_then(|t| t.balance()).is_some() {
            let t = Instant::now();
            let (motion, limits, attempt) =
                plan_balancing(sim, belief, self.opts.seed, arm.limits, self.dir, obs)?;
            plan_s += elapsed(t);
            let t = Instant::now();
            let perch = motion.spec.perch.clone();
            let name = format!("task-{perch}");
            let episode = self.dir.join(format!("{name}.mcap"));
            report.tasks.push(balance_entry(&perch, &attempt));
            let widened = Motion {
                limits: &limits,
                ..*arm
            };
            self.execute(
                &widened,
                Work::Motion(&attempt.motion.steps),
                "task",
                &format!("{name}.json"),
                &episode,
                obs,
            )?;
            let outcome =
                crate::balance::judge_episode(&motion, &sim.arm().world_from_base, &episode)?;
            run_s += elapsed(t);
            obs.observe(&Event::BalanceOutcome {
                perch: &perch,
                outcome: &outcome,
            });
            // The entry pushed before the run (a failed run leaves it as planned) gets the outcome.
            if let Some(entry) = report.tasks.last_mut() {
                entry.tilt_deg = Some(outcome.metric_deg());
                entry.success = Some(outcome.success);
                entry.episode = Some(format!("{name}.mcap"));
            }
        }
        if scene.spec.task.as_ref().and_then(|t| t.open()).is_some() {
            let t = Instant::now();
            let checks = self.task_checks(arm);
            let (open, plan, entry) =
                plan_opening(sim, belief, self.opts.seed, checks, self.dir, obs)?;
            plan_s += elapsed(t);
            report.tasks.push(entry);
            if !plan.nothing_to_open {
                let t = Instant::now();
                let name = format!("task-{}", open.spec.object);
                let episode = self.dir.join(format!("{name}.mcap"));
                self.execute(
                    arm,
                    Work::Actions(&plan.actions),
                    "task",
                    &format!("{name}.json"),
                    &episode,
                    obs,
                )?;
                let outcome = crate::task::judge_open_episode(scene, &open, &episode)?;
                run_s += elapsed(t);
                obs.observe(&Event::OpenOutcome(&outcome));
                if let Some(entry) = report.tasks.last_mut() {
                    entry.angle_rad = Some(outcome.angle_rad);
                    entry.angle_error_deg = Some(outcome.error_deg());
                    entry.success = Some(outcome.success);
                    entry.at_rest = Some(outcome.at_rest);
                    entry.episode = Some(format!("{name}.mcap"));
                }
            }
        }
        if scene.spec.task.as_ref().and_then(|t| t.carry()).is_some() {
            let t = Instant::now();
            let checks = self.task_checks(arm);
            let (task, plan, entry) =
                plan_carrying(sim, belief, self.opts.seed, checks, self.dir, obs)?;
            plan_s += elapsed(t);
            report.tasks.push(entry);
            let t = Instant::now();
            let name = format!("task-{}", task.spec.object);
            let episode = self.dir.join(format!("{name}.mcap"));
            self.execute(
                arm,
                Work::Actions(&plan.actions),
                "task",
                &format!("{name}.json"),
                &episode,
                obs,
            )?;
            let outcome = crate::task::judge_carry_episode(sim, &task, &episode)?;
            run_s += elapsed(t);
            obs.observe(&Event::CarryOutcome(&outcome));
            if let Some(entry) = report.tasks.last_mut() {
                entry.max_error_mm = Some(outcome.max_error_mm());
                entry.rms_error_mm = Some(1e3 * outcome.rms_error_m);
                entry.worst_step = Some(outcome.worst_step);
                entry.success = Some(outcome.success);
                entry.episode = Some(format!("{name}.mcap"));
            }
        }
        for goal in slide_goals(scene) {
            let t = Instant::now();
            let checks = self.task_checks(arm);
            let (task, plan) =
                plan_task_step(sim, &goal, belief, checks, &self.opts, self.dir, obs)?;
            plan_s += elapsed(t);
            let t = Instant::now();
            let name = format!("task-{goal}");
            let episode = self.dir.join(format!("{name}.mcap"));
            report.tasks.push(task_entry(&goal, &plan));
            self.execute(
                arm,
                Work::Actions(&plan.actions),
                "task",
                &format!("{name}.json"),
                &episode,
                obs,
            )?;
            let outcome = crate::task::judge_episode(scene, &task, &episode)?;
            run_s += elapsed(t);
            obs.observe(&Event::TaskOutcome {
                goal: &goal,
                outcome: &outcome,
            });
            if let Some(entry) = report.tasks.last_mut() {
                entry.object_xy_m = Some(outcome.object_xy_m);
                entry.distance_m = Some(outcome.distance_m);
                entry.success = Some(outcome.success);
                entry.at_rest = Some(outcome.at_rest);
                entry.episode = Some(format!("{name}.mcap"));
            }
        }
        report.timings_s.insert("plan_task".into(), plan_s);
        report.timings_s.insert("execute_task".into(), run_s);
        Ok(())
    }
}
