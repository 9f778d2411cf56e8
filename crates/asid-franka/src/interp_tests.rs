//! Property tests of the interpolator: finite differences of its 1 kHz output stay within the
//! limits for random feasible target sequences; infeasible targets are refused by name.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn fr3_limits() -> JointLimits {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../robots/fr3/robot.toml");
    let spec: asid_core::RobotSpec = asid_core::read_toml(&file).expect("fr3 robot file parses");
    JointLimits::from_spec(&spec)
        .expect("fr3 limits are valid")
        .with_fci_margins()
}

const HOME: [f64; 7] = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785];

/// Asserts that the velocity, acceleration and jerk the arm would compute from `qs` (one sample
/// per ms, starting at rest) stay within `limits`.
fn assert_within_limits(qs: &[Vec<f64>], limits: &JointLimits) {
    let tol = 1e-6;
    for i in 0..limits.dof() {
        let x: Vec<f64> = qs.iter().map(|q| q[i]).collect();
        let v: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]) / DT_S).collect();
        let a: Vec<f64> = v.windows(2).map(|w| (w[1] - w[0]) / DT_S).collect();
        let j: Vec<f64> = a.windows(2).map(|w| (w[1] - w[0]) / DT_S).collect();
        for (name, d, bound) in [
            ("velocity", &v, limits.velocity_rad_s[i]),
            ("acceleration", &a, limits.acceleration_rad_s2[i]),
            ("jerk", &j, limits.jerk_rad_s3[i]),
        ] {
            // Jerk finite differences amplify float rounding of positions (~1e-16 / 1e-9).
            let slack = if name == "jerk" { 1e-3 } else { tol };
            let worst = d.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            assert!(
                worst <= bound * (1.0 + tol) + slack,
                "joint {i} {name} {worst} > {bound}"
            );
        }
        for &q in &x {
            assert!(q >= limits.position_min_rad[i] - tol && q <= limits.position_max_rad[i] + tol);
        }
    }
}

/// A smooth plan sample: each joint `amp (1 - cos(2 pi f t))^2 / 2` around home, which starts
/// from rest with zero acceleration (a plan starting with a jump in acceleration is infeasible
/// for a jerk-limited arm). Peak acceleration is `2 amp (2 pi f)^2`.
fn smooth(amp: &[f64], freq_hz: f64, t: f64) -> Vec<f64> {
    let c = (std::f64::consts::TAU * freq_hz * t).cos();
    (0..7)
        .map(|i| HOME[i] + 0.5 * amp[i] * (1.0 - c).powi(2))
        .collect()
}

#[test]
fn random_feasible_sequences_stay_within_limits() {
    let limits = fr3_limits();
    let mut rng = StdRng::seed_from_u64(7);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..40 {
        let ticks: u32 = [10, 20, 50, 100][case % 4];
        let mut ip = Interpolator::new(limits.clone(), &HOME, 10).expect("valid start");
        let mut qs = vec![HOME.to_vec(); 3];
        // Peak plan acceleration up to ~5.7 rad/s^2, within the 10 rad/s^2 limit; the jolts
        // below are what gets refused.
        let amp: Vec<f64> = (0..7).map(|_| rng.random_range(0.0..0.06)).collect();
        let freq_hz = rng.random_range(0.1..1.1);
        for k in 1..=60 {
            let mut target = smooth(&amp, freq_hz, f64::from(k * ticks) * DT_S);
            let jolts = case % 2 == 1;
            if jolts && rng.random_bool(0.1) {
                // A jolt: sometimes feasible, sometimes not; the arm then lags the plan, and
                // catching up may be refused too (refusals are the caller's to handle).
                let j = rng.random_range(0..7);
                target[j] += rng.random_range(-0.01..0.01);
            }
            let mut duration = ticks;
            match ip.set_target(&target, ticks) {
                Ok(d) => {
                    duration = d;
                    accepted += 1
                }
                Err(e @ ArmError::Limit { .. }) => {
                    assert!(jolts, "case {case}: smooth plan refused at {k}: {e}");
                    refused += 1
                }
                Err(e) => panic!("unexpected {e}"),
            }
            // A punctual caller is a tick or two late; a slow one much more (coast, then brake).
            let worst_late = if jolts { 30 } else { 2 };
            let late = if rng.random_bool(0.1) {
                rng.random_range(0..=worst_late)
            } else {
                0
            };
            for _ in 0..duration + late {
                ip.tick();
                qs.push(ip.q_rad().to_vec());
            }
        }
        ip.brake();
        for _ in 0..5000 {
            ip.tick();
            qs.push(ip.q_rad().to_vec());
            if ip.at_rest() {
                break;
            }
        }
        assert!(ip.at_rest(), "case {case}: brake did not finish");
        assert_within_limits(&qs, &limits);
    }
    eprintln!("{accepted} targets accepted, {refused} refused");
    assert!(
        accepted > 1200 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn segment_reaches_the_target_exactly_at_its_end() {
    let mut ip = Interpolator::new(fr3_limits(), &HOME, 10).expect("valid start");
    let mut target = HOME;
    target[3] += 0.002;
    ip.set_target(&target, 50).expect("feasible");
    for k in 1..=50 {
        let ev = ip.tick();
        assert_eq!(ev.segment_done, k == 50);
    }
    assert_eq!(ip.q_rad(), &target);
    // End velocity of the cubic through (home, home, home, target): 11/6 of 2 mm over 50 ms.
    assert!((ip.v_rad_s()[3] - 11.0 / 6.0 * 0.04).abs() < 1e-9);
}

#[test]
fn infeasible_target_is_refused_naming_the_joint_and_changes_nothing() {
    let mut ip = Interpolator::new(fr3_limits(), &HOME, 10).expect("valid start");
    let mut target = HOME;
    target[3] += 0.5;
    let before = ip.clone();
    match ip.set_target(&target, 20) {
        Err(ArmError::Limit {
            subject,
            value,
            bound,
            ..
        }) => {
            assert_eq!(subject, "fr3_joint4");
            assert!(value > bound);
        }
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert_eq!(ip.q_rad(), before.q_rad());
    assert!(ip.at_rest());
    let mut beyond = HOME;
    beyond[5] = 5.0;
    assert!(matches!(
        ip.check(&beyond, 10_000),
        Err(ArmError::Limit {
            limit: "joint position",
            ..
        })
    ));
    assert!(matches!(
        ip.check(&[0.0; 6], 20),
        Err(ArmError::BadCommand(_))
    ));
    let mut nan = HOME;
    nan[0] = f64::NAN;
    assert!(matches!(ip.check(&nan, 20), Err(ArmError::BadCommand(_))));
}

#[test]
fn late_caller_coasts_then_brakes_to_rest() {
    let limits = fr3_limits();
    let mut ip = Interpolator::new(limits.clone(), &HOME, 10).expect("valid start");
    let mut qs = vec![HOME.to_vec(); 3];
    let amp = [0.1, 0.0, 0.0, 0.05, 0.0, 0.0, 0.0];
    for k in 1..=25 {
        let target = smooth(&amp, 0.5, f64::from(k * 20) * DT_S);
        ip.set_target(&target, 20).expect("feasible smooth plan");
        for _ in 0..20 {
            ip.tick();
            qs.push(ip.q_rad().to_vec());
        }
    }
    let mut braked = false;
    for _ in 0..2000 {
        braked |= ip.tick().started_braking;
        qs.push(ip.q_rad().to_vec());
    }
    assert!(braked && ip.at_rest());
    assert_within_limits(&qs, &limits);
}
