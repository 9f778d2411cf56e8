//! A belief from a fit never claims more than the fit's reported interval: draws of a confounded
//! pair follow the pair's correlation and reach the ends of the profile interval, not only the
//! covariance's local spread.

use std::path::Path;

use asid_task::{Belief, BeliefSource};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn space() -> asid_core::ParamSpace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sim = asid_sim::Simulator::load(&root.join("scenes/shuffleboard.toml")).expect("scene");
    sim.scene().space.clone()
}

/// The shuffleboard fit of an evaluation trial (truth: friction 0.41): friction 0.2317 +- 0.0040,
/// torsional friction 0.00310 +- 0.000057 m, correlation +0.992, friction's interval
/// [0.2239, 0.4247], torsional friction's [0.002986, 0.005568].
fn confounded(with_intervals: bool) -> Belief {
    let (s0, s1, rho) = (3.978e-3, 5.731e-5, 0.992);
    Belief {
        source: BeliefSource::Fit,
        estimate: vec![0.231655, 0.003098],
        covariance: vec![vec![s0 * s0, rho * s0 * s1], vec![rho * s0 * s1, s1 * s1]],
        determined: vec![true, true],
        structure_weights: Vec::new(),
        interval95: if with_intervals {
            vec![Some([0.223858, 0.424678]), Some([0.002986, 0.005568])]
        } else {
            Vec::new()
        },
    }
}

/// The share of the draws whose friction (the first parameter) satisfies `keep`.
fn share(draws: &[Vec<f64>], keep: impl Fn(f64) -> bool) -> f64 {
    draws.iter().filter(|t| keep(t[0])).count() as f64 / draws.len() as f64
}

fn stats(draws: &[Vec<f64>], i: usize) -> (f64, f64) {
    let n = draws.len() as f64;
    let mean = draws.iter().map(|t| t[i]).sum::<f64>() / n;
    let var = draws.iter().map(|t| (t[i] - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[test]
fn without_intervals_the_draws_are_the_covariances_gaussian() {
    let space = space();
    let b = confounded(false);
    let draws = b.samples(&space, 4000, &mut StdRng::seed_from_u64(7));
    let (m0, sd0) = stats(&draws, 0);
    let (m1, sd1) = stats(&draws, 1);
    assert!((m0 - 0.231655).abs() < 3e-4, "mean {m0}");
    assert!((sd0 / 3.978e-3 - 1.0).abs() < 0.05, "std {sd0}");
    assert!((m1 - 0.003098).abs() < 5e-6, "mean {m1}");
    assert!((sd1 / 5.731e-5 - 1.0).abs() < 0.05, "std {sd1}");
    assert!(
        draws.iter().all(|t| t[0] < 0.26),
        "no draw far above the estimate"
    );
}

#[test]
fn the_interval_widens_each_side_and_the_pair_moves_together() {
    let space = space();
    let b = confounded(true);
    let [below, above] = b.spreads()[0];
    // Below, the interval's end lies at 1.96 of the covariance's std: that spread holds.
    assert!((below - 3.978e-3).abs() < 1e-6, "below: {below}");
    assert!(
        (above - (0.424678 - 0.231655) / 1.96).abs() < 1e-12,
        "above: to the interval's end {above}"
    );
    let draws = b.samples(&space, 4000, &mut StdRng::seed_from_u64(7));
    let n = draws.len() as f64;
    // Above the estimate the draws spread to reach the interval's end at 1.96: a sixth of them lie
    // beyond one upper spread (0.330), where the covariance's Gaussian puts none (its 84th
    // percentile is 0.236).
    let past_one = share(&draws, |f| f > 0.330136);
    assert!((past_one - 0.1587).abs() < 0.02, "{past_one}");
    let beyond = share(&draws, |f| f > 0.424678);
    assert!((beyond - 0.025).abs() < 0.01, "{beyond}");
    // The truth of that trial (0.41) is inside what the belief covers.
    assert!(draws.iter().any(|t| t[0] > 0.41));
    // Below the estimate the covariance's spread holds.
    assert!(draws.iter().all(|t| t[0] > 0.2317 - 6.0 * 3.978e-3));
    // The torsional friction follows the friction (rank correlation of the draws).
    let rank = |i: usize| {
        let mut idx: Vec<usize> = (0..draws.len()).collect();
        idx.sort_by(|&a, &b| draws[a][i].total_cmp(&draws[b][i]));
        let mut r = vec![0.0; draws.len()];
        for (k, &j) in idx.iter().enumerate() {
            r[j] = k as f64;
        }
        r
    };
    let (r0, r1) = (rank(0), rank(1));
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = r0
        .iter()
        .zip(&r1)
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum();
    let var: f64 = r0.iter().map(|a| (a - mean).powi(2)).sum();
    assert!(cov / var > 0.95, "rank correlation {}", cov / var);
    for t in &draws {
        space.check(t).expect("inside the bounds");
    }
}

#[test]
fn an_interval_end_farther_than_the_covariance_reaches_sets_that_sides_spread() {
    let space = space();
    let mut b = confounded(true);
    // The lower end 0.20 lies 8.0 covariance std below the estimate.
    b.interval95[0] = Some([0.20, 0.424678]);
    let [below, above] = b.spreads()[0];
    assert!(
        (below - (0.231655 - 0.20) / 1.96).abs() < 1e-12,
        "below: to the interval's end {below}"
    );
    assert!((above - (0.424678 - 0.231655) / 1.96).abs() < 1e-12);
    let draws = b.samples(&space, 4000, &mut StdRng::seed_from_u64(9));
    let under = share(&draws, |f| f < 0.20);
    assert!((under - 0.025).abs() < 0.01, "{under}");
    let over = share(&draws, |f| f > 0.424678);
    assert!((over - 0.025).abs() < 0.01, "{over}");

    // An end inside the covariance's reach (0.7 std below) does not narrow that side.
    b.interval95[0] = Some([0.229, 0.424678]);
    let [below, _] = b.spreads()[0];
    assert!(
        (below - 3.978e-3).abs() < 1e-9,
        "below: the covariance's std {below}"
    );
}
