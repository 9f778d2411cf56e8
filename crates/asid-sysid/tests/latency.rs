//! The tracker-latency estimate on a toy with the simulated lab's timing: an object pushed at a
//! constant speed, then sliding to rest with an unknown deceleration (which a late-seen slide
//! mimics), seen by a 100 Hz tracker whose stamps hide a latency, resampled by linear
//! interpolation onto a 10 Hz control grid in phase with the tracker; the pusher's position is on
//! the arm's clock. Regression for the estimate that sat at the resampling's noise phase and at
//! the parameters fitted to the misaligned data (3.8 +- 1.0 ms on a 30 ms lab).

use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use asid_sysid::{
    Dataset, Drive, FitOptions, LatencySearch, Replay, ReplayModel, SolverKind, SysIdError,
    identify_aligned,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

const PERIOD_S: f64 = 0.1;
const STEPS: usize = 20;
const FINE: usize = 50;
const SPEED_MPS: f64 = 0.5;
const RELEASE_S: f64 = 0.8;
const SIGMA_M: f64 = 0.005;
const ARM_SIGMA_M: f64 = 0.01;

struct Slide {
    space: ParamSpace,
}

/// Object and pusher position at `t_s` for deceleration `decel`.
fn state(decel: f64, t_s: f64) -> [f64; 2] {
    let pusher = SPEED_MPS * t_s.clamp(0.0, RELEASE_S);
    let s = (t_s - RELEASE_S).max(0.0).min(SPEED_MPS / decel);
    [pusher + SPEED_MPS * s - 0.5 * decel * s * s, pusher]
}

impl ReplayModel for Slide {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        Ok((0..=actions.len())
            .map(|h| state(theta[0], h as f64 * PERIOD_S).to_vec())
            .collect())
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<asid_sysid::model::Sensitivities, String> {
        let d = 1e-4;
        let jac = (1..=actions.len())
            .map(|h| {
                let t = h as f64 * PERIOD_S;
                let (a, b) = (state(theta[0] + d, t), state(theta[0] - d, t));
                DMatrix::from_row_slice(2, 1, &[(a[0] - b[0]) / (2.0 * d), 0.0])
            })
            .collect();
        Ok((self.simulate(theta, actions)?, jac))
    }
    fn control_period_s(&self) -> Option<f64> {
        Some(PERIOD_S)
    }
    fn simulate_fine(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
        _q_path: Option<&[Vec<f64>]>,
    ) -> Result<(usize, Vec<Vec<f64>>), String> {
        let dt = PERIOD_S / FINE as f64;
        Ok((
            FINE,
            (0..=actions.len() * FINE)
                .map(|k| state(theta[0], k as f64 * dt).to_vec())
                .collect(),
        ))
    }
}

/// The recorded episode with the tracker's poses moved `shift_s` earlier.
fn dataset(truth: f64, latency_s: f64, seed: u64, shift_s: f64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0, SIGMA_M).expect("normal");
    // (stamp, position): a frame every 10 ms, stamped `latency_s` after it was true.
    let frames: Vec<(f64, f64)> = (0..=(STEPS * 10 + 10))
        .map(|j| {
            let t = j as f64 * 0.01;
            (
                t + latency_s - shift_s,
                state(truth, t)[0] + noise.sample(&mut rng),
            )
        })
        .collect();
    let arm = Normal::new(0.0, 1e-4).expect("normal");
    let recorded = (0..=STEPS)
        .map(|h| {
            let t = h as f64 * PERIOD_S;
            let i = frames.partition_point(|f| f.0 < t);
            let object = (i > 0 && i < frames.len()).then(|| {
                let (a, b) = (frames[i - 1], frames[i]);
                a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0)
            });
            vec![object, Some(state(truth, t)[1] + arm.sample(&mut rng))]
        })
        .collect();
    Dataset {
        replays: vec![Replay {
            source: format!("seed {seed}"),
            actions: vec![vec![0.0]; STEPS],
            recorded,
            joint_path: None,
        }],
        entries: vec![0, 1],
        sigmas: vec![SIGMA_M, ARM_SIGMA_M],
        total: 2 * STEPS,
        skipped: 0,
        rotations: Vec::new(),
        drive: Drive::Commanded,
    }
}

#[test]
fn latency_estimate_holds_the_trackers_latency_within_its_std() {
    let model = Slide {
        space: ParamSpace {
            params: vec![Param {
                name: "decel".into(),
                target_path: "decel".into(),
                target: ParamTarget::TableFriction,
                prior: Prior::Uniform {
                    low: 1.0,
                    high: 5.0,
                },
                bounds: [0.5, 8.0],
                fd_step: 0.05,
                nominal: 3.0,
            }],
        },
    };
    let opts = FitOptions {
        solver: SolverKind::Lm,
        starts: 2,
        ..Default::default()
    };
    let (truth, latency_s) = (2.0, 0.03);
    let mut misses = 0;
    for seed in 0..10 {
        let shifted = |shift_s: f64| -> Result<Dataset, SysIdError> {
            Ok(dataset(truth, latency_s, seed, shift_s))
        };
        let fit = identify_aligned(
            &model,
            &shifted,
            &opts,
            &LatencySearch::default(),
            "toy",
            &[],
        )
        .expect("fit");
        let l = fit.pose_latency.expect("latency estimated");
        let std = l.std_s.expect("a std");
        println!(
            "seed {seed}: latency {:.1} +- {:.1} ms, decel {:.3}",
            l.estimate_s * 1e3,
            std * 1e3,
            fit.estimate["decel"]
        );
        assert!(std > 0.0 && std < 0.01, "seed {seed}: std {std} s");
        assert!(!l.at_edge, "seed {seed}: {l:?}");
        if (l.estimate_s - latency_s).abs() > 1.96 * std {
            misses += 1;
        }
    }
    // 95 % intervals: at most 2 misses of 10 by chance (probability of 3 or more: 1.2 %).
    assert!(misses <= 2, "{misses} of 10 intervals miss the latency");
}
