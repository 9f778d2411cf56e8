//! The planner on a linear-Gaussian toy whose Fisher information has a closed form.

use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use asid_explore::{
    Constraint, Criterion, Design, DesignKind, Experiment, NoiseModel, PlanOptions, assess, plan,
};
use asid_sim::{ActionBounds, Trajectory};
use nalgebra::DMatrix;

/// y_h = A(a_h) theta with A(a) = [[a0, 0, ..], [0, a1, ..], [a0 * a1, ..]]: the design controls how
/// much each step reveals about each parameter.
struct Linear {
    space: ParamSpace,
    sigma: f64,
    /// Actions with a0 > this are "unsafe" (a stand-in for a limit).
    forbid_above: Option<f64>,
}

fn param(name: &str, std: f64) -> Param {
    let half = std * 3f64.sqrt();
    Param {
        name: name.into(),
        target_path: name.into(),
        target: ParamTarget::TableFriction,
        prior: Prior::Uniform {
            low: 1.0 - half,
            high: 1.0 + half,
        },
        bounds: [1.0 - 2.0 * half, 1.0 + 2.0 * half],
        fd_step: 1e-3,
        nominal: 1.0,
    }
}

impl Linear {
    fn new(n: usize) -> Self {
        let params = (0..n)
            .map(|i| param(&format!("p{i}"), 0.1 * (i + 1) as f64))
            .collect();
        Self {
            space: ParamSpace { params },
            sigma: 0.05,
            forbid_above: None,
        }
    }

    fn rows(&self, a: &[f64]) -> DMatrix<f64> {
        let n = self.space.dim();
        let mut m = DMatrix::zeros(3, n);
        m[(0, 0)] = a[0];
        if n > 1 {
            m[(1, 1)] = a[1];
            m[(2, 1)] = a[0] * a[1];
        }
        m[(2, 0)] = 0.5 * a[1];
        m
    }

    fn observe(&self, theta: &[f64], a: &[f64]) -> Vec<f64> {
        let t = nalgebra::DVector::from_column_slice(theta);
        (self.rows(a) * t).iter().copied().collect()
    }
}

impl Experiment for Linear {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn obs_sigmas(&self) -> Vec<f64> {
        vec![self.sigma; 3]
    }
    fn action_bounds(&self) -> ActionBounds {
        ActionBounds {
            action: vec![[-1.0, 1.0]; 2],
            workspace: vec![],
            start: vec![0.0, 0.0],
            max_step_change: vec![],
            start_step: vec![],
        }
    }
    fn horizon(&self) -> usize {
        5
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        _noise: NoiseModel,
    ) -> Result<(Vec<DMatrix<f64>>, Option<Trajectory>), Constraint> {
        if self
            .forbid_above
            .is_some_and(|limit| actions.iter().any(|a| a[0] > limit))
        {
            return Err(Constraint::JointVelocity);
        }
        // Central finite differences, as for the simulator.
        let n = self.space.dim();
        let jacs = actions
            .iter()
            .map(|a| {
                let mut j = DMatrix::zeros(3, n);
                for i in 0..n {
                    let h = self.space.params[i].fd_step;
                    let mut p = theta.to_vec();
                    let mut m = theta.to_vec();
                    p[i] += h;
                    m[i] -= h;
                    let (yp, ym) = (self.observe(&p, a), self.observe(&m, a));
                    for r in 0..3 {
                        j[(r, i)] = (yp[r] - ym[r]) / (2.0 * h);
                    }
                }
                j
            })
            .collect();
        Ok((jacs, None))
    }
}

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
    let expected_a = closed.clone().try_inverse().expect("invertible").trace();
    assert!((got.value - expected_a).abs() < 1e-6 * expected_a);
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
    for p in &plans {
        assert!(p.gain > 1.0, "{:?}: gain {}", p.options.criterion, p.gain);
    }
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
