//! Profile-likelihood intervals: equal to the Wald interval on a linear model, asymmetric and with
//! honest coverage where the observations go flat on one side (like friction in pushing).

use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use asid_sysid::{Dataset, Drive, FitOptions, Replay, ReplayModel, SolverKind, identify};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

/// `y_k = c_k / theta_0 + d_k theta_1`: a slide length that goes flat as friction grows, plus a
/// correlated linear nuisance (`linear`: `c_k theta_0` instead).
struct Toy {
    space: ParamSpace,
    linear: bool,
}

const N: usize = 12;
/// Repeated observation rows per data set.
const ROWS: usize = 10;

fn c(k: usize) -> f64 {
    0.1 * (k + 1) as f64
}

fn d(k: usize) -> f64 {
    0.5 + 0.05 * k as f64
}

impl Toy {
    fn obs(&self, theta: &[f64]) -> Vec<f64> {
        (0..N)
            .map(|k| {
                let f = if self.linear {
                    c(k) * theta[0]
                } else {
                    c(k) / theta[0]
                };
                f + d(k) * theta[1]
            })
            .collect()
    }
}

impl ReplayModel for Toy {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        Ok(vec![self.obs(theta); actions.len() + 1])
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<asid_sysid::model::Sensitivities, String> {
        let jac = DMatrix::from_fn(N, 2, |k, j| match (j, self.linear) {
            (0, true) => c(k),
            (0, false) => -c(k) / (theta[0] * theta[0]),
            _ => d(k),
        });
        Ok((self.simulate(theta, actions)?, vec![jac; actions.len()]))
    }
}

fn param(name: &str, low: f64, high: f64) -> Param {
    Param {
        name: name.into(),
        target_path: name.into(),
        target: ParamTarget::TableFriction,
        prior: Prior::Uniform { low, high },
        bounds: [low, high],
        fd_step: 1e-3,
        nominal: 0.5 * (low + high),
    }
}

/// Estimate, Wald interval and profile interval of theta_0 from one fit.
type Trial = (f64, [f64; 2], [f64; 2]);

/// Fits `trials` noisy data sets.
fn fits(toy: &Toy, truth: [f64; 2], sigma: f64, trials: usize) -> Vec<Trial> {
    let clean = toy.obs(&truth);
    let noise = Normal::new(0.0, sigma).expect("normal");
    let mut rng = StdRng::seed_from_u64(7);
    (0..trials)
        .map(|_| {
            let row = |rng: &mut StdRng| -> Vec<Option<f64>> {
                clean.iter().map(|v| Some(v + noise.sample(rng))).collect()
            };
            // The initial row is not fitted; the others are (dof well above 100, so the
            // residual-based noise scale is itself accurate).
            let recorded: Vec<Vec<Option<f64>>> = (0..=ROWS).map(|_| row(&mut rng)).collect();
            let data = Dataset {
                replays: vec![Replay {
                    source: "toy".into(),
                    actions: vec![vec![0.0]; ROWS],
                    recorded,
                    joint_path: None,
                }],
                entries: (0..N).collect(),
                sigmas: vec![sigma; N],
                total: N * ROWS,
                skipped: 0,
                rotations: Vec::new(),
                drive: Drive::Commanded,
            };
            let opts = FitOptions {
                solver: SolverKind::Lm,
                starts: 2,
                ..Default::default()
            };
            let fit = identify(toy, &data, &opts, "toy", &[]).expect("fit");
            let est = fit.estimate["f"];
            let wald = fit.wald_interval95["f"].expect("finite std");
            let p = fit.profile_interval95["f"];
            (est, wald, [p.lo, p.hi])
        })
        .collect()
}

#[test]
fn on_a_linear_model_the_profile_interval_is_the_wald_interval() {
    let toy = Toy {
        space: ParamSpace {
            params: vec![param("f", -5.0, 5.0), param("g", -5.0, 5.0)],
        },
        linear: true,
    };
    for (est, wald, prof) in fits(&toy, [0.7, -0.4], 0.1, 20) {
        let half = 0.5 * (wald[1] - wald[0]);
        for (w, p) in wald.iter().zip(&prof) {
            assert!(
                (w - p).abs() < 0.03 * half,
                "estimate {est}: Wald {wald:?}, profile {prof:?}"
            );
        }
    }
}

#[test]
fn where_the_data_go_flat_the_profile_interval_is_asymmetric_and_covers() {
    let toy = Toy {
        space: ParamSpace {
            params: vec![param("f", 0.1, 3.0), param("g", -2.0, 2.0)],
        },
        linear: false,
    };
    let truth = [0.45, 0.3];
    let results = fits(&toy, truth, 1.5, 200);
    let covered = |pick: fn(&Trial) -> [f64; 2]| {
        results
            .iter()
            .filter(|r| (pick(r)[0]..=pick(r)[1]).contains(&truth[0]))
            .count() as f64
            / results.len() as f64
    };
    let profile = covered(|r| r.2);
    let wald = covered(|r| r.1);
    assert!(
        (0.92..=0.98).contains(&profile) && profile > wald,
        "profile coverage {profile}, Wald {wald}"
    );
    // Longer towards high friction, where the data are flat.
    let (up, down) = results
        .iter()
        .fold((0.0, 0.0), |(u, d), (e, _, p)| (u + p[1] - e, d + e - p[0]));
    assert!(up > 2.0 * down, "upper half-widths {up}, lower {down}");
}
