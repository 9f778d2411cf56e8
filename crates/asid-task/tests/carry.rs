//! The payload task in the payload scene: the success rule on hand-made tool paths, the oracle's
//! learned carry within the bound for a light and a heavy payload, the carry learned for the wrong
//! payload and the uncompensated carry outside it.

use std::path::Path;
use std::time::Instant;

use asid_task::{Belief, CarryTask, Mode, TaskPlanOptions, plan_carry};

fn sim() -> asid_sim::Simulator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/payload.toml");
    asid_sim::Simulator::load(&root).expect("payload scene")
}

fn theta(sim: &asid_sim::Simulator, mass_kg: f64, com: [f64; 2]) -> Vec<f64> {
    let space = &sim.scene().space;
    let mut t = space.nominal();
    t[space.index_of("payload.mass").expect("mass")] = mass_kg;
    t[space.index_of("payload.com_x").expect("com_x")] = com[0];
    t[space.index_of("payload.com_y").expect("com_y")] = com[1];
    t
}

fn point() -> TaskPlanOptions {
    TaskPlanOptions {
        mode: Mode::Point,
        samples: 1,
        seed: 1,
        ..Default::default()
    }
}

#[test]
fn the_success_rule_is_the_largest_distance_from_the_path() {
    let task = CarryTask::of_scene(sim().scene()).expect("task");
    let tol = task.spec.tolerance_m;
    let path = task.path().to_vec();
    assert_eq!(path.len(), task.horizon_steps() + 1);
    assert!(task.judge(&path).expect("judge").success);
    // One step off by the tolerance (straight up) still counts; a little more anywhere does not.
    let mut edge = path.clone();
    edge[7][2] += tol;
    let o = task.judge(&edge).expect("judge");
    assert!(o.success && o.worst_step == 7, "{o:?}");
    let mut off = path.clone();
    off[path.len() - 1][0] += 1.01 * tol;
    let o = task.judge(&off).expect("judge");
    assert!(!o.success && o.worst_step == path.len() - 1, "{o:?}");
    // The lead-in (the load taken up at the start) is not judged; the step after it is.
    let from = task.judged_from();
    let mut lead = path.clone();
    lead[from - 1][2] -= 0.005;
    assert!(task.judge(&lead).expect("judge").success);
    lead[from][2] -= 0.005;
    assert!(!task.judge(&lead).expect("judge").success);
    // The wrong number of points, or a non-finite one, is an error, not a verdict.
    assert!(task.judge(&path[1..]).is_err());
    let mut bad = path.clone();
    bad[3][1] = f64::NAN;
    assert!(task.judge(&bad).is_err());
    // The path starts at the arm's start and rests at the last waypoint.
    let last = *task.spec.path_m.last().expect("waypoints");
    assert_eq!(path[path.len() - 1], last);
    assert_eq!(path[path.len() - 1 - task.spec.settle_steps], last);
}

#[test]
fn the_learned_carry_tracks_the_path_for_its_payload_and_misses_for_another() {
    let sim = sim();
    let task = CarryTask::of_scene(sim.scene()).expect("task");
    let tol = task.spec.tolerance_m;
    let heavy = theta(&sim, 1.4, [0.02, -0.02]);
    let light = theta(&sim, 0.3, [-0.02, 0.02]);
    let path = task.path()[1..].to_vec();
    let uncompensated = task.actions(&path).expect("path actions");
    let raw = task
        .judge(&task.simulate(&sim, &heavy, &uncompensated).expect("sim"))
        .expect("judge");
    println!(
        "uncompensated, 1.4 kg: max {:.3} mm at step {}",
        raw.max_error_mm(),
        raw.worst_step
    );
    assert!(!raw.success, "the payload must pull the tool off the path");
    let mut plans = Vec::new();
    for (name, truth) in [("heavy", &heavy), ("light", &light)] {
        let t = Instant::now();
        let belief = Belief::point(&sim.scene().space, truth).expect("belief");
        let plan = plan_carry(&sim, &task, &belief, &point(), &|_| Ok(())).expect("plan");
        let at_truth = task
            .judge(&task.simulate(&sim, truth, &plan.actions).expect("sim"))
            .expect("judge");
        println!(
            "oracle {name}: learning {:?} mm, lift {:.3} mm, at the truth max {:.3} mm (rms {:.3}), \
             {} rollouts, {:.1} s",
            plan.learning_error_m
                .iter()
                .map(|e| (1e4 * e).round() / 10.0)
                .collect::<Vec<_>>(),
            1e3 * plan.rest_lift_m,
            at_truth.max_error_mm(),
            1e3 * at_truth.rms_error_m,
            plan.rollouts,
            t.elapsed().as_secs_f64()
        );
        assert!(at_truth.success, "{name}: {at_truth:?}");
        assert!(at_truth.max_error_m < 0.5 * tol, "{name}: {at_truth:?}");
        plans.push(plan);
    }
    // Each plan run with the other payload: the feed-forward is wrong by 1.1 kg.
    for (plan, truth, name) in [
        (&plans[0], &light, "heavy plan, light payload"),
        (&plans[1], &heavy, "light plan, heavy payload"),
    ] {
        let o = task
            .judge(&task.simulate(&sim, truth, &plan.actions).expect("sim"))
            .expect("judge");
        println!("{name}: max {:.3} mm", o.max_error_mm());
        assert!(!o.success, "{name}: {o:?}");
    }
}
