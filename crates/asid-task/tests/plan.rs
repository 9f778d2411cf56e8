//! The task planner in the simulator: oracle plans succeed where the physics allows, the primitive
//! respects its limits, beliefs sample inside the bounds.

use std::path::Path;

use asid_task::{Belief, Mode, SlideTask, TaskPlanOptions, plan_task};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn sim(scene: &str) -> asid_sim::Simulator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    asid_sim::Simulator::load(&root.join(scene)).expect("scene loads")
}

fn small(mode: Mode) -> TaskPlanOptions {
    TaskPlanOptions {
        mode,
        samples: 3,
        population: 12,
        iterations: 5,
        seed: 3,
    }
}

/// With the true parameters the planner finds a push that puts the object in the zone (the
/// planner's own search can fail: too small a budget or an unreachable zone).
#[test]
fn oracle_plans_succeed_on_shuffleboard_and_sphere() {
    for (scene, goal, truth) in [
        ("scenes/shuffleboard.toml", "near", vec![0.2, 0.006]),
        ("scenes/sphere.toml", "target", vec![0.02, 0.5]),
    ] {
        let sim = sim(scene);
        let task = SlideTask::new(sim.scene(), Some(goal)).expect("task");
        let belief = Belief::point(&sim.scene().space, &truth).expect("belief");
        // A 3-number strike needs more than the small budget.
        let opts = TaskPlanOptions {
            population: 24,
            iterations: 8,
            ..small(Mode::Point)
        };
        let plan = plan_task(&sim, &task, &belief, &opts, &|_| Ok(())).expect("a plan");
        assert_eq!(plan.predicted_success, 1.0, "{scene}: {plan:?}");
        assert_eq!(plan.actions.len(), task.spec.horizon_steps);
    }
}

/// Robust mode over a narrow belief around a reachable truth: the plan still succeeds on fresh
/// samples (its prediction is scored on samples it was not chosen on) and at the truth itself.
#[test]
fn robust_plans_hold_on_fresh_samples_of_a_narrow_belief() {
    let sim = sim("scenes/shuffleboard.toml");
    let task = SlideTask::new(sim.scene(), Some("near")).expect("task");
    let truth = [0.2, 0.006];
    let belief = Belief {
        source: asid_task::BeliefSource::Fit,
        estimate: truth.to_vec(),
        covariance: vec![vec![1e-6, 0.0], vec![0.0, 1e-8]],
        determined: vec![true, true],
        structure_weights: Vec::new(),
        interval95: Vec::new(),
    };
    let opts = TaskPlanOptions {
        population: 16,
        iterations: 6,
        ..small(Mode::Robust)
    };
    let plan = plan_task(&sim, &task, &belief, &opts, &|_| Ok(())).expect("a plan");
    assert!(plan.predicted_success >= 0.9, "{plan:?}");
    let at_truth = task
        .simulate(&sim, &truth, &plan.primitive)
        .expect("at the truth");
    assert!(at_truth.success, "{at_truth:?}");
}

/// A candidate the arm check refuses is never the plan; when it refuses everything, the planner
/// says so instead of returning a refused plan.
#[test]
fn the_arm_check_decides_what_may_be_planned() {
    let sim = sim("scenes/shuffleboard.toml");
    let task = SlideTask::new(sim.scene(), Some("near")).expect("task");
    let belief = Belief::point(&sim.scene().space, &[0.2, 0.006]).expect("belief");
    // Refuse every push faster than 0.3 m/s at its peak.
    let slow = |a: &[Vec<f64>]| {
        let peak = a.iter().map(|s| s[0].hypot(s[1])).fold(0.0, f64::max) / 0.1;
        if peak > 0.3 + 1e-9 {
            Err(format!("peak {peak} m/s"))
        } else {
            Ok(())
        }
    };
    let plan = plan_task(&sim, &task, &belief, &small(Mode::Point), &slow).expect("a plan");
    assert!(slow(&plan.actions).is_ok(), "{:?}", plan.primitive);
    let err = plan_task(&sim, &task, &belief, &small(Mode::Point), &|_| {
        Err("no".into())
    })
    .expect_err("nothing passes");
    assert!(err.to_string().contains("arm's limits"), "{err}");
}

/// The push travels exactly the chosen distance, never steps more than the action space allows,
/// and changes speed by at most accel * period from one period to the next (into and out of rest).
#[test]
fn the_push_profile_respects_travel_step_and_acceleration() {
    let sim = sim("scenes/shuffleboard.toml");
    let task = SlideTask::new(sim.scene(), Some("far")).expect("task");
    let dt = sim.scene().control_period_s();
    for x in [[0.1, 0.08], [0.33, 0.1], [0.75, 0.14], [0.45, 0.123]] {
        let (actions, moving) = task.actions(&x).expect("actions");
        // The board runs along +y: the move to the pre-push point has an x component, the push none.
        let push = actions
            .iter()
            .position(|a| a[0] == 0.0 && a[1] > 0.0)
            .expect("a push");
        assert!(
            push > 0,
            "{x:?}: the tool first moves to its pre-push point"
        );
        assert!(actions[push..].iter().all(|a| a[0] == 0.0), "{x:?}");
        let steps: Vec<f64> = actions[push..].iter().map(|a| a[0].hypot(a[1])).collect();
        let moving = moving - push;
        let travel: f64 = steps.iter().sum();
        assert!((travel - x[1]).abs() < 1e-9, "{x:?}: travel {travel}");
        assert!(steps.iter().all(|s| *s <= 0.075 + 1e-12), "{x:?}");
        assert!(
            steps[moving..].iter().all(|s| *s == 0.0),
            "holds after the push"
        );
        let mut last = 0.0;
        for s in steps.iter().chain([&0.0]) {
            // Speed change between periods (m/s) against accel * period.
            let dv = (s - last).abs() / dt;
            assert!(dv <= task.spec.accel_mps2 * dt + 1e-9, "{x:?}: {steps:?}");
            last = *s;
        }
        assert!(steps.iter().fold(0.0_f64, |m, s| m.max(*s)) / dt <= x[0] + 1e-9);
    }
    let err = task.actions(&[0.8, 0.1]).expect_err("outside the box");
    assert!(err.to_string().contains("outside the box"), "{err}");
}

#[test]
fn beliefs_sample_inside_the_bounds() {
    let sim = sim("scenes/sphere.toml");
    let space = &sim.scene().space;
    let mut rng = StdRng::seed_from_u64(1);
    for theta in Belief::prior(space).samples(space, 50, &mut rng) {
        space.check(&theta).expect("prior sample inside the bounds");
    }
    let point = Belief::point(space, &[0.01, 0.5]).expect("point");
    assert!(
        point
            .samples(space, 5, &mut rng)
            .iter()
            .all(|t| t == &vec![0.01, 0.5])
    );
    assert!(
        Belief::point(space, &[0.5, 0.5]).is_err(),
        "outside the bounds"
    );
}
