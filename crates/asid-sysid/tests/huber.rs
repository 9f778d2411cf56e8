//! Levenberg-Marquardt with a Huber loss minimises the Huber cost itself: its steps come from the
//! IRLS-weighted residuals, but a step is accepted on the Huber cost and that cost is what it
//! reports.

use argmin::core::{CostFunction, Executor, State};
use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use asid_sysid::{Dataset, Drive, LevenbergMarquardt, Loss, Replay, ReplayModel, SysIdProblem};
use nalgebra::DMatrix;

/// y_h = exp(theta a_h): nonlinear, so Gauss-Newton steps overshoot and acceptance matters.
struct Exp {
    space: ParamSpace,
}

impl ReplayModel for Exp {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        let mut out = vec![vec![1.0]];
        out.extend(actions.iter().map(|a| vec![(theta[0] * a[0]).exp()]));
        Ok(out)
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<asid_sysid::model::Sensitivities, String> {
        let jac = actions
            .iter()
            .map(|a| DMatrix::from_element(1, 1, a[0] * (theta[0] * a[0]).exp()))
            .collect();
        Ok((self.simulate(theta, actions)?, jac))
    }
}

#[test]
fn lm_with_a_huber_loss_accepts_steps_on_the_huber_cost_and_finds_its_minimum() {
    let model = Exp {
        space: ParamSpace {
            params: vec![Param {
                name: "k".into(),
                target_path: "k".into(),
                target: ParamTarget::TableFriction,
                prior: Prior::Uniform {
                    low: 0.0,
                    high: 1.0,
                },
                bounds: [-1.0, 2.0],
                fd_step: 1e-4,
                nominal: 0.5,
            }],
        },
    };
    let actions: Vec<Vec<f64>> = (1..=12).map(|k| vec![0.25 * k as f64]).collect();
    let truth = 0.6;
    let clean = model.simulate(&[truth], &actions).expect("simulate");
    // Small deterministic noise, and three gross outliers (tens of sigmas).
    let recorded: Vec<Vec<Option<f64>>> = clean
        .iter()
        .enumerate()
        .map(|(h, row)| {
            let wiggle = 0.05 * ((h as f64) * 2.3).sin();
            let outlier = match h {
                4 => 2.0,
                8 => -3.0,
                11 => 4.0,
                _ => 0.0,
            };
            vec![Some(row[0] + wiggle + outlier)]
        })
        .collect();
    let data = Dataset {
        replays: vec![Replay {
            source: "toy".into(),
            actions: actions.clone(),
            recorded,
            joint_path: None,
        }],
        entries: vec![0],
        sigmas: vec![0.1],
        total: 12,
        skipped: 0,
        rotations: Vec::new(),
        drive: Drive::Commanded,
    };
    let problem = |loss| SysIdProblem {
        model: &model,
        data: &data,
        fixed: vec![0.5],
        free: vec![0],
        center: vec![0.5],
        scale: vec![0.5],
        loss,
        counter: Default::default(),
    };
    let huber = problem(Loss::Huber(1.5));
    // The Huber minimum by a dense scan of the scaled coordinate.
    let (mut best_u, mut best_c) = (0.0, f64::INFINITY);
    for i in 0..=60_000 {
        let u = -3.0 + 6.0 * i as f64 / 60_000.0;
        let c = huber.cost(&vec![u]).expect("cost");
        if c < best_c {
            (best_u, best_c) = (u, c);
        }
    }
    for start in [-1.0, 0.0, 2.0] {
        let res = Executor::new(
            problem(Loss::Huber(1.5)),
            LevenbergMarquardt::new(vec![[-3.0, 3.0]]),
        )
        .configure(|st| st.param(vec![start]).max_iters(100))
        .run()
        .expect("lm");
        let u = res.state().get_best_param().expect("param").clone();
        let reported = res.state().get_best_cost();
        let c = huber.cost(&u).expect("cost");
        assert!(
            (reported - c).abs() <= 1e-9 * c,
            "from {start}: LM reports {reported}, the Huber cost there is {c}"
        );
        assert!(
            c <= best_c + 1e-9 * best_c && (u[0] - best_u).abs() < 1e-3,
            "from {start}: LM stopped at u = {} (Huber {c}), the minimum is at {best_u} ({best_c})",
            u[0]
        );
    }
}
