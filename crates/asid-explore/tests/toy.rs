//! The planner on a linear-Gaussian toy whose Fisher information has a closed form.

mod common;

use asid_explore::{
    Constraint, Criterion, Design, DesignKind, Experiment, NoiseModel, PlanOptions, assess, plan,
};
use common::Linear;
use nalgebra::DMatrix;

#[test]
fn fisher_information_of_the_linear_gaussian_model_matches_the_closed_form() {
    let toy = Linear::new(2);
    let actions = vec![
        vec![0.3, -0.7],
        vec![1.0, 0.2],
        vec![-0.5, 0.9],
        vec![0.0, 0.0],
        vec![0.8, 0.8],
    ];
    let theta = toy.space.center();
    let got = assess(
        &toy,
        &actions,
        std::slice::from_ref(&theta),
        Criterion::A,
        NoiseModel::Measurement,
    )
    .expect("feasible");
    let scale = nalgebra::DMatrix::from_diagonal(&nalgebra::DVector::from_vec(
        toy.space.params.iter().map(|p| p.prior.std()).collect(),
    ));
    let mut closed = DMatrix::zeros(2, 2);
    for a in &actions {
        let m = toy.rows(a);
        closed += m.transpose() * &m / (toy.sigma * toy.sigma);
    }
    let closed = &scale * closed * &scale;
    assert!(
        (&got.mean_info - &closed).amax() < 1e-6 * closed.amax(),
        "{} vs {}",
        got.mean_info,
        closed
    );
    // Bayesian A: the trace of the posterior covariance (identity prior in prior-std units).
    let expected_a = (DMatrix::identity(2, 2) + &closed)
        .try_inverse()
        .expect("invertible")
        .trace();
    assert!((got.value - expected_a).abs() < 1e-6 * expected_a);
    assert!(
        (&got.mean_info - toy.closed_form_info(&actions, &theta)).amax() < 1e-6 * closed.amax()
    );
}

#[test]
fn for_one_parameter_every_criterion_picks_the_same_plan() {
    let toy = Linear::new(1);
    let design = Design::new(
        DesignKind::Actions,
        toy.action_bounds(),
        toy.horizon(),
        None,
    )
    .expect("design");
    let mut plans = Vec::new();
    for criterion in [Criterion::A, Criterion::D, Criterion::E, Criterion::T] {
        let opts = PlanOptions {
            criterion,
            seed: 3,
            prior_samples: 2,
            population: 20,
            iterations: 6,
            random_draws: 10,
            ..Default::default()
        };
        plans.push(plan(&toy, &design, &opts, ("toy", "toy", 0.1), false).expect("plan"));
    }
    for p in &plans[1..] {
        assert_eq!(
            p.actions, plans[0].actions,
            "{:?} differs from A",
            p.options.criterion
        );
    }
    // The best design is known: |a0| = |a1| = 1 at every step, information 5 * 1.25 * (0.1 / 0.05)^2
    // = 25 in prior-std units, posterior variance 1 / 26. The plan cannot beat it and CEM should get
    // close; the information does not depend on theta, so the held-out value is the same.
    let best = 1.0 / 26.0;
    let a = &plans[0];
    assert!(
        a.value >= best * (1.0 - 1e-9),
        "{} beats the optimum {best}",
        a.value
    );
    assert!(
        a.value < 1.5 * best,
        "{} is far from the optimum {best}",
        a.value
    );
    assert!((a.held_out_value - a.value).abs() < 1e-9 * a.value);
    // Posterior std of the only parameter: prior std * sqrt(A).
    let (prior, post) = (a.prior_std["p0"], a.posterior_std["p0"]);
    assert!((prior - 0.1).abs() < 1e-12, "{prior}");
    assert!(
        (post - prior * a.held_out_value.sqrt()).abs() < 1e-12,
        "{post}"
    );
}

#[test]
fn a_plan_that_breaks_a_limit_is_never_returned() {
    let mut toy = Linear::new(2);
    // The most informative actions have |a0| = 1; forbid a0 > 0.5.
    toy.forbid_above = Some(0.5);
    let design = Design::new(
        DesignKind::Actions,
        toy.action_bounds(),
        toy.horizon(),
        None,
    )
    .expect("design");
    let opts = PlanOptions {
        seed: 1,
        prior_samples: 1,
        population: 30,
        iterations: 8,
        ..Default::default()
    };
    let p = plan(&toy, &design, &opts, ("toy", "toy", 0.1), false).expect("plan");
    assert!(
        p.actions.iter().all(|a| a[0] <= 0.5),
        "returned an unsafe plan: {:?}",
        p.actions
    );
    assert!(
        p.rejections
            .get(&Constraint::JointVelocity)
            .copied()
            .unwrap_or(0)
            > 0,
        "the limit bound: {:?}",
        p.rejections
    );
    // When nothing is feasible, there is no plan at all.
    toy.forbid_above = Some(-2.0);
    let err = plan(&toy, &design, &opts, ("toy", "toy", 0.1), false).expect_err("nothing feasible");
    assert!(err.to_string().contains("no feasible plan"), "{err}");
}

#[test]
fn planning_is_reproducible_with_a_seed() {
    let toy = Linear::new(2);
    let design =
        Design::new(DesignKind::Spline, toy.action_bounds(), toy.horizon(), None).expect("design");
    let opts = PlanOptions {
        seed: 42,
        prior_samples: 3,
        population: 12,
        iterations: 4,
        ..Default::default()
    };
    let a = plan(&toy, &design, &opts, ("toy", "toy", 0.1), false).expect("plan");
    let b = plan(&toy, &design, &opts, ("toy", "toy", 0.1), false).expect("plan");
    assert_eq!(a.actions, b.actions);
    assert_eq!(a.value.to_bits(), b.value.to_bits());
    let c = plan(
        &toy,
        &design,
        &PlanOptions { seed: 43, ..opts },
        ("toy", "toy", 0.1),
        false,
    )
    .expect("plan");
    assert_ne!(
        a.design_vector, c.design_vector,
        "another seed explores differently"
    );
}
