//! The design criterion and the comparison with random exploration are honest: an experiment that
//! tells nothing scores the prior, the baseline is judged on prior samples the planner never saw
//! and is not filtered by the planner's smoothness check.

mod common;

use asid_explore::{
    Constraint, Criterion, Design, DesignKind, Experiment, NoiseModel, PlanOptions, Stream, assess,
    assess_unfiltered, plan, prior_samples, random_baseline,
};
use common::Linear;

fn opts(seed: u64) -> PlanOptions {
    PlanOptions {
        seed,
        prior_samples: 3,
        held_out_samples: 5,
        population: 16,
        iterations: 4,
        random_draws: 9,
        ..Default::default()
    }
}

fn actions_design(toy: &Linear) -> Design {
    Design::new(
        DesignKind::Actions,
        toy.action_bounds(),
        toy.horizon(),
        None,
    )
    .expect("design")
}

#[test]
fn an_uninformative_design_scores_exactly_the_number_of_parameters() {
    for n in [1, 2] {
        let mut toy = Linear::new(n);
        toy.blind = true;
        let actions = vec![vec![1.0, 1.0]; toy.horizon()];
        let thetas = vec![toy.space.center()];
        let a = assess(
            &toy,
            &actions,
            &thetas,
            Criterion::A,
            NoiseModel::Measurement,
        )
        .expect("feasible");
        assert_eq!(a.value, n as f64, "{n} parameters");

        // The whole planning run: plan and random both score the prior, and say so.
        let p = plan(
            &toy,
            &actions_design(&toy),
            &opts(1),
            ("toy", "", 0.1),
            false,
        )
        .expect("plan");
        assert_eq!(p.value, n as f64);
        assert_eq!(p.held_out_value, n as f64);
        assert_eq!(p.random.median_value, n as f64);
        assert_eq!(
            p.gain, 1.0,
            "nothing to gain over random when nothing is observable"
        );
        assert_eq!(p.random.informative, 0);
        for (name, prior) in &p.prior_std {
            assert_eq!(p.posterior_std[name], *prior, "{name}");
            assert_eq!(p.crb_std[name], f64::INFINITY, "{name}");
        }
    }
}

#[test]
fn a_perfectly_informative_design_tends_to_zero() {
    let actions = vec![vec![1.0, 1.0]; 5];
    let mut last = f64::INFINITY;
    for sigma in [5e-2, 5e-4, 5e-6, 5e-8] {
        let mut toy = Linear::new(2);
        toy.sigma = sigma;
        let thetas = vec![toy.space.center()];
        let a = assess(
            &toy,
            &actions,
            &thetas,
            Criterion::A,
            NoiseModel::Measurement,
        )
        .expect("feasible")
        .value;
        assert!(
            a > 0.0 && a < last,
            "A = {a} at sigma {sigma} (before {last})"
        );
        last = a;
    }
    assert!(last < 1e-10, "{last}");
}

#[test]
fn held_out_samples_differ_from_the_planning_samples_and_judge_the_plan() {
    let mut toy = Linear::new(2);
    toy.nonlinear = true;
    let o = opts(7);
    let s = prior_samples(&toy.space, &o);
    assert_eq!(s.planning.len(), 3);
    assert_eq!(s.held_out.len(), 5);
    for h in &s.held_out {
        assert!(
            !s.planning.contains(h),
            "held-out sample {h:?} is a planning sample"
        );
    }
    // Another planning budget does not move the held-out samples (separate streams).
    let more = prior_samples(
        &toy.space,
        &PlanOptions {
            prior_samples: 10,
            ..o.clone()
        },
    );
    assert_eq!(more.held_out, s.held_out);
    assert_eq!(more.planning[..3], s.planning[..]);

    let p = plan(&toy, &actions_design(&toy), &o, ("toy", "", 0.1), false).expect("plan");
    let on_planning = assess(&toy, &p.actions, &s.planning, Criterion::A, o.noise)
        .expect("feasible")
        .value;
    let on_held_out = assess_unfiltered(&toy, &p.actions, &s.held_out, Criterion::A, o.noise)
        .expect("feasible")
        .value;
    assert_eq!(p.value, on_planning, "value is what the optimiser saw");
    assert_eq!(
        p.held_out_value, on_held_out,
        "the plan is re-scored on the held-out samples"
    );
    assert_ne!(
        p.value, p.held_out_value,
        "the information depends on the samples"
    );
    // Closed form on the held-out samples.
    let closed: f64 = s
        .held_out
        .iter()
        .map(|t| Criterion::A.value(&toy.closed_form_info(&p.actions, t)))
        .sum::<f64>()
        / s.held_out.len() as f64;
    assert!(
        (p.held_out_value - closed).abs() < 1e-6 * closed,
        "{} vs {closed}",
        p.held_out_value
    );
    // The gain is the random median over the plan, both held out.
    let random = random_baseline(&toy, &s.held_out, &o);
    assert_eq!(random.median_value, p.random.median_value);
    assert_eq!(p.gain, p.random.median_value / p.held_out_value);
}

#[test]
fn the_random_baseline_is_scored_without_the_smoothness_filter() {
    // Every plan with a1 > 0 anywhere is "not smooth": nearly every random draw.
    let mut toy = Linear::new(2);
    toy.rough_above = Some(0.0);
    let o = opts(3);
    let p = plan(&toy, &actions_design(&toy), &o, ("toy", "", 0.1), false).expect("plan");
    // The planner filters ...
    assert!(p.actions.iter().all(|a| a[1] <= 0.0), "{:?}", p.actions);
    assert!(
        p.rejections
            .get(&Constraint::Smoothness)
            .copied()
            .unwrap_or(0)
            > 0
    );
    // ... the baseline does not: every draw is scored, and the ones the filter would have
    // rejected are counted. Replay the baseline's draws to count them independently.
    assert_eq!(p.random.draws, o.random_draws);
    assert_eq!(p.random.infeasible, 0);
    let mut rng = Stream::RandomActions.rng(o.seed);
    let bounds = toy.action_bounds();
    let rough = (0..o.random_draws)
        .filter(|_| {
            bounds
                .random(toy.horizon(), &mut rng)
                .iter()
                .any(|a| a[1] > 0.0)
        })
        .count();
    assert!(rough > 0);
    assert_eq!(p.random.rejected_by_smoothness, rough);
    // An unfiltered assessment of a rough plan scores it and says it is not smooth; the planner's
    // assessment rejects it.
    let thetas = vec![toy.space.center()];
    let rough_plan = vec![vec![1.0, 1.0]; toy.horizon()];
    let a = assess_unfiltered(&toy, &rough_plan, &thetas, Criterion::A, o.noise).expect("scored");
    assert!(!a.smooth && a.value < 2.0);
    assert_eq!(
        assess(&toy, &rough_plan, &thetas, Criterion::A, o.noise).err(),
        Some(Constraint::Smoothness)
    );
}

#[test]
fn plans_and_baselines_of_another_seed_use_other_samples() {
    let toy = Linear::new(2);
    let a = prior_samples(&toy.space, &opts(1));
    let b = prior_samples(&toy.space, &opts(2));
    assert_ne!(a.held_out, b.held_out);
    assert_ne!(a.planning, b.planning);
}

#[test]
fn random_walks_that_break_a_limit_are_scored_scaled_down_not_dropped() {
    // a0 > 0.2 breaks a limit: many random walks do at full amplitude, none at an eighth.
    let mut toy = Linear::new(2);
    toy.forbid_above = Some(0.2);
    let o = opts(5);
    let held_out = prior_samples(&toy.space, &o).held_out;
    let r = random_baseline(&toy, &held_out, &o);
    assert_eq!(r.draws, o.random_draws);
    assert_eq!(r.infeasible, 0);
    let mut rng = Stream::RandomActions.rng(o.seed);
    let bounds = toy.action_bounds();
    let over = (0..o.random_draws)
        .filter(|_| {
            bounds
                .random(toy.horizon(), &mut rng)
                .iter()
                .any(|a| a[0] > 0.2)
        })
        .count();
    assert!(over > 0);
    assert_eq!(r.scaled_down, over);
    // Nothing feasible even scaled down: every draw is counted as infeasible, no median.
    toy.forbid_above = Some(-2.0);
    let r = random_baseline(&toy, &held_out, &o);
    assert_eq!((r.draws, r.infeasible), (0, 10 * o.random_draws));
    assert!(r.median_value.is_nan());
}
