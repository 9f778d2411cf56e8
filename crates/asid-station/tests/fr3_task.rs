//! On a Franka the task planner keeps only candidates the 1 kHz control loop can run (the
//! exploration planner's check). The FR3 scene's own task (ramps at 0.5 m/s^2) has such plans; the
//! FR3 shuffleboard with a forward push that ramps at 6 m/s^2 (the Panda scene's task until it was
//! turned across the board) shows the check at work: every push of that primitive leaves rest
//! within one 10 Hz period, which at 1 kHz peaks `fr3_joint4` above 80 % of its acceleration
//! limit, so with the check no plan exists, and without it (the simulated lab) one does.

use std::path::{Path, PathBuf};

use asid_explore::arm_check::ArmCheck;
use asid_task::{Belief, SlideTask, TaskPlanOptions};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A forward push (+x) that leaves rest and brakes at 6 m/s^2.
const FORWARD_TASK: &str = r#"
[task]
kind = "slide_to_zone"
object = "puck"
horizon_steps = 30
speed_mps = [0.1, 0.6]
travel_m = [0.08, 0.14]
accel_mps2 = 6.0

[[task.goal]]
name = "near"
center_xy_m = [0.60, 0.0]
size_xy_m = [0.03, 0.4]
"#;

/// The FR3 scene with [`FORWARD_TASK`], in a temporary directory beside a link to the repository's
/// `robots/` (where a scene's robot and tool are looked up).
fn fr3_with_task() -> asid_sim::Simulator {
    let fr3 = std::fs::read_to_string(repo().join("scenes/shuffleboard_fr3.toml")).expect("fr3");
    // The FR3 scene's own, gentler, task is replaced.
    let fr3 = &fr3[..fr3.find("\n[task]").unwrap_or(fr3.len())];
    let dir = std::env::temp_dir().join(format!("asid-fr3-task-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let robots = dir.join("robots");
    if !robots.exists() {
        std::os::unix::fs::symlink(repo().join("robots"), &robots).expect("link robots");
    }
    let path = dir.join("shuffleboard_fr3_task.toml");
    std::fs::write(&path, format!("{fr3}{FORWARD_TASK}")).expect("write scene");
    let sim = asid_sim::Simulator::load(&path);
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
    sim.expect("FR3 scene with the task")
}

/// The station's task plan for `task` with the safety limits of `asid run` (100 ms watchdog), the
/// 1 kHz check on or off.
fn plan(
    sim: &asid_sim::Simulator,
    task: &SlideTask,
    belief: &Belief,
    opts: &TaskPlanOptions,
    control_loop: bool,
) -> asid_station::Result<asid_task::TaskPlan> {
    let limits = asid_station::checks::limits_for(sim.scene(), 100);
    asid_station::task::plan(
        sim,
        task,
        belief,
        opts,
        asid_station::task::TaskChecks {
            limits: &limits,
            control_loop,
        },
    )
}

#[test]
fn on_a_franka_task_candidates_must_pass_the_1khz_check() {
    let sim = fr3_with_task();
    let check = ArmCheck::for_scene(sim.scene(), sim.arm()).expect("a Franka scene");
    let spec = &sim.scene().spec.arm.action;
    let near = SlideTask::new(sim.scene(), Some("near")).expect("task");
    // The gentlest push of the box already breaks the 1 kHz limits at its first target.
    let (actions, _) = near.actions(&[0.1, 0.08]).expect("actions");
    let err = check
        .check(spec, sim.arm(), &actions)
        .expect_err("0.1 m/s from rest in one period")
        .to_string();
    assert!(err.contains("acceleration limit"), "{err}");

    let belief = Belief::prior(&sim.scene().space);
    let opts = TaskPlanOptions {
        samples: 2,
        population: 8,
        iterations: 2,
        seed: 1,
        ..Default::default()
    };
    let refused =
        plan(&sim, &near, &belief, &opts, true).expect_err("no push passes the 1 kHz check");
    assert!(refused.to_string().contains("no push"), "{refused}");
    let plan = plan(&sim, &near, &belief, &opts, false).expect("the simulated lab's plan");
    assert!(!plan.actions.is_empty());
}

/// The FR3 scene's own task ramps gently enough: with an oracle belief (the scene's nominal
/// frictions) the planner finds a push that the 1 kHz check passes and that puts the puck in the
/// zone in the simulator.
#[test]
fn the_fr3_scenes_own_task_plans_pass_the_1khz_check() {
    let sim =
        asid_sim::Simulator::load(&repo().join("scenes/shuffleboard_fr3.toml")).expect("scene");
    let check = ArmCheck::for_scene(sim.scene(), sim.arm()).expect("a Franka scene");
    let near = SlideTask::new(sim.scene(), Some("near")).expect("the FR3 task");
    let truth = [0.3, 0.008];
    let belief = Belief::point(&sim.scene().space, &truth).expect("oracle belief");
    let opts = TaskPlanOptions {
        mode: asid_task::Mode::Point,
        population: 12,
        iterations: 3,
        seed: 2,
        ..Default::default()
    };
    let plan = plan(&sim, &near, &belief, &opts, true).expect("a push the arm can run");
    let report = check
        .check(&sim.scene().spec.arm.action, sim.arm(), &plan.actions)
        .expect("the plan passes the 1 kHz check");
    println!("plan {:?}: {report:?}", plan.primitive);
    let outcome = near
        .simulate(&sim, &truth, &plan.primitive)
        .expect("simulated attempt");
    assert!(
        outcome.success,
        "the oracle plan {:?} misses the zone: {outcome:?}",
        plan.primitive
    );
}
