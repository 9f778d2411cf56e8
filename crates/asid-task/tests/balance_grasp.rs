//! Can the Franka Hand carry out a balancing plan itself? In `scenes/rod_balance.toml` (the rod
//! scene with the hand as its tool), the library's pick-and-place motion
//! ([`asid_task::pick_place`]) picks the rod at the planned offset, lifts it, carries the grasp
//! point over the perch, lowers it onto the perch, opens and backs off; the balancing rule then
//! judges the rod as it judges a placement without the arm.

use std::path::{Path, PathBuf};
use std::time::Instant;

use asid_task::balance::BalanceOutcome;
use asid_task::pick_place::{BalanceMotion, MotionStep, PickPlace, run_in_world};
use asid_task::{Belief, Mode, TaskPlanOptions, plan_balance};
use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scene() -> asid_sim::Simulator {
    asid_sim::Simulator::load(&repo().join("scenes/rod_balance.toml"))
        .unwrap_or_else(|e| panic!("rod_balance scene: {e}"))
}

/// What a pick and place did.
#[derive(Debug)]
struct Attempt {
    /// Whether the grasp held the rod, and the opening it stopped at.
    grasp: Option<(bool, f64)>,
    /// Where the grasp point was, along the perch's narrow axis (world y), relative to the perch's
    /// centre just before the hand opened.
    placed_error_m: f64,
    /// The rod's outcome.
    outcome: BalanceOutcome,
}

/// Picks the rod (centre of mass `com_m`, turned `yaw_rad` about the vertical from its scene pose)
/// at `offset_m` along its axis with the library's motion and lets it settle on the perch.
fn pick_and_place(sim: &asid_sim::Simulator, com_m: f64, offset_m: f64, yaw_rad: f64) -> Attempt {
    let space = &sim.scene().space;
    let mut theta = space.nominal();
    theta[space.index_of("rod.com_offset").expect("com_offset")] = com_m;
    let mut w = sim.world(&theta).expect("world");
    let motion = BalanceMotion::of_scene(sim.scene()).expect("balance task");
    let rod0 = w.object_pose("rod").expect("rod");
    let rod = Isometry3::from_parts(
        Translation3::from(rod0.translation.vector),
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw_rad) * rod0.rotation,
    );
    w.set_object_pose("rod", &rod).expect("turn the rod");
    let (q0, _) = asid_sim::start_of(sim.scene(), sim.arm()).expect("start");
    let plan = motion
        .plan(
            sim.arm(),
            &q0,
            &rod,
            offset_m,
            sim.scene().control_period_s(),
        )
        .expect("motion");
    // Up to the release, then measure where the grasp point is, then the rest.
    let release = plan
        .steps
        .iter()
        .rposition(|s| matches!(s, MotionStep::Open { .. }))
        .expect("a release");
    let part = |steps: &[MotionStep]| PickPlace {
        steps: steps.to_vec(),
        ..plan.clone()
    };
    let log = run_in_world(&mut w, &part(&plan.steps[..release])).expect("carry");
    let grasp = log.grasps.first().copied();
    let before = w.object_pose("rod").expect("rod");
    let point = before.translation.vector + before.rotation * Vector3::new(0.0, offset_m, 0.0);
    let top = motion.task.perch.top_m;
    if grasp.is_some_and(|g| g.0) {
        run_in_world(&mut w, &part(&plan.steps[release..])).expect("release");
    }
    Attempt {
        grasp,
        placed_error_m: point.y - top.y,
        outcome: motion.task.perch.judge(&w).expect("judged"),
    }
}

/// The oracle plan of the planner (made without the arm) carried out by the hand: picked at the
/// planned offset and set on the perch, the rod stays up at the paper's three centres of mass, also
/// when it lies turned on the table; the plan for another centre of mass, carried out the same
/// way, drops it; the hand keeps the perch's tolerance (3 mm off stays up, 6 mm off falls).
#[test]
fn the_hand_carries_out_oracle_plans_and_the_rod_balances() {
    let sim = scene();
    let motion = BalanceMotion::of_scene(sim.scene()).expect("task");
    let space = &sim.scene().space;
    let t = Instant::now();
    let mut plans = Vec::new();
    for (com_m, yaw) in [(-0.045, 0.0), (0.0, 0.7), (0.03, -1.2)] {
        let mut theta = space.nominal();
        theta[space.index_of("rod.com_offset").expect("com_offset")] = com_m;
        let belief = Belief::point(space, &theta).expect("belief");
        let opts = TaskPlanOptions {
            mode: Mode::Point,
            samples: 1,
            population: 12,
            iterations: 5,
            seed: 7,
        };
        let plan = plan_balance(&sim, &motion.task, &belief, &opts).expect("plan");
        let a = pick_and_place(&sim, com_m, plan.offset_m, yaw);
        eprintln!(
            "com {com_m:+.3} m, rod turned {yaw:+.1} rad, plan {:+.4} m: {a:?}",
            plan.offset_m
        );
        let (held, width) = a.grasp.expect("a grasp");
        assert!(held && (width - 0.04).abs() < 0.005, "{a:?}");
        assert!(a.placed_error_m.abs() < 1e-3, "{a:?}");
        assert!(a.outcome.success && a.outcome.tilt_deg < 1.0, "{a:?}");
        plans.push((com_m, plan.offset_m));
    }
    for (planned, truth) in [(-0.045, 0.03), (0.03, 0.0)] {
        let offset = plans.iter().find(|(c, _)| *c == planned).map(|(_, x)| *x);
        let a = pick_and_place(&sim, truth, offset.expect("planned"), 0.0);
        eprintln!("plan for {planned:+.3} m, truth {truth:+.3} m: {a:?}");
        assert!(a.grasp.is_some_and(|g| g.0), "{a:?}");
        assert!(!a.outcome.success, "{a:?}");
    }
    for off in [-0.006, -0.003, 0.003, 0.006] {
        let a = pick_and_place(&sim, 0.0, off, 0.0);
        eprintln!("com 0, picked {off:+.3} m off: {a:?}");
        assert_eq!(a.outcome.success, off.abs() < 0.005, "{off}: {a:?}");
    }
    eprintln!("{:.1} s", t.elapsed().as_secs_f64());
}

/// Offsets outside the rod's graspable stretch and a rod standing on end are refused before
/// anything moves.
#[test]
fn impossible_motions_are_refused() {
    let sim = scene();
    let motion = BalanceMotion::of_scene(sim.scene()).expect("task");
    let (q0, _) = asid_sim::start_of(sim.scene(), sim.arm()).expect("start");
    let w = sim.world(&sim.scene().space.nominal()).expect("world");
    let rod = w.object_pose("rod").expect("rod");
    let period = sim.scene().control_period_s();
    let e = motion
        .plan(sim.arm(), &q0, &rod, 0.2, period)
        .expect_err("beyond the rod");
    assert!(e.to_string().contains("grasp offset 0.2 m outside"), "{e}");
    let upright = Isometry3::from_parts(
        rod.translation,
        UnitQuaternion::from_axis_angle(&Vector3::x_axis(), 1.2),
    );
    let e = motion
        .plan(sim.arm(), &q0, &upright, 0.0, period)
        .expect_err("standing rod");
    assert!(e.to_string().contains("not lying flat"), "{e}");
}
