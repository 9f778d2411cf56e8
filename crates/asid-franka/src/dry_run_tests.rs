//! The dry run models the loop as it runs: segments after the first start late, which the
//! plan-rate estimate and a punctual interpolation both miss.

use super::*;

const HOME: [f64; 7] = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785];

/// FR3-like limits with only the acceleration limit in reach.
fn config(acceleration_rad_s2: f64, period_s: f64) -> RobotConfig {
    let n = 7;
    RobotConfig {
        robot: "fr3".into(),
        limits: JointLimits {
            names: (1..=n).map(|i| format!("fr3_joint{i}")).collect(),
            position_min_rad: vec![-10.0; n],
            position_max_rad: vec![10.0; n],
            velocity_rad_s: vec![100.0; n],
            acceleration_rad_s2: vec![acceleration_rad_s2; n],
            jerk_rad_s3: vec![1e9; n],
        },
        control_period_s: period_s,
        link_timeout_ms: 100,
        connect_timeout_ms: 1000,
        command_timeout_ms: 1000,
        coast_limit_ms: 10,
        history_capacity: 10,
        late_threshold_us: 500,
        collision_behavior: None,
        joint_impedance_nm_per_rad: None,
    }
}

/// Joint 4 swings `amp (1 - cos)` over two cycles of ten plan periods, from rest to rest.
fn swing(amp: f64) -> Vec<Vec<f64>> {
    (1..=20)
        .map(|k| {
            let mut q = HOME.to_vec();
            q[3] += amp * (1.0 - (std::f64::consts::TAU * f64::from(k) / 10.0).cos());
            q
        })
        .collect()
}

/// The largest plan-rate acceleration (second differences of the targets from rest).
fn plan_rate_acceleration(targets: &[Vec<f64>], period_s: f64) -> f64 {
    let mut qs = vec![HOME.to_vec(), HOME.to_vec()];
    qs.extend(targets.iter().cloned());
    qs.windows(3)
        .map(|w| ((w[2][3] - 2.0 * w[1][3] + w[0][3]) / (period_s * period_s)).abs())
        .fold(0.0, f64::max)
}

/// What a dry run that ignores the loop's timing computes: every target set exactly at its
/// period boundary. Returns the peak acceleration of the commands (second differences), or the
/// refusal.
fn punctual_peak(cfg: &RobotConfig, targets: &[Vec<f64>]) -> Result<f64, ArmError> {
    let mut ip = Interpolator::new(cfg.limits.clone(), &HOME, cfg.coast_limit_ms)?;
    let mut d = Differences::at_rest(&HOME, &cfg.limits);
    for q in targets {
        ip.set_target(q, cfg.period_ticks())?;
        for _ in 0..cfg.period_ticks() {
            ip.tick();
            d.push(ip.q_rad())?;
        }
    }
    Ok(d.acceleration.value)
}

#[test]
fn one_tick_late_segments_exceed_an_acceleration_limit_the_plan_rate_and_punctual_checks_pass() {
    let (limit, period_s) = (10.0, 0.02);
    // Peaks of the unit swing with unbounded acceleration: the interpolation is linear in the
    // targets (from rest), so peaks scale with the amplitude.
    let free = config(1e9, period_s);
    let punctual = punctual_peak(&free, &swing(1.0)).expect("unbounded");
    let late = dry_run(&free, &HOME, &swing(1.0), 1).expect("unbounded");
    let late_peak = late.acceleration.value;
    println!("unit swing: punctual peak {punctual:.3}, one tick late {late_peak:.3} rad/s^2");
    assert!(late_peak > 1.01 * punctual, "{late_peak} vs {punctual}");

    // An amplitude between the two: the punctual model passes, the loop as it runs does not.
    let amp = limit / (punctual * late_peak).sqrt();
    let targets = swing(amp);
    let cfg = config(limit, period_s);
    let plan_rate = plan_rate_acceleration(&targets, period_s);
    assert!(plan_rate < limit, "plan-rate estimate {plan_rate}");
    let old = punctual_peak(&cfg, &targets).expect("the punctual model passes");
    assert!(old < limit);
    let err = dry_run(&cfg, &HOME, &targets, 1).expect_err("one tick late breaks the limit");
    println!("plan rate {plan_rate:.3}, punctual {old:.3}: {err}");
    match &err.source {
        ArmError::Limit {
            limit: kind,
            subject,
            value,
            bound,
            ..
        } => {
            assert_eq!(*kind, "joint acceleration", "{err}");
            assert_eq!(subject, "fr3_joint4", "{err}");
            assert!(value > bound, "{err}");
        }
        other => panic!("expected an acceleration limit, got {other}"),
    }
    assert!(err.index >= 1 && err.index < targets.len(), "{err}");
    assert_eq!(err.caller_delay_ticks, 1);
    // The same plan at 90 % of that amplitude runs through, with the peak reported below the limit.
    let ok = dry_run(&cfg, &HOME, &swing(0.9 * amp), 1).expect("smaller swing passes");
    assert!(
        ok.acceleration.ratio() < 1.0 && ok.acceleration.ratio() > 0.8,
        "{ok:?}"
    );
    assert_eq!(ok.acceleration.joint, 3);
}

#[test]
fn later_callers_shorten_segments_more() {
    let cfg = config(1e9, 0.02);
    let peaks: Vec<f64> = (1..=4)
        .map(|d| {
            dry_run(&cfg, &HOME, &swing(0.01), d)
                .expect("unbounded")
                .acceleration
                .value
        })
        .collect();
    assert!(peaks.windows(2).all(|w| w[1] > w[0]), "{peaks:?}");
}

#[test]
fn the_run_ends_at_rest_after_the_stop() {
    let cfg = config(10.0, 0.1);
    let r = dry_run(&cfg, &HOME, &swing(0.01), 1).expect("a gentle swing passes");
    // 20 periods of 100 ticks: the late steps keep the grid (shortened by their tick); then the
    // stop, one tick late, and a short brake.
    assert!(r.ticks > 2000 && r.ticks < 2100, "{r:?}");
    assert!(r.peak_ratio() < 1.0);
    let none = dry_run(&cfg, &HOME, &[], 1).expect("nothing to do");
    assert_eq!(none.ticks, 0);
}

#[test]
fn caller_delays_outside_the_loop_s_range_are_refused() {
    let cfg = config(10.0, 0.1);
    for d in [0, 11] {
        let e = dry_run(&cfg, &HOME, &swing(0.01), d).expect_err("out of range");
        assert!(matches!(e.source, ArmError::BadCommand(_)), "{e}");
    }
}

#[test]
fn an_unreachable_first_target_is_refused_as_target_one() {
    let cfg = config(10.0, 0.1);
    let mut far = HOME.to_vec();
    far[0] += 1.0;
    let e = dry_run(&cfg, &HOME, &[far], 1).expect_err("1 rad in 0.1 s");
    assert_eq!(e.index, 0);
    assert!(e.to_string().starts_with("target 1 of 1"), "{e}");
}
