//! The rod-balancing planner in the rod scene: knowing the centre of mass (an oracle belief) it
//! places the rod at it and the rod stays up; the plan for one centre of mass drops a rod whose
//! centre of mass is elsewhere; over the uniform prior (domain randomisation) it cannot know where
//! the mass is and says so.

use std::path::Path;
use std::time::Instant;

use asid_task::{
    BALANCE_PLAN_FORMAT, BalancePlan, BalanceTask, Belief, Mode, TaskPlanOptions, plan_balance,
};

fn sim() -> asid_sim::Simulator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/rod.toml");
    asid_sim::Simulator::load(&root).expect("rod scene")
}

/// The scene's nominal parameters with the centre of mass at `com_m`.
fn theta_at(sim: &asid_sim::Simulator, com_m: f64) -> Vec<f64> {
    let space = &sim.scene().space;
    let mut theta = space.nominal();
    theta[space.index_of("rod.com_offset").expect("com_offset")] = com_m;
    theta
}

fn opts(mode: Mode) -> TaskPlanOptions {
    TaskPlanOptions {
        mode,
        samples: 4,
        population: 12,
        iterations: 5,
        seed: 7,
    }
}

/// An oracle point plan for `com_m`, timed.
fn oracle_plan(sim: &asid_sim::Simulator, task: &BalanceTask, com_m: f64) -> BalancePlan {
    let belief = Belief::point(&sim.scene().space, &theta_at(sim, com_m)).expect("belief");
    let t = Instant::now();
    let plan = plan_balance(sim, task, &belief, &opts(Mode::Point)).expect("a plan");
    eprintln!(
        "oracle com {com_m:+.3} m: offset {:+.4} m, predicted success {}, tilt {:.2} deg, {} \
         rollouts, {:.1} s",
        plan.offset_m,
        plan.predicted_success,
        plan.predicted_tilt_deg,
        plan.rollouts,
        t.elapsed().as_secs_f64()
    );
    plan
}

/// The paper's left, middle and right centres of mass: the oracle plan grasps within 3 mm of it,
/// predicts success, and the rod placed there in a world at the truth stays up.
#[test]
fn oracle_plans_grasp_at_the_centre_of_mass_and_balance() {
    let sim = sim();
    let task = BalanceTask::new(sim.scene(), "rod", "perch").expect("task");
    for com_m in [-0.045, 0.0, 0.03] {
        let plan = oracle_plan(&sim, &task, com_m);
        assert_eq!(plan.format, BALANCE_PLAN_FORMAT);
        assert!(
            (plan.offset_m - com_m).abs() <= 0.003,
            "com {com_m}: {plan:?}"
        );
        // (In point mode the prediction is the estimate's own simulation: in-sample.)
        assert_eq!(plan.predicted_success, 1.0, "com {com_m}: {plan:?}");
        // Judged where the plan was not made: the centre of mass 3 mm either side of the belief.
        for miss_m in [-0.003, 0.003] {
            let o = task
                .simulate(&sim, &theta_at(&sim, com_m + miss_m), &[plan.offset_m])
                .expect("beside the belief");
            eprintln!("com {com_m:+.3} m, plan judged {miss_m:+.3} m off it: {o:?}");
            assert!(o.success && o.tilt_deg < 1.0, "{o:?}");
        }
    }
}

/// A plan made for a centre of mass on the left drops a rod whose mass sits on the right (and the
/// other way round): the plan is only as good as the belief.
#[test]
fn a_plan_for_the_wrong_centre_of_mass_drops_the_rod() {
    let sim = sim();
    let task = BalanceTask::new(sim.scene(), "rod", "perch").expect("task");
    for (planned, truth) in [(-0.045, 0.03), (0.03, -0.045), (0.0, 0.03)] {
        let plan = oracle_plan(&sim, &task, planned);
        let o = task
            .simulate(&sim, &theta_at(&sim, truth), &[plan.offset_m])
            .expect("at the truth");
        eprintln!("planned for {planned:+.3} m, judged at {truth:+.3} m: {o:?}");
        assert!(!o.success && o.metric_deg() > 15.0, "{o:?}");
    }
}

/// Robust planning over the uniform prior on the centre of mass (+-6 cm against a perch 1 cm
/// wide): the predicted success on fresh samples is far below 1, and the plan stays in the box.
#[test]
fn robust_plans_over_the_prior_cannot_know_where_the_mass_is() {
    let sim = sim();
    let task = BalanceTask::new(sim.scene(), "rod", "perch").expect("task");
    let belief = Belief::prior(&sim.scene().space);
    let opts = TaskPlanOptions {
        population: 8,
        iterations: 3,
        ..opts(Mode::Robust)
    };
    let t = Instant::now();
    let plan = plan_balance(&sim, &task, &belief, &opts).expect("a plan");
    eprintln!(
        "prior: offset {:+.4} m, predicted success {:.3}, tilt {:.1} deg, {} rollouts, {:.1} s",
        plan.offset_m,
        plan.predicted_success,
        plan.predicted_tilt_deg,
        plan.rollouts,
        t.elapsed().as_secs_f64()
    );
    // A 9 mm success window in a 120 mm uniform prior: about 0.08 expected.
    assert!(plan.predicted_success <= 0.25, "{plan:?}");
    assert!(plan.predicted_tilt_deg > 30.0, "{plan:?}");
    let [[lo, hi]] = task.bounds()[..] else {
        panic!("one parameter")
    };
    assert!((lo..=hi).contains(&plan.offset_m));
}

/// The grasp box keeps the perch and a finger pad on the rod; offsets outside it are refused.
#[test]
fn the_grasp_box_follows_the_rod_and_refuses_offsets_outside_it() {
    let sim = sim();
    let task = BalanceTask::new(sim.scene(), "rod", "perch").expect("task");
    // The 30 cm rod, the perch 1 cm across, 1 cm half pads: +-(0.15 - 0.005 - 0.01) m.
    let b = task.bounds();
    assert_eq!(b.len(), 1);
    assert!(
        (b[0][1] - 0.135).abs() < 1e-12 && (b[0][0] + 0.135).abs() < 1e-12,
        "{b:?}"
    );
    let theta = theta_at(&sim, 0.02);
    assert_eq!(task.com_m(&theta).expect("com"), 0.02);
    for x in [[0.14], [-0.2], [f64::NAN]] {
        let err = task.simulate(&sim, &theta, &x).expect_err("outside");
        assert!(err.to_string().contains("outside the box"), "{err}");
    }
    assert!(task.simulate(&sim, &theta, &[0.0, 0.0]).is_err());
    assert!(BalanceTask::new(sim.scene(), "rod", "shelf").is_err());
}
