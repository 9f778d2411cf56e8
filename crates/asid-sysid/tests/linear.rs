//! On a linear-Gaussian toy the reported covariance matches the spread of estimates over many noisy fits.

use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use asid_sysid::{Dataset, Drive, FitOptions, Replay, ReplayModel, SolverKind, identify};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

struct Linear {
    space: ParamSpace,
}

fn obs(theta: &[f64], a: &[f64]) -> Vec<f64> {
    vec![
        a[0] * theta[0] + 0.3 * theta[1],
        a[1] * theta[1] - 0.2 * a[0] * theta[0],
        theta[0] + theta[1],
    ]
}

impl ReplayModel for Linear {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        let mut out = vec![obs(theta, &[0.0, 0.0])];
        out.extend(actions.iter().map(|a| obs(theta, a)));
        Ok(out)
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<asid_sysid::model::Sensitivities, String> {
        let jac =
            |a: &[f64]| DMatrix::from_row_slice(3, 2, &[a[0], 0.3, -0.2 * a[0], a[1], 1.0, 1.0]);
        Ok((
            self.simulate(theta, actions)?,
            actions.iter().map(|a| jac(a)).collect(),
        ))
    }
}

fn param(name: &str) -> Param {
    Param {
        name: name.into(),
        target_path: name.into(),
        target: ParamTarget::TableFriction,
        prior: Prior::Uniform {
            low: -2.0,
            high: 2.0,
        },
        bounds: [-5.0, 5.0],
        fd_step: 1e-3,
        nominal: 0.0,
    }
}

#[test]
fn reported_covariance_matches_the_empirical_spread_over_200_noisy_fits() {
    let model = Linear {
        space: ParamSpace {
            params: vec![param("a"), param("b")],
        },
    };
    let truth = [0.7, -0.4];
    let sigma = 0.1;
    let actions: Vec<Vec<f64>> = (0..15)
        .map(|k| vec![(k as f64 * 0.9).sin(), (k as f64 * 0.4).cos()])
        .collect();
    let clean = model.simulate(&truth, &actions).expect("simulate");
    let noise = Normal::new(0.0, sigma).expect("normal");
    let mut rng = StdRng::seed_from_u64(1);
    let mut estimates = Vec::new();
    let mut reported = Vec::new();
    for _ in 0..200 {
        let recorded: Vec<Vec<Option<f64>>> = clean
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| Some(v + noise.sample(&mut rng)))
                    .collect()
            })
            .collect();
        let data = Dataset {
            replays: vec![Replay {
                source: "toy".into(),
                actions: actions.clone(),
                recorded,
                joint_path: None,
            }],
            entries: vec![0, 1, 2],
            sigmas: vec![sigma; 3],
            total: 45,
            skipped: 0,
            rotations: Vec::new(),
            drive: Drive::Commanded,
        };
        let fit = identify(
            &model,
            &data,
            &FitOptions {
                solver: SolverKind::Lm,
                starts: 1,
                ..Default::default()
            },
            "toy",
            &[],
        )
        .expect("fit");
        estimates.push([fit.estimate["a"], fit.estimate["b"]]);
        reported.push([fit.std["a"].expect("finite"), fit.std["b"].expect("finite")]);
    }
    for k in 0..2 {
        let mean = estimates.iter().map(|e| e[k]).sum::<f64>() / 200.0;
        let spread = (estimates.iter().map(|e| (e[k] - mean).powi(2)).sum::<f64>() / 199.0).sqrt();
        let std = reported.iter().map(|r| r[k]).sum::<f64>() / 200.0;
        assert!(
            ((std - spread) / spread).abs() < 0.15,
            "parameter {k}: reported std {std}, empirical {spread}"
        );
        assert!(
            (mean - truth[k]).abs() < 3.0 * spread / 200f64.sqrt() + 1e-9,
            "parameter {k}: biased mean {mean}"
        );
    }
}

/// Only the sum of the two parameters reaches the observations: the pair is confounded.
struct Confounded {
    space: ParamSpace,
}

impl ReplayModel for Confounded {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        Ok((0..=actions.len())
            .map(|k| {
                vec![
                    (theta[0] + theta[1]) * k as f64,
                    theta[2] * (k as f64).sqrt(),
                ]
            })
            .collect())
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<asid_sysid::model::Sensitivities, String> {
        let jacs = (1..=actions.len())
            .map(|k| {
                DMatrix::from_row_slice(
                    2,
                    3,
                    &[k as f64, k as f64, 0.0, 0.0, 0.0, (k as f64).sqrt()],
                )
            })
            .collect();
        Ok((self.simulate(theta, actions)?, jacs))
    }
}

#[test]
fn a_confounded_pair_is_flagged_unidentifiable() {
    let model = Confounded {
        space: ParamSpace {
            params: vec![param("mass"), param("friction"), param("offset")],
        },
    };
    let actions = vec![vec![0.0]; 10];
    let clean = model
        .simulate(&[0.5, 0.3, -0.2], &actions)
        .expect("simulate");
    let data = Dataset {
        replays: vec![Replay {
            source: "toy".into(),
            actions,
            recorded: clean
                .iter()
                .map(|r| r.iter().map(|v| Some(*v)).collect())
                .collect(),
            joint_path: None,
        }],
        entries: vec![0, 1],
        sigmas: vec![0.01; 2],
        total: 20,
        skipped: 0,
        rotations: Vec::new(),
        drive: Drive::Commanded,
    };
    let fit = identify(
        &model,
        &data,
        &FitOptions {
            solver: SolverKind::Lm,
            starts: 1,
            ..Default::default()
        },
        "toy",
        &[],
    )
    .expect("fit");
    assert!(
        !fit.identifiable["mass"] && !fit.identifiable["friction"],
        "{:?}",
        fit.identifiable
    );
    assert!(fit.identifiable["offset"]);
    let verdict = &fit.identifiability.verdict;
    assert!(
        verdict.contains("confounded") && verdict.contains("mass") && verdict.contains("friction"),
        "{verdict}"
    );
    // Their sum is still well determined.
    assert!((fit.estimate["mass"] + fit.estimate["friction"] - 0.8).abs() < 1e-6);
}

/// Every solver records how it got to its estimate: from what its initialisation evaluated (LM the
/// start, Nelder-Mead its first simplex, the swarm its first particles; CEM draws its first
/// population in its first iteration), never rising, ending at the estimate (for the swarm, the best particle's
/// position is the path's parameter).
#[test]
fn every_solver_records_its_path_to_the_estimate() {
    let model = Linear {
        space: ParamSpace {
            params: vec![param("a"), param("b")],
        },
    };
    let truth = [0.7, -0.4];
    let actions: Vec<Vec<f64>> = (0..15)
        .map(|k| vec![(k as f64 * 0.9).sin(), (k as f64 * 0.4).cos()])
        .collect();
    let recorded: Vec<Vec<Option<f64>>> = model
        .simulate(&truth, &actions)
        .expect("simulate")
        .iter()
        .map(|row| row.iter().map(|v| Some(*v)).collect())
        .collect();
    let data = Dataset {
        replays: vec![Replay {
            source: "toy".into(),
            actions,
            recorded,
            joint_path: None,
        }],
        entries: vec![0, 1, 2],
        sigmas: vec![0.1; 3],
        total: 45,
        skipped: 0,
        rotations: Vec::new(),
        drive: Drive::Commanded,
    };
    for solver in [
        SolverKind::Lm,
        SolverKind::Nm,
        SolverKind::Cem,
        SolverKind::Pso,
    ] {
        let fit = identify(
            &model,
            &data,
            &FitOptions {
                solver,
                starts: 1,
                ..Default::default()
            },
            "toy",
            &[],
        )
        .expect("fit");
        let it = &fit.iterations;
        assert!(it.len() >= 2, "{solver:?}: {it:?}");
        // Entry 0: what the initialisation evaluated; CEM draws its first population later.
        assert_eq!(
            it[0].iteration == 0,
            solver != SolverKind::Cem,
            "{solver:?}: {it:?}"
        );
        if solver == SolverKind::Lm {
            // LM's start is the prior's centre (Nelder-Mead's entry 0 is the best vertex of its
            // first simplex around it).
            assert_eq!((it[0].estimate["a"], it[0].estimate["b"]), (0.0, 0.0));
        }
        for w in it.windows(2) {
            assert!(w[1].iteration > w[0].iteration, "{solver:?}: {it:?}");
            assert!(w[1].cost <= w[0].cost, "{solver:?}: best cost rose: {it:?}");
        }
        let last = it.last().expect("last");
        assert_eq!(last.estimate, fit.estimate, "{solver:?}");
    }
}
