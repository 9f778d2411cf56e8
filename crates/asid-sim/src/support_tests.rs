//! Unit tests of the planar friction model (`support.rs`).

use super::*;

fn disc(radius: f64, mu: f64, weight_n: f64) -> Vec<SupportPoint> {
    let pts = crate::support_geometry::disc_footprint(radius);
    let w = balanced_weights(&pts, [0.0, 0.0]);
    pts.iter()
        .zip(w)
        .map(|(p, w)| SupportPoint {
            r_m: *p,
            normal_n: w * weight_n,
            mu,
            spin_m: 0.0,
        })
        .collect()
}

#[test]
fn dissipation_gradient_is_the_friction_wrench_and_hessian_its_derivative() {
    let mut pts = disc(0.04, 0.3, 1.5);
    apply_torsion(&mut pts, 0.015);
    for t in [[0.1, -0.05, 2.0], [0.0, 0.2, -0.5], [0.3, 0.1, 0.0]] {
        let tv = Vector3::from(t);
        let (_, g, h) = dissipation(&pts, &tv);
        let w = friction_wrench(&pts, t);
        for k in 0..3 {
            assert!(
                (g[k] + w[k]).abs() < 1e-6 * (1.0 + w[k].abs()),
                "{t:?}: {g} vs {w:?}"
            );
        }
        for k in 0..3 {
            let mut e = Vector3::zeros();
            e[k] = 1e-6;
            let gp = dissipation(&pts, &(tv + e)).1;
            let gm = dissipation(&pts, &(tv - e)).1;
            let fd = (gp - gm) / 2e-6;
            for r in 0..3 {
                assert!(
                    (fd[r] - h[(r, k)]).abs() < 1e-4 * (1.0 + h[(r, k)].abs()),
                    "{t:?} H[{r},{k}]"
                );
            }
        }
    }
}

/// The dissipation as 3x3 matrix products (how it was first written): the reference the
/// entry-by-entry version must equal bit for bit, so the speed-up changes no trajectory.
fn dissipation_by_matrices(
    points: &[SupportPoint],
    t: &Vector3<f64>,
) -> (f64, Vector3<f64>, Matrix3<f64>) {
    let eps2 = SMOOTHING_M_S * SMOOTHING_M_S;
    let (mut d, mut g, mut h) = (0.0, Vector3::zeros(), Matrix3::zeros());
    for p in points {
        let b = Matrix3::new(1.0, 0.0, -p.r_m[1], 0.0, 1.0, p.r_m[0], 0.0, 0.0, 1.0);
        let z = b * t;
        let k = Vector3::new(p.mu * p.mu, p.mu * p.mu, p.spin_m * p.spin_m);
        let kz = k.component_mul(&z);
        let s = (z.dot(&kz) + eps2).sqrt();
        d += p.normal_n * s;
        let gz = kz / s;
        g += p.normal_n * b.transpose() * gz;
        let hz = Matrix3::from_diagonal(&k) / s - gz * gz.transpose() / s;
        h += p.normal_n * b.transpose() * hz * b;
    }
    (d, g, h)
}

#[test]
fn dissipation_written_out_equals_the_matrix_products_bit_for_bit() {
    // A fixed pseudo-random sequence (64-bit LCG) of twists, torsions and offsets.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    for case in 0..200 {
        let mut pts = disc(0.02 + 0.03 * next().abs(), 0.1 + 0.5 * next().abs(), 2.0);
        if case % 2 == 0 {
            apply_torsion(&mut pts, 0.03 * next().abs());
        }
        for p in &mut pts {
            p.r_m = [p.r_m[0] + 0.01 * next(), p.r_m[1] + 0.05 * next()];
        }
        let scale = [1.0, 1e-3, 1e-7, 0.0][case % 4];
        let t = Vector3::new(next() * scale, next() * scale, 10.0 * next() * scale);
        let (d, g, h) = dissipation(&pts, &t);
        let (dr, gr, hr) = dissipation_by_matrices(&pts, &t);
        assert_eq!(d.to_bits(), dr.to_bits(), "case {case}: rate");
        assert_eq!(
            dissipation_rate(&pts, &t).to_bits(),
            dr.to_bits(),
            "case {case}"
        );
        let g_alone = dissipation_gradient(&pts, &t);
        for k in 0..3 {
            assert_eq!(g[k].to_bits(), gr[k].to_bits(), "case {case}: g[{k}]");
            assert_eq!(g_alone[k].to_bits(), gr[k].to_bits(), "case {case}: g[{k}]");
            for c in 0..3 {
                assert_eq!(
                    h[(k, c)].to_bits(),
                    hr[(k, c)].to_bits(),
                    "case {case}: H[{k},{c}]"
                );
            }
        }
    }
}

/// The spin length by bisection (60 halvings of [0, torsion]), as it was first computed.
fn spin_length_by_bisection(points: &[SupportPoint], torsion_m: f64) -> f64 {
    let total: f64 = points.iter().map(|p| p.normal_n).sum();
    let (mut lo, mut hi) = (0.0, torsion_m);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if mean_spin(points, total, mid) < torsion_m {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn the_spin_length_by_newton_is_the_bisections_root() {
    let pts = disc(0.04, 0.3, 1.5);
    let total: f64 = pts.iter().map(|p| p.normal_n).sum();
    let natural = 2.0 / 3.0 * 0.3 * 0.04;
    // From just above the points' own spin torque (a root near zero) to far above it.
    for factor in [1.0 + 1e-9, 1.0 + 1e-6, 1.001, 1.1, 1.5, 2.5, 10.0, 100.0] {
        let torsion = natural * factor;
        let newton = spin_length(&pts, total, torsion);
        let bisection = spin_length_by_bisection(&pts, torsion);
        // The torque it asks for, to rounding; the same root (relative to the root: just above
        // the points' own torque the spin is flat in c0 and both are exact only to 1e-7).
        let spin = mean_spin(&pts, total, newton);
        assert!(
            (spin - torsion).abs() <= 1e-14 * torsion,
            "x{factor}: spin {spin} for {torsion}"
        );
        assert!(
            (newton - bisection).abs() <= 1e-6 * bisection,
            "x{factor}: newton {newton:e}, bisection {bisection:e}"
        );
    }
}

#[test]
fn uniform_disc_spins_down_at_two_thirds_mu_n_r() {
    let pts = disc(0.04, 0.3, 1.5);
    let w = friction_wrench(&pts, [0.0, 0.0, 2.0]);
    let expected = 2.0 / 3.0 * 0.3 * 1.5 * 0.04;
    assert!(
        (w[2] + expected).abs() < 1e-9 * expected.max(1.0),
        "{w:?} vs {expected}"
    );
    assert!(w[0].abs() < 1e-12 && w[1].abs() < 1e-12);
}

#[test]
fn pure_translation_feels_mu_n() {
    let pts = disc(0.04, 0.3, 1.5);
    let w = friction_wrench(&pts, [0.3, -0.4, 0.0]);
    assert!((w[0] + 0.3 * 1.5 * 0.6).abs() < 1e-12);
    assert!((w[1] - 0.3 * 1.5 * 0.8).abs() < 1e-12);
    assert!(w[2].abs() < 1e-12);
}

#[test]
fn weights_balance_the_centre_of_mass_and_clamp() {
    let corners = [[0.02, 0.15], [0.02, -0.15], [-0.02, 0.15], [-0.02, -0.15]];
    for com in [[0.0, 0.0], [0.0, 0.05], [0.01, -0.1], [0.0, 0.14]] {
        let w = balanced_weights(&corners, com);
        let c: Vec<f64> = (0..2)
            .map(|a| corners.iter().zip(&w).map(|(p, w)| p[a] * w).sum())
            .collect();
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(w.iter().all(|w| *w >= 0.0));
        assert!(
            (c[0] - com[0]).abs() < 1e-9 && (c[1] - com[1]).abs() < 1e-9,
            "{com:?}: {c:?}"
        );
    }
    // A line of points along y with the load far off centre: linear law goes negative and clamps.
    let line: Vec<[f64; 2]> = (0..21)
        .map(|k| [0.0, -0.15 + 0.015 * f64::from(k)])
        .collect();
    let w = balanced_weights(&line, [0.0, 0.09]);
    let c: f64 = line.iter().zip(&w).map(|(p, w)| p[1] * w).sum();
    assert!((c - 0.09).abs() < 1e-9, "{c}");
    assert!(w[0] == 0.0, "the far end carries nothing: {w:?}");
}

#[test]
fn torsion_matches_the_requested_spin_torque() {
    for torsion in [0.002, 0.008, 0.02] {
        let mut pts = disc(0.04, 0.3, 1.5);
        apply_torsion(&mut pts, torsion);
        let w = friction_wrench(&pts, [0.0, 0.0, 1.0]);
        assert!(
            (-w[2] / 1.5 - torsion).abs() < 1e-9,
            "{torsion}: {}",
            -w[2] / 1.5
        );
        // Sliding without spin still feels mu N.
        let w = friction_wrench(&pts, [1.0, 0.0, 0.0]);
        assert!((w[0] + 0.3 * 1.5).abs() < 1e-9);
    }
}

#[test]
fn implicit_step_holds_what_friction_can_hold_and_never_reverses() {
    let pts = disc(0.04, 0.3, 0.15 * 9.81);
    let (m, iz, dt) = (0.15, 0.5 * 0.15 * 0.04 * 0.04, 0.002);
    // Slow: stopped within the step.
    let t = implicit_twist(&pts, m, iz, [0.001, 0.0, 0.01], dt);
    assert!(t.iter().all(|v| v.abs() < 1e-6), "{t:?}");
    // Fast pure slide: decelerates by mu g dt.
    let t = implicit_twist(&pts, m, iz, [1.0, 0.0, 0.0], dt);
    assert!((t[0] - (1.0 - 0.3 * 9.81 * dt)).abs() < 1e-6, "{t:?}");
    // Slide and spin: both slow down, neither reverses.
    let t = implicit_twist(&pts, m, iz, [0.2, 0.1, 5.0], dt);
    assert!(t[0] > 0.0 && t[0] < 0.2 && t[1] > 0.0 && t[1] < 0.1 && t[2] > 0.0 && t[2] < 5.0);
}

#[test]
fn sliding_and_spinning_disc_stops_both_at_once() {
    // Uniform pressure: a disc released sliding and spinning comes to rest in translation and
    // rotation at the same instant (a known result for axisymmetric uniform pressure).
    let (m, r) = (0.15, 0.04);
    let pts = disc(r, 0.3, m * 9.81);
    let iz = 0.5 * m * r * r;
    let dt = 1e-4;
    let mut t = [0.3, 0.0, 10.0];
    let (mut stop_v, mut stop_w) = (None, None);
    for k in 0..100_000 {
        t = implicit_twist(&pts, m, iz, t, dt);
        let time = f64::from(k + 1) * dt;
        if stop_v.is_none() && t[0].hypot(t[1]) < 1e-5 {
            stop_v = Some(time);
        }
        if stop_w.is_none() && (t[2] * r).abs() < 1e-5 {
            stop_w = Some(time);
        }
        if stop_v.is_some() && stop_w.is_some() {
            break;
        }
    }
    let (a, b) = (
        stop_v.expect("stops sliding"),
        stop_w.expect("stops spinning"),
    );
    assert!(
        (a - b).abs() < 0.02 * a.max(b),
        "slide stops at {a} s, spin at {b} s"
    );
}

#[test]
fn slide_with_inertia_pushes_never_pulls_and_slips_against_friction() {
    // A puck at rest struck obliquely by a slippery pusher: the pusher slides along the rim.
    let pts = disc(0.04, 0.3, 0.15 * 9.81);
    let (m, iz, dt) = (0.15, 0.5 * 0.15 * 0.04 * 0.04, 0.002);
    let n = [-0.8_f64, -0.6];
    let c = PushContact {
        r_m: [0.04 * n[0], 0.04 * n[1]],
        normal: n,
        pusher_velocity_m_s: [0.3, 0.0],
        mu: 0.1,
    };
    let s = step(&pts, [m, m, iz], [0.0; 3], dt, Some(&c));
    assert_eq!(s.mode, ContactMode::Slide, "{s:?}");
    let inward = [-n[0], -n[1]];
    let p_in = s.pusher_impulse[0] * inward[0] + s.pusher_impulse[1] * inward[1];
    let tangent = [-n[1], n[0]];
    let p_t = s.pusher_impulse[0] * tangent[0] + s.pusher_impulse[1] * tangent[1];
    assert!(p_in > 0.0, "the pusher pushes: {s:?}");
    assert!(
        (p_t.abs() - 0.1 * p_in).abs() < 1e-6 * p_in,
        "on the cone's edge: {s:?}"
    );
    let t = s.twist;
    let vc = [t[0] - t[2] * c.r_m[1], t[1] + t[2] * c.r_m[0]];
    let vn = vc[0] * inward[0] + vc[1] * inward[1];
    assert!(
        (vn - 0.3 * inward[0]).abs() < 1e-9,
        "normal velocity kept: {vn}"
    );
    let slip = (vc[0] - 0.3) * tangent[0] + vc[1] * tangent[1];
    assert!(
        slip * p_t <= 1e-12,
        "friction opposes the slip: slip {slip}, friction {p_t}"
    );
}
