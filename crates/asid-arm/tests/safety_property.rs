//! Property: whatever plan is sent, every command the safety layer lets through keeps the arm
//! inside the joint position (with margin), velocity and acceleration limits and the tool inside
//! the workspace box. Random plans: smooth walks, steps of every size, NaN and far-off targets.
//! `ASID_PROPERTY_CASES` sets the number of plans (default 200).

use std::path::Path;

use asid_arm::dummy::DummyArm;
use asid_arm::{Arm, ArmCommand, Safe, SafetyLimits, StopSignal};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROBOT: &str = "../../robots/fr3/robot.toml";

#[tokio::test]
async fn no_accepted_command_leaves_the_limits() {
    let spec: asid_core::RobotSpec = asid_core::read_toml(Path::new(ROBOT)).expect("robot file");
    let kin = asid_robot::arm_from_robot_file(Path::new(ROBOT)).expect("kinematics");
    let cases: u64 = std::env::var("ASID_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut rng = StdRng::seed_from_u64(14);
    let (mut accepted, mut refused) = (0u64, 0u64);
    for case in 0..cases {
        let period_s = [0.001, 0.01, 0.1][rng.random_range(0..3)];
        let mut limits = SafetyLimits::from_robot(&spec);
        limits.workspace_m = Some([[0.2, 0.6], [-0.3, 0.3], [0.05, 0.8]]);
        limits.watchdog_ms = 10_000;
        limits.start_timeout_ms = 0;
        let box_m = limits.workspace_m.expect("box");
        let arm = DummyArm::new(
            spec.home_rad.clone(),
            spec.limits.position_min_rad.clone(),
            spec.limits.position_max_rad.clone(),
            period_s,
        );
        let mut safe =
            Safe::new(arm, limits.clone(), Some(kin.clone()), StopSignal::new()).expect("limits");
        let n = spec.home_rad.len();
        let mut target = spec.home_rad.clone();
        let scale = 10f64.powf(rng.random_range(-5.0..0.5));
        let mut history: Vec<Vec<f64>> = vec![spec.home_rad.clone()];
        for _ in 0..rng.random_range(5..60) {
            match rng.random_range(0..20) {
                0 => target[rng.random_range(0..n)] = f64::NAN,
                1 => target[rng.random_range(0..n)] = rng.random_range(-10.0..10.0),
                _ => {
                    for t in target.iter_mut() {
                        *t += scale * rng.random_range(-1.0..1.0);
                    }
                }
            }
            let cmd = ArmCommand::JointPosition {
                q_rad: target.clone(),
            };
            if safe.step(&cmd).await.is_err() {
                refused += 1;
                target = history.last().expect("start").clone();
                continue;
            }
            accepted += 1;
            let q = target.clone();
            for i in 0..n {
                let (lo, hi) = (
                    limits.q_min_rad[i] + limits.q_margin_rad,
                    limits.q_max_rad[i] - limits.q_margin_rad,
                );
                assert!(
                    (lo - 1e-12..=hi + 1e-12).contains(&q[i]),
                    "case {case}: joint {i} at {} outside {lo}..{hi}",
                    q[i]
                );
                let prev = &history[history.len() - 1];
                let v = (q[i] - prev[i]) / period_s;
                assert!(
                    v.abs() <= limits.dq_max_rad_s[i] * (1.0 + 1e-9),
                    "case {case}: joint {i} speed {v}"
                );
                if history.len() >= 2 {
                    let pp = &history[history.len() - 2];
                    let v0 = (prev[i] - pp[i]) / period_s;
                    let a = (v - v0) / period_s;
                    assert!(
                        a.abs() <= limits.ddq_max_rad_s2[i] * (1.0 + 1e-9),
                        "case {case}: joint {i} acceleration {a}"
                    );
                }
            }
            let tcp = kin.world_from_tcp(&q).translation.vector;
            for (axis, [lo, hi]) in box_m.iter().enumerate() {
                assert!(
                    (lo - 1e-9..=hi + 1e-9).contains(&tcp[axis]),
                    "case {case}: tool axis {axis} at {} outside {lo}..{hi}",
                    tcp[axis]
                );
            }
            history.push(q);
        }
    }
    println!(
        "{cases} plans: {accepted} commands accepted, {refused} refused, none outside a limit"
    );
    assert!(accepted > 0 && refused > 0, "both sides exercised");
}
