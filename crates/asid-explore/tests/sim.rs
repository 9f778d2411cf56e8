//! The planner on the simulator: the paper's code flaw (T vs A with two unknowns), feasibility of
//! returned plans, the honest comparison with random exploration, reproducibility.

use std::path::PathBuf;

use asid_explore::{
    Criterion, Design, DesignKind, Experiment, NoiseModel, PlanOptions, SimExperiment, assess,
    plan, prior_samples,
};
use asid_sim::Simulator;

fn sim(name: &str) -> Simulator {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenes")
        .join(format!("{name}.toml"));
    Simulator::load(&p).expect("scene")
}

fn small(criterion: Criterion, seed: u64) -> PlanOptions {
    PlanOptions {
        criterion,
        seed,
        prior_samples: 2,
        population: 12,
        iterations: 5,
        random_draws: 4,
        held_out_samples: 2,
        noise: NoiseModel::Measurement,
    }
}

#[test]
fn on_the_rod_the_a_optimal_plan_beats_the_t_optimal_plan_on_the_a_criterion() {
    let s = sim("rod");
    let exp = SimExperiment::new(&s);
    assert_eq!(
        exp.space().dim(),
        2,
        "centre of mass and friction are unknown"
    );
    let design =
        Design::new(DesignKind::Spline, exp.action_bounds(), exp.horizon(), None).expect("design");
    let a_plan = plan(
        &exp,
        &design,
        &small(Criterion::A, 5),
        ("rod", "", 0.1),
        false,
    )
    .expect("A plan");
    let t_plan = plan(
        &exp,
        &design,
        &small(Criterion::T, 5),
        ("rod", "", 0.1),
        false,
    )
    .expect("T plan");
    // Judge both on the A criterion on held-out prior samples that neither plan was optimised on
    // (on the A plan's own samples it would win by construction), without the smoothness check
    // (that is for planning). Eight of them: on two, the draw decided (with the stratified planning
    // samples of an experiment, commit bb62700, the A plan lost there, 0.918 against 0.697).
    let judge = SimExperiment::new(&s).with_smoothness_check(None);
    let judged_on = PlanOptions {
        held_out_samples: 8,
        ..small(Criterion::A, 5)
    };
    let thetas = prior_samples(exp.space(), &judged_on).held_out;
    let a_of_a = assess(
        &judge,
        &a_plan.actions,
        &thetas,
        Criterion::A,
        NoiseModel::Measurement,
    )
    .expect("feasible")
    .value;
    let a_of_t = assess(
        &judge,
        &t_plan.actions,
        &thetas,
        Criterion::A,
        NoiseModel::Measurement,
    )
    .expect("feasible")
    .value;
    assert!(
        a_of_a < a_of_t,
        "A-optimal plan: tr(I^-1) = {a_of_a}; T-optimal plan: {a_of_t}"
    );
    // (On held-out samples the T plan of this small budget does not even carry more total
    // information than the A plan: -tr(I) -1551 against -7297, measured 2026-12-01; no claim.)
}

#[test]
fn returned_sim_plans_are_feasible_and_reproducible() {
    let s = sim("shuffleboard");
    let exp = SimExperiment::new(&s);
    let scene = s.scene();
    let target = asid_explore::Target {
        xyz_m: scene.spec.objects[0].pose.xyz_m,
        half_size_m: 0.04,
    };
    // Free-form actions are not planned here: with a test-sized budget no candidate of independent
    // random steps passes the arm's 1 kHz check.
    for kind in [DesignKind::Primitive, DesignKind::Spline] {
        let design =
            Design::new(kind, exp.action_bounds(), exp.horizon(), Some(target)).expect("design");
        let opts = PlanOptions {
            population: 8,
            iterations: 2,
            ..small(Criterion::A, 11)
        };
        let p = plan(&exp, &design, &opts, ("shuffleboard", "", 0.1), false).expect("plan");
        // The simulator accepts every action and the nominal rollout breaks no constraint.
        let theta = scene.space.center();
        let traj = s.rollout(&theta, &p.actions).expect("the plan runs");
        assert!(
            exp.violations(&traj).is_empty(),
            "{kind:?}: {:?}",
            exp.violations(&traj)
        );
        assert!(p.value.is_finite(), "{kind:?}");
        // The search's path: one best criterion per iteration run, never rising once feasible,
        // feasible at the end.
        let path = &p.criterion_by_iteration;
        assert_eq!(path.len() as u64, p.iterations_run, "{kind:?}: {path:?}");
        let feasible: Vec<f64> = path.iter().flatten().copied().collect();
        assert!(
            path.last().is_some_and(|c| c.is_some()),
            "{kind:?}: {path:?}"
        );
        assert!(
            feasible.windows(2).all(|w| w[1] <= w[0]),
            "{kind:?}: {path:?}"
        );
        if kind == DesignKind::Primitive {
            // A push through the puck reveals its friction; 20 random steps rarely touch it. Judged
            // on held-out prior samples, random draws scored without the smoothness filter.
            assert!(p.held_out_violation.is_none(), "{:?}", p.held_out_violation);
            // The push determines the sliding friction: on held-out samples its predicted
            // posterior std is under half the prior's (an A value is at most 2 whatever the plan).
            let (post, prior) = (
                p.posterior_std["puck.friction"],
                p.prior_std["puck.friction"],
            );
            assert!(post < 0.5 * prior, "{post} vs prior {prior}");
            assert!(
                p.random.draws > 0,
                "no feasible random exploration: {:?}",
                p.random
            );
        }
        for (name, prior) in &p.prior_std {
            let post = p.posterior_std[name];
            assert!(
                post > 0.0 && post <= *prior,
                "{kind:?} {name}: {post} vs prior {prior}"
            );
        }
        assert_eq!(p.crb_std.len(), 2);
        let again = plan(&exp, &design, &opts, ("shuffleboard", "", 0.1), false).expect("plan");
        assert_eq!(p.actions, again.actions, "{kind:?}: same seed, same plan");
    }
}

#[test]
fn process_noise_planning_uses_per_step_sensitivities() {
    let s = sim("shuffleboard");
    let exp = SimExperiment::new(&s);
    let design =
        Design::new(DesignKind::Spline, exp.action_bounds(), exp.horizon(), None).expect("design");
    let opts = PlanOptions {
        noise: NoiseModel::Process,
        population: 6,
        iterations: 2,
        ..small(Criterion::D, 2)
    };
    let p = plan(&exp, &design, &opts, ("shuffleboard", "", 0.1), false).expect("plan");
    assert!(p.value.is_finite());
    assert_eq!(p.fisher_eigenvalues.len(), 2);
}

#[test]
fn receding_horizon_replanning_from_a_mid_episode_state_is_feasible_from_that_state() {
    let s = sim("shuffleboard");
    let scene = s.scene();
    let exp = SimExperiment::new(&s);
    let target = asid_explore::Target {
        xyz_m: scene.spec.objects[0].pose.xyz_m,
        half_size_m: 0.04,
    };
    let design = Design::new(
        DesignKind::Primitive,
        exp.action_bounds(),
        exp.horizon(),
        Some(target),
    )
    .expect("design");
    let opts = PlanOptions {
        population: 8,
        iterations: 2,
        ..small(Criterion::A, 4)
    };
    let first = plan(&exp, &design, &opts, ("shuffleboard", "", 0.1), false).expect("plan");
    // Execute half of it on the "arm" (here: a simulator with other true parameters).
    let truth = vec![0.42, 0.015];
    let mut world = s.world(&truth).expect("world");
    let half = first.actions.len() / 2;
    for a in &first.actions[..half] {
        world.step_control(a).expect("step");
    }
    let rest = &first.actions[half..];
    let again = asid_explore::replan(
        &s,
        world.clone(),
        rest.len(),
        DesignKind::Actions,
        None,
        &opts,
        Some(rest),
    )
    .expect("replan");
    assert_eq!(again.actions.len(), rest.len());
    // The new continuation runs from the observed state (the arm mid-motion, the puck where it
    // is) and breaks no limit there, at the truth and at the planner's samples.
    let cont = SimExperiment::from_state(&s, world, rest.len());
    let mut thetas = prior_samples(cont.space(), &opts).planning;
    thetas.push(truth);
    for theta in &thetas {
        let traj = cont
            .sim()
            .rollout(theta, &again.actions)
            .expect("the continuation runs");
        assert!(
            cont.violations(&traj).is_empty(),
            "at {theta:?}: {:?}",
            cont.violations(&traj)
        );
    }
    // Informative from where the arm and the puck are, judged on held-out prior samples (an A
    // value is at most 2 by construction, and the warm start bounds it on the planning samples).
    assert!(
        again.held_out_value < 1.5,
        "held out {} (planning {})",
        again.held_out_value,
        again.value
    );
}

#[test]
fn auto_plans_with_every_parameterisation_and_keeps_the_most_informative() {
    let s = sim("shuffleboard");
    let exp = SimExperiment::new(&s);
    let target = asid_explore::Target::first_free_object(s.scene());
    let opts = PlanOptions {
        // The budget and seed of the primitive plan above, which finds an arm-feasible push.
        population: 8,
        iterations: 2,
        random_draws: 2,
        ..small(Criterion::A, 11)
    };
    let (best, tried) = asid_explore::plan_best(
        &exp,
        &asid_explore::AUTO,
        target,
        &opts,
        ("sb", "", 0.1),
        false,
    )
    .expect("auto plan");
    let kinds: Vec<DesignKind> = tried.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, vec![DesignKind::Spline, DesignKind::Primitive]);
    let lowest = tried.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    assert_eq!(best.value, lowest, "{tried:?}");
    let kept = tried.iter().find(|(_, v)| *v == lowest).map(|(k, _)| *k);
    assert_eq!(Some(best.design), kept);
    // Each is the same plan a single-parameterisation call returns (same prior samples).
    for (kind, value) in &tried {
        let design =
            Design::new(*kind, exp.action_bounds(), exp.horizon(), target).expect("design");
        let single = plan(&exp, &design, &opts, ("sb", "", 0.1), false).expect("plan");
        assert_eq!(single.value, *value, "{kind:?}");
    }
    // Without a target object the primitive does not apply: auto plans with the spline alone.
    let (p, tried) = asid_explore::plan_best(
        &exp,
        &asid_explore::AUTO,
        None,
        &opts,
        ("sb", "", 0.1),
        false,
    )
    .expect("spline plan");
    assert_eq!(tried.len(), 1, "{tried:?}");
    assert_eq!(p.design, DesignKind::Spline);
}

#[test]
fn articulation_plans_touch_the_lid_and_tell_the_structures_apart() {
    let s = sim("articulation");
    // With every check the CLI planner applies: the smoothness filter and, for this Franka, the
    // arm's 1 kHz interpolation (the primitive's approach and push ramp up from rest).
    let exp = SimExperiment::new(&s);
    assert!(
        exp.arm_check().is_some(),
        "a Franka scene is checked at 1 kHz"
    );
    let target = asid_explore::Target::first_free_object(s.scene());
    let design = Design::new(
        DesignKind::Primitive,
        exp.action_bounds(),
        exp.horizon(),
        target,
    )
    .expect("design");
    let opts = PlanOptions {
        population: 16,
        iterations: 4,
        random_draws: 3,
        ..small(Criterion::A, 0)
    };
    let p = plan(&exp, &design, &opts, ("articulation", "", 0.1), false).expect("plan");
    // The structure is out of the Fisher matrix: two continuous parameters there.
    assert_eq!(p.fisher_eigenvalues.len(), 2);
    assert!(!p.crb_std.contains_key("lid.hinge.present"));
    let d = p.structure["lid.hinge.present"];
    assert!(
        d.chi2_difference > 100.0 && d.posterior_variance_bound < 1e-3,
        "{d:?}"
    );
    // Untouched, a hinged lid rests against its stop like a welded one: no discrimination.
    let still = vec![vec![0.0; 3]; exp.horizon()];
    let thetas = prior_samples(exp.space(), &opts).held_out;
    let a = asid_explore::assess_unfiltered(
        &exp,
        &still,
        &thetas,
        Criterion::A,
        NoiseModel::Measurement,
    )
    .expect("feasible");
    assert!(a.structure[0].chi2_difference < 1e-6, "{:?}", a.structure);
    assert!((a.value - 3.0).abs() < 1e-6, "uninformative: {}", a.value);
    // The plan swings a hinged lid open by centimetres and leaves a welded one where it is.
    let moved = |present: f64| {
        let mut truth = s.scene().space.center();
        truth[0] = present;
        let traj = s.rollout(&truth, &p.actions).expect("runs");
        let (first, last) = (&traj.obs[0], traj.obs.last().expect("obs"));
        (0..3)
            .map(|i| (last[i] - first[i]).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let (hinged, welded) = (moved(1.0), moved(0.0));
    assert!(
        hinged > 0.01 && welded < 0.001,
        "the lid moved {hinged} m hinged, {welded} m welded"
    );
}

#[test]
fn smoothing_makes_primitives_the_arm_refuses_acceptable() {
    // From the articulation scene's start pose a push that starts from rest at full step peaks
    // the Franka's 1 kHz interpolation over its limits; the same motion smoothed over three
    // periods does not (the planner tries the smoothed motion for a refused candidate).
    let s = sim("articulation");
    let exp = SimExperiment::new(&s);
    let target = asid_explore::Target::first_free_object(s.scene());
    let design = Design::new(
        DesignKind::Primitive,
        exp.action_bounds(),
        exp.horizon(),
        target,
    )
    .expect("design");
    let (mut raw_ok, mut smooth_ok, mut rescued) = (0, 0, 0);
    for angle in [-0.6, -0.3, 0.0, 0.3, 0.6] {
        for offset in [-0.08, 0.0, 0.08] {
            let z = [angle, offset, 0.03, 0.15];
            let raw = design.decode(&z);
            let smoothed = design.smoothed(&raw);
            let (r, m) = (exp.arm_accepts(&raw), exp.arm_accepts(&smoothed));
            raw_ok += usize::from(r);
            smooth_ok += usize::from(m);
            rescued += usize::from(!r && m);
        }
    }
    println!(
        "of 15 primitives the arm accepts {raw_ok} raw, {smooth_ok} smoothed ({rescued} rescued)"
    );
    assert!(
        rescued >= 5,
        "raw {raw_ok}, smoothed {smooth_ok}, rescued {rescued}"
    );
    assert!(smooth_ok > raw_ok);
}
