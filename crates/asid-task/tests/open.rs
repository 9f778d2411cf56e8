//! The articulation task in the articulation scene: the success rule on hand-made lids, the
//! oracle's plan opening the lid to the target for axes low, middle and high, the plan for a wrong
//! axis missing it, and a welded lid left alone.

use std::path::Path;
use std::time::Instant;

use asid_task::{Belief, Mode, OpenTask, TaskPlanOptions, plan_open};
use nalgebra::{UnitQuaternion, Vector3};

fn sim() -> asid_sim::Simulator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/articulation.toml");
    asid_sim::Simulator::load(&root).expect("articulation scene")
}

/// The scene's nominal parameters with the hinge `present` and its axis moved by `offset_m`.
fn theta_at(sim: &asid_sim::Simulator, present: bool, offset_m: f64) -> Vec<f64> {
    let space = &sim.scene().space;
    let mut theta = space.nominal();
    theta[space.index_of("lid.hinge.present").expect("present")] = f64::from(u8::from(present));
    theta[space.index_of("lid.hinge.axis_offset").expect("offset")] = offset_m;
    theta[space.index_of("lid.hinge.damping").expect("damping")] = 0.1;
    theta
}

fn opts() -> TaskPlanOptions {
    TaskPlanOptions {
        mode: Mode::Point,
        samples: 1,
        population: 10,
        iterations: 4,
        seed: 3,
    }
}

#[test]
fn the_success_rule_reads_the_lids_turn_about_the_hinge() {
    let task = OpenTask::of_scene(sim().scene()).expect("task");
    let target = task.spec.target_rad;
    let tol = task.spec.tolerance_rad;
    let about_y = |a: f64| UnitQuaternion::from_axis_angle(&Vector3::y_axis(), a);
    // The angle is the turn about the hinge (y), whatever the quaternion's sign.
    assert!((task.angle_of(&about_y(0.3)) - 0.3).abs() < 1e-12);
    let flipped = UnitQuaternion::new_unchecked(-about_y(0.3).into_inner());
    assert!((task.angle_of(&flipped) - 0.3).abs() < 1e-12);
    assert!(task.angle_of(&about_y(-0.1)) < 0.0, "closing is negative");
    // At the target: success; 6 deg off either way: not; on the tolerance's edge: counts.
    assert!(task.judge(target, true).success);
    assert!(!task.judge(target + 6f64.to_radians(), true).success);
    assert!(!task.judge(target - 6f64.to_radians(), true).success);
    assert!(task.judge(target + tol, true).success);
    // Still turning: not a success even at the target.
    assert!(!task.judge(target, false).success);
    assert!((task.judge(target + 0.1, true).error_deg() - 0.1f64.to_degrees()).abs() < 1e-9);
}

#[test]
fn the_oracle_opens_the_lid_to_the_target_and_a_wrong_axis_misses() {
    let sim = sim();
    let task = OpenTask::of_scene(sim.scene()).expect("task");
    let space = &sim.scene().space;
    let mut plans = Vec::new();
    for offset in [-0.03, 0.0, 0.03] {
        let truth = theta_at(&sim, true, offset);
        let belief = Belief::point(space, &truth).expect("belief");
        let t = Instant::now();
        let plan = plan_open(&sim, &task, &belief, &opts(), &|_| Ok(())).expect("a plan");
        let at_truth = task
            .simulate(&sim, &truth, &plan.actions)
            .expect("simulates");
        println!(
            "axis {offset:+.3}: commanded {:.3} rad at {:.3} m ({} rollouts, {:.1} s): angle {:.3} rad, error {:.2} deg, at rest {}",
            plan.primitive[0],
            plan.primitive[1],
            plan.rollouts,
            t.elapsed().as_secs_f64(),
            at_truth.angle_rad,
            at_truth.error_deg(),
            at_truth.at_rest
        );
        assert!(!plan.nothing_to_open);
        assert!(at_truth.success, "{at_truth:?}");
        plans.push((offset, plan, at_truth));
    }
    // The plan for the axis 3 cm low, run on a lid whose axis is 3 cm high (and the reverse).
    for (a, b) in [(0, 2), (2, 0)] {
        let (planned_for, plan, _) = &plans[a];
        let (truth_offset, _, oracle) = &plans[b];
        let wrong = task
            .simulate(&sim, &theta_at(&sim, true, *truth_offset), &plan.actions)
            .expect("simulates");
        println!(
            "planned for {planned_for:+.3}, axis at {truth_offset:+.3}: error {:.2} deg (oracle {:.2})",
            wrong.error_deg(),
            oracle.error_deg()
        );
        assert!(
            wrong.error_rad > oracle.error_rad + 1f64.to_radians(),
            "{wrong:?}"
        );
    }
}

#[test]
fn a_welded_lid_is_left_alone() {
    let sim = sim();
    let task = OpenTask::of_scene(sim.scene()).expect("task");
    let belief = Belief::point(&sim.scene().space, &theta_at(&sim, false, 0.0)).expect("belief");
    let plan = plan_open(&sim, &task, &belief, &opts(), &|_| Ok(())).expect("a plan");
    assert!(plan.nothing_to_open && plan.actions.is_empty(), "{plan:?}");
    assert_eq!(plan.p_hinged, 0.0);
}

#[test]
fn the_chance_of_a_hinge_comes_from_the_fits_weights_the_prior_or_the_samples() {
    let sim = sim();
    let task = OpenTask::of_scene(sim.scene()).expect("task");
    let space = &sim.scene().space;
    // The prior: even odds, exactly, and a robust plan opens.
    let prior = Belief::prior(space);
    assert_eq!(task.p_hinged(space, &prior, &[]).expect("p"), 0.5);
    // A fit's structure weights decide.
    let mut fit = Belief::point(space, &theta_at(&sim, true, 0.0)).expect("belief");
    fit.source = asid_task::BeliefSource::Fit;
    fit.structure_weights = vec![
        ("lid.hinge.present=0".into(), 0.3),
        ("lid.hinge.present=1".into(), 0.7),
    ];
    assert!((task.p_hinged(space, &fit, &[]).expect("p") - 0.7).abs() < 1e-12);
    fit.structure_weights[0].1 = 0.7;
    fit.structure_weights[1].1 = 0.3;
    let robust = TaskPlanOptions {
        mode: Mode::Robust,
        samples: 2,
        ..opts()
    };
    let plan = plan_open(&sim, &task, &fit, &robust, &|_| Ok(())).expect("a plan");
    assert!(
        plan.nothing_to_open && (plan.p_hinged - 0.3).abs() < 1e-12,
        "{plan:?}"
    );
    // Weights that do not name the hinge: the samples decide (here all hinged).
    fit.structure_weights = vec![("other.present=0".into(), 1.0)];
    let samples = vec![theta_at(&sim, true, 0.0); 3];
    assert_eq!(task.p_hinged(space, &fit, &samples).expect("p"), 1.0);
    // Weights that cannot be normalised are an error, not a silent push.
    fit.structure_weights = vec![("lid.hinge.present=1".into(), f64::NAN)];
    assert!(task.p_hinged(space, &fit, &samples).is_err());
}

#[test]
fn a_joint_that_opens_towards_the_arm_and_a_contact_past_the_lid_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("scenes/articulation.toml")).expect("scene");
    let dir = std::env::temp_dir().join(format!("asid-open-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenes")).expect("tmp");
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink(root.join("robots"), dir.join("robots"));
    let refused = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        let path = dir.join("scenes/articulation.toml");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
        let sim = asid_sim::Simulator::load(&path).expect("loads");
        OpenTask::of_scene(sim.scene())
            .expect_err("refused")
            .to_string()
    };
    let e = refused("axis = [0.0, 1.0, 0.0]", "axis = [0.0, -1.0, 0.0]");
    assert!(e.contains("task.object") && e.contains("towards"), "{e}");
    let e = refused("contact_m = [0.08, 0.2]", "contact_m = [0.08, 0.3]");
    assert!(
        e.contains("task.contact_m") && e.contains("far edge"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
