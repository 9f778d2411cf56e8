//! Prior quantiles and Latin hypercube draws: each parameter's strata hold one draw each, and the
//! quantile function inverts each prior's distribution (a normal truncated to its bounds).

use asid_core::{Param, ParamSpace, ParamTarget, Prior};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn param(name: &str, prior: Prior, bounds: [f64; 2]) -> Param {
    Param {
        name: name.into(),
        target_path: name.into(),
        target: ParamTarget::TableFriction,
        prior,
        bounds,
        fd_step: 1e-3,
        nominal: bounds[0],
    }
}

/// The normal distribution function, by Simpson's rule on the density (independent of the
/// implementation under test).
fn normal_cdf(x: f64, mean: f64, std: f64) -> f64 {
    let z = (x - mean) / std;
    let (lo, n) = (-12.0f64, 20_000);
    let h = (z - lo) / n as f64;
    let f = |t: f64| (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(lo) + f(z);
    for i in 1..n {
        s += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn quantiles_invert_each_prior() {
    let uniform = Prior::Uniform {
        low: 0.1,
        high: 0.5,
    };
    assert!((uniform.quantile(0.25, [0.0, 1.0]) - 0.2).abs() < 1e-12);
    let log = Prior::LogUniform {
        low: 0.01,
        high: 1.0,
    };
    assert!((log.quantile(0.5, [0.01, 1.0]) - 0.1).abs() < 1e-12);
    let discrete = Prior::Discrete {
        values: vec![0.0, 1.0],
    };
    assert_eq!(discrete.quantile(0.49, [0.0, 1.0]), 0.0);
    assert_eq!(discrete.quantile(0.51, [0.0, 1.0]), 1.0);
    assert_eq!(discrete.quantile(1.0, [0.0, 1.0]), 1.0);

    // Wide bounds: the plain normal's quantiles.
    let normal = Prior::Normal {
        mean: 2.0,
        std: 0.5,
    };
    let wide = [-8.0, 12.0];
    assert!((normal.quantile(0.5, wide) - 2.0).abs() < 1e-9);
    assert!((normal.quantile(0.975, wide) - (2.0 + 1.959_964 * 0.5)).abs() < 1e-5);
    // Truncated at [1.5, 4]: u maps through the distribution function restricted to the bounds.
    let bounds = [1.5, 4.0];
    let (a, b) = (normal_cdf(1.5, 2.0, 0.5), normal_cdf(4.0, 2.0, 0.5));
    for u in [0.0, 0.1, 0.5, 0.9, 1.0] {
        let x = normal.quantile(u, bounds);
        assert!((bounds[0]..=bounds[1]).contains(&x), "{x}");
        let back = (normal_cdf(x, 2.0, 0.5) - a) / (b - a);
        assert!((back - u).abs() < 1e-6, "u {u}: x {x} maps back to {back}");
    }
}

#[test]
fn a_latin_hypercube_puts_one_draw_in_every_stratum_of_every_parameter() {
    let space = ParamSpace {
        params: vec![
            param(
                "mu",
                Prior::Uniform {
                    low: 0.1,
                    high: 0.5,
                },
                [0.05, 1.0],
            ),
            param(
                "c",
                Prior::LogUniform {
                    low: 0.002,
                    high: 0.05,
                },
                [0.001, 0.1],
            ),
            param(
                "m",
                Prior::Normal {
                    mean: 1.0,
                    std: 0.2,
                },
                [0.5, 1.5],
            ),
        ],
    };
    let n = 7;
    let mut rng = StdRng::seed_from_u64(5);
    let draws = space.latin_hypercube(n, &mut rng);
    assert_eq!(draws.len(), n);
    // The stratum of each draw, from each prior's own distribution function.
    let (a, b) = (normal_cdf(0.5, 1.0, 0.2), normal_cdf(1.5, 1.0, 0.2));
    let cdfs: [Box<dyn Fn(f64) -> f64>; 3] = [
        Box::new(|x| (x - 0.1) / 0.4),
        Box::new(|x: f64| (x / 0.002).ln() / (0.05f64 / 0.002).ln()),
        Box::new(move |x| (normal_cdf(x, 1.0, 0.2) - a) / (b - a)),
    ];
    for (k, cdf) in cdfs.iter().enumerate() {
        let mut strata: Vec<usize> = draws
            .iter()
            .map(|d| {
                assert_eq!(d.len(), 3);
                (cdf(d[k]) * n as f64).floor() as usize
            })
            .collect();
        strata.sort_unstable();
        assert_eq!(
            strata,
            (0..n).collect::<Vec<_>>(),
            "parameter {k}: {draws:?}"
        );
    }
    // The pairing across parameters is random: another seed pairs them otherwise.
    let again = space.latin_hypercube(n, &mut StdRng::seed_from_u64(6));
    let order = |ds: &[Vec<f64>], k: usize| {
        let mut idx: Vec<usize> = (0..ds.len()).collect();
        idx.sort_by(|&i, &j| ds[i][k].total_cmp(&ds[j][k]));
        idx
    };
    assert_ne!(
        (order(&draws, 0), order(&draws, 1)),
        (order(&again, 0), order(&again, 1))
    );
}
